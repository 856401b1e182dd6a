"""The public lists: cards rendered once with the stored page, joined into frames rendered once per process."""

import pytest
from django.core.cache import cache
from django.db import connection

from django.utils.safestring import mark_safe

from articles.models import Article, ArticleListing
from articles.publishing import listing
from articles.publishing.listing import render_card
from articles.publishing.pages import store_all_public_pages
from articles.review import workflow
from tests.articles.publish_helpers import make_many_published, make_published, make_topic, publish

pytestmark = pytest.mark.django_db

LIST_PAGES = ["/", "/topics/depression/", "/search/?q=ketamine"]


@pytest.fixture
def topic():
    return make_topic("Depression")


@pytest.fixture
def live(editor, reviewer, topic):
    return make_published("Ketamine & the <brain>", editor=editor, reviewer=reviewer, topics=[topic],
                          summary="Rapid effects \"within hours\" & more.")


def _card(article):
    return ArticleListing.objects.get(article=article).card


def test_the_stored_card_is_the_card_the_template_renders(live):
    card = _card(live)
    assert card == render_card(Article.objects.for_listing().get(pk=live.pk))
    assert "Ketamine &amp; the &lt;brain&gt;" in card and f'href="{live.get_absolute_url()}"' in card


@pytest.mark.parametrize("url", [*LIST_PAGES, "/search/?q=%3Cscript%3Ealert(1)%3C/script%3E", "/search/"])
def test_a_framed_list_is_the_page_its_template_renders(client, live, editor, reviewer, topic, url):
    make_published("Ketamine second", editor=editor, reviewer=reviewer, topics=[topic])
    framed = client.get(url)
    # A session cookie (even one naming no session) takes the path that renders the templates in full.
    client.cookies["sessionid"] = "none"
    rendered = client.get(url)
    assert framed.status_code == rendered.status_code == 200
    assert framed.content == rendered.content
    if "ketamine" in url:
        assert framed.content.decode().count('class="article-list-title"') == 2


