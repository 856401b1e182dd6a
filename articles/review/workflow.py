"""The only code that changes an article's status.

Every verb is one function with keyword-only arguments that, inside one
transaction: checks the actor's permission, locks the article row
(``select_for_update``), checks ``TRANSITIONS`` and the verb's preconditions,
saves with ``update_fields``, writes an ``AuditEntry`` and schedules mail with
``transaction.on_commit``. The admin, the review queue, management commands and
scheduled publishing all call these functions, so they behave identically.

Decisions the table encodes:

- A published article stays published while it is re-reviewed. Editors keep
  editing the working copy and ``submit`` it again (published -> published, the
  article joins the review queue); a reviewer ``approve``s or
  ``request_changes`` on it (published -> published); ``publish`` then freezes a
  new revision (published -> published). Readers see the old revision until then.
- An edit after approval voids it: the gate refuses to publish content other than
  the approved fingerprint, and ``void_stale_approval`` (called by the admin after
  every save) returns an approved article to draft, with an audit entry.
- Nobody reviews words they wrote: ``approve`` and ``request_changes`` refuse the
  listed authors and everyone who changed the content since the last approval
  (articles.authoring.attribution records each change). ``approve`` freezes the reviewer's
  public credit on the article; pages and revisions show that copy.
- A re-review flag records when it was raised; only a reviewer's ``approve`` or
  ``request_changes`` answers it, and the gate refuses to publish an approval
  older than the flag. ``void_approval`` drops an approval when what readers see
  of a cited source changed after it.
- ``unpublish`` takes an article off the site; it comes back only through review
  (unpublished -> in review via ``submit``, or -> draft via ``withdraw``).
- Any status but archived may be archived; archived is final.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from articles.dates import add_months
from articles.review import changes, comments, gate, notifications
from articles.publishing import rendering
from articles.models import (
    Article, ArticleRevision, AuditEntry, Claim, ReviewedVersion, ReviewerProfile, Status, WorkflowAction,
)
from articles.publishing.pages import page_changed
from articles.publishing.search import store_search_vector
from references.citations import render_html_and_text
from references.models import EvidenceLevel

S = Status

# verb -> {from status: to status}. A status missing under a verb is refused.
TRANSITIONS = {
    "submit": {
        S.DRAFT: S.IN_REVIEW,
        S.CHANGES_REQUESTED: S.IN_REVIEW,
        S.APPROVED: S.IN_REVIEW,
        S.UNPUBLISHED: S.IN_REVIEW,
        S.PUBLISHED: S.PUBLISHED,
    },
    "request_changes": {
        S.IN_REVIEW: S.CHANGES_REQUESTED,
        S.PUBLISHED: S.PUBLISHED,
    },
    "approve": {
        S.IN_REVIEW: S.APPROVED,
        S.PUBLISHED: S.PUBLISHED,
    },
    "publish": {
        S.APPROVED: S.PUBLISHED,
        S.PUBLISHED: S.PUBLISHED,
    },
    "schedule": {
        S.APPROVED: S.APPROVED,
        S.PUBLISHED: S.PUBLISHED,
    },
    "unschedule": {
        S.APPROVED: S.APPROVED,
        S.PUBLISHED: S.PUBLISHED,
    },
    "unpublish": {
        S.PUBLISHED: S.UNPUBLISHED,
    },
    "withdraw": {
        S.IN_REVIEW: S.DRAFT,
        S.CHANGES_REQUESTED: S.DRAFT,
        S.APPROVED: S.DRAFT,
        S.UNPUBLISHED: S.DRAFT,
    },
    "archive": {
        S.DRAFT: S.ARCHIVED,
        S.IN_REVIEW: S.ARCHIVED,
        S.CHANGES_REQUESTED: S.ARCHIVED,
        S.APPROVED: S.ARCHIVED,
        S.PUBLISHED: S.ARCHIVED,
        S.UNPUBLISHED: S.ARCHIVED,
    },
}

# Every (from, to) status pair some verb allows; every other pair is refused.
ALLOWED_PAIRS = frozenset((src, dst) for table in TRANSITIONS.values() for src, dst in table.items())

# The permission each verb needs (Editors: change/publish; Reviewers: review).
PERMISSIONS = {
    "submit": "articles.change_article",
    "withdraw": "articles.change_article",
    "archive": "articles.change_article",
    "request_changes": "articles.review_article",
    "approve": "articles.review_article",
    "publish": "articles.publish_article",
    "schedule": "articles.publish_article",
    "unschedule": "articles.publish_article",
    "unpublish": "articles.publish_article",
}


class WorkflowError(Exception):
    """Base for every refusal; the message is meant for the person who tried."""


class InvalidTransition(WorkflowError):
    pass


class NotAllowed(WorkflowError):
    pass


class NotPublishable(WorkflowError):
    def __init__(self, message, blockers):
        super().__init__(message)
        self.blockers = list(blockers)

    def __str__(self):
        return f"{self.args[0]} " + " ".join(f"({i}) {b}" for i, b in enumerate(self.blockers, 1))


class ContentChanged(WorkflowError):
    """The article changed between the reviewer reading it and approving it."""


class InvalidInput(WorkflowError):
    pass


# The longest note for readers a published version may carry (what changed in it).
MAX_CHANGE_NOTE = 500


# -- helpers -----------------------------------------------------------------

def allowed_verbs(article, user):
    """The verbs ``user`` may try on ``article`` now (for buttons; the verbs re-check everything)."""
    return [
        verb for verb, table in TRANSITIONS.items()
        if article.status in table and (verb != "unschedule" or article.scheduled_at) and may(user, verb, article)
    ]


def may(user, verb, article):
    if user is None or not user.is_active or not user.has_perm(PERMISSIONS[verb]):
        return False
    if verb == "archive" and article.status == S.PUBLISHED:
        return user.has_perm("articles.publish_article")
    return True


def _check_permission(user, verb, article):
    if not may(user, verb, article):
        who = getattr(user, "username", None) or "This user"
        raise NotAllowed(f"{who} may not {verb.replace('_', ' ')} articles ({PERMISSIONS[verb]} is needed).")


def _lock(article):
    # Only the article row is locked; joins would lock (and on PostgreSQL refuse) outer rows.
    return Article.objects.select_for_update().get(pk=article.pk)


def _target(verb, locked):
    table = TRANSITIONS[verb]
    if locked.status not in table:
        allowed = ", ".join(Status(s).label.lower() for s in table)
        raise InvalidTransition(
            f"Cannot {verb.replace('_', ' ')} “{locked.title}”: it is {locked.get_status_display().lower()} "
            f"(only possible when {allowed})."
        )
    return table[locked.status]


def _refuse_authors(locked, user, verb):
    """Nobody reviews words they wrote: the authors list, and everyone who changed the content since the last approval."""
    if locked.authors.filter(pk=user.pk).exists():
        raise NotAllowed(f"You wrote “{locked.title}”, so you cannot {verb.replace('_', ' ')} it; another reviewer must.")
    if user.pk in gate.content_changers(locked, locked.approved_at):
        since = "its last approval" if locked.approved_at else "it was written"
        raise NotAllowed(
            f"You changed “{locked.title}” since {since}, so you count as one of its authors and cannot "
            f"{verb.replace('_', ' ')} it; another reviewer must."
        )


def _name(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _record(locked, action, *, by, from_status, comment="", claim=None, fingerprint="", at=None):
    return AuditEntry.objects.create(
        article=locked, action=action, actor=by, actor_name=_name(by), created_at=at or timezone.now(),
        from_status=from_status, to_status=locked.status, comment=comment, claim=claim,
        claim_label=_claim_label(claim), fingerprint=fingerprint,
    )


def _keep_reviewed_version(entry, content):
    """What the reviewer read, kept with their decision: the next review page shows what changed since."""
    ReviewedVersion.objects.create(
        audit_entry=entry, article_id=entry.article_id, reviewer=entry.actor, created_at=entry.created_at,
        snapshot=changes.content_snapshot(content),
    )


def _open_comments_summary(locked):
    """The send-back comment when the reviewer wrote theirs on the claims: which conversations are open."""
    open_threads = [t for t in comments.threads(locked) if t.is_open]
    if not open_threads:
        return ""
    lines = [f"See the {len(open_threads)} open comment{'s' if len(open_threads) != 1 else ''} on claims:"]
    lines += [f"- {t.opening.claim_label or 'the article'}: {t.opening.body}" for t in open_threads]
    return "\n".join(lines)[:5000]


def _claim_label(claim):
    if claim is None:
        return ""
    return f"{claim.section.heading}: {gate.excerpt(claim.text)}"[:400]


def _save(article, locked, fields):
    locked.save(update_fields=[*fields, "updated_at"])
    # The caller's instance reflects the change, so views and tests need no reload.
    for name in [*fields, "updated_at"]:
        setattr(article, name, getattr(locked, name))


def _local_time(moment):
    """A moment as the audit log writes it: the site's time zone, to the minute, with the zone's name."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def _notify(event, article_id, **kwargs):
    transaction.on_commit(lambda: notifications.send(event, article_id, **kwargs))


