"""References by PMID or PMCID through the services, against recorded PubMed answers on a fake NCBI.

Sources of the records: tests/fixtures/pubmed/README.md. Notice records are real records with the
publication type or relation PubMed uses added (tests.references.test_pubmed.variant).
"""

import pytest

from django.core.management import call_command

from references import pubmed, services
from references.models import EvidenceLevel, MetadataSource, PeerReviewStatus, Reference, RetractionStatus
from references.signals import reference_status_changed
from tests.fake_crossref import FakeCrossref, load_work
from tests.references.test_pubmed import variant

pytestmark = pytest.mark.django_db

RCT_DOI = "10.1056/nejmoa1210384"


@pytest.fixture
def status_signals():
    sent = []

    def listener(sender, **kwargs):
        sent.append(kwargs)

    reference_status_changed.connect(listener, dispatch_uid="test_pubmed_services")
    yield sent
    reference_status_changed.disconnect(dispatch_uid="test_pubmed_services")


def test_a_pmid_becomes_a_verified_peer_reviewed_reference(fake_ncbi, editor):
    reference, created = services.add_reference_by_pmid("PMID: 23121403", by=editor)

    assert created
    reference.refresh_from_db()
    assert reference.pmid == "23121403" and reference.doi == RCT_DOI
    assert reference.title == "Low-dose aspirin for preventing recurrent venous thromboembolism."
    assert reference.container_title == "The New England journal of medicine"
    assert (reference.year, reference.volume, reference.issue, reference.pages) == (2012, "367", "21", "1979-87")
    assert reference.authors[-1] == {"literal": "ASPIRE Investigators"}
    assert reference.metadata_source == MetadataSource.PUBMED
    assert reference.work_type == "journal-article"
    assert reference.peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert reference.is_verified and reference.counts_as_support
    assert reference.evidence_level == EvidenceLevel.RANDOMISED_TRIAL
    assert reference.abstract.startswith("Background: Patients who have had")
    assert "Humans" in reference.mesh_terms and "Randomized Controlled Trial" in reference.publication_types
    assert reference.pubmed_metadata["pmid"] == "23121403" and reference.pubmed_fetched_at
    assert reference.entered_by == editor


def test_the_same_pmid_in_another_form_is_found_not_duplicated(fake_ncbi):
    first, _ = services.add_reference_by_pmid("23121403")
    again, created = services.add_reference_by_pmid("https://pubmed.ncbi.nlm.nih.gov/23121403/")
    assert (again.pk, created) == (first.pk, False)
    assert len(fake_ncbi.requests) == 1  # the second one asked nobody
    assert Reference.objects.count() == 1


def test_a_pmcid_link_resolves_through_pubmed(fake_ncbi):
    reference, created = services.add_reference_by_pmid("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC2614320/")
    assert created and (reference.pmid, reference.pmcid) == ("19129924", "PMC2614320")
    again, created = services.add_reference_by_pmid("PMC2614320")
    assert (again.pk, created) == (reference.pk, False)


def test_a_work_already_present_by_doi_gains_its_pubmed_record(fake_ncbi, status_signals):
    crossref_ref = services.save_reference(Reference(
        doi=RCT_DOI, title="Low-Dose Aspirin for Preventing Recurrent Venous Thromboembolism",
        container_title="New England Journal of Medicine", work_type="journal-article",
        metadata_source=MetadataSource.CROSSREF, peer_review_status=PeerReviewStatus.PEER_REVIEWED,
    ))

    reference, created = services.add_reference_by_pmid("PMID: 23121403")

    assert (reference.pk, created) == (crossref_ref.pk, False)
    assert Reference.objects.count() == 1
    reference.refresh_from_db()
    assert reference.pmid == "23121403"
    # Crossref's fields stay; PubMed adds what Crossref does not have.
    assert reference.title == "Low-Dose Aspirin for Preventing Recurrent Venous Thromboembolism"
    assert reference.metadata_source == MetadataSource.CROSSREF
    assert reference.evidence_level == EvidenceLevel.RANDOMISED_TRIAL
    assert "Randomized Controlled Trial" in reference.publication_types
    assert status_signals == []  # nothing about its standing changed


def test_a_doi_added_later_finds_the_reference_pubmed_made(fake_ncbi):
    reference, _ = services.add_reference_by_pmid("23121403")
    # Crossref is not running (CROSSREF_API_URL points nowhere): the DOI must be found, not fetched.
    again, created = services.add_reference_by_doi("https://doi.org/10.1056/NEJMoa1210384")
    assert (again.pk, created) == (reference.pk, False)


