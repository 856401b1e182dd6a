"""Adding, refreshing and overriding references."""

import pytest
from django.db import IntegrityError

from references import crossref, services
from references.doi import InvalidDOI
from references.models import MetadataSource, PeerReviewOverride, PeerReviewStatus, Reference, RetractionStatus
from references.signals import reference_status_changed
from tests.fake_crossref import load_work

pytestmark = pytest.mark.django_db

FEDER = "10.1176/appi.ajp.2020.20050596"


def test_adding_by_doi_fills_metadata_from_crossref(fake_crossref):
    reference, created = services.add_reference_by_doi("https://doi.org/10.1176/APPI.AJP.2020.20050596")
    assert created
    reference.refresh_from_db()
    assert reference.doi == FEDER
    assert reference.title.startswith("A Randomized Controlled Trial")
    assert reference.metadata_source == MetadataSource.CROSSREF
    assert reference.raw_metadata["DOI"] == FEDER
    assert reference.csl["type"] == "article-journal"
    assert reference.fetched_at is not None
    assert reference.peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert reference.counts_as_support


def test_the_same_work_in_another_form_is_found_not_duplicated(fake_crossref):
    first, _ = services.add_reference_by_doi(FEDER)
    again, created = services.add_reference_by_doi(
        "https://ajp.psychiatryonline.org/doi/full/10.1176/appi.ajp.2020.20050596"
    )
    assert (again.pk, created) == (first.pk, False)
    assert Reference.objects.count() == 1
    assert len(fake_crossref.requests) == 1


def test_invalid_input_raises_invalid_doi_and_saves_nothing(fake_crossref):
    with pytest.raises(InvalidDOI):
        services.add_reference_by_doi("not a doi")
    assert not Reference.objects.exists()


def test_crossref_failure_without_fallback_saves_nothing(fake_crossref):
    fake_crossref.set_mode("server_error")
    with pytest.raises(crossref.CrossrefUnavailable):
        services.add_reference_by_doi(FEDER)
    assert not Reference.objects.exists()


def test_crossref_failure_with_fallback_saves_the_parsed_line_for_checking(fake_crossref):
    fake_crossref.set_mode("bad_json")
    reference, created = services.add_reference_by_doi(
        FEDER, fallback={"title": "A Randomized Controlled Trial", "year": 2020, "container_title": "AJP"}
    )
    assert created
    reference.refresh_from_db()
    assert (reference.metadata_source, reference.needs_check) == (MetadataSource.CITATION_LINE, True)
    assert reference.peer_review_status == PeerReviewStatus.UNKNOWN
    assert not reference.counts_as_support


def test_fetch_false_uses_the_fallback_without_calling_crossref(fake_crossref):
    reference, created = services.add_reference_by_doi(FEDER, fetch=False, fallback={"title": "RCT"})
    assert created and reference.needs_check
    assert fake_crossref.requests == []


def test_adding_by_url_uses_the_doi_inside_it(fake_crossref):
    reference, created = services.add_reference_by_url(
        "https://link.springer.com/article/10.1007/s43440-020-00097-z"
    )
    assert created and reference.doi == "10.1007/s43440-020-00097-z"


def test_adding_by_url_without_doi_keeps_the_url_and_finds_it_again(fake_crossref):
    url = "https://www.who.int/news-room/fact-sheets/detail/depression"
    reference, created = services.add_reference_by_url(url, fallback={"title": "Depression"})
    again, created_again = services.add_reference_by_url(url)
    assert created and not created_again and again.pk == reference.pk
    assert reference.doi is None and reference.needs_check


