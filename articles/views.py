"""Public pages. Every one starts from Article.objects.published(); only the preview shows a working copy."""

import functools
import json
from types import SimpleNamespace

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections, router
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache

from articles import gate, pages, rendering, workflow
from articles.cache import (
    any_value, article_scopes, cached_public_page, is_cacheable_request, lists_scope, page_number,
)
from articles.models import Article, Topic
from articles.querysets import cited_source_has_notice
from articles.search import clean_query, search_articles
from references.models import Reference, RetractionStatus

PAGE_SIZE = 20

NOTICE_LABELS = {
    RetractionStatus.RETRACTED: "Retracted",
    RetractionStatus.EXPRESSION_OF_CONCERN: "Expression of concern",
    RetractionStatus.CORRECTED: "Corrected",
}
# The Crossref update types whose notices belong with each status (a retraction notice, not an erratum).
NOTICE_TYPES = {
    RetractionStatus.RETRACTED: {"retraction", "withdrawal", "removal", "partial_retraction"},
    RetractionStatus.EXPRESSION_OF_CONCERN: {"expression_of_concern"},
    RetractionStatus.CORRECTED: {"correction", "erratum", "corrigendum", "addendum", "clarification"},
}
# Previews may be opened by anyone who may work on articles.
PREVIEW_PERMISSIONS = ("articles.change_article", "articles.review_article", "articles.publish_article")


def absolute_url(path):
    """``path`` on the canonical site (SITE_URL), whatever host the request came in on."""
    return settings.SITE_URL.rstrip("/") + path


@cached_public_page(lists_scope)
def home(request):
    # Titles and summaries come from the published revision: unreviewed edits never show.
    articles = Article.objects.for_listing()[:PAGE_SIZE]
    topics = Topic.objects.filter(articles__in=Article.objects.published()).distinct()
    return render(request, "articles/home.html", {
        "articles": articles, "topics": topics, "canonical_url": absolute_url("/"),
    })


@cached_public_page(lists_scope, params={"page": page_number})
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    page = Paginator(Article.objects.for_listing().filter(topics=topic), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "articles/topic.html", {
        "topic": topic, "page": page, "articles": page.object_list,
        "canonical_url": absolute_url(reverse("articles:topic", kwargs={"slug": topic.slug})),
    })


@cached_public_page(lists_scope, params={"q": any_value})
def search(request):
    query = clean_query(request.GET.get("q", ""))
    results = list(search_articles(query)[:PAGE_SIZE]) if query else []
    return render(request, "articles/search.html", {"query": query, "articles": results})


@functools.cache
def _page_queryset():
    # Building this queryset (its joins, column list and subquery) costs as much as running it;
    # built once per process, each request only clones it with its slug. It is never evaluated itself.
    return Article.objects.for_page()


@cached_public_page(article_scopes)
def article_detail(request, slug):
    """The published revision, frozen at publication: later edits stay invisible until approved and published.

    Anonymous readers get the page stored when it last changed (articles.pages):
    one query, no rendering. Signed-in staff, a live article whose page was
    never stored, and one stored under other site settings get it rendered now.
    """
    if is_cacheable_request(request):
        stored = _stored_page(slug)
        if stored is None:
            raise Http404("No article here.")
        html, sources, site, cited_source_has_notice = stored
        if html is not None and site == pages.site():
            html = pages.page_html(html)
            if cited_source_has_notice:
                html = _fill_notices(html.decode(), live_notices(json.loads(sources)))
            return HttpResponse(pages.complete(html))
    article = get_object_or_404(_page_queryset(), slug=slug)
    return render(request, "articles/article_detail.html", page_context(article))


# Stands for the slug in the compiled SQL (no real slug can contain a NUL).
_SLUG = "\x00slug"


@functools.cache
def _stored_page_sql(vendor):
    # One row per published article: its stored page (None when none was stored yet), the sources
    # as published, the settings it was rendered with, and whether any cited source now carries a
    # notice. Compiling this queryset costs more than running it, so it is compiled once per process
    # (and database vendor) and each request runs the SQL with its slug.
    queryset = (
        Article.objects.published().filter(slug=_SLUG).order_by()
        .annotate(cited_source_has_notice=cited_source_has_notice())
        .values_list("public_page__html", "public_page__sources", "public_page__site", "cited_source_has_notice")
    )[:1]
    return queryset.query.sql_with_params()


def _stored_page(slug):
    """(html, sources, site, cited_source_has_notice) of the published article ``slug``, or None."""
    connection = connections[router.db_for_read(Article)]
    sql, params = _stored_page_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug if param == _SLUG else param for param in params])
        row = cursor.fetchone()
    if row is None:
        return None
    html, sources, site, has_notice = row
    return html, sources, site, bool(has_notice)