def test_a_pubmed_only_reference_that_later_gets_its_doi_stays_one_reference(fake_ncbi):
    fake_ncbi.records["23121403"] = variant("23121403", drop_doi=True)
    reference, _ = services.add_reference_by_pmid("23121403")
    assert reference.doi is None

    del fake_ncbi.records["23121403"]  # PubMed's record now names the DOI
    result = services.refresh_reference(reference)

    assert result.error is None and result.changes["doi"] == (None, RCT_DOI)
    reference.refresh_from_db()
    assert reference.doi == RCT_DOI
    assert Reference.objects.count() == 1
    assert services.add_reference_by_doi(RCT_DOI) == (reference, False)


def test_a_retracted_publication_never_supports_a_claim(fake_ncbi):
    fake_ncbi.records["90000001"] = variant(
        "90000001", types=["Retracted Publication"],
        relations=[("RetractionIn", "N Engl J Med. 2020;382:1. doi: 10.1056/NEJMx200001.", "90000002")],
    )
    reference, _ = services.add_reference_by_pmid("PMID: 90000001")
    assert reference.retraction_status == RetractionStatus.RETRACTED
    assert not reference.counts_as_support
    assert [(u["type"], u["source"], u["pmid"]) for u in reference.updates] == [("retraction", "pubmed", "90000002")]


def test_the_retracted_publication_type_alone_is_enough(fake_ncbi):
    fake_ncbi.records["90000004"] = variant("90000004", types=["Retracted Publication"])
    reference, _ = services.add_reference_by_pmid("90000004")
    assert reference.is_retracted and not reference.counts_as_support


def test_an_expression_of_concern_is_shown_but_does_not_retract(fake_ncbi):
    fake_ncbi.records["90000005"] = variant(
        "90000005", relations=[("ExpressionOfConcernIn", "N Engl J Med. 2021;384:2", "90000006")],
    )
    reference, _ = services.add_reference_by_pmid("90000005")
    assert reference.retraction_status == RetractionStatus.EXPRESSION_OF_CONCERN
    assert reference.notices and reference.counts_as_support


@pytest.mark.parametrize("types, relations, kind", [
    (["Retraction of Publication"], [("RetractionOf", "N Engl J Med. 2012;367:1979", "23121403")], "retraction"),
    (["Published Erratum"], [], "erratum"),
    (["Expression of Concern"], [], "expression_of_concern"),
])
def test_a_notice_record_is_never_peer_reviewed_support(fake_ncbi, types, relations, kind):
    fake_ncbi.records["90000010"] = variant("90000010", types=types, relations=relations, drop_doi=True)
    reference, _ = services.add_reference_by_pmid("90000010")
    assert reference.notice_kind == kind
    assert reference.peer_review_status == PeerReviewStatus.NOT_PEER_REVIEWED
    assert not reference.counts_as_support
    assert reference.evidence_level == EvidenceLevel.UNKNOWN and "not a study" in reference.evidence_description
    assert reference.retraction_status == RetractionStatus.NONE  # the notice itself is not retracted
    assert str(services.refresh_reference(reference)) == "PMID 90000010: unchanged"


def test_a_pubmed_preprint_is_not_peer_reviewed(fake_ncbi):
    fake_ncbi.records["90000020"] = variant("90000020", types=["Preprint"], drop_doi=True)
    reference, _ = services.add_reference_by_pmid("90000020")
    assert reference.work_type == "posted-content"
    assert reference.peer_review_status == PeerReviewStatus.NOT_PEER_REVIEWED
    assert reference.evidence_description == "Preprint, not peer-reviewed"


def test_refreshing_a_pubmed_reference_that_was_since_retracted_signals_it(fake_ncbi, status_signals):
    reference, _ = services.add_reference_by_pmid("23121403")
    assert reference.counts_as_support
    fake_ncbi.records["23121403"] = variant(
        "23121403", types=["Retracted Publication"], relations=[("RetractionIn", "N Engl J Med. 2020", "90000002")],
    )

    result = services.refresh_reference(reference)

    assert result.newly_retracted and result.was_support and not result.is_support
    assert "retraction_status" in result.changes
    assert len(status_signals) == 1 and status_signals[0]["newly_retracted"]
    assert str(result).startswith("10.1056/nejmoa1210384: NEWLY RETRACTED")


def test_refreshing_an_unchanged_pubmed_reference_changes_nothing(fake_ncbi, status_signals):
    reference, _ = services.add_reference_by_pmid("23121403")
    result = services.refresh_pubmed(reference)
    assert result.error is None and not result.changed
    assert status_signals == []


