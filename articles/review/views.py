"""The reviewers' queue at /review/: what awaits review, and one page per article to approve or send back.

Views parse input, call articles.review.workflow, and render or redirect; the rules live
in the workflow and the gate. Reviewers (review_article) and superusers only.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from types import SimpleNamespace

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from articles.models import Article, ArticleRevision, Claim, ReviewedVersion, Status, Topic
from articles.publishing import rendering
from articles.publishing.context import live_notices, notice_parts
from articles.review import changes, comments, gate, presence, workflow
from articles.review.evidence_match import evidence_for_claims
from references.citations import render_html
from references.models import PeerReviewStatus, Reference, RetractionStatus

QUEUE_PAGE_SIZE = 25
# Previews may be opened by anyone who may work on articles.
PREVIEW_PERMISSIONS = ("articles.change_article", "articles.review_article", "articles.publish_article")


def reviewer_required(view):
    """Logged in (else to the admin login), and a reviewer or superuser (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm("articles.review_article"):
            raise PermissionDenied("Only reviewers can use the review queue.")
        return view(request, *args, **kwargs)

    return wrapped


def _count(queryset, group_by, distinct_field="pk"):
    return Coalesce(
        Subquery(
            queryset.order_by().values(group_by).annotate(n=Count(distinct_field, distinct=True)).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def review_queue(*, now=None):
    """Articles awaiting review and published ones due for re-review: urgent first, then the longest waiting."""
    now = now or timezone.now()
    rereview = Q(status=Status.PUBLISHED) & (Q(needs_rereview=True) | Q(next_review_due__lte=now))
    claims = Claim.objects.filter(section__article=OuterRef("pk"))
    cited = Reference.objects.filter(citations__claim__section__article=OuterRef("pk"))
    article_key = "citations__claim__section__article"
    return (
        Article.objects.filter(Q(status=Status.IN_REVIEW) | rereview)
        .with_unsupported_claim_count()
        .annotate(
            waiting_since=Case(
                When(status=Status.IN_REVIEW, then=F("review_requested_at")),
                When(needs_rereview=True, then=F("review_requested_at")),
                default=F("next_review_due"),
            ),
            claim_count=_count(claims, "section__article"),
            context_count=_count(claims.filter(is_context=True), "section__article"),
            overridden_count=_count(cited.exclude(peer_review_override=""), article_key),
            retracted_count=_count(cited.filter(retraction_status=RetractionStatus.RETRACTED), article_key),
        )
        .prefetch_related("authors")
        .order_by("-urgent", F("waiting_since").asc(nulls_last=True), "pk")
    )


class QueuePaginator(Paginator):
    """Pages the queue by id first, so the per-article counts are computed for one page, never the whole queue.

    Slicing the annotated queryset would make the database compute every counting
    subquery for each row skipped by OFFSET: the last page of 10,000 articles took
    seconds on PostgreSQL. The page is one query all the same: its ids are a subquery.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


URGENCY_CHOICES = (
    ("", "Everything"),
    ("urgent", "Urgent only (a live claim lost its support)"),
    ("rereview", "Re-reviews of live articles"),
    ("new", "New reviews"),
)
WAITING_CHOICES = (("", "Any time"), ("1", "More than a day"), ("3", "More than 3 days"), ("7", "More than a week"))


@dataclass
class QueueFilters:
    """The queue's filters as the reviewer chose them; anything else in the query string is ignored."""

    urgency: str = ""
    topic: str = ""
    waiting: str = ""

    @classmethod
    def from_query(cls, query):
        """Only known values count: an unknown urgency or waiting time is the same as none."""
        urgency = query.get("urgency", "")
        waiting = query.get("waiting", "")
        return cls(
            urgency=urgency if urgency in dict(URGENCY_CHOICES) else "",
            topic=query.get("topic", "")[:100],
            waiting=waiting if waiting in dict(WAITING_CHOICES) else "",
        )

    def apply(self, queryset, *, now):
        """The queue narrowed to these filters (still ordered urgent first, then the longest waiting)."""
        if self.urgency == "urgent":
            queryset = queryset.filter(urgent=True)
        elif self.urgency == "rereview":
            queryset = queryset.filter(status=Status.PUBLISHED)
        elif self.urgency == "new":
            queryset = queryset.exclude(status=Status.PUBLISHED)
        if self.topic:
            queryset = queryset.filter(topics__slug=self.topic)
        if self.waiting:
            queryset = queryset.filter(waiting_since__lte=now - timedelta(days=int(self.waiting)))
        return queryset

    def query(self, **extra):
        """The filters as a query string, for the pages' links."""
        return urlencode({k: v for k, v in {**vars(self), **extra}.items() if v})


@require_GET
@reviewer_required
def queue(request):
    now = timezone.now()
    filters = QueueFilters.from_query(request.GET)
    page = QueuePaginator(filters.apply(review_queue(now=now), now=now), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    looking = presence.looking([article.pk for article in page.object_list], exclude=request.user, now=now)
    for article in page.object_list:
        article.lookers = looking.get(article.pk, [])
    return render(request, "review/queue.html", {
        "page": page, "now": now, "filters": filters, "urgency_choices": URGENCY_CHOICES,
        "waiting_choices": WAITING_CHOICES, "topics": Topic.objects.order_by("name").values("name", "slug"),
    })


COMPARE_CHOICES = ("last", "published")


def _comparison(request, article, content, last_revision):
    """The version chosen to compare with (this reviewer's last review, or the live revision) and the choices."""
    reviewed = (
        ReviewedVersion.objects.filter(article=article, reviewer=request.user)
        .select_related("audit_entry").order_by("-created_at", "-id").first()
    )
    choices = []
    if reviewed is not None:
        verb = "approved" if reviewed.audit_entry.action == "approve" else "sent back"
        choices.append(("last", f"The version you {verb} on {timezone.localtime(reviewed.created_at):%Y-%m-%d %H:%M}"))
    if last_revision is not None:
        choices.append(("published", f"The live revision {last_revision.number} "
                                     f"({timezone.localtime(last_revision.published_at):%Y-%m-%d})"))
    wanted = request.GET.get("compare", "")
    chosen = wanted if wanted in dict(choices) else (choices[0][0] if choices else "")
    if chosen == "last":
        snapshot = reviewed.snapshot
    elif chosen == "published":
        snapshot = changes.revision_snapshot(last_revision)
    else:
        return None, choices, ""
    return changes.compare(snapshot, content, label=dict(choices)[chosen]), choices, chosen


@dataclass
class ClaimRow:
    """One claim on the review page with what changed in it, its conversations and its abstracts."""

    loaded: object
    change: object = None
    threads: list = field(default_factory=list)
    evidence: object = None

    @property
    def changed(self):
        return self.change is not None and self.change.changed

    @property
    def alarms(self):
        """What a reviewer must not miss about the claim's sources, as (kind, words) pairs."""
        found = []
        if not self.loaded.claim.is_context and not self.loaded.citations:
            found.append(("danger", "No source"))
        for citation in self.loaded.citations:
            ref = citation.reference
            if ref.is_retracted:
                found.append(("danger", "Retracted source"))
            if ref.effective_peer_review_status != PeerReviewStatus.PEER_REVIEWED:
                found.append(("warning", "Not peer-reviewed"))
            if not ref.is_verified:
                found.append(("warning", "Unverified record"))
        return list(dict.fromkeys(found))


def _claims_beside_changes(request, article, content, last_revision):
    comparison, choices, chosen = _comparison(request, article, content, last_revision)
    only_changes = comparison is not None and request.GET.get("only") == "changes"
    pinned, orphaned = comments.threads_by_claim(article)
    evidence = evidence_for_claims([loaded.claim for loaded in content.claims])
    rows_by_section = {}
    for loaded in content.claims:
        row = ClaimRow(
            loaded=loaded, change=comparison.by_claim.get(loaded.claim.pk) if comparison else None,
            threads=pinned.get(loaded.claim.pk, []), evidence=evidence.get(loaded.claim.pk),
        )
        if only_changes and not row.changed and not any(t.is_open for t in row.threads):
            continue
        rows_by_section.setdefault(id(loaded.section), []).append(row)
    sections = [(section, rows_by_section.get(id(section), [])) for section in content.sections]
    return {
        "comparison": comparison,
        "compare_choices": choices,
        "compare": chosen,
        "only_changes": only_changes,
        "claim_sections": [(s, rows) for s, rows in sections if rows or not only_changes],
        "orphaned_threads": orphaned,
        "all_threads": sorted([t for ts in pinned.values() for t in ts] + orphaned,
                              key=lambda t: (t.opening.created_at, t.opening.pk)),
        "open_thread_count": sum(t.is_open for ts in pinned.values() for t in ts) + sum(t.is_open for t in orphaned),
        "looking": presence.looking([article.pk], exclude=request.user).get(article.pk, []),
        "heartbeat_seconds": presence.HEARTBEAT_SECONDS,
    }


def _review_context(request, article):
    report = gate.check(article)
    references = report.content.references
    if hasattr(Reference, "peer_review_overrides"):
        log_model = Reference.peer_review_overrides.rel.related_model
        prefetch_related_objects(references, Prefetch(
            "peer_review_overrides", queryset=log_model.objects.select_related("by"), to_attr="override_log"
        ))
    prefetch_related_objects(references, "peer_review_override_by", "verified_by", "entered_by")
    verification_model = Reference.verifications.rel.related_model
    prefetch_related_objects(references, Prefetch(
        "verifications", queryset=verification_model.objects.select_related("by"), to_attr="verification_log"
    ))
    for ref in references:
        ref.citation_html = render_html(ref)
        ref.peer_review_label = PeerReviewStatus(ref.effective_peer_review_status).label
        ref.override_log = getattr(ref, "override_log", [])
    weak_claims = [loaded for loaded in report.content.factual_claims if gate.weak_evidence_only(loaded)]
    for loaded in weak_claims:
        loaded.weak_evidence = True
    last_revision = ArticleRevision.objects.filter(article=article).order_by("-number").first()
    author_ids = report.content.author_ids
    # Whoever changed the words since the last approval is one of their authors, whatever the list says.
    is_author = request.user.pk in author_ids or request.user.pk in gate.content_changers(article, article.approved_at)
    return {
        "article": report.content.article,
        "report": report,
        "blockers": report.blockers,
        "content_blockers": [b for b in report.blockers if b.code not in gate.APPROVAL_CODES],
        "authors": article.authors.all(),
        "references": references,
        "has_overrides": any(ref.override_log for ref in references),
        "has_verifications": any(ref.verification_log for ref in references),
        "weak_claims": weak_claims,
        "can_verify": request.user.has_perm("references.verify_reference"),
        "audit": article.audit_entries.all()[:100],
        **_claims_beside_changes(request, article, report.content, last_revision),
        "last_revision": last_revision,
        "is_author": is_author,
        "can_approve": article.status in workflow.TRANSITIONS["approve"] and not is_author,
        "can_request_changes": article.status in workflow.TRANSITIONS["request_changes"] and not is_author,
    }


@require_GET
@reviewer_required
def review_article(request, pk):
    article = get_object_or_404(Article, pk=pk)
    presence.touch(article, request.user)
    return render(request, "review/article.html", _review_context(request, article))


@require_POST
@reviewer_required
def heartbeat(request, pk):
    """The open review page's "still here" (static/js/review.js); answers with nothing."""
    article = get_object_or_404(Article, pk=pk)
    presence.touch(article, request.user)
    return HttpResponse(status=204)


def _back_to_claim(request, pk, claim_id=None):
    url = reverse("review:article", args=[pk])
    query = request.POST.get("return_query", "")
    # Only the page's own options come back: nothing else can ride on the redirect.
    kept = {key: request.GET.get(key) or QueryDict(query).get(key) for key in ("compare", "only")}
    kept = {key: value for key, value in kept.items() if value in (*COMPARE_CHOICES, "changes")}
    if kept:
        url += "?" + urlencode(kept)
    return redirect(url + (f"#claim-id-{claim_id}" if claim_id else ""))


def _comment_action(request, pk, action, success):
    article = get_object_or_404(Article, pk=pk)
    try:
        written = action(article)
    except comments.CommentError as error:
        messages.error(request, str(error))
        return _back_to_claim(request, pk)
    messages.success(request, success)
    return _back_to_claim(request, pk, written.claim_id)


@require_POST
@reviewer_required
def open_comment(request, pk):
    """A reviewer's comment on one claim: opens a conversation beside it."""
    claim_id = request.POST.get("claim", "")
    return _comment_action(request, pk, lambda article: comments.open_thread(
        article, by=request.user, claim=int(claim_id) if claim_id.isdigit() else None, body=request.POST.get("body"),
    ), "Comment added beside the claim.")


def _thread_id(request):
    value = request.POST.get("thread", "")
    return int(value) if value.isdigit() else None


@require_POST
@reviewer_required
def reply_comment(request, pk):
    return _comment_action(request, pk, lambda article: comments.reply(
        article, by=request.user, thread_id=_thread_id(request), body=request.POST.get("body"),
    ), "Reply added.")


@require_POST
@reviewer_required
def resolve_comment(request, pk):
    return _comment_action(request, pk, lambda article: comments.resolve(
        article, by=request.user, thread_id=_thread_id(request), note=request.POST.get("body", ""),
    ), "Conversation resolved.")


def _act(request, pk, action, success):
    article = get_object_or_404(Article, pk=pk)
    try:
        action(article)
    except workflow.InvalidTransition as error:
        messages.error(request, f"{error} Someone may have acted on it first; this page shows where it stands now.")
    except workflow.NotPublishable as error:
        messages.error(request, error.args[0] + " " + " ".join(str(b) for b in error.blockers))
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success.format(title=article.title))
        return redirect("review:queue")
    return redirect("review:article", pk=pk)


@require_POST
@reviewer_required
def approve(request, pk):
    fingerprint = request.POST.get("fingerprint", "")
    return _act(
        request, pk,
        # An approval always names the version read: a missing fingerprint is refused, never a blank cheque.
        lambda article: workflow.approve(article, by=request.user, fingerprint=fingerprint),
        "Approved “{title}”.",
    )


@require_POST
@reviewer_required
def request_changes(request, pk):
    claim_id = request.POST.get("claim", "")
    claim = int(claim_id) if claim_id.isdigit() else None
    return _act(
        request, pk,
        lambda article: workflow.request_changes(
            article, by=request.user, comment=request.POST.get("comment", ""), claim=claim
        ),
        "Sent “{title}” back to its authors.",
    )


@never_cache
def article_preview(request, slug):
    """The working copy under a banner, for people who may work on articles; a 404 for everyone else."""
    user = request.user
    if not (user.is_active and any(user.has_perm(p) for p in PREVIEW_PERMISSIONS)):
        raise Http404("No article here.")
    article = get_object_or_404(Article.objects.select_related("published_revision"), slug=slug)
    content = gate.load_content(article)
    now = timezone.now()
    snapshot = workflow.snapshot(SimpleNamespace(content=content), references=content.references, published_at=now)
    topics = list(article.topics.order_by("name").values("name", "slug"))
    page = rendering.page_data(snapshot, topics=topics)
    notices = live_notices(page["references"])
    credits = {
        "byline": snapshot["byline"], "reviewer": snapshot["reviewer"], "reviewed_at": article.approved_at,
        "next_review_due": None, "published_at": article.published_at, "updated_at": now,
    }
    html = rendering.render_article(
        snapshot, topics=topics, history=[], credits=rendering.render_credits(**credits, preview=True),
        **notice_parts(notices),
    )
    response = render(request, "articles/article_detail.html", {
        **credits, "preview": True, "article": article, "title": snapshot["title"], "summary": snapshot["summary"],
        "blockers": gate.publish_blockers(article), "article_html": mark_safe(html),
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


REVIEWERS_GROUP = "Reviewers"


def lands_on_queue(user):
    """Reviewers who are not also editors or administrators start their day at the review queue."""
    return (
        user.is_active and not user.is_superuser and user.has_perm("articles.review_article")
        and user.groups.filter(name=REVIEWERS_GROUP).exists()
    )


def admin_login(request, **kwargs):
    """The admin's own sign-in; a reviewer who asked for no other page goes on to the review queue."""
    response = admin.site.login(request, **kwargs)
    asked_for = request.POST.get("next") or request.GET.get("next") or ""
    if (
        request.method == "POST" and response.status_code == 302 and request.user.is_authenticated
        and asked_for in ("", reverse("admin:index")) and lands_on_queue(request.user)
    ):
        return redirect("review:queue")
    return response
