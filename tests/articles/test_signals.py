"""A cited source that changes puts the live articles citing it back in review."""

import pytest
from django.core import mail

from articles.review import workflow
from articles.models import Article, AuditEntry, Citation, Status
from references.models import Reference, RetractionStatus
from references.signals import reference_status_changed
from tests.factories import make_reference, make_supported_article

pytestmark = pytest.mark.django_db


def published(editor, reviewer, **kwargs):
    article = make_supported_article(author=editor, **kwargs)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    return article


def retract(reference):
    reference.retraction_status = RetractionStatus.RETRACTED
    reference.save()
    reference_status_changed.send(
        sender=Reference, reference=reference, was_support=True, is_support=False, newly_retracted=True,
        changes={"retraction_status": ("none", "retracted")},
    )


def test_losing_the_only_support_flags_the_article_urgent_and_it_stays_live(
    editor, reviewer, django_capture_on_commit_callbacks
):
    only = make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [only]}]})
    with django_capture_on_commit_callbacks(execute=True):
        retract(only)
    article.refresh_from_db()
    assert (article.status, article.needs_rereview, article.urgent) == (Status.PUBLISHED, True, True)
    assert "was retracted" in article.rereview_reason
    assert AuditEntry.objects.filter(article=article, action="flag_rereview").exists()
    assert any(m.subject.startswith("[Psychly] URGENT re-review") for m in mail.outbox)
    workflow.unpublish(article, by=editor, reason="Only source retracted.")
    assert not Article.objects.published().filter(pk=article.pk).exists()


def test_a_claim_with_other_support_is_flagged_but_not_urgent(editor, reviewer):
    one, two = make_reference(), make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [one, two]}]})
    retract(one)
    article.refresh_from_db()
    assert (article.needs_rereview, article.urgent) == (True, False)


def test_articles_not_citing_the_reference_or_not_live_are_untouched(editor, reviewer):
    cited = make_reference()
    live_elsewhere = published(editor, reviewer, slug="elsewhere", title="Elsewhere")
    draft = make_supported_article("Draft", sections={"S": [{"text": "x", "refs": [cited]}]})
    retract(cited)
    assert not Article.objects.get(pk=live_elsewhere.pk).needs_rereview
    assert not Article.objects.get(pk=draft.pk).needs_rereview
    assert Article.objects.get(pk=draft.pk).status == Status.DRAFT


def test_re_approval_clears_the_flag(editor, reviewer):
    one, two = make_reference(), make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [one, two]}]})
    retract(one)
    workflow.approve(article, by=reviewer)
    article.refresh_from_db()
    assert (article.needs_rereview, article.urgent, article.status) == (False, False, Status.PUBLISHED)


# -- a flag raised after an approval -------------------------------------------------------------------

def express_concern(reference):
    reference.retraction_status = RetractionStatus.EXPRESSION_OF_CONCERN
    reference.save()
    reference_status_changed.send(
        sender=Reference, reference=reference, was_support=True, is_support=True, newly_retracted=False,
        changes={"retraction_status": ("none", "expression_of_concern")},
    )


def _second_version_approved(editor, reviewer):
    """A live article whose edited working copy a reviewer approved, not yet published; and its source."""
    source = make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    Article.objects.filter(pk=article.pk).update(summary="An updated summary.")
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    return Article.objects.get(pk=article.pk), source


def test_publishing_an_approval_given_before_a_flag_is_refused_and_the_flag_stays(editor, reviewer):
    article, source = _second_version_approved(editor, reviewer)
    express_concern(source)
    article.refresh_from_db()
    assert article.needs_rereview and article.rereview_flagged_at > article.approved_at
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=editor)
    [blocker] = refused.value.blockers
    assert blocker.code == "rereview_pending"
    assert "flagged for re-review after this approval" in blocker.message and source.doi in blocker.message
    article.refresh_from_db()
    assert article.needs_rereview and article.published_revision.number == 1, "the flag stays, nothing published"
    # A reviewer looks again: their approval answers the flag and the version can go live.
    workflow.approve(article, by=reviewer)
    article.refresh_from_db()
    assert not article.needs_rereview and article.rereview_flagged_at is None
    workflow.publish(article, by=editor)
    assert Article.objects.get(pk=article.pk).published_revision.number == 2