def test_a_crossref_refresh_keeps_what_pubmed_said(fake_ncbi, status_signals, settings):
    """Crossref's answer knows no retraction; PubMed's does: the reference stays retracted after both."""
    doi = "10.1159/000493425"
    work = load_work(doi)
    reference = services.save_reference(services.apply_work(Reference(), work))
    fake_ncbi.records["90000030"] = variant(
        "90000030", types=["Retracted Publication"], relations=[("RetractionIn", "Pharmacology. 2020", "90000031")],
    ).replace(RCT_DOI.encode(), doi.encode()).replace(b"10.1056/NEJMoa1210384", doi.encode())
    attached, created = services.add_reference_by_pmid("90000030")
    assert (attached.pk, created) == (reference.pk, False)
    assert attached.is_retracted
    assert len(status_signals) == 1 and status_signals[0]["newly_retracted"]

    with FakeCrossref() as crossref_server:
        settings.CROSSREF_API_URL = crossref_server.url
        result = services.refresh_reference(attached)

    assert result.error is None
    attached.refresh_from_db()
    assert attached.is_retracted and attached.metadata_source == MetadataSource.CROSSREF
    assert [u["source"] for u in attached.updates].count("pubmed") == 1
    assert [path for _, path, _ in fake_ncbi.requests].count("/efetch.fcgi") == 2  # added, then refreshed


def test_a_pmid_naming_the_doi_of_a_reference_with_another_pmid_is_refused(fake_ncbi):
    services.add_reference_by_pmid("23121403")
    fake_ncbi.records["90000040"] = variant("90000040")  # same DOI, another PMID
    with pytest.raises(pubmed.PubMedBadResponse, match="which has PMID 23121403"):
        services.add_reference_by_pmid("90000040")
    assert Reference.objects.count() == 1


def test_without_fetching_a_pmid_is_kept_unverified(editor):
    reference, created = services.add_reference_by_pmid("PMID: 23121403", by=editor, fetch=False)
    assert created and reference.pmid == "23121403"
    assert reference.metadata_source == MetadataSource.MANUAL and not reference.is_verified
    assert not reference.counts_as_support


def test_offline_pubmed_saves_nothing(settings):
    settings.NCBI_API_URL = "http://127.0.0.1:9/"
    with pytest.raises(pubmed.PubMedUnavailable, match="PubMed could not be reached"):
        services.add_reference_by_pmid("23121403")
    assert Reference.objects.count() == 0


def test_a_refresh_when_pubmed_is_offline_reports_the_failure(fake_ncbi, settings):
    reference, _ = services.add_reference_by_pmid("23121403")
    settings.NCBI_API_URL = "http://127.0.0.1:9/"
    result = services.refresh_reference(Reference.objects.get(pk=reference.pk))
    assert isinstance(result.error, pubmed.PubMedUnavailable)
    assert "failed" in str(result)


def test_an_invalid_identifier_is_refused():
    with pytest.raises(pubmed.InvalidPubMedId, match="is not a PMID"):
        services.add_reference_by_pmid("PMID: twelve")


def test_refresh_references_checks_pubmed_only_references_too(fake_ncbi, capsys):
    fake_ncbi.records["23121403"] = variant("23121403", drop_doi=True)
    services.add_reference_by_pmid("23121403")
    fake_ncbi.records["23121403"] = variant("23121403", drop_doi=True, types=["Retracted Publication"])
    call_command("refresh_references")
    out = capsys.readouterr().out
    assert "PMID 23121403: NEWLY RETRACTED" in out
    assert "Checked 1 reference(s): 1 changed, 0 failed." in out


FALLBACK = {"title": "Low-dose aspirin for preventing recurrent venous thromboembolism", "year": 2012,
            "authors": [{"family": "Brighton", "given": "T. A."}], "container_title": "N Engl J Med"}


def test_a_pmid_keeps_its_reference_line_when_pubmed_cannot_be_reached(fake_ncbi, editor):
    fake_ncbi.set_mode("drop")

    reference, created = services.add_reference_by_pmid("PMID: 23121403", by=editor, fallback=FALLBACK)

    assert created
    reference.refresh_from_db()
    assert (reference.pmid, reference.title, reference.year, reference.authors) == (
        "23121403", FALLBACK["title"], 2012, FALLBACK["authors"])
    assert reference.metadata_source == MetadataSource.CITATION_LINE and reference.needs_check
    assert not reference.counts_as_support and reference.entered_by == editor


def test_without_a_fallback_an_unreachable_pubmed_is_an_error(fake_ncbi):
    fake_ncbi.set_mode("drop")

    with pytest.raises(pubmed.PubMedUnavailable):
        services.add_reference_by_pmid("PMID: 23121403")
    assert not Reference.objects.exists()


def test_a_fallback_never_saves_a_pmid_pubmed_does_not_have(fake_ncbi):
    with pytest.raises(pubmed.RecordNotFound):
        services.add_reference_by_pmid("PMID: 99999999", fallback=FALLBACK)
    assert not Reference.objects.exists()


def test_pubmed_answering_makes_the_fallback_unused(fake_ncbi):
    reference, _ = services.add_reference_by_pmid("PMID: 23121403", fallback={**FALLBACK, "title": "Typed title"})

    assert reference.metadata_source == MetadataSource.PUBMED
    assert reference.title == "Low-dose aspirin for preventing recurrent venous thromboembolism."