# -- verbs -------------------------------------------------------------------

@transaction.atomic
def submit(article, *, by):
    """Send an article to reviewers (a published one stays live while its new version is reviewed)."""
    _check_permission(by, "submit", article)
    locked = _lock(article)
    from_status = locked.status
    locked.status = _target("submit", locked)
    now = timezone.now()
    locked.review_requested_at = now
    fields = ["status", "review_requested_at", "scheduled_at", "scheduled_by"]
    locked.scheduled_at = locked.scheduled_by = None
    if locked.status == S.PUBLISHED:
        submitted = f"A new version was submitted by {_name(by)}."
        # A reason already standing (a cited source changed) stays for the reviewer to see.
        locked.rereview_reason = "\n".join(filter(None, [locked.rereview_reason if locked.needs_rereview else "",
                                                          submitted]))
        locked.needs_rereview = True
        fields += ["needs_rereview", "rereview_reason"]
    _save(article, locked, fields)
    _record(locked, WorkflowAction.SUBMIT, by=by, from_status=from_status, at=now,
            fingerprint=gate.content_fingerprint(locked))
    _notify("submitted", locked.pk)
    return locked


@transaction.atomic
def request_changes(article, *, by, comment, claim=None):
    """Send an article back to its authors with a comment (or open comments on its claims), maybe pinned to a claim.

    A comment pinned to a claim also opens a conversation on that claim (articles.review.comments), which stays
    beside the claim for the editors until a reviewer resolves it.
    """
    comment = (comment or "").strip()
    _check_permission(by, "request_changes", article)
    locked = _lock(article)
    if not comment:
        comment = _open_comments_summary(locked)
    if not comment:
        raise InvalidInput("Say what must change: a comment is required when requesting changes.")
    from_status = locked.status
    to_status = _target("request_changes", locked)
    _refuse_authors(locked, by, "review")
    if claim is not None:
        claim = Claim.objects.select_related("section").filter(pk=getattr(claim, "pk", claim)).first()
        if claim is None or claim.section.article_id != locked.pk:
            raise InvalidInput("The claim the comment is pinned to is not part of this article.")
    locked.status = to_status
    fields = ["status"]
    if to_status == S.PUBLISHED:
        # A reviewer looked: the flag is answered (the editors now have the reviewer's comment).
        locked.needs_rereview = False
        locked.rereview_flagged_at = None
        fields += ["needs_rereview", "rereview_flagged_at"]
    _save(article, locked, fields)
    content = gate.load_content(locked)
    entry = _record(locked, WorkflowAction.REQUEST_CHANGES, by=by, from_status=from_status, comment=comment,
                    claim=claim, fingerprint=gate.content_fingerprint(locked, content))
    _keep_reviewed_version(entry, content)
    if claim is not None:
        comments.open_thread(locked, by=by, claim=claim, body=comment, audit_entry=entry)
    _notify("changes_requested", locked.pk, comment=comment, claim_label=_claim_label(claim))
    return locked


