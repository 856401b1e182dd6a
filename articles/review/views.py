"""The reviewers' queue at /review/: what awaits review, and one page per article to approve or send back.

Views parse input, call articles.review.workflow, and render or redirect; the rules live
in the workflow and the gate. Reviewers (review_article) and superusers only.
"""

import difflib
from functools import wraps
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from articles.models import Article, ArticleRevision, Claim, Status
from articles.publishing import rendering
from articles.publishing.context import live_notices, notice_parts
from articles.review import gate, workflow
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


@require_GET
@reviewer_required
def queue(request):
    page = QueuePaginator(review_queue(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "review/queue.html", {"page": page, "now": timezone.now()})


def _claim_lines(sections):
    """One line per heading and claim, for a diff readers of prose can follow."""
    lines = []
    for heading, claims in sections:
        lines.append(f"## {heading}")
        for text, is_context, sources in claims:
            marker = "[context] " if is_context else ""
            cites = f"  [{', '.join(sources)}]" if sources else ""
            lines.append(f"{marker}{text}{cites}")
    return lines


def _diff_since(revision, content):
    """difflib over claim texts: the last published revision against the working copy."""
    if revision is None:
        return None
    refs = {ref["number"]: ref["doi"] or ref["url"] for ref in revision.snapshot["references"]}
    old = _claim_lines(
        (s["heading"], [(c["text"], c["is_context"], [refs[x["reference"]] for x in c["citations"]])
                        for c in s["claims"]])
        for s in revision.snapshot["sections"]
    )
    new = _claim_lines(
        (section.heading, [(c.claim.text, c.claim.is_context,
                            [x.reference.doi or x.reference.url for x in c.citations])
                           for c in content.claims if c.section is section])
        for section in content.sections
    )
    diff = list(difflib.unified_diff(old, new, lineterm="", n=1))[2:]
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    return [(kinds.get(line[:1], "same"), line) for line in diff]


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
        "diff": _diff_since(last_revision, report.content),
        "last_revision": last_revision,
        "is_author": is_author,
        "can_approve": article.status in workflow.TRANSITIONS["approve"] and not is_author,
        "can_request_changes": article.status in workflow.TRANSITIONS["request_changes"] and not is_author,
    }


@require_GET
@reviewer_required
def review_article(request, pk):
    article = get_object_or_404(Article, pk=pk)
    return render(request, "review/article.html", _review_context(request, article))


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
        "next_review_due": None, "published_at": article.published_at or now, "updated_at": now,
    }
    html = rendering.render_article(
        snapshot, topics=topics, history=[], credits=rendering.render_credits(**credits),
        **notice_parts(notices),
    )
    response = render(request, "articles/article_detail.html", {
        **credits, "preview": True, "article": article, "title": snapshot["title"], "summary": snapshot["summary"],
        "blockers": gate.publish_blockers(article), "article_html": mark_safe(html),
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
