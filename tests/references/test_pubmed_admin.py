"""Adding references by PMID or PMCID in the admin (the add page and Add many), and what the change page shows.

The PubMed records are real recorded answers (tests/fixtures/pubmed/README.md) served by a fake NCBI.
"""

import pytest
from django.urls import reverse

from references import services
from references.models import EvidenceLevel, MetadataSource, PeerReviewStatus, Reference
from tests.references.test_admin import ADD, ADD_MANY, add_form, messages_of
from tests.references.test_pubmed import variant

pytestmark = pytest.mark.django_db

RCT_DOI = "10.1056/nejmoa1210384"


def change_url(reference):
    return reverse("admin:references_reference_change", args=[reference.pk])


def test_adding_by_pmid_fills_the_reference_from_pubmed(editor_client, fake_ncbi, editor):
    response = editor_client.post(ADD, {**add_form(pubmed_id="PMID: 23121403"), "_continue": "1"}, follow=True)

    assert response.status_code == 200
    reference = Reference.objects.get()
    assert reference.pmid == "23121403" and reference.doi == RCT_DOI
    assert reference.metadata_source == MetadataSource.PUBMED and reference.entered_by == editor
    assert "Filled from PubMed: PMID 23121403." in messages_of(response)
    assert response.redirect_chain[-1][0] == change_url(reference)


def test_the_change_page_shows_pubmed_data_and_the_evidence_level(editor_client, fake_ncbi):
    reference, _ = services.add_reference_by_pmid("23121403")
    content = editor_client.get(change_url(reference)).content.decode()

    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/23121403/" rel="noopener">23121403</a>' in content
    assert "<strong>Randomised controlled trial</strong> (Randomised controlled trial)" in content
    assert "Randomized Controlled Trial" in content  # PubMed's publication type
    assert "Venous Thromboembolism" in content  # a MeSH term
    assert "<p>Methods: We randomly assigned 822 patients" in content
    # PubMed's metadata is shown as fetched, not offered for editing.
    assert 'name="title"' not in content


def test_adding_by_pmc_link_shows_the_pmcid_link(editor_client, fake_ncbi):
    editor_client.post(ADD, add_form(pubmed_id="https://pmc.ncbi.nlm.nih.gov/articles/PMC2614320/"))
    reference = Reference.objects.get()
    assert reference.pmcid == "PMC2614320"
    content = editor_client.get(change_url(reference)).content.decode()
    assert 'href="https://pmc.ncbi.nlm.nih.gov/articles/PMC2614320/"' in content
    assert "Research article" in content


def test_a_pmid_of_a_work_present_by_doi_joins_that_reference(editor_client, fake_ncbi):
    existing = services.save_reference(Reference(
        doi=RCT_DOI, title="Low-Dose Aspirin", work_type="journal-article", metadata_source=MetadataSource.CROSSREF,
        peer_review_status=PeerReviewStatus.PEER_REVIEWED,
    ))
    response = editor_client.post(ADD, {**add_form(pubmed_id="23121403"), "_continue": "1"}, follow=True)

    assert Reference.objects.count() == 1
    existing.refresh_from_db()
    assert existing.pmid == "23121403" and existing.evidence_level == EvidenceLevel.RANDOMISED_TRIAL
    assert response.redirect_chain[-1][0] == change_url(existing)
    assert any("its PubMed record was added to that reference" in m for m in messages_of(response))


def test_doi_and_pmid_together_make_one_reference(editor_client, fake_crossref, fake_ncbi):
    doi = "10.1159/000493425"
    fake_ncbi.records["90000050"] = variant("90000050").replace(b"10.1056/NEJMoa1210384", doi.encode())
    response = editor_client.post(ADD, add_form(doi=doi, pubmed_id="PMID: 90000050"), follow=True)

    assert response.status_code == 200
    reference = Reference.objects.get()
    assert (reference.doi, reference.pmid) == (doi, "90000050")
    assert reference.metadata_source == MetadataSource.CROSSREF
    assert "Randomized Controlled Trial" in reference.publication_types


def test_a_pmid_whose_doi_differs_from_the_one_typed_is_refused(editor_client, fake_crossref, fake_ncbi):
    response = editor_client.post(ADD, add_form(doi="10.1159/000493425", pubmed_id="23121403"))
    content = response.content.decode()
    assert "PubMed gives PMID 23121403 the DOI 10.1056/nejmoa1210384, not 10.1159/000493425" in content
    assert not Reference.objects.exists()