@transaction.atomic
def approve(article, *, by, fingerprint=None):
    """Approve exactly the current content; pass the ``fingerprint`` the reviewer read to refuse if it changed."""
    _check_permission(by, "approve", article)
    locked = _lock(article)
    from_status = locked.status
    to_status = _target("approve", locked)
    _refuse_authors(locked, by, "approve")
    content = gate.load_content(locked)
    current = gate.content_fingerprint(locked, content)
    if fingerprint is not None and fingerprint != current:
        raise ContentChanged(
            f"“{locked.title}” was edited after you opened it: reload the review page and read the new version."
        )
    problems = gate.content_blockers(content)
    if problems:
        raise NotPublishable("It cannot be approved until these are fixed:", problems)
    # The credit readers will see is part of what is approved: frozen now, never read from the profile later.
    profile = ReviewerProfile.objects.filter(user=by).first()
    if profile is None or not profile.display_name.strip() or not profile.credentials.strip():
        raise NotAllowed(
            "You have no public name and credentials for readers to see: add your reviewer profile "
            "(Reviewer profiles in the admin) before approving."
        )
    now = timezone.now()
    locked.status = to_status
    locked.approved_fingerprint = current
    # Whoever changes the content after the previous approval is an author of this one (see the gate).
    locked.approved_changes_since = locked.approved_at
    locked.approved_by = by
    locked.approved_credit_name, locked.approved_credit_credentials = profile.display_name, profile.credentials
    locked.approved_at = locked.last_reviewed_at = now
    locked.next_review_due = add_months(now, locked.review_interval_months)
    locked.needs_rereview = locked.urgent = False
    locked.rereview_reason = ""
    locked.rereview_flagged_at = None
    _save(article, locked, [
        "status", "approved_fingerprint", "approved_changes_since", "approved_by", "approved_credit_name",
        "approved_credit_credentials", "approved_at", "last_reviewed_at", "next_review_due",
        "needs_rereview", "urgent", "rereview_reason", "rereview_flagged_at",
    ])
    entry = _record(locked, WorkflowAction.APPROVE, by=by, from_status=from_status, fingerprint=current, at=now)
    _keep_reviewed_version(entry, content)
    if to_status == S.PUBLISHED:
        # A re-review of the live words changes the page's review dates.
        page_changed(locked)
    _notify("approved", locked.pk)
    return locked