def test_override_records_who_when_why_and_appends_to_the_log(editor):
    reference = services.save_reference(Reference(doi="10.5555/report.1", title="A report", work_type="report"))
    assert reference.peer_review_status == PeerReviewStatus.UNKNOWN
    services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED,
                                  reason="Externally reviewed per the report's preface.", by=editor)
    reference.refresh_from_db()
    assert reference.effective_peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert reference.peer_review_override_by == editor
    assert reference.peer_review_override_at is not None
    assert reference.counts_as_support
    services.override_peer_review(reference, status="", reason="Preface was misread.", by=editor)
    reference.refresh_from_db()
    assert reference.effective_peer_review_status == PeerReviewStatus.UNKNOWN
    log = list(reference.peer_review_overrides.all())
    assert [(e.status, e.previous_status) for e in log] == [
        ("", PeerReviewStatus.PEER_REVIEWED), (PeerReviewStatus.PEER_REVIEWED, PeerReviewStatus.UNKNOWN),
    ]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_override_needs_a_reason(editor, reason):
    reference = services.save_reference(Reference(doi="10.5555/report.2", title="R", work_type="report"))
    with pytest.raises(ValueError, match="reason is required"):
        services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED, reason=reason, by=editor)
    assert not PeerReviewOverride.objects.exists()


def test_override_log_is_append_only(editor):
    reference = services.save_reference(Reference(doi="10.5555/report.3", title="R", work_type="report"))
    services.override_peer_review(reference, status=PeerReviewStatus.NOT_PEER_REVIEWED, reason="Grey", by=editor)
    entry = PeerReviewOverride.objects.get()
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_a_retracted_work_never_counts_even_when_overridden(editor):
    reference = services.apply_work(Reference(), load_work("10.5555/psychly.retracted.2019.001"))
    reference = services.save_reference(reference)
    services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED, reason="Journal", by=editor)
    reference.refresh_from_db()
    assert reference.is_retracted
    assert not reference.counts_as_support
    assert reference.retraction_notices[0]["DOI"] == "10.5555/psychly.retraction.2021.001"


def test_the_database_refuses_an_override_without_reason():
    reference = services.save_reference(Reference(doi="10.5555/report.4", title="R", work_type="report"))
    reference.peer_review_override = PeerReviewStatus.PEER_REVIEWED
    with pytest.raises(IntegrityError):
        reference.save()


@pytest.fixture
def signals():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    reference_status_changed.connect(receiver)
    yield received
    reference_status_changed.disconnect(receiver)


def test_refresh_detects_a_new_retraction_and_signals_it(fake_crossref, signals):
    doi = "10.5555/psychly.retracted.2019.001"
    work = load_work(doi)
    work.pop("updated-by")  # as it was before the retraction
    reference = services.save_reference(services.apply_work(Reference(), work))
    assert reference.counts_as_support

    result = services.refresh_reference(reference)
    assert result.newly_retracted and result.was_support and not result.is_support
    assert result.changes["retraction_status"] == (RetractionStatus.NONE, RetractionStatus.RETRACTED)
    assert "NEWLY RETRACTED" in str(result)
    reference.refresh_from_db()
    assert reference.is_retracted
    assert len(signals) == 1
    assert signals[0]["reference"].pk == reference.pk
    assert signals[0]["newly_retracted"] and signals[0]["was_support"] and not signals[0]["is_support"]


def test_refresh_without_changes_sends_nothing_and_keeps_display_overrides(fake_crossref, signals):
    reference, _ = services.add_reference_by_doi(FEDER)
    reference.display_overrides = {"title": "A randomized controlled trial"}
    reference.save()
    result = services.refresh_reference(reference)
    assert not result.changed and str(result) == f"{FEDER}: unchanged"
    reference.refresh_from_db()
    assert reference.display("title") == "A randomized controlled trial"
    assert signals == []


def test_refresh_reports_a_crossref_failure_and_changes_nothing(fake_crossref, signals):
    reference, _ = services.add_reference_by_doi(FEDER)
    before = reference.status_checked_at
    fake_crossref.set_mode("server_error")
    result = services.refresh_reference(reference)
    assert isinstance(result.error, crossref.CrossrefUnavailable)
    assert str(result).startswith(f"{FEDER}: failed: Crossref answered 500")
    reference.refresh_from_db()
    assert reference.status_checked_at == before
    assert signals == []