def page_context(article, *, notices=None):
    """The template context of ``article``'s public page (from the for_page() queryset).

    The article HTML was rendered when the revision was published; this fills
    in only the review credits and the notices on cited sources (``notices``,
    by default those that stand now).
    """
    revision = article.published_revision
    if revision.body_html and revision.page:
        frozen, page = revision.body_html, revision.page
    else:
        # A revision published before pages were frozen: render it now, from its snapshot.
        frozen = rendering.render_frozen_article(revision.snapshot, topics=revision.topics, history=revision.history)
        page = rendering.page_data(revision.snapshot, topics=revision.topics)
    if notices is None:
        notices = live_notices(page["references"]) if article.cited_source_has_notice else {}
    reviewer, reviewed_at, next_review_due = _review(article, page)
    credits = {
        "byline": page["byline"], "reviewer": reviewer, "reviewed_at": reviewed_at,
        "next_review_due": next_review_due, "published_at": article.published_at,
        "updated_at": revision.published_at,
    }
    html = frozen.replace(rendering.CREDITS, rendering.render_credits(**credits), 1)
    html = _fill_notices(html, notices)
    context = {
        **credits,
        "article": article, "title": revision.title, "summary": revision.summary,
        "canonical_url": absolute_url(article.get_absolute_url()), "site_name": settings.SITE_NAME,
        "article_html": mark_safe(html),
    }
    context["json_ld"] = json_ld(context, page)
    return context


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
        **_notice_parts(notices),
    )
    response = render(request, "articles/article_detail.html", {
        **credits, "preview": True, "article": article, "title": snapshot["title"], "summary": snapshot["summary"],
        "blockers": gate.publish_blockers(article), "article_html": mark_safe(html),
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def live_notices(references):
    """Notices on the cited sources as they stand now, by reference number (one query; most pages have none)."""
    at_publication = {ref["id"]: ref for ref in references}
    rows = Reference.objects.filter(pk__in=list(at_publication)).exclude(
        retraction_status=RetractionStatus.NONE
    ).values_list("pk", "retraction_status", "updates")
    notices = {}
    for pk, status, updates in rows:
        ref = at_publication[pk]
        notice = _notice(status, ref["retraction_status"], updates)
        if notice:
            notices[ref["number"]] = {"number": ref["number"], "notice": notice}
    return dict(sorted(notices.items()))


def _notice_parts(notices):
    changed = [n for n in notices.values() if n["notice"]["since_publication"]]
    return {
        "notices": {
            number: render_to_string("articles/_reference_notice.html", n) for number, n in notices.items()
        },
        "sources_notice": render_to_string("articles/_sources_notice.html", {"changed": changed}) if changed else "",
        "history_notes": render_to_string("articles/_history_notes.html", {"changed": changed}) if changed else "",
    }


def _fill_notices(html, notices):
    if not notices:
        return html
    parts = _notice_parts(notices)
    for number, notice_html in parts["notices"].items():
        html = html.replace(rendering.notice_marker(number), notice_html, 1)
    html = html.replace(rendering.SOURCES_NOTICE, parts["sources_notice"], 1)
    return html.replace(rendering.HISTORY_NOTES, parts["history_notes"], 1)


def _notice(status, status_at_publication, updates):
    if status == RetractionStatus.NONE or status not in NOTICE_LABELS:
        return None
    links = [
        {"label": u.get("label") or NOTICE_LABELS[status], "url": f"https://doi.org/{u['DOI']}",
         "date": u.get("updated", "")}
        for u in updates or [] if u.get("DOI") and u.get("type") in NOTICE_TYPES[status]
    ]
    return {
        "status": status, "label": NOTICE_LABELS[status], "links": links,
        "since_publication": status != status_at_publication,
    }


def _review(article, page):
    """Who reviewed the words readers see, when, and when the next review is due.

    When the latest approval was of exactly these words (a re-review of the live
    version), the article's own review dates are the current ones; otherwise the
    approval frozen with the revision is.
    """
    revision = article.published_revision
    frozen_reviewer = page.get("reviewer") or {}
    if article.approved_fingerprint == revision.fingerprint and article.last_reviewed_at:
        # The credit as it stood at that approval: a profile edited since changes no live page.
        if article.approved_credit_name:
            reviewer = {"name": article.approved_credit_name, "credentials": article.approved_credit_credentials}
        else:
            reviewer = frozen_reviewer
        return reviewer, article.last_reviewed_at, article.next_review_due
    approved_at = page.get("approved_at")
    if not approved_at:
        return frozen_reviewer, None, None
    reviewed_at = timezone.datetime.fromisoformat(approved_at)
    return frozen_reviewer, reviewed_at, workflow.add_months(reviewed_at, article.review_interval_months)


def json_ld(context, page):
    """schema.org MedicalWebPage for the article, as a string safe inside a <script> data block."""
    reviewer = context["reviewer"]
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "url": context["canonical_url"],
        "name": context["title"],
        "headline": context["title"],
        "description": context["summary"],
        "inLanguage": "en",
        "datePublished": context["published_at"].isoformat(),
        "dateModified": context["updated_at"].isoformat(),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": absolute_url("/")},
        "citation": page["citation"],
    }
    if page["byline"]:
        data["author"] = [{"@type": "Person", "name": page["byline"]}]
    if reviewer.get("name"):
        data["reviewedBy"] = {"@type": "Person", "name": reviewer["name"], "jobTitle": reviewer.get("credentials", "")}
    if context["reviewed_at"]:
        data["lastReviewed"] = context["reviewed_at"].date().isoformat()
    if page["about"]:
        data["about"] = page["about"]
    # Sorted keys: the same page whatever order the database (jsonb) gives the stored parts back in.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    # As django.utils.html.json_script does: nothing in the data can close the <script> element.
    return mark_safe(text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026"))


def robots_txt(request):
    """Crawlers may read the public pages, not the editorial desk or previews; the sitemap is on SITE_URL."""
    return render(request, "robots.txt", {"sitemap_url": absolute_url("/sitemap.xml")}, content_type="text/plain")
