"""Receivers: a cited source that changes puts the live articles citing it back in review; stored pages follow
changes made outside the workflow."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from articles.models import Article, ReviewerProfile, Status
from references.models import Reference
from references.signals import reference_status_changed


def _describe(reference, *, is_support, newly_retracted, changes):
    label = reference.doi or reference.url
    if newly_retracted:
        return f"Cited source {label} was retracted."
    if not is_support:
        return f"Cited source {label} no longer counts as support ({reference.effective_peer_review_status})."
    changed = ", ".join(sorted(changes or {})) or "its status"
    return f"Cited source {label} changed ({changed})."


def _claim_lost_support(revision, live_references):
    """Whether a claim readers see now cites no source that supports it."""
    for section in revision.snapshot["sections"]:
        for claim in section["claims"]:
            if claim["is_context"]:
                continue
            ids = [revision.snapshot["references"][c["reference"] - 1]["id"] for c in claim["citations"]]
            if not any(live_references[i].counts_as_support for i in ids if i in live_references):
                return True
    return False


@receiver(reference_status_changed, dispatch_uid="articles.flag_articles_citing_changed_reference")
def flag_articles_citing_changed_reference(sender, reference, was_support=None, is_support=None,
                                           newly_retracted=False, changes=None, **kwargs):
    """Flag every published article whose live revision cites ``reference``; urgent if a claim lost all support."""
    from articles import workflow

    articles = Article.objects.filter(
        status=Status.PUBLISHED, published_revision__references=reference
    ).select_related("published_revision").distinct()
    if is_support is None:
        is_support = reference.counts_as_support
    reason = _describe(reference, is_support=is_support, newly_retracted=newly_retracted, changes=changes)
    for article in articles:
        revision = article.published_revision
        urgent = False
        if not is_support:
            ids = [ref["id"] for ref in revision.snapshot["references"]]
            live = Reference.objects.in_bulk(ids)
            urgent = _claim_lost_support(revision, live)
        workflow.flag_for_rereview(article, reason=reason, urgent=urgent)


@receiver(post_save, sender=ReviewerProfile, dispatch_uid="articles.refresh_pages_crediting_reviewer")
def refresh_pages_crediting_reviewer(sender, instance, **kwargs):
    """A reviewer's public credit changed: the stored pages of the live articles they last approved show it."""
    from articles.pages import page_changed

    for article in Article.objects.published().filter(approved_by=instance.user_id).only("pk", "slug"):
        page_changed(article)


@receiver(post_save, sender=Article, dispatch_uid="articles.refresh_page_of_saved_article")
def refresh_page_of_saved_article(sender, instance, update_fields=None, **kwargs):
    """An editor saved a live article (its slug or review interval may show on its page): store the page afresh.

    The workflow saves only named fields and stores the page itself.
    """
    from articles.pages import page_changed

    if update_fields is None and instance.status == Status.PUBLISHED and instance.published_revision_id:
        page_changed(instance)
