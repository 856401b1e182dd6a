"""Search over the published revisions: full-text with ranking on PostgreSQL, every word on SQLite."""

import re

import pytest
from django.db import connection

from articles.models import Article
from articles.publishing.search import MAX_QUERY_LENGTH, clean_query, search_articles
from tests.articles.publish_helpers import make_many_published, make_published, make_topic, publish
from tests.factories import make_supported_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(editor, reviewer):
    return {
        "title": make_published("Insomnia and sleep hygiene", editor=editor, reviewer=reviewer,
                                summary="How sleep routines help."),
        "summary": make_published("A note on rest", editor=editor, reviewer=reviewer,
                                  summary="Insomnia treatments compared."),
        "body": make_published("Ketamine basics", editor=editor, reviewer=reviewer),
        "draft": make_supported_article("Insomnia draft", author=editor, summary="Insomnia, unpublished."),
    }


def test_search_finds_published_articles_by_title_summary_and_body(library):
    assert {a.pk for a in search_articles("insomnia")} == {library["title"].pk, library["summary"].pk}
    # Body text: every supported article mentions NMDA receptors in its claims.
    assert library["body"].pk in {a.pk for a in search_articles("NMDA receptors")}


def test_search_never_returns_unpublished_articles(library, editor):
    results = list(search_articles("insomnia"))
    assert library["draft"].pk not in {a.pk for a in results}
    library["title"].refresh_from_db()
    from articles.review import workflow

    workflow.unpublish(library["title"], by=editor)
    assert library["title"].pk not in {a.pk for a in search_articles("insomnia")}


def test_search_reads_the_published_words_not_the_working_copy(library):
    Article.objects.filter(pk=library["body"].pk).update(title="Zebrafish models")
    assert not search_articles("zebrafish").exists()


def test_every_word_must_match(library):
    assert [a.pk for a in search_articles("insomnia routines")] == [library["title"].pk]
    assert not search_articles("insomnia zebrafish").exists()


def test_an_empty_query_matches_nothing(library):
    assert not search_articles("   ").exists()
    assert clean_query("  many   spaces ") == "many spaces"
    assert len(clean_query("x" * 1000)) == MAX_QUERY_LENGTH


def test_control_characters_in_a_query_are_dropped_before_sql(library):
    # PostgreSQL refuses NUL in text: the query must never carry one, whoever calls the search.
    assert clean_query("insomnia\x00routines\x1b[0m") == "insomnia routines [0m"
    assert [a.pk for a in search_articles("insomnia\x00routines")] == [library["title"].pk]
    assert not search_articles("\x00").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL full-text search")