def test_with_pubmed_unavailable_and_nothing_typed_the_form_explains(editor_client, settings):
    settings.NCBI_API_URL = "http://127.0.0.1:9/"
    response = editor_client.post(ADD, add_form(pubmed_id="PMID: 23121403"))
    content = response.content.decode()
    assert "PubMed unavailable: PubMed could not be reached" in content
    assert "Enter the title and other details by hand" in content
    assert not Reference.objects.exists()


def test_with_pubmed_unavailable_the_hand_entered_details_are_saved_unverified(editor_client, settings):
    settings.NCBI_API_URL = "http://127.0.0.1:9/"
    response = editor_client.post(ADD, add_form(
        pubmed_id="23121403", title="Low-dose aspirin for preventing recurrent venous thromboembolism",
        work_type="journal-article",
    ), follow=True)
    reference = Reference.objects.get()
    assert reference.pmid == "23121403" and reference.metadata_source == MetadataSource.MANUAL
    assert not reference.counts_as_support
    assert any(m.startswith("PubMed unavailable: PubMed could not be reached") for m in messages_of(response))


def test_an_invalid_or_duplicate_pmid_is_a_form_error(editor_client, fake_ncbi):
    response = editor_client.post(ADD, add_form(pubmed_id="PMID: 12-34"))
    assert "is not a PMID" in response.content.decode()
    services.add_reference_by_pmid("23121403")
    response = editor_client.post(ADD, add_form(pubmed_id="https://pubmed.ncbi.nlm.nih.gov/23121403/"))
    assert "This PMID 23121403 is already present" in response.content.decode()
    assert Reference.objects.count() == 1


def test_add_many_takes_pmids_pmcids_and_links_beside_dois(editor_client, fake_ncbi):
    response = editor_client.post(ADD_MANY, {"dois": (
        "PMID: 23121403\nPMC2614320\nhttps://pubmed.ncbi.nlm.nih.gov/11748933/\npmid:23121403\n"
        "PMID: 99999999\nPMID: 12x\n"
    )})
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["added", "added", "added", "already present", "not found", "invalid"]
    assert response.context["failed"] == 2
    assert Reference.objects.count() == 3
    assert Reference.objects.get(pmid="11748933").evidence_description == "Study in sea bream"


def test_add_many_says_when_pubmed_is_unavailable(editor_client, settings):
    settings.NCBI_API_URL = "http://127.0.0.1:9/"
    response = editor_client.post(ADD_MANY, {"dois": "PMID: 23121403\n"})
    assert [r.outcome for r in response.context["results"]] == ["PubMed unavailable"]
    assert not Reference.objects.exists()


def test_hostile_markup_in_a_pubmed_record_is_shown_inert(editor_client, fake_ncbi):
    fake_ncbi.records["90000060"] = variant("90000060", drop_doi=True).replace(
        b"We randomly assigned", b"&lt;script&gt;alert(1)&lt;/script&gt; We randomly assigned"
    ).replace(b"<DescriptorName MajorTopicYN=\"N\" UI=\"D001241\">Aspirin",
              b"<DescriptorName MajorTopicYN=\"N\" UI=\"D001241\">&lt;img src=x onerror=alert(2)&gt;")
    reference, _ = services.add_reference_by_pmid("90000060")
    content = editor_client.get(change_url(reference)).content.decode()
    assert "<script>alert(1)" not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<img src=x" not in content and "&lt;img src=x onerror=alert(2)&gt;" in content


def test_a_pubmed_notice_links_to_pubmed_when_it_has_no_doi(editor_client, fake_ncbi):
    fake_ncbi.records["90000070"] = variant(
        "90000070", types=["Retracted Publication"], relations=[("RetractionIn", "N Engl J Med. 2020", "90000071")],
        drop_doi=True,
    )
    reference, _ = services.add_reference_by_pmid("90000070")
    content = editor_client.get(change_url(reference)).content.decode()
    assert '<strong>Retraction in: N Engl J Med. 2020</strong> (pubmed, ): ' \
        '<a href="https://pubmed.ncbi.nlm.nih.gov/90000071/">PMID 90000071</a>' in content


