"""Receivers: a cited source that changes puts the live articles citing it back in review (and voids approvals
of working copies citing it when what readers see of it changed); stored pages follow changes made outside the
workflow.

A reviewer's public credit is frozen on the article at approval, so editing a reviewer profile changes no page.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from articles.models import Article, Status
from references.models import Reference
from references.signals import reference_display_changed, reference_status_changed


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
    """Flag every published article whose live revision cites ``reference``; urgent if a claim lost all support.

    An approval not yet published of a working copy citing it is voided: its reviewer never saw the notice.
    """
    from articles.review import workflow

    if is_support is None:
        is_support = reference.counts_as_support
    reason = _describe(reference, is_support=is_support, newly_retracted=newly_retracted, changes=changes)
    _void_unpublished_approvals(reference, reason)
    articles = Article.objects.filter(
        status=Status.PUBLISHED, published_revision__references=reference
    ).select_related("published_revision").distinct()
    for article in articles:
        revision = article.published_revision
        urgent = False
        if not is_support:
            ids = [ref["id"] for ref in revision.snapshot["references"]]
            live = Reference.objects.in_bulk(ids)
            urgent = _claim_lost_support(revision, live)
        workflow.flag_for_rereview(article, reason=reason, urgent=urgent)


def _void_unpublished_approvals(reference, reason):
    """Void every approval not yet live (approved, scheduled, or a live article's next version) citing ``reference``.

    A live article whose page cites it is flagged instead: its pending approval stays on record, and the
    gate refuses to publish it because it is older than the flag, until a reviewer approves again.
    """
    from articles.review import workflow

    approved = (
        Article.objects.filter(status__in=[Status.APPROVED, Status.PUBLISHED],
                               sections__claims__citations__reference=reference)
        .exclude(approved_fingerprint="")
        .exclude(status=Status.PUBLISHED, published_revision__references=reference)
        .values_list("pk", flat=True).distinct()
    )
    for pk in list(approved):
        workflow.void_approval(Article(pk=pk), reason=reason)


def _person(value):
    if isinstance(value, dict):
        return " ".join(filter(None, [value.get("given"), value.get("family"), value.get("literal")]))
    return str(value)


def _shown(value):
    """A field's value as a reviewer reads it in the reason (authors as names, display corrections as pairs)."""
    if isinstance(value, list):
        value = "; ".join(_person(v) for v in value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    text = " ".join(str(value if value is not None else "").split()) or "empty"
    return f"“{text}”" if len(text) <= 60 else f"“{text[:59]}…”"


def describe_display_change(reference, changes):
    """The reason an approval is voided or a live article flagged: the source, and each field as was and is."""
    label = reference.doi or reference.url or f"reference {reference.pk}"
    fields = "; ".join(
        f"{name.replace('_', ' ')} {_shown(old)} → {_shown(new)}" for name, (old, new) in sorted((changes or {}).items())
    ) or "how it is shown"
    return f"Cited source {label} changed what readers see: {fields}."


@receiver(reference_display_changed, dispatch_uid="articles.review_articles_citing_redisplayed_reference")
def review_articles_citing_redisplayed_reference(sender, reference, changes=None, **kwargs):
    """A cited source reads differently now: void approvals of working copies citing it, re-review live pages.

    The live page keeps the source as frozen at publication (the revision stores
    its rendered text), so nothing readers see changes until a reviewer approves
    the new reading and it is published.
    """
    from articles.review import workflow

    reason = describe_display_change(reference, changes)
    _void_unpublished_approvals(reference, reason)
    live = Article.objects.filter(
        status=Status.PUBLISHED, published_revision__references=reference
    ).values_list("pk", flat=True).distinct()
    for pk in list(live):
        workflow.flag_for_rereview(Article(pk=pk), reason=reason)


@receiver(post_save, sender=Article, dispatch_uid="articles.refresh_page_of_saved_article")
def refresh_page_of_saved_article(sender, instance, update_fields=None, **kwargs):
    """An editor saved a live article (its slug or review interval may show on its page): store the page afresh.

    The workflow saves only named fields and stores the page itself.
    """
    from articles.publishing.pages import page_changed

    if update_fields is None and instance.status == Status.PUBLISHED and instance.published_revision_id:
        page_changed(instance)
