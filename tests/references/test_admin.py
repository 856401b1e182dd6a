"""The reference admin as editors use it, against a fake Crossref."""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from references import services
from references.models import MetadataSource, PeerReviewOverride, PeerReviewStatus, Reference
from tests.fake_crossref import load_work

pytestmark = pytest.mark.django_db

FEDER = "10.1176/appi.ajp.2020.20050596"
ADD = reverse("admin:references_reference_add")
CHANGELIST = reverse("admin:references_reference_changelist")
ADD_MANY = reverse("admin:references_reference_add_many")
IMPORT = reverse("admin:references_reference_import")


def add_form(**values):
    data = {"doi": "", "fetch_from_crossref": "on", "url": "", "title": "", "authors_text": "",
            "container_title": "", "year": "", "volume": "", "issue": "", "pages": "", "publisher": "",
            "work_type": ""}
    data.update(values)
    return data


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def reviewer_client(client):
    user = User.objects.create_user("rita", password="pw-rita-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(user)
    return client


def test_adding_by_doi_through_the_admin_fills_the_fields_from_crossref(editor_client, fake_crossref):
    response = editor_client.post(ADD, add_form(doi="https://doi.org/10.1176/APPI.AJP.2020.20050596"), follow=True)
    assert response.status_code == 200
    reference = Reference.objects.get()
    assert reference.doi == FEDER
    assert reference.metadata_source == MetadataSource.CROSSREF
    assert reference.authors[0] == {"family": "Feder", "given": "Adriana"}
    assert f"Filled from Crossref: {FEDER}." in messages_of(response)
    assert fake_crossref.requests == ["/works/10.1176/appi.ajp.2020.20050596"]


def test_with_crossref_unavailable_the_hand_entered_metadata_is_saved_with_a_message(editor_client, settings):
    settings.CROSSREF_API_URL = "http://127.0.0.1:9"  # nothing listens there
    response = editor_client.post(ADD, add_form(
        doi=FEDER, title="A randomized controlled trial of repeated ketamine administration",
        authors_text="Feder, Adriana\nCosti, Sara", container_title="American Journal of Psychiatry",
        year="2021", work_type="journal-article",
    ), follow=True)
    assert response.status_code == 200
    reference = Reference.objects.get()
    assert reference.metadata_source == MetadataSource.MANUAL and not reference.needs_check
    assert reference.authors == [{"family": "Feder", "given": "Adriana"}, {"family": "Costi", "given": "Sara"}]
    assert reference.peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert any(m.startswith("Crossref unavailable: Crossref could not be reached") for m in messages_of(response))


def test_with_crossref_unavailable_and_nothing_typed_the_form_explains(editor_client, fake_crossref):
    fake_crossref.set_mode("server_error")
    response = editor_client.post(ADD, add_form(doi=FEDER))
    assert response.status_code == 200
    assert "Crossref unavailable: Crossref answered 500" in response.content.decode()
    assert "Enter the title and other details by hand" in response.content.decode()
    assert not Reference.objects.exists()


def test_an_invalid_or_duplicate_doi_is_a_form_error(editor_client, fake_crossref):
    response = editor_client.post(ADD, add_form(doi="10.12/abc"))
    assert "the prefix must be &#x27;10.&#x27; followed by 4 to 9 digits" in response.content.decode()
    services.add_reference_by_doi(FEDER)
    response = editor_client.post(ADD, add_form(doi="doi:10.1176/APPI.AJP.2020.20050596"))
    assert "This DOI is already present" in response.content.decode()
    assert Reference.objects.count() == 1


def test_a_source_without_doi_or_url_is_refused(editor_client):
    response = editor_client.post(ADD, add_form(title="Hearsay"))
    assert "Give a DOI or, for a source without one, a URL." in response.content.decode()


def test_add_many_gives_a_result_per_line(editor_client, fake_crossref):
    services.add_reference_by_doi("10.1159/000493425")
    response = editor_client.post(ADD_MANY, {"dois": (
        "10.1523/jneurosci.1547-16.2016\nhttps://doi.org/10.1159/000493425\n\nnonsense\n10.5555/missing\n"
    )})
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["added", "already present", "invalid", "not found"]
    assert response.context["failed"] == 2
    assert Reference.objects.count() == 2
    assert "10.5555/missing" in response.content.decode()


def test_the_changelist_links_to_add_many_and_import(editor_client, django_assert_max_num_queries):
    for doi in ("10.1523/jneurosci.1547-16.2016", "10.1159/000493425", FEDER):
        services.save_reference(services.apply_work(Reference(), load_work(doi)))
    # session, user, groups/permissions, count x2, page of rows, and the filter choices.
    with django_assert_max_num_queries(12):
        response = editor_client.get(CHANGELIST)
    content = response.content.decode()
    assert ADD_MANY in content and IMPORT in content
    assert "Ketamine: NMDA Receptors and Beyond" in content


def test_the_change_page_shows_status_notices_override_and_apa(editor_client, editor, django_assert_max_num_queries):
    reviewer = User.objects.create_user("edna-reviews", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    reference = services.save_reference(services.apply_work(Reference(), load_work("10.5555/psychly.retracted.2019.001")))
    services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED, reason="Checked the journal",
                                  by=reviewer)
    with django_assert_max_num_queries(12):
        response = editor_client.get(reverse("admin:references_reference_change", args=[reference.pk]))
    content = response.content.decode()
    assert "Retraction</strong> (publisher, 2021-06-09)" in content
    assert "https://doi.org/10.5555/psychly.retraction.2021.001" in content
    assert "Peer-reviewed by edna-reviews on" in content and "Checked the journal" in content
    assert "Peer-reviewed (overridden)" in content
    assert 'alt="False"' in content  # retracted: cannot support a claim, override or not
    assert "<i>Journal of Test Results</i>" in content


def test_display_corrections_are_saved_apart_from_the_metadata(editor_client, fake_crossref):
    reference, _ = services.add_reference_by_doi(FEDER)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    response = editor_client.post(url, {
        "url": "", "display_title": "A randomized controlled trial of repeated ketamine administration for "
                                    "chronic posttraumatic stress disorder",
        "display_container_title": "", "display_volume": "", "display_issue": "", "display_pages": "",
        "display_publisher": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    reference.refresh_from_db()
    assert reference.title.startswith("A Randomized Controlled Trial")  # the metadata is untouched
    assert reference.display("title").startswith("A randomized controlled trial")


def test_override_view_records_the_decision_with_a_reason(editor_client, editor):
    reference = services.save_reference(Reference(doi="10.5555/rep", title="A report", work_type="report"))
    url = reverse("admin:references_reference_override", args=[reference.pk])
    assert editor_client.get(url).status_code == 200
    response = editor_client.post(url, {"status": "peer_reviewed", "reason": ""})
    assert "This field is required" in response.content.decode()
    # An editor may only lower a status: "peer-reviewed" is not among the choices offered.
    response = editor_client.post(url, {"status": "peer_reviewed", "reason": "Peer-reviewed per the funder."})
    assert "Select a valid choice" in response.content.decode()
    response = editor_client.post(url, {"status": "not_peer_reviewed", "reason": "Grey literature."})
    assert response.status_code == 302
    entry = PeerReviewOverride.objects.get()
    assert (entry.by, entry.status, entry.reason) == (editor, "not_peer_reviewed", "Grey literature.")


def test_the_refresh_action_refreshes_the_selected(editor_client, fake_crossref):
    work = load_work("10.5555/psychly.retracted.2019.001")
    work.pop("updated-by")
    reference = services.save_reference(services.apply_work(Reference(), work))
    response = editor_client.post(CHANGELIST, {"action": "refresh_selected", "_selected_action": [reference.pk]},
                                  follow=True)
    assert any("NEWLY RETRACTED" in m for m in messages_of(response))
    reference.refresh_from_db()
    assert reference.is_retracted


CSL_EXPORT = json.dumps([
    {"id": "a", "type": "article-journal", "DOI": "10.1159/000493425", "title": "Ketamine's effects",
     "author": [{"family": "Weckmann", "given": "Katja"}], "container-title": "Molecular Neuropsychiatry",
     "issued": {"date-parts": [[2019]]}, "volume": "5", "issue": "1", "page": "42-51"},
    {"id": "b", "type": "webpage", "URL": "https://www.nimh.nih.gov/health/topics/depression", "title": "Depression"},
])
RIS_EXPORT = """TY  - JOUR
AU  - Kryst, Joanna
AU  - Kawalec, Paweł
TI  - Efficacy of single and repeated administration of ketamine
JO  - Pharmacological Reports
PY  - 2020
VL  - 72
IS  - 3
SP  - 543
EP  - 562
DO  - 10.1007/S43440-020-00097-Z
ER  -
"""
BIBTEX_EXPORT = """@article{zorumski2016,
  author = {Zorumski, Charles F. and Izumi, Yukitoshi and Mennerick, Steven},
  title = {{Ketamine: NMDA receptors and beyond}},
  journal = {The Journal of Neuroscience},
  year = {2016}, volume = {36}, number = {44}, pages = {11158--11164},
  doi = {10.1523/JNEUROSCI.1547-16.2016}
}
"""


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("library.json", CSL_EXPORT, {"10.1159/000493425": ("Weckmann", "5", "42-51", "journal-article")}),
        ("library.ris", RIS_EXPORT, {"10.1007/s43440-020-00097-z": ("Kryst", "72", "543-562", "journal-article")}),
        ("library.bib", BIBTEX_EXPORT,
         {"10.1523/jneurosci.1547-16.2016": ("Zorumski", "36", "11158-11164", "journal-article")}),
    ],
)
def test_importing_an_export_works_offline(editor_client, settings, name, text, expected):
    settings.CROSSREF_API_URL = "http://127.0.0.1:9"
    upload = SimpleUploadedFile(name, text.encode())
    response = editor_client.post(IMPORT, {"file": upload})
    assert response.status_code == 200
    assert all(r.outcome == "added" for r in response.context["results"])
    for doi, (family, volume, pages, work_type) in expected.items():
        reference = Reference.objects.get(doi=doi)
        assert (reference.authors[0]["family"], reference.volume, reference.pages, reference.work_type) == (
            family, volume, pages, work_type)
        assert reference.metadata_source == MetadataSource.FILE
        assert reference.peer_review_status == PeerReviewStatus.PEER_REVIEWED
        # Offline, nothing confirmed the file's record: it is unverified and says so.
        assert not reference.counts_as_support and reference.entered_by.username == "edna"
    assert any(m.startswith("Crossref was unreachable:") and "unverified" in m for m in messages_of(response))


def test_importing_twice_finds_what_is_already_present(editor_client):
    editor_client.post(IMPORT, {"file": SimpleUploadedFile("a.json", CSL_EXPORT.encode())})
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile("a.json", CSL_EXPORT.encode())})
    assert [r.outcome for r in response.context["results"]] == ["already present", "already present"]
    assert Reference.objects.count() == 2


