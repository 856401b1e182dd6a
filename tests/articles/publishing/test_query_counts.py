"""The number of queries a public page costs does not grow with its content.

Counts are for an anonymous reader without a session cookie and an empty page
cache (a cached page costs none with Redis, one without: tests/articles/publishing/test_cache.py).
With the suite's per-process local-memory cache, each page first reads its
generation tokens from the database (PAGE_TOKENS), written there by the publish.
"""

import pytest

from references.models import Reference, RetractionStatus
from tests.articles.publish_helpers import make_long_article, make_many_published, make_topic, publish

pytestmark = pytest.mark.django_db

# The page cache's generation tokens of the page's scopes, read together from the database.
PAGE_TOKENS = 1
# Article page: 1. the article (with the credit frozen at approval), its live revision's frozen HTML and whether any
#               cited source now carries a notice; only if one does, 2. those sources' notices.
ARTICLE_QUERIES = PAGE_TOKENS + 1
ARTICLE_QUERIES_WITH_A_NOTICE = PAGE_TOKENS + 2
# Home: 1. the latest articles' stored cards and the topics that have a published article, in one statement.
HOME_QUERIES = PAGE_TOKENS + 1
# Topic: 1. the page's stored cards, each row with the topic's total and the topic (a topic with none: 2. the topic).
TOPIC_QUERIES = PAGE_TOKENS + 1
# Search: 1. the matching articles' stored cards.
SEARCH_QUERIES = PAGE_TOKENS + 1
# Feed: 1. the latest articles' stored entries.
FEED_QUERIES = PAGE_TOKENS + 1
# Sitemap: 1. the topics that have a published article and every published article, in one statement (the home
#          entry needs none).
SITEMAP_QUERIES = PAGE_TOKENS + 1
# No public page costs more than this, whatever it shows.
MAX_PUBLIC_PAGE_QUERIES = 4



@pytest.mark.parametrize("sections, claims", [(1, 1), (50, 10)])
def test_the_article_page_costs_the_same_queries_at_any_length(
    client, editor, reviewer, sections, claims, django_assert_num_queries
):
    article = publish(make_long_article(f"Long {sections}", editor=editor, sections=sections,
                                        claims_per_section=claims), editor=editor, reviewer=reviewer)
    with django_assert_num_queries(ARTICLE_QUERIES):
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('<sup class="cite">') == sections * claims


@pytest.mark.parametrize("sections, claims", [(1, 1), (50, 10)])
def test_a_source_with_a_notice_costs_one_more_query_at_any_length(
    client, editor, reviewer, sections, claims, django_assert_num_queries
):
    article = publish(make_long_article(f"Noticed {sections}", editor=editor, sections=sections,
                                        claims_per_section=claims), editor=editor, reviewer=reviewer)
    Reference.objects.filter(pk__in=article.published_revision.references.all()).update(
        retraction_status=RetractionStatus.CORRECTED
    )
    with django_assert_num_queries(ARTICLE_QUERIES_WITH_A_NOTICE):
        response = client.get(article.get_absolute_url())
    notices = response.content.decode().count("<strong>Corrected since this article was published.</strong>")
    assert notices == article.published_revision.references.count() > 0


@pytest.mark.parametrize("count", [3, 100])
@pytest.mark.parametrize("url, queries, marker", [
    ("/", HOME_QUERIES, "ketamine-"),
    ("/topics/depression/", TOPIC_QUERIES, "ketamine-"),
    ("/search/?q=ketamine", SEARCH_QUERIES, "ketamine-"),
    ("/feed/", FEED_QUERIES, "ketamine-"),
    ("/sitemap.xml", SITEMAP_QUERIES, "ketamine-"),
])
def test_list_pages_cost_the_same_queries_for_3_and_100_articles(
    client, editor, reviewer, count, url, queries, marker, django_assert_num_queries
):
    make_many_published(count, editor=editor, reviewer=reviewer, topic=make_topic("Depression"))
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    shown = response.content.decode().count(marker)
    assert shown >= min(count, 20), (url, shown)


def test_the_preview_costs_a_bounded_number_of_queries(client, editor, reviewer, django_assert_max_num_queries):
    small = make_long_article("Preview small", editor=editor, sections=1, claims_per_section=1)
    large = make_long_article("Preview large", editor=editor, sections=50, claims_per_section=10)
    client.force_login(editor)
    client.get(f"{small.get_absolute_url()}preview/")  # warm the session and permission caches
    counts = []
    for article in (small, large):
        with django_assert_max_num_queries(30) as captured:
            assert client.get(f"{article.get_absolute_url()}preview/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("url", ["/", "/topics/depression/", "/search/?q=ketamine", "/feed/", "/sitemap.xml"])
def test_every_public_list_page_costs_at_most_four_queries_with_a_search_matching_50(
    client, editor, reviewer, url, django_assert_max_num_queries
):
    make_many_published(50, editor=editor, reviewer=reviewer, topic=make_topic("Depression"))
    with django_assert_max_num_queries(MAX_PUBLIC_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    # One link per article; the feed's entries carry two (link and id). A list shows one page of 20;
    # the sitemap names all 50.
    marker = "<entry>" if url == "/feed/" else "/articles/ketamine-"
    shown = response.content.decode().count(marker)
    assert shown == (50 if url == "/sitemap.xml" else 20), (url, shown)