def test_a_scheduled_publication_of_an_approval_older_than_a_flag_is_refused_and_the_flag_stays(editor, reviewer):
    from datetime import timedelta

    from django.utils import timezone

    article, source = _second_version_approved(editor, reviewer)
    workflow.schedule(article, by=editor, at=timezone.now() + timedelta(hours=1))
    express_concern(source)
    [result] = workflow.publish_scheduled(now=timezone.now() + timedelta(hours=2))
    assert not result.published and "flagged for re-review after this approval" in result.error
    article.refresh_from_db()
    assert article.needs_rereview and article.published_revision.number == 1


def test_publishing_an_approval_given_after_the_flag_clears_it(editor, reviewer):
    article, source = _second_version_approved(editor, reviewer)
    express_concern(source)
    Article.objects.filter(pk=article.pk).update(summary="Rewritten after the notice.")
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    article.refresh_from_db()
    assert (article.needs_rereview, article.rereview_flagged_at, article.published_revision.number) == (
        False, None, 2)


def test_requesting_changes_is_a_reviewers_answer_to_the_flag(editor, reviewer):
    source = make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    express_concern(source)
    workflow.request_changes(article, by=reviewer, comment="Weigh the expression of concern.")
    article.refresh_from_db()
    assert (article.needs_rereview, article.rereview_flagged_at) == (False, None)


def test_submitting_a_new_version_keeps_the_reason_a_source_flagged(editor, reviewer):
    source = make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    express_concern(source)
    workflow.submit(article, by=editor)
    article.refresh_from_db()
    assert "changed (retraction_status)" in article.rereview_reason
    assert "A new version was submitted" in article.rereview_reason


# -- what readers see of a cited source changed -----------------------------------------------------------

from references.signals import reference_display_changed  # noqa: E402


def show_differently(reference, **changes):
    reference_display_changed.send(sender=Reference, reference=reference, changes=changes)


def test_a_display_change_voids_the_approval_of_an_approved_article_citing_it(editor, reviewer):
    source = make_reference(title="Old title")
    article = make_supported_article(author=editor, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    show_differently(source, title=("Old title", "New title"))
    article.refresh_from_db()
    assert (article.status, article.approved_fingerprint) == (Status.DRAFT, "")
    entry = AuditEntry.objects.get(article=article, action="source_changed")
    assert entry.from_status == Status.APPROVED
    assert f"Cited source {source.doi} changed what readers see: title “Old title” → “New title”." in entry.comment
    with pytest.raises(workflow.WorkflowError):
        workflow.publish(article, by=editor)


def test_a_display_change_cancels_a_schedule(editor, reviewer):
    from datetime import timedelta

    from django.utils import timezone

    source = make_reference()
    article = make_supported_article(author=editor, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.schedule(article, by=editor, at=timezone.now() + timedelta(days=1))
    show_differently(source, container_title=("J Stud", "Journal of Studies"))
    article.refresh_from_db()
    assert (article.status, article.scheduled_at) == (Status.DRAFT, None)


def test_a_display_change_flags_live_articles_whose_page_keeps_the_frozen_reading(client, editor, reviewer):
    source = make_reference(title="The trial as first deposited")
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    Reference.objects.filter(pk=source.pk).update(title="The trial as corrected")
    source.refresh_from_db()
    show_differently(source, title=("The trial as first deposited", "The trial as corrected"))
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED and article.needs_rereview
    assert "title “The trial as first deposited” → “The trial as corrected”" in article.rereview_reason
    page = client.get(article.get_absolute_url()).content.decode()
    assert "The trial as first deposited" in page and "The trial as corrected" not in page


def test_a_display_change_flags_a_live_article_and_blocks_its_pending_approval(editor, reviewer):
    article, source = _second_version_approved(editor, reviewer)
    show_differently(source, authors=([{"family": "Reyes", "given": "Dana"}], [{"family": "Reyes", "given": "D."}]))
    article.refresh_from_db()
    assert (article.status, article.needs_rereview) == (Status.PUBLISHED, True)
    assert "authors “Dana Reyes” → “D. Reyes”" in article.rereview_reason
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=editor)
    assert [b.code for b in refused.value.blockers] == ["rereview_pending"]


def test_a_display_change_voids_a_live_articles_pending_approval_of_a_version_newly_citing_it(editor, reviewer):
    old_source, new_source = make_reference(), make_reference()
    article = published(editor, reviewer, sections={"S": [{"text": "A claim.", "refs": [old_source]}]})
    Citation.objects.filter(claim__section__article=article).update(reference=new_source)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    show_differently(new_source, title=("A", "B"))
    article.refresh_from_db()
    assert (article.status, article.approved_fingerprint) == (Status.PUBLISHED, "")
    assert article.published_revision.number == 1
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=editor)
    assert [b.code for b in refused.value.blockers] == ["no_approval"]