@transaction.atomic
def publish(article, *, by, note=""):
    """Freeze the approved content as a new revision and make it what readers see.

    ``note`` tells readers what changed in this version (a correction, an
    update); it is shown with the version's date under "Corrections and updates".
    """
    _check_permission(by, "publish", article)
    note = " ".join((note or "").split())
    if len(note) > MAX_CHANGE_NOTE:
        raise InvalidInput(f"The note for readers is {len(note)} characters long; keep it under {MAX_CHANGE_NOTE}.")
    locked = _lock(article)
    from_status = locked.status
    to_status = _target("publish", locked)
    report = gate.check(locked)
    if report.blockers:
        raise NotPublishable(f"“{locked.title}” cannot be published:", report.blockers)
    live = locked.published_revision
    if locked.status == S.PUBLISHED and live is not None and live.fingerprint == report.fingerprint:
        raise InvalidTransition(f"This version of “{locked.title}” is already live.")
    now = timezone.now()
    revision = _freeze(report, by=by, at=now, note=note)
    locked.status = to_status
    locked.published_revision = revision
    locked.published_at = locked.published_at or now
    locked.scheduled_at = locked.scheduled_by = None
    fields = ["status", "published_revision", "published_at", "scheduled_at", "scheduled_by"]
    flagged_at = locked.rereview_flagged_at
    if flagged_at is None or (locked.approved_at is not None and locked.approved_at > flagged_at):
        # The approval published answers every flag raised before it; a later flag (which the gate
        # refuses above) would stay for a reviewer.
        locked.needs_rereview = locked.urgent = False
        locked.rereview_flagged_at = None
        fields += ["needs_rereview", "urgent", "rereview_flagged_at"]
    _save(article, locked, fields)
    _record(locked, WorkflowAction.PUBLISH, by=by, from_status=from_status, fingerprint=report.fingerprint, at=now,
            comment=f"Revision {revision.number}.")
    _notify("published", locked.pk)
    page_changed(locked)
    return locked