def test_an_unreadable_export_is_a_form_error(editor_client):
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile("notes.txt", b"just some notes")})
    assert "is not CSL-JSON (.json), RIS (.ris) or BibTeX (.bib)" in response.content.decode()
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile("bad.json", b"[{")})
    assert "bad.json could not be read" in response.content.decode()
    assert not Reference.objects.exists()


@pytest.mark.parametrize("url_name", ["add_many", "import"])
def test_reviewers_cannot_use_the_add_views(reviewer_client, url_name):
    assert reviewer_client.get(reverse(f"admin:references_reference_{url_name}")).status_code == 403


def test_a_reviewer_who_did_not_enter_it_may_raise_the_status(reviewer_client, editor):
    reference = services.save_reference(Reference(doi="10.5555/rep2", title="R", work_type="report"), by=editor)
    url = reverse("admin:references_reference_override", args=[reference.pk])
    assert reviewer_client.post(url, {"status": "peer_reviewed", "reason": "x"}).status_code == 302
    reference.refresh_from_db()
    assert reference.effective_peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert reference.peer_review_override_by_reviewer


def test_reviewers_cannot_refresh(reviewer_client, fake_crossref):
    reference = services.save_reference(Reference(doi=FEDER, title="R", work_type="report"))
    reviewer_client.post(CHANGELIST, {"action": "refresh_selected", "_selected_action": [reference.pk]})
    assert fake_crossref.requests == []


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(ADD_MANY)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_bibtex_organisation_author_stays_whole(editor_client):
    export = ("@book{who, author = {{World Health Organization}}, title = {Depression and other common mental "
              "disorders}, year = {2017}, url = {https://apps.who.int/iris/handle/10665/254610}}")
    editor_client.post(IMPORT, {"file": SimpleUploadedFile("who.bib", export.encode())})
    reference = Reference.objects.get()
    assert reference.authors == [{"literal": "World Health Organization"}]
    assert reference.doi is None and reference.work_type == "book"
    assert reference.peer_review_status == PeerReviewStatus.UNKNOWN


