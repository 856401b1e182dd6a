"""A cited source that changes puts the live articles citing it back in review."""

import pytest
from django.core import mail

from articles import workflow
from articles.models import Article, AuditEntry, Status
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