@transaction.atomic
def schedule(article, *, by, at):
    """Publish the approved content at ``at`` (``publish_scheduled`` does it, through the gate again)."""
    _check_permission(by, "schedule", article)
    if at is None or timezone.is_naive(at):
        raise InvalidInput("Give the publication time with a time zone.")
    if at <= timezone.now():
        raise InvalidInput("The publication time must be in the future; to publish now, publish.")
    locked = _lock(article)
    from_status = locked.status
    locked.status = _target("schedule", locked)
    report = gate.check(locked)
    if report.blockers:
        raise NotPublishable(f"“{locked.title}” cannot be scheduled:", report.blockers)
    locked.scheduled_at, locked.scheduled_by = at, by
    _save(article, locked, ["scheduled_at", "scheduled_by"])
    _record(locked, WorkflowAction.SCHEDULE, by=by, from_status=from_status, fingerprint=report.fingerprint,
            comment=f"To be published at {_local_time(at)}.")
    return locked


@transaction.atomic
def unschedule(article, *, by, reason=""):
    """Cancel a scheduled publication; the approved version stays as it is, to be published or scheduled again."""
    _check_permission(by, "unschedule", article)
    locked = _lock(article)
    from_status = locked.status
    locked.status = _target("unschedule", locked)
    if locked.scheduled_at is None:
        raise InvalidTransition(f"“{locked.title}” is not scheduled for publication.")
    reason = (reason or "").strip()
    was = f"Was to be published at {_local_time(locked.scheduled_at)}."
    scheduled_by_id = locked.scheduled_by_id
    locked.scheduled_at = locked.scheduled_by = None
    _save(article, locked, ["scheduled_at", "scheduled_by"])
    _record(locked, WorkflowAction.UNSCHEDULE, by=by, from_status=from_status,
            comment=" ".join(filter(None, [was, reason])))
    if scheduled_by_id and scheduled_by_id != by.pk:
        # Whoever set the time expects the article out then; tell them it will not be.
        _notify("unscheduled", locked.pk, to_user_id=scheduled_by_id, by_name=_name(by), reason=reason)
    return locked


@transaction.atomic
def unpublish(article, *, by, reason=""):
    """Take an article off the site; it returns only through review."""
    _check_permission(by, "unpublish", article)
    locked = _lock(article)
    from_status = locked.status
    locked.status = _target("unpublish", locked)
    locked.scheduled_at = locked.scheduled_by = None
    locked.needs_rereview = locked.urgent = False
    _save(article, locked, ["status", "scheduled_at", "scheduled_by", "needs_rereview", "urgent"])
    _record(locked, WorkflowAction.UNPUBLISH, by=by, from_status=from_status, comment=(reason or "").strip())
    page_changed(locked)
    _notify("unpublished", locked.pk, reason=(reason or "").strip())
    return locked


@transaction.atomic
def withdraw(article, *, by, reason=""):
    """Return an article to draft (out of review, or an unpublished one being reworked)."""
    _check_permission(by, "withdraw", article)
    locked = _lock(article)
    from_status = locked.status
    locked.status = _target("withdraw", locked)
    locked.scheduled_at = locked.scheduled_by = None
    _save(article, locked, ["status", "scheduled_at", "scheduled_by"])
    _record(locked, WorkflowAction.WITHDRAW, by=by, from_status=from_status, comment=(reason or "").strip())
    return locked


