"""Search over what readers can see: the published revision's title, summary and body.

On PostgreSQL this is full-text search ranked by SearchRank, the title weighing
most, over the tsvector stored on each revision when it is frozen (GIN-indexed);
elsewhere (SQLite in development and tests) every word must appear
somewhere, newest first.
"""

import re

from django.db import connection
from django.db.models import F, Q

from articles.models import Article

MAX_QUERY_LENGTH = 200
CONFIG = "english"


# Control characters are no part of a word, and PostgreSQL refuses NUL in any text it is sent.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def clean_query(text):
    """The words a reader typed, control characters dropped, trimmed to a sane length."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", text or "").split())[:MAX_QUERY_LENGTH]


def search_articles(text):
    """Published articles matching ``text``, best first; an empty query matches nothing."""
    text = clean_query(text)
    articles = Article.objects.for_listing()
    if not text:
        return articles.none()
    if connection.vendor == "postgresql":
        return _postgres_search(articles, text)
    return _simple_search(articles, text)


def revision_vector():
    """The weighted tsvector of a revision's title, summary and body (PostgreSQL)."""
    from django.contrib.postgres.search import SearchVector

    return (
        SearchVector("title", weight="A", config=CONFIG)
        + SearchVector("summary", weight="B", config=CONFIG)
        + SearchVector("body_text", weight="C", config=CONFIG)
    )


def store_search_vector(revision):
    """Fill ``revision.search_vector`` once, when it is frozen, so a search computes no tsvector (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        type(revision).objects.filter(pk=revision.pk).update(search_vector=revision_vector())


def _postgres_search(articles, text):
    from django.contrib.postgres.search import SearchQuery, SearchRank

    vector = F("published_revision__search_vector")
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    # The stored vector and its GIN index (migration 0006): no tsvector is computed per request.
    return (
        articles.filter(published_revision__search_vector=query)
        .annotate(rank=SearchRank(vector, query))
        .order_by("-rank", "-published_revision__published_at", "-pk")
    )


def _simple_search(articles, text):
    for word in text.split():
        articles = articles.filter(
            Q(published_revision__title__icontains=word)
            | Q(published_revision__summary__icontains=word)
            | Q(published_revision__body_text__icontains=word)
        )
    return articles
