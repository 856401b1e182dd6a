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
    from tests.factories import make_reviewer

    reviewer = make_reviewer()
    reference = services.save_reference(Reference(doi="10.5555/report.1", title="A report", work_type="report"))
    assert reference.peer_review_status == PeerReviewStatus.UNKNOWN
    services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED,
                                  reason="Externally reviewed per the report's preface.", by=reviewer)
    reference.refresh_from_db()
    assert reference.effective_peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert reference.peer_review_override_by == reviewer and reference.peer_review_override_by_reviewer
    assert reference.peer_review_override_at is not None
    # Typed in by hand: an editor's override does not verify the record.
    assert not reference.counts_as_support
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


# -- verification ----------------------------------------------------------------------------------

from references.models import ReferenceVerification, VerificationDecision  # noqa: E402
from references.signals import reference_display_changed  # noqa: E402
from tests.factories import make_editor, make_reviewer, make_user  # noqa: E402


def _typed_in(by, **fields):
    fields.setdefault("title", "A trial typed in by hand")
    fields.setdefault("work_type", "journal-article")
    return services.save_reference(Reference(doi=fields.pop("doi", "10.5555/typed.1"), **fields), by=by)


def test_a_reference_typed_in_records_who_entered_it_and_does_not_count(editor):
    reference = _typed_in(editor)
    reference.refresh_from_db()
    assert reference.entered_by == editor and reference.metadata_source == MetadataSource.MANUAL
    assert reference.peer_review_status == PeerReviewStatus.PEER_REVIEWED  # what the typed type says
    assert not reference.is_verified and not reference.counts_as_support


def test_a_reviewer_who_did_not_enter_it_verifies_it_with_a_reason_and_it_is_logged(editor):
    reviewer = make_reviewer()
    reference = _typed_in(editor)
    services.verify_reference(reference, by=reviewer, reason="  Matched the journal's page and the PDF.  ")
    reference.refresh_from_db()
    assert (reference.verified_by, reference.verification_reason) == (reviewer, "Matched the journal's page and the PDF.")
    assert reference.verified_at is not None and reference.counts_as_support
    entry = ReferenceVerification.objects.get()
    assert (entry.decision, entry.by, entry.reason) == (
        VerificationDecision.VERIFIED, reviewer, "Matched the journal's page and the PDF.")

    services.withdraw_verification(reference, by=reviewer, reason="The DOI resolves to another paper.")
    reference.refresh_from_db()
    assert reference.verified_by is None and not reference.counts_as_support
    assert [e.decision for e in reference.verifications.all()] == [
        VerificationDecision.WITHDRAWN, VerificationDecision.VERIFIED]


def test_nobody_verifies_a_reference_they_entered_even_holding_both_roles_or_as_superuser():
    for user in (make_user(None, "Editors", "Reviewers"), make_user(superuser=True)):
        reference = _typed_in(user, doi=f"10.5555/self.{user.pk}")
        with pytest.raises(services.VerificationRefused, match="You entered this reference"):
            services.verify_reference(reference, by=user, reason="Looks right to me.")
        reference.refresh_from_db()
        assert reference.verified_by is None and not reference.counts_as_support
    assert not ReferenceVerification.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_verification_needs_a_reason(editor, reason):
    reference = _typed_in(editor)
    with pytest.raises(services.VerificationRefused, match="reason is required"):
        services.verify_reference(reference, by=make_reviewer(), reason=reason)
    assert not ReferenceVerification.objects.exists()


def test_an_editor_without_the_permission_cannot_verify(editor):
    reference = _typed_in(make_editor())
    with pytest.raises(services.VerificationRefused, match="Only a reviewer"):
        services.verify_reference(reference, by=editor, reason="Checked.")
    with pytest.raises(services.VerificationRefused, match="Only a reviewer"):
        services.withdraw_verification(reference, by=editor, reason="Checked.")
    assert not ReferenceVerification.objects.exists()


def test_a_record_from_crossref_needs_no_verification(fake_crossref):
    reference, _ = services.add_reference_by_doi(FEDER)
    assert reference.is_verified and reference.counts_as_support
    with pytest.raises(services.VerificationRefused, match="came from Crossref"):
        services.verify_reference(reference, by=make_reviewer(), reason="Checked.")


def test_withdrawing_what_was_never_verified_is_refused(editor):
    with pytest.raises(services.VerificationRefused, match="no reviewer's verification"):
        services.withdraw_verification(_typed_in(editor), by=make_reviewer(), reason="Oops.")


def test_the_editors_override_never_makes_an_unverified_source_count(editor):
    reference = _typed_in(editor, work_type="report")
    with pytest.raises(services.OverrideRefused, match="Only a reviewer who did not enter"):
        services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED, reason="Reviewed.",
                                      by=editor)
    # Even a reviewer's override does not verify a record typed in.
    services.override_peer_review(reference, status=PeerReviewStatus.PEER_REVIEWED, reason="Reviewed.",
                                  by=make_reviewer())
    reference.refresh_from_db()
    assert reference.effective_peer_review_status == PeerReviewStatus.PEER_REVIEWED
    assert not reference.counts_as_support