def test_a_hand_entered_reference_can_be_corrected_in_full(editor_client):
    reference = services.save_reference(Reference(url="https://example.org/report", title="Report",
                                                  authors=[{"family": "Doe", "given": "J."}]))
    url = reverse("admin:references_reference_change", args=[reference.pk])
    form = editor_client.get(url).context["adminform"].form
    assert form["authors_text"].value() == "Doe, J."
    response = editor_client.post(url, add_form(
        url="https://example.org/report", title="Report", authors_text="Doe, Jane\nNational Institute of Mental Health",
        year="2024", work_type="report",
    ) | {"display_title": "", "display_container_title": "", "display_volume": "", "display_issue": "",
         "display_pages": "", "display_publisher": ""})
    assert response.status_code == 302
    reference.refresh_from_db()
    assert reference.authors == [{"family": "Doe", "given": "Jane"}, {"literal": "National Institute of Mental Health"}]
    assert reference.year == 2024


# -- verification ------------------------------------------------------------------------------------

VERIFIED_BY_CROSSREF = "(verified by Crossref)"


@pytest.mark.parametrize(("name", "text", "doi"), [
    ("library.json", CSL_EXPORT, "10.1159/000493425"),
    ("library.ris", RIS_EXPORT, "10.1007/s43440-020-00097-z"),
    ("library.bib", BIBTEX_EXPORT, "10.1523/jneurosci.1547-16.2016"),
])
def test_importing_rechecks_each_doi_with_crossref_and_takes_its_record(editor_client, fake_crossref, name, text, doi):
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode())})
    reference = Reference.objects.get(doi=doi)
    assert reference.metadata_source == MetadataSource.CROSSREF and reference.counts_as_support
    assert reference.title == load_work(doi)["title"][0]  # Crossref's words, not the file's
    assert VERIFIED_BY_CROSSREF in response.content.decode()
    summary = [m for m in messages_of(response) if "verified by Crossref" in m]
    assert summary and summary[0].startswith("1 verified by Crossref.")


