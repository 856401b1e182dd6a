"""Conversations pinned to claims: a reviewer opens one on a claim, the editors answer, and someone resolves it.

The one place that writes ``ReviewComment`` rows. Reviewers (``articles.review_article``) open and resolve
conversations; anyone who may edit articles (``articles.change_article``) or review them may reply. Rows are
append-only: a resolution is a message of its own, so history keeps every word.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from articles.models import Article, Claim, CommentKind, ReviewComment
from articles.review import gate

MAX_COMMENT_CHARS = 5000

REVIEW_PERMISSION = "articles.review_article"
REPLY_PERMISSIONS = ("articles.change_article", "articles.review_article")


class CommentError(Exception):
    """A comment that cannot be written; the message says why, for the person who tried."""


@dataclass
class Thread:
    """A conversation: its opening comment, the messages after it in order, and whether it is still open."""

    opening: ReviewComment
    messages: list = field(default_factory=list)

    @property
    def is_open(self):
        return not any(m.kind == CommentKind.RESOLVED for m in self.messages)

    @property
    def resolution(self):
        return next((m for m in reversed(self.messages) if m.kind == CommentKind.RESOLVED), None)

    @property
    def replies(self):
        return [m for m in self.messages if m.kind == CommentKind.REPLY]

    @property
    def claim_id(self):
        return self.opening.claim_id


def _name(user):
    return user.get_full_name() or user.get_username()


def _clean_body(body, *, required=True):
    body = (body or "").strip()
    if required and not body:
        raise CommentError("Write the comment first: it is empty.")
    if len(body) > MAX_COMMENT_CHARS:
        raise CommentError(f"A comment may be at most {MAX_COMMENT_CHARS:,} characters; this one has {len(body):,}.")
    return body


def _may(user, permissions):
    return user is not None and user.is_active and any(user.has_perm(p) for p in permissions)


def claim_label(claim):
    """Where a comment is pinned, as text: the section heading and the start of the claim."""
    return f"{claim.section.heading}: {gate.excerpt(claim.text)}"[:400]


@transaction.atomic
def open_thread(article, *, by, claim, body, audit_entry=None):
    """Open a conversation on ``claim`` of ``article``; returns its opening comment."""
    if not _may(by, (REVIEW_PERMISSION,)):
        raise CommentError("Only reviewers may comment on claims.")
    body = _clean_body(body)
    claim = Claim.objects.select_related("section").filter(pk=getattr(claim, "pk", claim)).first()
    if claim is None or claim.section.article_id != article.pk:
        raise CommentError("The claim the comment is pinned to is not part of this article.")
    return ReviewComment.objects.create(
        article=article, kind=CommentKind.COMMENT, claim=claim, claim_label=claim_label(claim), claim_text=claim.text,
        author=by, author_name=_name(by), body=body, created_at=timezone.now(), audit_entry=audit_entry,
    )


def _opening(article, thread_id):
    opening = ReviewComment.objects.filter(pk=thread_id, article=article, kind=CommentKind.COMMENT).first()
    if opening is None:
        raise CommentError("That conversation is not part of this article.")
    return opening


def _is_resolved(opening):
    return ReviewComment.objects.filter(thread=opening, kind=CommentKind.RESOLVED).exists()


@transaction.atomic
def reply(article, *, by, thread_id, body):
    """Answer the open conversation ``thread_id`` on ``article``."""
    if not _may(by, REPLY_PERMISSIONS):
        raise CommentError("Only editors and reviewers may reply to comments.")
    body = _clean_body(body)
    # Lock the article so a reply and a resolution cannot cross.
    Article.objects.select_for_update().filter(pk=article.pk).first()
    opening = _opening(article, thread_id)
    if _is_resolved(opening):
        raise CommentError("That conversation was resolved; open a new one to raise it again.")
    return ReviewComment.objects.create(
        article=article, thread=opening, kind=CommentKind.REPLY, claim=opening.claim, claim_label=opening.claim_label,
        claim_text=opening.claim_text, author=by, author_name=_name(by), body=body, created_at=timezone.now(),
    )


@transaction.atomic
def resolve(article, *, by, thread_id, note=""):
    """Close the conversation ``thread_id``: what it asked for was done (``note`` may say how)."""
    if not _may(by, (REVIEW_PERMISSION,)):
        raise CommentError("Only reviewers may resolve a conversation.")
    note = _clean_body(note, required=False)
    Article.objects.select_for_update().filter(pk=article.pk).first()
    opening = _opening(article, thread_id)
    if _is_resolved(opening):
        raise CommentError("That conversation is already resolved.")
    return ReviewComment.objects.create(
        article=article, thread=opening, kind=CommentKind.RESOLVED, claim=opening.claim,
        claim_label=opening.claim_label, claim_text=opening.claim_text, author=by, author_name=_name(by), body=note,
        created_at=timezone.now(),
    )


def threads(article):
    """Every conversation on ``article``, open ones first, each with its messages in order (one query)."""
    rows = list(ReviewComment.objects.filter(article=article).order_by("created_at", "id"))
    by_opening = {row.pk: Thread(opening=row) for row in rows if row.kind == CommentKind.COMMENT}
    for row in rows:
        if row.thread_id in by_opening:
            by_opening[row.thread_id].messages.append(row)
    ordered = list(by_opening.values())
    return sorted(ordered, key=lambda t: (not t.is_open, t.opening.created_at, t.opening.pk))


def threads_by_claim(article):
    """{claim id: [Thread, ...]} for the conversations whose claim still exists, and a list of the others."""
    pinned, orphaned = {}, []
    for thread in threads(article):
        if thread.claim_id is None:
            orphaned.append(thread)
        else:
            pinned.setdefault(thread.claim_id, []).append(thread)
    return pinned, orphaned