def test_a_hand_entered_notice_is_known_by_its_title_and_never_counts(editor):
    reference = _typed_in(editor, title="Erratum to “Ketamine and depression”")
    services.verify_reference(reference, by=make_reviewer(), reason="It exists.")
    reference.refresh_from_db()
    assert reference.notice_kind == "erratum"
    assert reference.peer_review_status == PeerReviewStatus.NOT_PEER_REVIEWED
    assert not reference.counts_as_support


def test_verifying_tells_articles_the_source_now_supports_claims(editor, signals):
    reference = _typed_in(editor)
    services.verify_reference(reference, by=make_reviewer(), reason="Checked the PDF.")
    assert len(signals) == 1 and signals[0]["is_support"] and not signals[0]["was_support"]


def test_fetching_from_crossref_verifies_a_reference_typed_in(fake_crossref, editor):
    reference = _typed_in(editor, doi=FEDER, title="Ketamine PTSD trial")
    result = services.refresh_reference(reference)
    reference.refresh_from_db()
    assert reference.metadata_source == MetadataSource.CROSSREF and reference.counts_as_support
    assert result.changes["metadata_source"] == (MetadataSource.MANUAL, MetadataSource.CROSSREF)


# -- changes readers would see are announced ----------------------------------------------------------

def _depth():
    from django.db import connection

    return len(connection.savepoint_ids)


@pytest.fixture
def display_signals():
    received = []

    def receiver(sender, **kwargs):
        from django.db import connection

        # The service's own transaction shows as one savepoint more than the test's.
        received.append({**kwargs, "depth": len(connection.savepoint_ids)})

    reference_display_changed.connect(receiver)
    yield received
    reference_display_changed.disconnect(receiver)


def test_a_refresh_that_changes_the_title_announces_it_inside_the_transaction(fake_crossref, display_signals):
    reference, _ = services.add_reference_by_doi(FEDER)
    Reference.objects.filter(pk=reference.pk).update(title="An older title", year=2020)
    services.refresh_reference(reference)
    assert len(display_signals) == 1
    sent = display_signals[0]
    assert sent["reference"].pk == reference.pk and sent["depth"] > _depth()
    assert sent["changes"]["title"][0] == "An older title"
    assert sent["changes"]["year"] == (2020, 2021)
    assert "retraction_status" not in sent["changes"]


def test_a_refresh_that_changes_nothing_readers_see_sends_nothing(fake_crossref, display_signals):
    reference, _ = services.add_reference_by_doi(FEDER)
    services.refresh_reference(reference)
    assert display_signals == []


def test_a_correction_for_display_is_announced(fake_crossref, editor, display_signals):
    reference, _ = services.add_reference_by_doi(FEDER)
    services.edit_reference(reference, by=editor, display_overrides={"title": "A randomized controlled trial"})
    reference.refresh_from_db()
    assert reference.display("title") == "A randomized controlled trial"
    assert display_signals[0]["changes"] == {
        "display_overrides": ({}, {"title": "A randomized controlled trial"})}
    assert display_signals[0]["depth"] > _depth()
    # Saving the same corrections again changes nothing and says nothing.
    services.edit_reference(reference, by=editor, display_overrides={"title": "A randomized controlled trial"})
    assert len(display_signals) == 1


def test_a_crossref_record_keeps_its_fetched_fields(fake_crossref, editor, display_signals):
    reference, _ = services.add_reference_by_doi(FEDER)
    with pytest.raises(services.ReferenceEditRefused, match="kept as fetched"):
        services.edit_reference(reference, by=editor, fields={"title": "Something else"})
    reference.refresh_from_db()
    assert reference.title != "Something else" and display_signals == []


def test_editing_a_verified_hand_entered_reference_withdraws_the_verification(editor, display_signals):
    reviewer, other = make_reviewer(), make_user(None, "Editors", "Reviewers")
    reference = _typed_in(editor)
    services.verify_reference(reference, by=reviewer, reason="Checked the PDF.")
    services.edit_reference(reference, by=other, fields={"title": "A different trial", "year": 2019})
    reference.refresh_from_db()
    assert reference.title == "A different trial" and reference.entered_by == other
    assert reference.verified_by is None and not reference.counts_as_support
    assert reference.verifications.first().decision == VerificationDecision.WITHDRAWN
    assert set(display_signals[0]["changes"]) == {"title", "year"}
    # Whoever typed the new details may not vouch for them, whatever roles they hold.
    with pytest.raises(services.VerificationRefused, match="You entered"):
        services.verify_reference(reference, by=other, reason="Mine.")
    services.verify_reference(reference, by=reviewer, reason="Checked the new details.")


def test_an_unknown_field_is_refused(editor):
    with pytest.raises(services.ReferenceEditRefused, match="cannot be edited: doi"):
        services.edit_reference(_typed_in(editor), by=editor, fields={"doi": "10.5555/other"})
