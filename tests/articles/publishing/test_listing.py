"""Article cards: rendered once with the stored page, joined by the home, topic and search lists."""

import pytest
from django.core.cache import cache

from articles.models import Article, ArticlePage
from articles.publishing.listing import render_card
from articles.review import workflow
from tests.articles.publish_helpers import make_published, make_topic, publish

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
    return ArticlePage.objects.get(article=article).card


def test_the_stored_card_is_the_card_the_template_renders(live):
    card = _card(live)
    assert card == render_card(Article.objects.for_listing().get(pk=live.pk))
    assert "Ketamine &amp; the &lt;brain&gt;" in card and f'href="{live.get_absolute_url()}"' in card


@pytest.mark.parametrize("url", LIST_PAGES)
def test_a_list_of_stored_cards_is_the_list_rendered_from_the_template(client, live, editor, reviewer, topic, url):
    make_published("Ketamine second", editor=editor, reviewer=reviewer, topics=[topic])
    stored = client.get(url)
    ArticlePage.objects.update(card="")
    cache.clear()
    rendered = client.get(url)
    assert stored.status_code == rendered.status_code == 200
    assert stored.content == rendered.content
    assert stored.content.decode().count('class="article-list-title"') == 2


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
    assert not ArticlePage.objects.filter(article=live).exists()
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