@transaction.atomic
def archive(article, *, by):
    """Retire an article for good (a published one leaves the site)."""
    _check_permission(by, "archive", article)
    locked = _lock(article)
    from_status = locked.status
    locked.status = _target("archive", locked)
    locked.scheduled_at = locked.scheduled_by = None
    locked.needs_rereview = locked.urgent = False
    _save(article, locked, ["status", "scheduled_at", "scheduled_by", "needs_rereview", "urgent"])
    _record(locked, WorkflowAction.ARCHIVE, by=by, from_status=from_status)
    if from_status == S.PUBLISHED:
        page_changed(locked)
    return locked


@transaction.atomic
def void_stale_approval(article, *, by):
    """After an edit: if an approved article no longer matches what was approved, return it to draft."""
    locked = _lock(article)
    if locked.status != S.APPROVED or locked.approved_fingerprint == gate.content_fingerprint(locked):
        return False
    from_status = locked.status
    locked.status = S.DRAFT
    locked.scheduled_at = locked.scheduled_by = None
    _save(article, locked, ["status", "scheduled_at", "scheduled_by"])
    _record(locked, WorkflowAction.APPROVAL_VOIDED, by=by, from_status=from_status,
            comment="Edited after approval; it must be submitted and approved again.")
    return True


@transaction.atomic
def void_approval(article, *, reason):
    """A cited source's display changed after approval: the approval no longer covers what readers would see.

    An approved (or scheduled) article returns to draft; a published one whose
    working copy holds an approval not yet published keeps its live revision and
    loses that approval. Returns whether an approval was voided.
    """
    locked = _lock(article)
    from_status = locked.status
    live = locked.published_revision.fingerprint if locked.published_revision_id else None
    if from_status == S.APPROVED:
        locked.status = S.DRAFT
    elif not (from_status == S.PUBLISHED and locked.approved_fingerprint and locked.approved_fingerprint != live):
        return False
    locked.approved_fingerprint = ""
    locked.scheduled_at = locked.scheduled_by = None
    _save(article, locked, ["status", "approved_fingerprint", "scheduled_at", "scheduled_by"])
    _record(locked, WorkflowAction.SOURCE_CHANGED, by=None, from_status=from_status,
            comment=f"{reason} It must be submitted and approved again.")
    _notify("approval_voided", locked.pk, reason=reason)
    return True


@transaction.atomic
def flag_for_rereview(article, *, reason, urgent=False):
    """Put a published article back in the review queue (it stays live); ``urgent`` if a claim lost its support."""
    locked = _lock(article)
    if locked.status != S.PUBLISHED:
        return False
    now = timezone.now()
    if not locked.needs_rereview:
        locked.review_requested_at = now
    locked.needs_rereview = True
    locked.urgent = locked.urgent or urgent
    locked.rereview_reason = "\n".join(filter(None, [locked.rereview_reason, reason]))
    # Only an approval given after this moment answers the flag (the gate refuses to publish an older one).
    locked.rereview_flagged_at = now
    _save(article, locked, ["needs_rereview", "urgent", "rereview_reason", "review_requested_at",
                            "rereview_flagged_at"])
    _record(locked, WorkflowAction.FLAG_REREVIEW, by=None, from_status=locked.status, comment=reason, at=now)
    _notify("flagged", locked.pk, reason=reason, urgent=urgent)
    # Called when a cited source changes: the page's notice on that source must show.
    page_changed(locked)
    return True


@dataclass
class ScheduledResult:
    article: Article
    published: bool
    error: str = ""