def test_an_import_leaves_what_crossref_cannot_confirm_unverified_and_says_so(editor_client, fake_crossref):
    export = json.dumps([
        {"type": "article-journal", "DOI": "10.1159/000493425", "title": "Ketamine's effects"},
        {"type": "article-journal", "DOI": "10.5555/unknown.to.crossref", "title": "A blog post typed as a paper"},
        {"type": "webpage", "URL": "https://example.org/blog", "title": "A blog"},
    ])
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile("mixed.json", export.encode())})
    unknown = Reference.objects.get(doi="10.5555/unknown.to.crossref")
    assert unknown.metadata_source == MetadataSource.FILE and not unknown.counts_as_support
    assert Reference.objects.get(doi="10.1159/000493425").counts_as_support
    content = response.content.decode()
    assert "unverified: Crossref does not know this DOI" in content
    assert "unverified: no DOI to check with Crossref" in content
    assert "1 verified by Crossref. 2 left unverified" in " ".join(messages_of(response))


def test_offline_an_import_stops_asking_crossref_after_it_proves_unreachable(editor_client, fake_crossref):
    fake_crossref.set_mode("server_error")
    export = json.dumps([{"type": "article-journal", "DOI": f"10.5555/offline.{i}", "title": f"T{i}"} for i in range(3)])
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile("x.json", export.encode())})
    assert len(fake_crossref.requests) <= 4  # the first DOI's attempts only (retries included)
    assert all(r.crossref_unreachable for r in response.context["results"])
    assert not any(r.counts_as_support for r in Reference.objects.all())
    assert any(m.startswith("Crossref was unreachable: 3 imported references stay unverified")
               for m in messages_of(response))