def test_a_query_is_escaped_in_every_place_the_search_page_shows_it(client, live):
    page = client.get("/search/", {"q": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>" not in page
    # The page's title, the two search boxes and the results heading.
    assert page.count("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") == 4


def test_a_frame_escapes_what_is_not_safe_and_keeps_what_is():
    frame = listing.Frame("articles/search.html", {"has_query": True, "has_results": True, "plural": True},
                          ["query", "count", "cards", "pagination"])
    page = frame.fill(query="<b>&", count="2", cards=mark_safe("<p>joined</p>"), pagination="")
    assert "&lt;b&gt;&amp;" in page and "<b>&" not in page
    assert "<p>joined</p>" in page
    assert "\x00" not in page


def test_frames_follow_the_site_settings(client, live, settings):
    assert "<title>Depression · Psychly</title>" in client.get("/topics/depression/").content.decode()
    settings.SITE_URL = "https://psychly.example"
    cache.clear()
    assert '<link rel="canonical" href="https://psychly.example/topics/depression/">' in (
        client.get("/topics/depression/").content.decode())


def test_a_live_article_without_a_listing_gets_one_when_the_pages_are_stored(client, live):
    ArticleListing.objects.all().delete()
    assert live.get_absolute_url() not in client.get("/").content.decode()
    assert store_all_public_pages(stale_only=True) == 1
    assert store_all_public_pages(stale_only=True) == 0
    cache.clear()
    assert live.get_absolute_url() in client.get("/").content.decode()


def test_home_and_search_show_the_cards_one_heading_level_down(client, live):
    for url in ("/", "/search/?q=ketamine"):
        assert '<h3 class="article-list-title">' in client.get(url).content.decode()
    assert '<h2 class="article-list-title">' in client.get("/topics/depression/").content.decode()


def test_republishing_stores_the_new_card(client, live, editor, reviewer):
    live.title = "Ketamine revised"
    live.save()
    assert "Ketamine revised" not in client.get("/").content.decode(), "unreviewed words never show"
    publish(Article.objects.get(pk=live.pk), editor=editor, reviewer=reviewer)
    assert "Ketamine revised" in _card(live)
    assert _card(live) == render_card(Article.objects.for_listing().get(pk=live.pk))
    assert "Ketamine revised" in client.get("/").content.decode()


def test_unpublishing_forgets_the_card_and_takes_it_off_every_list(client, live, editor):
    workflow.unpublish(live, by=editor, reason="Checking.")
    assert not ArticleListing.objects.filter(article=live).exists()
    for url in LIST_PAGES:
        assert live.get_absolute_url() not in client.get(url).content.decode(), url


def test_renaming_the_topic_leaves_the_cards_as_the_template_renders_them(client, live, topic):
    topic.name = "Low mood"
    topic.save()
    cache.clear()
    page = client.get("/topics/depression/").content.decode()
    assert "<h1>Low mood</h1>" in page
    assert _card(live) == render_card(Article.objects.for_listing().get(pk=live.pk))
    assert _card(live) in page


def test_listings_stored_under_other_settings_are_stored_again(client, live, settings):
    assert store_all_public_pages(stale_only=True) == 0
    settings.SITE_URL = "https://psychly.example"
    # What migrate runs after every upgrade (articles.apps), and so after a change of settings.
    assert store_all_public_pages(stale_only=True) == 1
    cache.clear()
    assert f"https://psychly.example{live.get_absolute_url()}" in client.get("/feed/").content.decode()


def test_a_batch_answers_each_query_whole_and_in_its_own_order_in_one_statement(django_assert_num_queries):
    from articles.models import Topic

    for name in ("Sleep", "Anxiety", "Depression", "Grief", "Mood"):
        make_topic(name)
    by_name = listing.CompiledQuery(lambda: Topic.objects.order_by("-name").values_list("name"), paged=True)
    by_slug = listing.CompiledQuery(lambda: Topic.objects.order_by("slug").values_list("slug", "name", "pk"))
    none = listing.CompiledQuery(lambda: Topic.objects.filter(slug=listing.marker("slug")).values_list("name"))
    batch = listing.CompiledBatch(by_name, none, by_slug)
    with django_assert_num_queries(1):
        answered = batch.rows(limit=3, offset=1, slug="no-such-topic")
    assert answered == [
        by_name.rows(limit=3, offset=1), [], by_slug.rows(),
    ]
    assert [name for (name,) in answered[0]] == sorted((n for n in Topic.objects.values_list("name", flat=True)),
                                                       reverse=True)[1:4]


def test_a_paged_query_writes_its_page_size_into_the_sql_and_an_offset_only_past_the_first_page():
    from articles.models import Topic

    for name in ("Sleep", "Anxiety", "Depression"):
        make_topic(name)
    by_name = listing.CompiledQuery(lambda: Topic.objects.order_by("name").values_list("name"), paged=True)
    assert by_name.rows(limit=2, offset=0) == [("Anxiety",), ("Depression",)]
    assert by_name.rows(limit=2, offset=2) == [("Sleep",)]
    first, _ = by_name._sql("any", {"limit": 2, "offset": 0})
    later, params = by_name._sql("any", {"limit": 2, "offset": 2})
    assert first.endswith(" LIMIT 2") and later.endswith(" LIMIT 2 OFFSET %s") and params[-1] == listing.marker("offset")
    for limit in ("2; DROP TABLE articles_topic", 2.5, True, -1):
        with pytest.raises(TypeError, match="limit must be a non-negative int"):
            by_name.rows(limit=limit, offset=0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements' plans are PostgreSQL's")
def test_a_list_statement_keeps_one_plan_on_postgresql(editor, reviewer, topic):
    # A prepared statement whose LIMIT was a parameter was planned anew on every run when its generic plan
    # looked dearer than a plan for the page at hand; with the page size in the SQL one plan serves them all.
    from articles.publishing.feeds import _LATEST, FEED_SIZE

    make_many_published(200, editor=editor, reviewer=reviewer, topic=topic)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the statistics autovacuum would gather, which the planner costs plans by
    for _ in range(20):
        assert len(_LATEST.rows(limit=FEED_SIZE, offset=0)) == FEED_SIZE
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['SELECT "articles_articlelisting"."feed_entry" AS "feed_entry", %'])
        (generic, custom), = cursor.fetchall()
    # The server plans a prepared statement's first five runs for their values, then keeps the generic plan.
    assert custom <= 5 < generic
