"""The Atom feed, sitemap.xml and robots.txt."""

import xml.etree.ElementTree as ET

import pytest
from django.test import override_settings

from tests.articles.publish_helpers import make_published, make_topic
from tests.factories import make_supported_article

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@override_settings(SITE_URL="https://psychly.example")
def test_the_feed_lists_published_articles_newest_first_with_canonical_links(client, editor, reviewer):
    older = make_published("Older feed item", editor=editor, reviewer=reviewer, summary="Older summary.")
    newer = make_published("Newer feed item", editor=editor, reviewer=reviewer)
    make_supported_article("Draft feed item", author=editor)
    response = client.get("/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.find(f"{ATOM}title").text == "Psychly: latest articles"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Newer feed item", "Older feed item"]
    assert entries[1].find(f"{ATOM}link").get("href") == f"https://psychly.example{older.get_absolute_url()}"
    assert entries[1].find(f"{ATOM}summary").text == "Older summary."
    assert entries[0].find(f"{ATOM}id").text == f"https://psychly.example{newer.get_absolute_url()}"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://psychly.example/feed/"


@override_settings(SITE_URL="https://psychly.example")
def test_the_sitemap_lists_home_topics_in_use_and_published_articles(client, editor, reviewer):
    used, unused = make_topic("Sleep"), make_topic("Unused")
    live = make_published("Mapped", editor=editor, reviewer=reviewer, topics=[used])
    draft = make_supported_article("Unmapped draft", author=editor)
    draft.topics.set([unused])
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    locations = [u.find(f"{SITEMAP}loc").text for u in root.findall(f"{SITEMAP}url")]
    assert locations == [
        "https://psychly.example/",
        "https://psychly.example/topics/sleep/",
        f"https://psychly.example{live.get_absolute_url()}",
    ]
    article_entry = root.findall(f"{SITEMAP}url")[-1]
    assert article_entry.find(f"{SITEMAP}lastmod").text == f"{live.published_revision.published_at:%Y-%m-%d}"


@override_settings(SITE_URL="https://psychly.example")
def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_the_desk(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines and "Disallow: /review/" in lines
    assert "Disallow: /articles/*/preview/" in lines
    assert "Sitemap: https://psychly.example/sitemap.xml" in lines


def test_pages_advertise_the_feed(client):
    assert b'<link rel="alternate" type="application/atom+xml" title="Psychly: latest articles" href="/feed/">' in (
        client.get("/").content
    )


def _django_request(path):
    from django.test import RequestFactory

    return RequestFactory().get(path)


@override_settings(SITE_URL="https://psychly.example")
def test_the_feed_is_the_document_djangos_syndication_framework_writes(client, editor, reviewer):
    from articles.publishing.syndication import LatestArticlesFeed

    make_published("First & <feed>", editor=editor, reviewer=reviewer, summary='Says "this" & <that>.')
    make_published("Second feed item", editor=editor, reviewer=reviewer)
    served = client.get("/feed/")
    expected = LatestArticlesFeed()(_django_request("/feed/"))
    assert served.content == expected.content
    assert served["Last-Modified"] == expected["Last-Modified"]
    assert b"First &amp; &lt;feed&gt;" in served.content


def test_an_empty_feed_is_dated_now_as_django_dates_it(client):
    from articles.publishing.syndication import LatestArticlesFeed

    served = ET.fromstring(client.get("/feed/").content)
    expected = ET.fromstring(LatestArticlesFeed()(_django_request("/feed/")).content)
    assert served.findall(f"{ATOM}entry") == []
    assert served.find(f"{ATOM}updated").text[:16] == expected.find(f"{ATOM}updated").text[:16]


@override_settings(SITE_URL="https://psychly.example", TIME_ZONE="Pacific/Kiritimati")
def test_the_sitemap_is_the_document_djangos_sitemap_view_writes(client, editor, reviewer):
    from django.contrib.sitemaps.views import sitemap

    from articles.publishing.syndication import SITEMAPS

    sleep, mood = make_topic("Sleep"), make_topic("Mood")
    make_published("Mapped one", editor=editor, reviewer=reviewer, topics=[sleep, mood])
    make_published("Mapped two", editor=editor, reviewer=reviewer, topics=[sleep])
    served = client.get("/sitemap.xml")
    expected = sitemap(_django_request("/sitemap.xml"), sitemaps=SITEMAPS)
    expected.render()
    assert served.content == expected.content
    assert served["X-Robots-Tag"] == expected["X-Robots-Tag"]
    assert served["Content-Type"] == expected["Content-Type"]


def test_a_sitemap_page_past_the_last_is_not_found(client, editor, reviewer):
    make_published("Mapped", editor=editor, reviewer=reviewer)
    assert client.get("/sitemap.xml", {"p": "2"}).status_code == 404
    assert client.get("/sitemap.xml", {"p": "1"}).content == client.get("/sitemap.xml").content