def publish_scheduled(*, now=None):
    """Publish every article whose time has come, each through the gate; return what happened to each.

    Safe to run from several machines at once: each article is claimed under a
    row lock that other runs skip, and its schedule is read again under that
    lock, so it is published (or refused) by exactly one run.
    """
    now = now or timezone.now()
    results = []
    due = Article.objects.filter(scheduled_at__lte=now).order_by("scheduled_at", "pk").values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            article = (
                Article.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("scheduled_by").filter(pk=pk, scheduled_at__lte=now).first()
            )
            if article is None:
                continue  # another run holds it, or has already published or refused it
            try:
                publish(article, by=article.scheduled_by)
            except WorkflowError as error:
                _record_failed_schedule(article, str(error))
                results.append(ScheduledResult(article, False, str(error)))
            else:
                results.append(ScheduledResult(article, True))
    return results


@transaction.atomic
def _record_failed_schedule(article, error):
    # Clearing the time stops cron retrying every minute; editors get the reason by mail.
    locked = _lock(article)
    locked.scheduled_at = None
    _save(article, locked, ["scheduled_at"])
    _record(locked, WorkflowAction.SCHEDULE_FAILED, by=None, from_status=locked.status, comment=error)
    _notify("schedule_failed", locked.pk, error=error, to_user_id=locked.scheduled_by_id)


# -- revisions ---------------------------------------------------------------

def _freeze(report, *, by, at, note=""):
    article = report.content.article
    references = report.content.references
    number = (ArticleRevision.objects.filter(article=article).aggregate(n=Max("number"))["n"] or 0) + 1
    frozen = snapshot(report, references=references, published_at=at, change_note=note)
    revision = ArticleRevision.objects.create(
        article=article, number=number, title=article.title, fingerprint=report.fingerprint, snapshot=frozen,
        approved_by=article.approved_by, published_by=by, published_at=at,
        **rendering.frozen_fields(frozen, article=article, number=number),
    )
    revision.references.set(references)
    store_search_vector(revision)
    return revision


def reader_facts(ref):
    """What readers are told of a source beside its citation: how its record was checked, and its evidence."""
    evidence = ref.evidence_description or (
        ref.get_evidence_level_display() if ref.evidence_level != EvidenceLevel.UNKNOWN else ""
    )
    return {
        "verified": ref.is_verified,
        "entered_by_hand": not ref.from_authority,
        "verified_by_reviewer": ref.verified_by_reviewer,
        "evidence": evidence,
    }


def snapshot(report, *, references, published_at, change_note=""):
    """The JSON readers' pages are rendered from: the words, and each source as it was when published."""
    article = report.content.article
    numbers = {ref.pk: i for i, ref in enumerate(references, 1)}
    rendered = {ref.pk: render_html_and_text(ref) for ref in references}
    return {
        "title": article.title,
        "summary": article.summary,
        "byline": article.byline,
        "disclosure": article.disclosure,
        "published_at": published_at.isoformat(),
        "change_note": change_note,
        "approved_at": article.approved_at.isoformat() if article.approved_at else None,
        # The credit frozen at approval, whatever the reviewer's profile says now.
        "reviewer": {
            "name": article.approved_credit_name or _name(article.approved_by),
            "credentials": article.approved_credit_credentials,
        },
        "sections": [
            {
                "heading": section.heading,
                "claims": [
                    {
                        "number": loaded.number,
                        "text": loaded.claim.text,
                        "is_context": loaded.claim.is_context,
                        "citations": [
                            {"reference": numbers[c.reference_id], "locator": c.locator} for c in loaded.citations
                        ],
                    }
                    for loaded in report.content.claims if loaded.section is section
                ],
            }
            for section in report.content.sections
        ],
        "references": [
            {
                "number": numbers[ref.pk],
                "id": ref.pk,
                "doi": ref.doi or "",
                "url": ref.url,
                "link": ref.link,
                "html": str(rendered[ref.pk][0]),
                "text": rendered[ref.pk][1],
                "peer_review_status": ref.effective_peer_review_status,
                "retraction_status": ref.retraction_status,
                **reader_facts(ref),
            }
            for ref in references
        ],
    }
