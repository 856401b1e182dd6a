"""Search over what readers can see: the published revision's title, summary and body.

On PostgreSQL this is full-text search ranked by SearchRank, the title weighing
most; elsewhere (SQLite in development and tests) every word must appear
somewhere, newest first.
"""

from django.db import connection
from django.db.models import Q

from articles.models import Article

MAX_QUERY_LENGTH = 200
CONFIG = "english"


def clean_query(text):
    """The words a reader typed, trimmed to a sane length."""
    return " ".join((text or "").split())[:MAX_QUERY_LENGTH]


def search_articles(text):
    """Published articles matching ``text``, best first; an empty query matches nothing."""
    text = clean_query(text)
    articles = Article.objects.for_listing()
    if not text:
        return articles.none()
    if connection.vendor == "postgresql":
        return _postgres_search(articles, text)
    return _simple_search(articles, text)


def _postgres_search(articles, text):
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = (
        SearchVector("published_revision__title", weight="A", config=CONFIG)
        + SearchVector("published_revision__summary", weight="B", config=CONFIG)
        + SearchVector("published_revision__body_text", weight="C", config=CONFIG)
    )
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    return (
        articles.annotate(search=vector, rank=SearchRank(vector, query))
        .filter(search=query)
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