def test_a_display_change_leaves_articles_not_citing_it_alone(editor, reviewer):
    source, other = make_reference(), make_reference()
    article = make_supported_article(author=editor, sections={"S": [{"text": "A claim.", "refs": [other]}]})
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    show_differently(source, title=("A", "B"))
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_refreshing_a_recorded_crossref_work_whose_title_changed_voids_and_flags(
    client, fake_crossref, editor, reviewer
):
    """Through references.services.refresh_reference and the fake Crossref serving the real PLOS ONE record
    tests/fixtures/crossref/work-10.1371_journal.pone.0033693.json (recorded by habanero's tests); the reference
    was stored with the title as it read before (an arranged older deposit)."""
    import json
    from pathlib import Path

    from references import services

    doi = "10.1371/journal.pone.0033693"
    path = Path(__file__).resolve().parents[1] / "fixtures" / "crossref" / "work-10.1371_journal.pone.0033693.json"
    work = json.loads(path.read_text(encoding="utf-8"))["message"]
    current_title = services.apply_work(Reference(), work).title
    work["title"] = ["An earlier deposit of the title"]
    cited = services.save_reference(services.apply_work(Reference(doi=doi), work))
    live = published(editor, reviewer, title="Live", slug="live",
                     sections={"S": [{"text": "A claim.", "refs": [cited]}]})
    approved = make_supported_article("Approved", author=editor,
                                      sections={"S": [{"text": "A claim.", "refs": [cited]}]})
    workflow.submit(approved, by=editor)
    workflow.approve(approved, by=reviewer)

    result = services.refresh_reference(cited)
    assert result.error is None and "title" in result.changes
    live.refresh_from_db()
    approved.refresh_from_db()
    assert live.needs_rereview and "An earlier deposit of the title" in live.rereview_reason
    assert approved.status == Status.DRAFT
    page = client.get(live.get_absolute_url()).content.decode()
    assert "An earlier deposit of the title" in page and current_title not in page


def test_a_notice_after_approval_voids_an_approval_not_yet_published(editor, reviewer):
    """Approved, then an expression of concern on a cited source: the earlier approval cannot be published."""
    source = make_reference()
    article = make_supported_article(author=editor, sections={"S": [{"text": "A claim.", "refs": [source]}]})
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    express_concern(source)
    article.refresh_from_db()
    assert (article.status, article.approved_fingerprint) == (Status.DRAFT, "")
    entry = AuditEntry.objects.get(article=article, action="source_changed")
    assert f"Cited source {source.doi} changed (retraction_status)." in entry.comment
    with pytest.raises(workflow.InvalidTransition):
        workflow.publish(article, by=editor)