def test_a_title_match_ranks_above_a_summary_match_on_postgresql(library):
    assert [a.pk for a in search_articles("insomnia")] == [library["title"].pk, library["summary"].pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL full-text search")
def test_a_match_in_the_body_alone_ranks_below_title_and_summary_matches_on_postgresql(library, editor, reviewer):
    # Every supported article's claims mention NMDA receptors; these two say it in the title or summary too.
    newest = make_published("Ketamine again", editor=editor, reviewer=reviewer)
    in_title = make_published("NMDA receptors explained", editor=editor, reviewer=reviewer)
    in_summary = make_published("Glutamate", editor=editor, reviewer=reviewer, summary="What NMDA receptors do.")
    ranked = [a.pk for a in search_articles("NMDA receptors")]
    assert ranked[:2] == [in_title.pk, in_summary.pk]
    # The rest matched in their bodies alone: newest first.
    assert ranked[2:] == sorted(ranked[2:], key=lambda pk: Article.objects.get(pk=pk).published_at, reverse=True)
    assert newest.pk in ranked[2:] and library["body"].pk in ranked[2:]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming is PostgreSQL full-text search")
def test_postgresql_search_stems_words(library):
    assert library["title"].pk in {a.pk for a in search_articles("routine")}


def test_the_search_page_shows_results_and_counts(client, library):
    text = client.get("/search/", {"q": "insomnia"}).content.decode()
    assert "2 results for “insomnia”" in text
    assert library["title"].get_absolute_url() in text and library["draft"].slug not in text
    assert "No articles match “zebrafish”" in client.get("/search/", {"q": "zebrafish"}).content.decode()
    page = client.get("/search/").content.decode()
    assert "<h1>Search</h1>" in page and "result" not in page


def _shown(page):
    return re.findall(r'<a href="(/articles/[^"]+)"', page)


def test_the_search_page_counts_every_match_and_shows_them_20_a_page(client, editor, reviewer):
    make_many_published(25, editor=editor, reviewer=reviewer, topic=make_topic("Depression"))
    first = client.get("/search/", {"q": "ketamine"}).content.decode()
    assert "25 results for “ketamine”" in first
    assert "Page 1 of 2" in first and '<a href="?q=ketamine&amp;page=2" rel="next">More results</a>' in first
    assert 'rel="prev"' not in first
    second = client.get("/search/", {"q": "ketamine", "page": "2"}).content.decode()
    assert "25 results for “ketamine”" in second and "Page 2 of 2" in second
    assert '<a href="?q=ketamine&amp;page=1" rel="prev">Previous results</a>' in second and 'rel="next"' not in second
    assert (len(_shown(first)), len(_shown(second))) == (20, 5)
    assert len(set(_shown(first) + _shown(second))) == 25, "each match once across the pages"
    # Past the last page: the last page, as the topic pages answer; a page that is no number: the first.
    assert _shown(client.get("/search/", {"q": "ketamine", "page": "9"}).content.decode()) == _shown(second)
    assert _shown(client.get("/search/", {"q": "ketamine", "page": "x"}).content.decode()) == _shown(first)


def test_one_page_of_matches_has_no_page_links(client, library):
    page = client.get("/search/", {"q": "insomnia"}).content.decode()
    assert "2 results for “insomnia”" in page and 'class="pagination"' not in page
    assert "1 result for “insomnia routines”" in client.get("/search/", {"q": "insomnia routines"}).content.decode()


def test_the_page_links_carry_the_query_quoted(client, editor, reviewer):
    make_many_published(25, editor=editor, reviewer=reviewer, topic=make_topic("Depression"))
    page = client.get("/search/", {"q": 'ketamine "copy"'}).content.decode()
    assert "24 results for “ketamine &quot;copy&quot;”" in page
    assert '<a href="?q=ketamine+%22copy%22&amp;page=2" rel="next">' in page


def test_search_follows_the_live_revision_when_it_is_republished(library, editor, reviewer):
    article = Article.objects.get(pk=library["body"].pk)
    article.title = "Zebrafish models"
    article.save()
    assert not search_articles("zebrafish").exists(), "unreviewed words are never searched"
    publish(article, editor=editor, reviewer=reviewer)
    assert [a.pk for a in search_articles("zebrafish")] == [article.pk]
    assert article.pk not in {a.pk for a in search_articles("ketamine basics")}


def test_the_search_page_escapes_the_query(client, library):
    text = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text index (FTS5)")


@sqlite_only
def test_sqlite_search_finds_words_by_their_beginning_and_ignores_accents(library, editor, reviewer):
    cafe = make_published("Café culture and anxiety", editor=editor, reviewer=reviewer)
    assert {a.pk for a in search_articles("insom")} == {library["title"].pk, library["summary"].pk}
    assert [a.pk for a in search_articles("cafe")] == [cafe.pk]
    assert [a.pk for a in search_articles("CAFÉ")] == [cafe.pk]
    # A word is matched from its beginning, not inside another.
    assert not search_articles("somnia").exists()


@sqlite_only
@pytest.mark.parametrize("text", ['"', 'insomnia"', "insomnia*", "insomnia AND", "NEAR(insomnia", "-insomnia",
                                  "insomnia OR zebrafish", "title:zebrafish", "^insomnia", "(insomnia"])
def test_nothing_a_reader_types_is_fts5_syntax(library, text):
    found = {a.pk for a in search_articles(text)}
    # Every word is a word: "OR" and "AND" must appear too, so those find nothing here.
    words_only = {a.pk for a in search_articles(" ".join("".join(ch for ch in w if ch.isalnum()) for w in text.split()))}
    assert found == words_only


@sqlite_only
def test_a_query_of_punctuation_alone_matches_nothing(library):
    assert not search_articles("& * ( )").exists()


@sqlite_only
def test_the_index_is_built_from_the_revisions_already_frozen(library):
    from articles.publishing.search import SQLITE_INDEX, create_sqlite_index

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {SQLITE_INDEX}")
    create_sqlite_index()  # what migrate runs (articles.apps)
    assert {a.pk for a in search_articles("insomnia")} == {library["title"].pk, library["summary"].pk}


@sqlite_only
def test_a_revision_indexed_again_replaces_its_row(library):
    from articles.publishing.search import store_search_vector

    revision = Article.objects.get(pk=library["body"].pk).published_revision
    revision.title = "Zebrafish models"
    store_search_vector(revision)
    assert [a.pk for a in search_articles("zebrafish")] == [library["body"].pk]
    assert library["body"].pk not in {a.pk for a in search_articles("ketamine basics")}


def test_the_search_page_shows_the_article_matching_every_word(client, library):
    page = client.get("/search/", {"q": "insomnia hygiene"}).content.decode()
    assert "1 result for “insomnia hygiene”" in page and library["title"].get_absolute_url() in page
