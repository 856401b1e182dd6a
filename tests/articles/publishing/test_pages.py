"""The stored public page: rendered when what it shows changes, served to anonymous readers without rendering."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from articles.dates import add_months
from articles.review import workflow
from articles.models import ArticlePage
from articles.publishing.pages import complete, page_html, store_all_public_pages, store_public_page
from references.models import Reference, RetractionStatus
from tests.articles.publish_helpers import make_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(editor, reviewer):
    return make_published("Ketamine stored", editor=editor, reviewer=reviewer)


def _rendered_now(client, article):
    """The page as the view renders it when no page is stored (and none is cached)."""
    ArticlePage.objects.filter(article=article).delete()
    cache.clear()
    return client.get(article.get_absolute_url())


def test_publishing_stores_the_page_readers_get_without_rendering_a_template(client, live):
    response = client.get(live.get_absolute_url())
    assert response.status_code == 200
    assert response.templates == []
    assert response.content == complete(page_html(ArticlePage.objects.get(article=live).html))


def test_the_stored_page_is_the_page_the_view_would_render(client, live):
    stored = client.get(live.get_absolute_url())
    rendered = _rendered_now(client, live)
    assert [t.name for t in rendered.templates][:1] == ["articles/article_detail.html"]
    assert stored.content == rendered.content
    assert stored["Content-Type"] == rendered["Content-Type"]


def test_a_live_article_without_a_stored_page_is_rendered_per_request(client, live):
    response = _rendered_now(client, live)
    assert response.status_code == 200
    assert "Ketamine stored" in response.content.decode()


def test_unpublishing_forgets_the_stored_page(client, live, editor):
    workflow.unpublish(live, by=editor, reason="Checking.")
    assert not ArticlePage.objects.filter(article=live).exists()
    assert client.get(live.get_absolute_url()).status_code == 404


def test_a_stored_page_never_outlives_publication(client, live):
    # Even a page left behind (stored, then the article withdrawn by hand) is not served.
    from articles.models import Article, Status

    Article.objects.filter(pk=live.pk).update(status=Status.ARCHIVED)
    assert ArticlePage.objects.filter(article=live).exists()
    assert client.get(live.get_absolute_url()).status_code == 404


def test_re_approving_the_live_words_stores_the_new_review_dates(client, live, editor, reviewer):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    later = timezone.now() + timedelta(days=400)

    with mock.patch("articles.review.workflow.timezone.now", return_value=later):
        workflow.request_changes(live, by=reviewer, comment="Please re-check the dosing.")
    live.refresh_from_db()
    assert live.status == "published", "a re-review keeps the live version up"
    with mock.patch("articles.review.workflow.timezone.now", return_value=later):
        workflow.approve(live, by=reviewer)
    due = add_months(later, live.review_interval_months)
    assert f"{timezone.localtime(due):%B %Y}" in client.get(live.get_absolute_url()).content.decode()


def test_a_reviewer_renaming_their_credit_changes_no_live_page(client, live, reviewer):
    """The page shows the credit as it stood at approval, stored or rendered afresh."""
    profile = reviewer.reviewer_profile
    profile.display_name = "Dr Rita Okafor-Banks"
    profile.save()
    for page in (client.get(live.get_absolute_url()), _rendered_now(client, live)):
        html = page.content.decode()
        assert "Dr Rita Okafor-Banks" not in html
        assert "Medically reviewed by Rita Okafor, MD, psychiatrist" in html


def test_saving_a_live_article_outside_the_workflow_updates_the_stored_page(client, live):
    live.slug = "ketamine-stored-renamed"
    live.save()
    page = client.get("/articles/ketamine-stored-renamed/").content.decode()
    assert 'rel="canonical" href="' in page and "/articles/ketamine-stored-renamed/" in page


def test_a_notice_on_a_cited_source_shows_on_the_stored_page_at_once(client, live):
    reference_id = live.published_revision.snapshot["references"][0]["id"]
    assert "since this article was published" not in client.get(live.get_absolute_url()).content.decode()
    # No signal, no re-render: the stored page gets the notice per request (the page cache, which
    # the signal would invalidate, is emptied here by hand).
    Reference.objects.filter(pk=reference_id).update(retraction_status=RetractionStatus.RETRACTED)
    cache.clear()
    assert "Retracted since this article was published." in client.get(live.get_absolute_url()).content.decode()


def test_signed_in_staff_get_the_page_rendered_with_their_links(client, live, editor):
    client.force_login(editor)
    response = client.get(live.get_absolute_url())
    assert "Preview the working copy" in response.content.decode()
    assert response.templates


def test_a_page_stored_under_other_site_settings_is_rendered_afresh(client, live, settings):
    settings.SITE_URL = "https://elsewhere.example"
    page = client.get(live.get_absolute_url()).content.decode()
    assert f'href="https://elsewhere.example{live.get_absolute_url()}"' in page


def test_store_all_public_pages_stores_every_live_page_and_the_command_runs_it(client, live, editor, reviewer):
    from django.core.management import call_command

    other = make_published("Ketamine second", editor=editor, reviewer=reviewer)
    ArticlePage.objects.all().delete()
    assert store_all_public_pages() == 2
    assert set(ArticlePage.objects.values_list("article", flat=True)) == {live.pk, other.pk}
    ArticlePage.objects.all().delete()
    call_command("store_article_pages", verbosity=0)
    assert ArticlePage.objects.count() == 2


def test_store_public_page_of_an_article_that_is_not_live_stores_nothing(article):
    assert store_public_page(article.pk) is None
    assert not ArticlePage.objects.filter(article=article).exists()


def test_the_cached_page_carries_every_header_of_the_first_response(live):
    client = Client()
    first = client.get(live.get_absolute_url())
    second = client.get(live.get_absolute_url())
    for header in ["Content-Type", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                   "Referrer-Policy", "Cross-Origin-Opener-Policy"]:
        assert second.get(header) == first.get(header), header
        assert second.get(header), header


def test_a_cached_page_costs_one_cache_read(client, live, monkeypatch):
    url = live.get_absolute_url()
    client.get(url)
    calls = []
    busy = []

    def spy(name, original):
        def call(*args, **kwargs):
            if not busy:  # a backend's get_many may be built on its own get: count what the site asks for
                calls.append(name)
            busy.append(name)
            try:
                return original(*args, **kwargs)
            finally:
                busy.pop()
        return call

    for name in ("get", "get_many", "set", "set_many"):
        monkeypatch.setattr(cache, name, spy(name, getattr(cache, name)))
    assert client.get(url).status_code == 200
    # The suite's cache is per process: the page is one read of it, its tokens one query of the database
    # (tests/articles/publishing/test_cache.py pins the query; with Redis, page and tokens are one get_many).
    assert calls == ["get"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored tsvector is PostgreSQL full-text search")
def test_publishing_stores_the_revision_search_vector(live):
    live.published_revision.refresh_from_db()
    from articles.models import ArticleRevision

    assert ArticleRevision.objects.filter(pk=live.published_revision_id, search_vector="ketamine").exists()
