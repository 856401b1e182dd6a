"""Search over what readers can see: the published revision's title, summary and body.

On PostgreSQL this is full-text search over the tsvector stored on each revision
when it is frozen and copied to the article's listing when it goes live, matched
through the listings' GIN index, and ranked by SearchRank over a second, small
vector of the title (weighing most) and summary: an article whose title has the
words comes first, then one whose summary has them, then the rest by date,
newest first.
On SQLite (the embedded default) it is SQLite's own full-text index, FTS5,
filled when a revision is frozen: every word must begin a word of the article
("keta" finds "ketamine", accents ignored), newest first. So neither reads an
article's text per search, whatever the number of articles. Any other database
looks for every word anywhere in the text.
"""

import re

from django.db import connection, connections
from django.db.models import Count, F, Q, Subquery, Window
from django.db.models.expressions import RawSQL

from articles.models import Article, ArticleListing, ArticleRevision
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
    return (search(articles, terms).filter(listing__isnull=False)
            .annotate(total=Window(Count("pk"))).values_list("listing__card", "total"))


# The search page's query, compiled once per process: with an index, a search is one query and no ORM work.
# Each row carries the number of matches.
_MATCHING_CARDS = listing.CompiledQuery(lambda: _indexed_search(listing.marker("terms")), paged=True)


def matching_cards(text, *, limit, offset=0):
    """The stored cards (articles.publishing.listing) of the articles matching ``text``, best first, from
    ``offset`` to at most ``limit``; and how many articles match in all (0 past the last)."""
    text = clean_query(text)
    if not text:
        return [], 0
    if connection.vendor == "postgresql":
        terms = text
    elif connection.vendor == "sqlite":
        terms = sqlite_match(text)
        if not terms:
            return [], 0
    else:
        found = search_articles(text).filter(listing__isnull=False)
        return [card for (card,) in found.values_list("listing__card")[offset:offset + limit]], found.count()
    rows = _MATCHING_CARDS.rows(terms=terms, limit=limit, offset=offset)
    return [card for card, _ in rows], rows[0][1] if rows else 0


def revision_vector():
    """The weighted tsvector of a revision's title, summary and body (PostgreSQL)."""
    from django.contrib.postgres.search import SearchVector

    return rank_vector() + SearchVector("body_text", weight="C", config=CONFIG)


def rank_vector():
    """The weighted tsvector of a revision's title and summary, which results are ranked by (PostgreSQL)."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("title", weight="A", config=CONFIG) + SearchVector("summary", weight="B", config=CONFIG)


def index_listing(article_id, revision_id):
    """Give the listing of ``article_id`` its live revision's vectors (PostgreSQL), as a search reads them."""
    if connection.vendor == "postgresql":
        revision = ArticleRevision.objects.filter(pk=revision_id)
        ArticleListing.objects.filter(pk=article_id).update(
            search_vector=Subquery(revision.values("search_vector")),
            rank_vector=Subquery(revision.values("rank_vector")),
        )


def store_search_vector(revision):
    """Index ``revision`` once, when it is frozen, so a search reads no text: its tsvector on PostgreSQL, its
    row of the full-text index on SQLite."""
    if connection.vendor == "postgresql":
        type(revision).objects.filter(pk=revision.pk).update(search_vector=revision_vector(),
                                                             rank_vector=rank_vector())
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
    from django.contrib.postgres.search import SearchQueryField, SearchRank

    # Matched through the listings' GIN index (migration 0013) and ranked by the small vector, both copied
    # from the live revision: no tsvector is computed per request, and no article's body is read to rank it.
    matching = RawSQL("SELECT articles_listings_matching(websearch_to_tsquery(%s::regconfig, %s))", [CONFIG, text])
    # A subquery, so the query is parsed once per search, not once per match (a prepared statement's
    # generic plan would call the function for every row it ranks).
    query = RawSQL("(SELECT websearch_to_tsquery(%s::regconfig, %s))", [CONFIG, text],
                   output_field=SearchQueryField())
    return (
        articles.filter(pk__in=matching)
        .annotate(rank=SearchRank(F("listing__rank_vector"), query))
        .order_by("-rank", "-listing__updated_at", "-pk")
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