def test_adding_by_hand_through_the_admin_records_the_editor_and_warns_it_is_unverified(editor_client, editor):
    response = editor_client.post(ADD, add_form(
        url="https://example.org/blog", title="A blog post", work_type="journal-article",
    ) | {"fetch_from_crossref": ""}, follow=True)
    reference = Reference.objects.get()
    assert reference.entered_by == editor and reference.metadata_source == MetadataSource.MANUAL
    assert not reference.counts_as_support
    assert any("unverified" in m for m in messages_of(response))
    content = editor_client.get(reverse("admin:references_reference_change", args=[reference.pk])).content.decode()
    assert "Entered by hand — unverified" in content


def _verify_url(reference):
    return reverse("admin:references_reference_verify", args=[reference.pk])


def test_a_reviewer_verifies_a_source_through_the_admin_and_it_shows_in_its_history(editor, reviewer_client):
    reference = services.save_reference(Reference(url="https://example.org/study", title="A study",
                                                  work_type="journal-article"), by=editor)
    change = reverse("admin:references_reference_change", args=[reference.pk])
    assert _verify_url(reference) in reviewer_client.get(change).content.decode()  # "Verify this source…"
    response = reviewer_client.get(_verify_url(reference))
    assert response.status_code == 200 and "Unverified:" in response.content.decode()

    response = reviewer_client.post(_verify_url(reference), {"decision": "verify", "reason": ""})
    assert "This field is required" in response.content.decode()
    assert not reference.verifications.exists()

    response = reviewer_client.post(_verify_url(reference), {"decision": "verify", "reason": "Read the paper."})
    assert response.status_code == 302 and response["Location"] == change
    reference.refresh_from_db()
    assert reference.verified_by.username == "rita" and reference.counts_as_support
    content = reviewer_client.get(change).content.decode()
    assert "Verified by rita on" in content and "Read the paper." in content
    history = reviewer_client.get(reverse("admin:references_reference_history", args=[reference.pk]))
    assert "Verified: Read the paper." in history.content.decode()

    response = reviewer_client.post(_verify_url(reference), {"decision": "withdraw", "reason": "Wrong DOI."})
    reference.refresh_from_db()
    assert reference.verified_by is None and not reference.counts_as_support


def test_the_verify_page_refuses_the_reviewer_who_entered_it_with_the_reason(client):
    dual = User.objects.create_user("dual", is_staff=True)
    dual.groups.add(*Group.objects.filter(name__in=["Editors", "Reviewers"]))
    reference = services.save_reference(Reference(url="https://example.org/own", title="Own"), by=dual)
    client.force_login(dual)
    response = client.post(_verify_url(reference), {"decision": "verify", "reason": "Trust me."})
    assert response.status_code == 200
    assert "You entered this reference, so someone else must verify it." in response.content.decode()
    reference.refresh_from_db()
    assert reference.verified_by is None


