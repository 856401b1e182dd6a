"""Search over what readers can see: the published revision's title, summary and body.

On PostgreSQL this is full-text search ranked by SearchRank, the title weighing
most, over the tsvector stored on each revision when it is frozen (GIN-indexed).
On SQLite (the embedded default) it is SQLite's own full-text index, FTS5,
filled when a revision is frozen: every word must begin a word of the article
("keta" finds "ketamine", accents ignored), newest first. So neither reads an
article's text per search, whatever the number of articles. Any other database
looks for every word anywhere in the text.
"""

import re

from django.db import connection, connections
from django.db.models import F, Q
from django.db.models.expressions import RawSQL

from articles.models import Article, ArticleRevision
from articles.publishing import listing

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
    if connection.vendor == "sqlite":
        match = sqlite_match(text)
        return _sqlite_search(articles, match) if match else articles.none()
    return _simple_search(articles, text)


def _indexed_search(terms):
    articles = Article.objects.for_listing()
    search = _postgres_search if connection.vendor == "postgresql" else _sqlite_search
    return search(articles, terms).filter(listing__isnull=False).values_list("listing__card")


# The search page's query, compiled once per process: with an index, a search is one query and no ORM work.
_MATCHING_CARDS = listing.CompiledQuery(lambda: _indexed_search(listing.marker("terms")), paged=True)


def matching_cards(text, *, limit):
    """The stored cards (articles.publishing.listing) of at most ``limit`` articles matching ``text``, best first."""
    text = clean_query(text)
    if not text:
        return []
    if connection.vendor == "postgresql":
        terms = text
    elif connection.vendor == "sqlite":
        terms = sqlite_match(text)
        if not terms:
            return []
    else:
        found = search_articles(text).filter(listing__isnull=False).values_list("listing__card")[:limit]
        return [card for (card,) in found]
    return [card for (card,) in _MATCHING_CARDS.rows(terms=terms, limit=limit, offset=0)]


def revision_vector():
    """The weighted tsvector of a revision's title, summary and body (PostgreSQL)."""
    from django.contrib.postgres.search import SearchVector

    return (
        SearchVector("title", weight="A", config=CONFIG)
        + SearchVector("summary", weight="B", config=CONFIG)
        + SearchVector("body_text", weight="C", config=CONFIG)
    )


def store_search_vector(revision):
    """Index ``revision`` once, when it is frozen, so a search reads no text: its tsvector on PostgreSQL, its
    row of the full-text index on SQLite."""
    if connection.vendor == "postgresql":
        type(revision).objects.filter(pk=revision.pk).update(search_vector=revision_vector())
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # A row left by revisions deleted since (a flushed database reuses their ids) is replaced.
            cursor.execute("DELETE FROM articles_revision_fts WHERE rowid = %s", [revision.pk])
            cursor.execute("INSERT INTO articles_revision_fts (rowid, title, summary, body_text) VALUES (%s, %s, %s, %s)",
                           [revision.pk, revision.title, revision.summary, revision.body_text])


# -- SQLite ------------------------------------------------------------------------

# Named literally in the statements below, which are constant SQL with bound parameters.
SQLITE_INDEX = "articles_revision_fts"


def create_sqlite_index(using="default", **kwargs):
    """Create SQLite's full-text index of revisions, filled from those already frozen (after ``migrate``).

    A virtual table of SQLite's own, not a model: Django's migrations cannot describe it.
    """
    db = connections[using]
    if db.vendor != "sqlite":
        return
    tables = db.introspection.table_names()
    if SQLITE_INDEX in tables or ArticleRevision._meta.db_table not in tables:
        return
    with db.cursor() as cursor:
        cursor.execute("CREATE VIRTUAL TABLE articles_revision_fts USING fts5("
                       "title, summary, body_text, tokenize = 'unicode61 remove_diacritics 2')")
        cursor.execute("INSERT INTO articles_revision_fts (rowid, title, summary, body_text) "
                       "SELECT id, title, summary, body_text FROM articles_articlerevision")


def sqlite_match(text):
    """An FTS5 query for ``text``: each word the beginning of a word, all of them; "" when no word has a letter
    or digit. Each word is quoted, so nothing a reader types is FTS5 syntax."""
    return " ".join(
        '"%s"*' % word.replace('"', '""') for word in text.split() if any(ch.isalnum() for ch in word)
    )


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


def _sqlite_search(articles, match):
    revisions = RawSQL("SELECT rowid FROM articles_revision_fts WHERE articles_revision_fts MATCH %s", [match])
    # Newest first by the listing's date: the revision's own sits behind its text in every row.
    return articles.filter(published_revision__in=revisions).order_by("-listing__updated_at", "-pk")


def _simple_search(articles, text):
    for word in text.split():
        articles = articles.filter(
            Q(published_revision__title__icontains=word)
            | Q(published_revision__summary__icontains=word)
            | Q(published_revision__body_text__icontains=word)
        )
    return articles
