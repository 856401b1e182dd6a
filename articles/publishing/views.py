"""Public pages. Every one starts from Article.objects.published(); drafts are 404s here."""

import functools
import json

from django.db import connections, router
from django.db.models import Count, Window
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from articles.models import Article, Topic
from articles.publishing import frontend_cache, listing, pages
from articles.publishing.cache import (
    any_value, article_scopes, cached_public_page, is_cacheable_request, lists_scope, page_number,
)
from articles.publishing.context import absolute_url, fill_notices, live_notices, page_context
from articles.publishing.search import clean_query, matching_cards

PAGE_SIZE = 20


# The newest cards, with the total of the page's list in each row (one query for a page and its count).
_NEWEST = listing.CompiledQuery(lambda: listing.listed().values_list("card"), paged=True)
_NEWEST_IN_TOPIC = listing.CompiledQuery(
    # The topic's articles first (its index), then their listings: a rare topic costs its own few rows.
    lambda: listing.listed().filter(article__in=Article.objects.filter(topics__slug=listing.marker("topic")))
    .annotate(total=Window(Count("pk"))).values_list("card", "total"),
    paged=True,
)
_LISTED_TOPICS = listing.CompiledQuery(lambda: listing.listed_topics().values_list("slug", "name"))
_TOPIC = listing.CompiledQuery(lambda: Topic.objects.filter(slug=listing.marker("slug")).values_list("slug", "name"))


@cached_public_page(lists_scope)
def home(request):
    # Titles and summaries come from the published revision: unreviewed edits never show.
    cards = [row[0] for row in _NEWEST.rows(limit=PAGE_SIZE, offset=0)]
    topics = tuple(_LISTED_TOPICS.rows())
    context = {"has_articles": bool(cards), "topics": topics, "canonical_url": absolute_url("/")}
    joined = listing.join_cards(cards, level=3)
    if is_cacheable_request(request):
        return HttpResponse(listing.frame("articles/home.html", slots=["cards"], **context).fill(cards=joined))
    return render(request, "articles/home.html", {**context, "cards": joined})


def _page_count(total):
    return max(1, -(-total // PAGE_SIZE))


@functools.lru_cache(maxsize=1024)
def _pagination(number, pages):
    return render_to_string("articles/_pagination.html", {
        "number": number, "pages": pages, "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
    })


@cached_public_page(lists_scope, params={"page": page_number})
def topic_detail(request, slug):
    found = _TOPIC.rows(slug=slug)
    if not found:
        raise Http404("No topic here.")
    topic_slug, topic_name = found[0]
    number = int(request.GET["page"]) if page_number(request.GET.get("page", "")) else 1
    rows = _NEWEST_IN_TOPIC.rows(topic=topic_slug, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    if not rows and number > 1:
        # Past the last page: the last page, as Paginator.get_page answers. Each row carries the total.
        first = _NEWEST_IN_TOPIC.rows(topic=topic_slug, limit=1, offset=0)
        number = _page_count(first[0][1]) if first else 1
        rows = _NEWEST_IN_TOPIC.rows(topic=topic_slug, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = _page_count(rows[0][1]) if rows else 1
    context = {
        "topic_slug": topic_slug, "topic_name": topic_name, "has_articles": bool(rows),
        "canonical_url": absolute_url(reverse("articles:topic", kwargs={"slug": topic_slug})),
    }
    pagination = mark_safe(_pagination(number, pages) if pages > 1 else "")
    joined = listing.join_cards([row[0] for row in rows], level=2)
    if is_cacheable_request(request):
        page_frame = listing.frame("articles/topic.html", slots=["cards", "pagination"], **context)
        return HttpResponse(page_frame.fill(cards=joined, pagination=pagination))
    return render(request, "articles/topic.html", {**context, "cards": joined, "pagination": pagination})


@cached_public_page(lists_scope, params={"q": any_value})
def search(request):
    query = clean_query(request.GET.get("q", ""))
    cards = matching_cards(query, limit=PAGE_SIZE)
    results = render_to_string("articles/_search_results.html", {
        "query": query, "count": len(cards), "cards": listing.join_cards(cards, level=3),
    }) if query else ""
    if is_cacheable_request(request):
        page_frame = listing.frame("articles/search.html", slots=["query", "results"], has_query=bool(query))
        return HttpResponse(page_frame.fill(query=query, results=mark_safe(results)))
    return render(request, "articles/search.html", {"query": query, "has_query": bool(query),
                                                    "results": mark_safe(results)})


@functools.cache
def _page_queryset():
    # Building this queryset (its joins, column list and subquery) costs as much as running it;
    # built once per process, each request only clones it with its slug. It is never evaluated itself.
    return Article.objects.for_page()


@cached_public_page(article_scopes)
def article_detail(request, slug):
    """The published revision, frozen at publication: later edits stay invisible until approved and published.

    Anonymous readers get the page stored when it last changed (articles.publishing.pages):
    one query, no rendering. Signed-in staff, a live article whose page was
    never stored, and one stored under other site settings get it rendered now.
    """
    if is_cacheable_request(request):
        stored = _stored_page(slug)
        if stored is None:
            raise Http404("No article here.")
        html, sources, site, cited_source_has_notice, pk = stored
        if html is not None and site == pages.site():
            html = pages.page_html(html)
            references = json.loads(sources)
            if cited_source_has_notice:
                html = fill_notices(html.decode(), live_notices(references))
            return frontend_cache.tag(HttpResponse(pages.complete(html)), article_keys(pk, references))
    article = get_object_or_404(_page_queryset(), slug=slug)
    context = page_context(article)
    response = render(request, "articles/article_detail.html", context)
    return frontend_cache.tag(response, article_keys(article.pk, context["references"]))


def article_keys(article_id, references):
    """The surrogate keys of an article's page: the article and every source it cites."""
    return [frontend_cache.article_key(article_id), *(frontend_cache.reference_key(ref["id"]) for ref in references)]


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
        .with_cited_source_notice()
        .values_list("public_page__html", "public_page__sources", "public_page__site", "cited_source_has_notice", "pk")
    )[:1]
    return queryset.query.sql_with_params()


def _stored_page(slug):
    """(html, sources, site, cited_source_has_notice, pk) of the published article ``slug``, or None."""
    connection = connections[router.db_for_read(Article)]
    sql, params = _stored_page_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug if param == _SLUG else param for param in params])
        row = cursor.fetchone()
    if row is None:
        return None
    html, sources, site, has_notice, pk = row
    return html, sources, site, bool(has_notice), pk


def robots_txt(request):
    """Crawlers may read the public pages, not the editorial desk or previews; the sitemap is on SITE_URL."""
    return render(request, "robots.txt", {"sitemap_url": absolute_url("/sitemap.xml")}, content_type="text/plain")
