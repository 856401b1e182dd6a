"""Public pages. Every one starts from Article.objects.published(); drafts are 404s here."""

import functools
import json

from django.core.paginator import Paginator
from django.db import connections, router
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from articles.models import Article, Topic
from articles.publishing import frontend_cache, listing, pages
from articles.publishing.cache import (
    any_value, article_scopes, cached_public_page, is_cacheable_request, lists_scope, page_number,
)
from articles.publishing.context import absolute_url, fill_notices, live_notices, page_context
from articles.publishing.search import clean_query, search_articles

PAGE_SIZE = 20


@cached_public_page(lists_scope)
def home(request):
    # Titles and summaries come from the published revision: unreviewed edits never show.
    articles = list(listing.with_cards(Article.objects.for_listing())[:PAGE_SIZE])
    topics = Topic.objects.filter(articles__in=Article.objects.published()).distinct()
    return render(request, "articles/home.html", {
        "articles": articles, "cards": listing.cards(articles, level=3), "topics": topics,
        "canonical_url": absolute_url("/"),
    })


@cached_public_page(lists_scope, params={"page": page_number})
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    page = Paginator(listing.with_cards(Article.objects.for_listing().filter(topics=topic)),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    articles = list(page.object_list)
    return render(request, "articles/topic.html", {
        "topic": topic, "page": page, "articles": articles, "cards": listing.cards(articles, level=2),
        "canonical_url": absolute_url(reverse("articles:topic", kwargs={"slug": topic.slug})),
    })


@cached_public_page(lists_scope, params={"q": any_value})
def search(request):
    query = clean_query(request.GET.get("q", ""))
    results = list(listing.with_cards(search_articles(query))[:PAGE_SIZE]) if query else []
    return render(request, "articles/search.html", {
        "query": query, "articles": results, "cards": listing.cards(results, level=3),
    })


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
