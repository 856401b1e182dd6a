"""Public pages. Every one starts from Article.objects.published(); drafts are 404s here."""

import functools
import json

from django.db import connections, router
from django.db.models import Count, Window
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from articles.models import Article, Topic
from articles.publishing import frontend_cache, listing, pages
from articles.publishing.cache import (
    any_value, article_scopes, cached_public_page, is_cacheable_request, lists_scope, page_number,
)
from articles.publishing.context import absolute_url, fill_notices, live_notices, page_context
from articles.publishing.search import clean_query, matching_cards

PAGE_SIZE = 20


# The newest cards, and the topics that have a listed article: one statement for the home page.
_NEWEST = listing.CompiledQuery(lambda: listing.listed().values_list("card"), paged=True)
_LISTED_TOPICS = listing.CompiledQuery(lambda: listing.listed_topics().values_list("slug", "name"))
_HOME = listing.CompiledBatch(_NEWEST, _LISTED_TOPICS)
# A topic's newest cards, each row with the topic's total and the topic itself (one query for a page, its count
# and its heading); only a page without cards looks the topic up on its own.
_NEWEST_IN_TOPIC = listing.CompiledQuery(
    lambda: listing.listed().filter(article__topics__slug=listing.marker("topic"))
    .annotate(total=Window(Count("pk"))).values_list("card", "total", "article__topics__slug", "article__topics__name"),
    paged=True,
)
_TOPIC = listing.CompiledQuery(lambda: Topic.objects.filter(slug=listing.marker("slug")).values_list("slug", "name"))


@cached_public_page(lists_scope)
def home(request):
    # Titles and summaries come from the published revision: unreviewed edits never show.
    newest, topics = _HOME.rows(limit=PAGE_SIZE, offset=0)
    cards, topics = [card for (card,) in newest], tuple(topics)
    context = {"has_articles": bool(cards), "topics": topics, "canonical_url": absolute_url("/")}
    joined = listing.join_cards(cards, level=3)
    if is_cacheable_request(request):
        return HttpResponse(listing.frame("articles/home.html", slots=["cards"], **context).fill(cards=joined))
    return render(request, "articles/home.html", {**context, "cards": joined})


def _page_count(total):
    return max(1, -(-total // PAGE_SIZE))


def _requested_page(request):
    return int(request.GET["page"]) if page_number(request.GET.get("page", "")) else 1


def _page_of(fetch, number):
    """Page ``number`` of a list, as (number, rows, total): ``fetch(limit, offset)`` returns a page's rows and the
    list's total. Past the last page, the last page, as Paginator.get_page answers."""
    rows, total = fetch(PAGE_SIZE, (number - 1) * PAGE_SIZE)
    if not rows and number > 1:
        _, total = fetch(1, 0)
        number = _page_count(total)
        rows, total = fetch(PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return number, rows, total


@functools.lru_cache(maxsize=1024)
def _pagination(number, pages, link="?page=", labels=("Newer articles", "Older articles")):
    """The page links of page ``number`` of ``pages`` (none for a single page); ``link`` and the page number
    make each link's URL."""
    if pages < 2:
        return mark_safe("")
    return render_to_string("articles/_pagination.html", {
        "number": number, "pages": pages, "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None, "link": link,
        "previous_label": labels[0], "next_label": labels[1],
    })


@cached_public_page(lists_scope, params={"page": page_number})
def topic_detail(request, slug):
    def newest(limit, offset):
        rows = _NEWEST_IN_TOPIC.rows(topic=slug, limit=limit, offset=offset)
        return rows, rows[0][1] if rows else 0  # each row carries the total

    number, rows, total = _page_of(newest, _requested_page(request))
    if rows:
        topic_slug, topic_name = rows[0][2:]
    else:
        found = _TOPIC.rows(slug=slug)
        if not found:
            raise Http404("No topic here.")
        topic_slug, topic_name = found[0]
    context = {
        "topic_slug": topic_slug, "topic_name": topic_name, "has_articles": bool(rows),
        "canonical_url": absolute_url(listing.url("articles:topic", topic_slug)),
    }
    pagination = _pagination(number, _page_count(total))
    joined = listing.join_cards([row[0] for row in rows], level=2)
    if is_cacheable_request(request):
        page_frame = listing.frame("articles/topic.html", slots=["cards", "pagination"], **context)
        return HttpResponse(page_frame.fill(cards=joined, pagination=pagination))
    return render(request, "articles/topic.html", {**context, "cards": joined, "pagination": pagination})


@cached_public_page(lists_scope, params={"q": any_value, "page": page_number})
def search(request):
    query = clean_query(request.GET.get("q", ""))
    number, cards, total = _page_of(lambda limit, offset: matching_cards(query, limit=limit, offset=offset),
                                    _requested_page(request))
    shape = {"has_query": bool(query), "has_results": bool(total), "plural": total != 1}
    pagination = _pagination(number, _page_count(total), f"?{urlencode({'q': query})}&page=",
                             ("Previous results", "More results"))
    joined = listing.join_cards(cards, level=3)
    if is_cacheable_request(request):
        page_frame = listing.frame("articles/search.html", slots=["query", "count", "cards", "pagination"], **shape)
        return HttpResponse(page_frame.fill(query=query, count=str(total), cards=joined, pagination=pagination))
    return render(request, "articles/search.html", {**shape, "query": query, "count": total, "cards": joined,
                                                    "pagination": pagination})


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