def test_a_pubmed_reference_keeps_its_metadata_and_takes_display_corrections(editor_client, fake_ncbi):
    reference, _ = services.add_reference_by_pmid("23121403")
    response = editor_client.post(change_url(reference), {
        "url": "", "title": "Tampered", "display_title": "Low-dose aspirin for preventing recurrent venous "
        "thromboembolism", "display_container_title": "", "display_volume": "", "display_issue": "",
        "display_pages": "", "display_publisher": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    reference.refresh_from_db()
    assert reference.title == "Low-dose aspirin for preventing recurrent venous thromboembolism."  # as fetched
    assert reference.display("title") == "Low-dose aspirin for preventing recurrent venous thromboembolism"
    assert reference.metadata_source == MetadataSource.PUBMED and reference.counts_as_support


def test_the_refresh_action_rechecks_pubmed(editor_client, fake_ncbi):
    fake_ncbi.records["23121403"] = variant("23121403", drop_doi=True)
    reference, _ = services.add_reference_by_pmid("23121403")
    fake_ncbi.records["23121403"] = variant("23121403", drop_doi=True, types=["Retracted Publication"])
    response = editor_client.post(reverse("admin:references_reference_changelist"), {
        "action": "refresh_selected", "_selected_action": [reference.pk],
    }, follow=True)
    assert any(m.startswith("PMID 23121403: NEWLY RETRACTED") for m in messages_of(response))
    reference.refresh_from_db()
    assert reference.is_retracted


# A trickling NCBI never outlives the worker: PubMed draws on the request's one budget --------------------

PMIDS = ["PMID: 23121403", "PMC2614320", "https://pubmed.ncbi.nlm.nih.gov/11748933/"]


@pytest.fixture
def trickling_ncbi(fake_ncbi, settings):
    """NCBI sending a byte every 20 ms for 10 s, a PubMed deadline of 10 s, a one-second request budget."""
    settings.CROSSREF_REQUEST_BUDGET = 1.0
    settings.NCBI_TIMEOUT = 10
    fake_ncbi.trickle_seconds = 0.02
    fake_ncbi.set_mode("trickle")
    return fake_ncbi


def _post_timed(client, lines):
    import time

    started = time.monotonic()
    response = client.post(ADD_MANY, {"dois": "\n".join(lines)})
    return response, time.monotonic() - started


def test_add_many_answers_pubmed_unavailable_for_every_pmid_within_the_request_budget(editor_client, trickling_ncbi):
    response, elapsed = _post_timed(editor_client, PMIDS)
    assert response.status_code == 200
    assert elapsed < 2.5
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["PubMed unavailable"] * 3
    assert rows[0].detail.startswith("PubMed did not finish its answer for PMID 23121403 in the ")
    assert rows[0].detail.endswith(" seconds left; time budget for this request spent; try again.")
    assert rows[1].detail == "time budget for this request spent; try again (PubMed was not asked for PMC2614320)."
    assert rows[2].detail == (
        "time budget for this request spent; try again (PubMed was not asked for PMID 11748933)."
    )
    assert [path for _, path, _ in trickling_ncbi.requests] == ["/efetch.fcgi"]
    assert response.content.decode().count("PubMed unavailable") == 3
    assert not Reference.objects.exists()


def test_dois_and_pmids_in_one_request_share_one_budget(editor_client, fake_crossref, fake_ncbi, settings):
    """Crossref trickling spends the request's budget; the PMID after it is not asked, the DOI after that either."""
    settings.CROSSREF_REQUEST_BUDGET = 1.0
    settings.CROSSREF_DEADLINE = 10
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    response, elapsed = _post_timed(editor_client, [RCT_DOI, "PMID: 23121403", "10.1159/000493425"])
    assert response.status_code == 200
    assert elapsed < 2.5
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["Crossref unavailable", "PubMed unavailable", "Crossref unavailable"]
    assert rows[1].detail == "time budget for this request spent; try again (PubMed was not asked for PMID 23121403)."
    assert fake_ncbi.requests == []
    assert fake_crossref.requests == [f"/works/{RCT_DOI}"]


def test_a_pmid_first_spends_the_budget_for_the_dois_after_it(editor_client, fake_crossref, trickling_ncbi):
    response, elapsed = _post_timed(editor_client, ["PMID: 23121403", RCT_DOI])
    assert elapsed < 2.5
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["PubMed unavailable", "Crossref unavailable"]
    assert rows[1].detail == f"time budget for this request spent; try again ({RCT_DOI} was not looked up)."
    assert fake_crossref.requests == []