def test_editors_cannot_verify(editor_client, editor):
    reference = services.save_reference(Reference(url="https://example.org/x", title="X"), by=User.objects.create_user("o"))
    assert editor_client.get(_verify_url(reference)).status_code == 403
    assert editor_client.post(_verify_url(reference), {"decision": "verify", "reason": "x"}).status_code == 403
    reference.refresh_from_db()
    assert reference.verified_by is None


def test_an_editors_field_edit_through_the_admin_is_announced_and_voids_verification(editor_client, editor):
    from references.signals import reference_display_changed

    reviewer = User.objects.create_user("rev", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    reference = services.save_reference(Reference(url="https://example.org/report", title="Report",
                                                  work_type="report"), by=User.objects.create_user("typist"))
    services.verify_reference(reference, by=reviewer, reason="Checked.")
    sent = []
    receiver = lambda sender, **kwargs: sent.append(kwargs["changes"])  # noqa: E731
    reference_display_changed.connect(receiver)
    try:
        response = editor_client.post(reverse("admin:references_reference_change", args=[reference.pk]), add_form(
            url="https://example.org/report", title="Report, second edition", work_type="report",
        ) | {"display_title": "", "display_container_title": "", "display_volume": "", "display_issue": "",
             "display_pages": "", "display_publisher": "Psychly Press"})
    finally:
        reference_display_changed.disconnect(receiver)
    assert response.status_code == 302
    assert sent == [{"title": ("Report", "Report, second edition"),
                     "display_overrides": ({}, {"publisher": "Psychly Press"})}]
    reference.refresh_from_db()
    assert reference.verified_by is None and reference.entered_by == editor


# A trickling Crossref never outlives the worker: the request's budget ends every call ----------------

TRICKLED = ["10.1523/jneurosci.1547-16.2016", "10.1159/000493425", FEDER, "10.1007/s43440-020-00097-z"]


@pytest.fixture
def trickling_crossref(fake_crossref, settings):
    """Crossref sending its whole answer a byte every 20 ms (a fixture takes minutes), a one-second budget."""
    settings.CROSSREF_REQUEST_BUDGET = 1.0
    settings.CROSSREF_DEADLINE = 10
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    return fake_crossref


def test_add_many_answers_crossref_unavailable_for_every_doi_within_the_budget(editor_client, trickling_crossref):
    import time

    started = time.monotonic()
    response = editor_client.post(ADD_MANY, {"dois": "\n".join(TRICKLED)})
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 2.5
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["Crossref unavailable"] * 4
    assert rows[0].detail.startswith(
        "Crossref did not finish its answer for 10.1523/jneurosci.1547-16.2016 in the 1.0 seconds left"
    )
    for row in rows[1:]:
        assert row.detail == f"time budget for this request spent; try again ({row.line} was not looked up)."
    assert trickling_crossref.requests == ["/works/10.1523/jneurosci.1547-16.2016"]
    page = response.content.decode()
    assert page.count("Crossref unavailable") == 4
    assert not Reference.objects.exists()


def test_adding_one_doi_while_crossref_trickles_is_a_form_error_in_time(editor_client, trickling_crossref):
    import time

    started = time.monotonic()
    response = editor_client.post(ADD, add_form(doi=FEDER))
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    page = response.content.decode()
    assert "Crossref unavailable: Crossref did not finish its answer for 10.1176/appi.ajp.2020.20050596" in page
    assert "Enter the title and other details by hand to save it anyway." in page
    assert not Reference.objects.exists()


def test_refreshing_from_the_admin_while_crossref_trickles_reports_each_in_time(editor_client, trickling_crossref):
    import time

    for doi in TRICKLED[:3]:
        Reference.objects.create(doi=doi, title=doi)
    started = time.monotonic()
    response = editor_client.post(CHANGELIST, {
        "action": "refresh_selected", "_selected_action": list(Reference.objects.values_list("pk", flat=True)),
    }, follow=True)
    assert time.monotonic() - started < 2.5
    failed = [m for m in messages_of(response) if ": failed: " in m]
    assert len(failed) == 3
    assert sum("time budget for this request spent; try again" in m for m in failed) == 3


def test_a_mistyped_crossref_answer_is_added_not_a_server_error(editor_client, fake_crossref):
    fake_crossref.set_mode("mistyped")
    response = editor_client.post(ADD_MANY, {"dois": FEDER})
    assert response.status_code == 200
    assert [r.outcome for r in response.context["results"]] == ["added"]
    reference = Reference.objects.get(doi=FEDER)
    assert (reference.title, reference.year, reference.volume) == ("A title as a string, not a list", 2019, "12")


def test_an_edit_the_service_refuses_shows_only_the_refusal(editor_client, monkeypatch):
    """Between the admin reading the record and saving the edit, another process filled it from PubMed (a
    refresh, a PMID added elsewhere); services.edit_reference then refuses the typed title. The editor sees
    that refusal alone, not also Django's "changed successfully", and nothing enters the history."""
    from django.contrib.admin.models import LogEntry

    from references.admin import ReferenceAdmin

    reference = services.save_reference(Reference(url="https://example.org/report", title="Report",
                                                  work_type="report"), by=User.objects.create_user("typist"))
    read = ReferenceAdmin.get_object

    def read_then_filled_elsewhere(self, request, object_id, from_field=None):
        obj = read(self, request, object_id, from_field)
        if request.method == "POST":
            Reference.objects.filter(pk=obj.pk).update(metadata_source=MetadataSource.PUBMED, pmid="23121403")
        return obj

    monkeypatch.setattr(ReferenceAdmin, "get_object", read_then_filled_elsewhere)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    response = editor_client.post(url, add_form(
        url="https://example.org/report", title="Report, second edition", work_type="report",
    ) | {"display_title": "", "display_container_title": "", "display_volume": "", "display_issue": "",
         "display_pages": "", "display_publisher": ""})
    assert response.status_code == 302 and response.url == url
    page = editor_client.get(url)
    assert messages_of(page) == [
        "This record came from PubMed and is kept as fetched (title): correct it for display instead."
    ]
    assert "changed successfully" not in page.content.decode()
    reference.refresh_from_db()
    assert reference.title == "Report"
    assert not LogEntry.objects.filter(object_id=str(reference.pk)).exists()


def test_an_import_whose_budget_is_spent_says_so_and_names_the_entries_not_checked(editor_client, trickling_crossref):
    """Crossref is slow, not unreachable: the summary must not blame it, and must say which entries to re-check."""
    import time

    dois = TRICKLED[:3]
    export = json.dumps([{"type": "article-journal", "DOI": doi, "title": f"T{n}"} for n, doi in enumerate(dois)])
    started = time.monotonic()
    response = editor_client.post(IMPORT, {"file": SimpleUploadedFile("slow.json", export.encode())})
    assert time.monotonic() - started < 2.5
    rows = response.context["results"]
    assert [r.outcome for r in rows] == ["added"] * 3
    assert all(r.budget_spent and not r.crossref_unreachable for r in rows)
    assert all(r.detail.endswith("(unverified: not checked with Crossref: the time budget was spent)") for r in rows)
    assert trickling_crossref.requests == [f"/works/{dois[0]}"]
    [summary] = messages_of(response)
    assert summary.startswith(
        f"The time budget for this import was spent before Crossref checked 3 entries ({', '.join(dois)}): "
        "they stay unverified"
    )
    assert "unreachable" not in summary and "unreachable" not in response.content.decode()
    assert not any(r.counts_as_support for r in Reference.objects.all())
