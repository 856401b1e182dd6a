"""Public views: only published revisions are public; staff preview the working copy; lists show what is live."""

import pytest
from django.contrib.auth.models import User

from articles.review import workflow
from articles.models import Article, Status
from tests.articles.publish_helpers import make_published, make_topic, publish
from tests.factories import make_article, make_supported_article, make_user

pytestmark = pytest.mark.django_db

MISSING = "/articles/no-such-article/"


def _arrange(status, editor, reviewer):
    """An article in ``status``, reached through the workflow where the status needs a history."""
    article = make_supported_article(f"Hidden {status}", author=editor)
    if status == Status.DRAFT:
        return article
    workflow.submit(article, by=editor)
    if status == Status.IN_REVIEW:
        return article
    if status == Status.CHANGES_REQUESTED:
        workflow.request_changes(article, by=reviewer, comment="Cite the trial.")
        return article
    workflow.approve(article, by=reviewer)
    if status == Status.APPROVED:
        return article
    workflow.publish(article, by=editor)
    if status == Status.UNPUBLISHED:
        workflow.unpublish(article, by=editor, reason="Withdrawn for checks.")
    elif status == Status.ARCHIVED:
        workflow.archive(article, by=editor)
    return article


@pytest.mark.parametrize("status", [
    Status.DRAFT, Status.IN_REVIEW, Status.CHANGES_REQUESTED, Status.APPROVED, Status.UNPUBLISHED, Status.ARCHIVED,
])
def test_every_non_public_state_is_the_same_404_as_a_missing_slug(client, editor, reviewer, status):
    article = _arrange(status, editor, reviewer)
    assert Article.objects.get(pk=article.pk).status == status
    hidden = client.get(article.get_absolute_url())
    missing = client.get(MISSING)
    assert hidden.status_code == missing.status_code == 404
    # Byte for byte: nothing on the page says the article exists.
    assert hidden.content == missing.content
    assert article.title.encode() not in hidden.content
    assert b"Page not found" in hidden.content
    # Nor do the lists, the feed or the sitemap.
    for url in ["/", "/feed/", "/sitemap.xml", "/search/?q=Hidden"]:
        assert article.slug.encode() not in client.get(url).content, url


def test_a_published_article_with_a_forced_status_but_no_revision_is_not_public(client):
    article = make_article("Forced", status="published")
    assert client.get(article.get_absolute_url()).status_code == 404


def test_readers_see_the_published_revision_not_later_edits(client, editor, reviewer):
    article = make_published("Live words", editor=editor, reviewer=reviewer)
    Article.objects.filter(pk=article.pk).update(title="An unreviewed title", summary="An unreviewed summary")
    for url in [article.get_absolute_url(), "/", "/feed/"]:
        text = client.get(url).content.decode()
        assert "Live words" in text, url
        assert "unreviewed" not in text, url


@pytest.mark.parametrize("who", ["anonymous", "no permissions", "staff without article permissions"])
def test_the_preview_is_a_404_for_people_who_may_not_work_on_articles(client, editor, who):
    article = make_supported_article("Secret draft", author=editor)
    if who == "no permissions":
        client.force_login(User.objects.create_user("reader"))
    elif who == "staff without article permissions":
        client.force_login(make_user("clerk"))
    response = client.get(f"{article.get_absolute_url()}preview/")
    assert response.status_code == 404
    assert response.content == client.get(MISSING).content


@pytest.mark.parametrize("role", ["editor", "reviewer"])
def test_staff_preview_the_working_copy_under_a_banner(client, editor, reviewer, role):
    article = make_supported_article("Working copy", author=editor)
    client.force_login(editor if role == "editor" else reviewer)
    response = client.get(f"{article.get_absolute_url()}preview/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Preview of the working copy (draft)." in text
    assert "Readers cannot see this article: it has not been published." in text
    assert "Ketamine blocks NMDA receptors." in text
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "application/ld+json" not in text
    # It says what still stands between it and publication.
    assert "Not publishable yet" in text and "approv" in text.lower()


def test_the_preview_of_a_published_article_shows_edits_and_points_to_the_live_page(client, editor, reviewer):
    article = make_published("Preview live", editor=editor, reviewer=reviewer)
    article.sections.first().claims.filter(is_context=False).update(text="Edited words awaiting review.")
    client.force_login(editor)
    text = client.get(f"{article.get_absolute_url()}preview/").content.decode()
    assert "Edited words awaiting review." in text
    assert f'Readers see <a href="{article.get_absolute_url()}">the published version</a>' in text
    assert "Edited words awaiting review." not in client.get(article.get_absolute_url()).content.decode()


def test_staff_on_the_public_page_get_a_link_to_the_preview(client, editor, reviewer):
    article = make_published("Staff view", editor=editor, reviewer=reviewer)
    assert "Preview the working copy" not in client.get(article.get_absolute_url()).content.decode()
    client.force_login(editor)
    assert "Preview the working copy" in client.get(article.get_absolute_url()).content.decode()


def test_home_lists_the_latest_published_articles_and_their_topics(client, editor, reviewer):
    sleep_topic = make_topic("Sleep")
    make_topic("Unused")
    older = make_published("Older article", editor=editor, reviewer=reviewer, topics=[sleep_topic])
    newer = make_published("Newer article", editor=editor, reviewer=reviewer)
    make_supported_article("Draft article", author=editor)
    text = client.get("/").content.decode()
    assert text.index(newer.get_absolute_url()) < text.index(older.get_absolute_url())
    assert "Draft article" not in text
    assert '<a href="/topics/sleep/">Sleep</a>' in text
    assert "/topics/unused/" not in text


def test_a_topic_page_lists_its_published_articles_and_pages_them(client, editor, reviewer):
    topic = make_topic("Anxiety")
    articles = [make_published(f"Anxiety {i}", editor=editor, reviewer=reviewer, topics=[topic]) for i in range(21)]
    other = make_published("Elsewhere", editor=editor, reviewer=reviewer)
    page_one = client.get("/topics/anxiety/").content.decode()
    assert "<h1>Anxiety</h1>" in page_one
    assert articles[-1].get_absolute_url() in page_one and articles[0].get_absolute_url() not in page_one
    assert other.get_absolute_url() not in page_one
    assert "Page 1 of 2" in page_one
    page_two = client.get("/topics/anxiety/?page=2").content.decode()
    assert articles[0].get_absolute_url() in page_two and "Page 2 of 2" in page_two
    assert '<a href="?page=1" rel="prev">Newer articles</a>' in page_two and 'rel="next"' not in page_two
    assert '<a href="?page=2" rel="next">Older articles</a>' in page_one
    # Past the last page: the last page, as Django's Paginator.get_page answers.
    assert client.get("/topics/anxiety/?page=9").content.decode() == page_two
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_a_topic_with_nothing_published_says_so(client):
    make_topic("Empty")
    assert "No articles on this topic have been published yet." in client.get("/topics/empty/").content.decode()


def test_404_and_500_pages_are_in_the_site_style(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b'<link rel="stylesheet" href="/static/css/site.css">' in response.content
    from django.template.loader import get_template

    html = get_template("500.html").render()
    assert "Something went wrong" in html and "site.css" in html and "<main" in html


def test_a_server_error_renders_the_500_page(client, settings, monkeypatch):
    from articles.publishing import listing

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(listing, "_run", broken)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_unpublishing_hides_a_page_that_was_public(client, editor, reviewer):
    article = make_published("Soon gone", editor=editor, reviewer=reviewer)
    assert client.get(article.get_absolute_url()).status_code == 200
    workflow.unpublish(article, by=editor, reason="Checking a source.")
    assert client.get(article.get_absolute_url()).status_code == 404
    assert article.get_absolute_url().encode() not in client.get("/").content
    # Back through review, it returns.
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    assert client.get(article.get_absolute_url()).status_code == 200


def test_republishing_keeps_the_first_publication_date(client, editor, reviewer):
    article = make_published("Dated", editor=editor, reviewer=reviewer)
    first = article.published_at
    article.sections.first().claims.filter(is_context=False).update(text="Ketamine blocks NMDA receptors, and more.")
    article = publish(article, editor=editor, reviewer=reviewer)
    text = client.get(article.get_absolute_url()).content.decode()
    assert f'<meta property="article:published_time" content="{first.isoformat()}">' in text
    assert f'<meta property="article:modified_time" content="{article.published_revision.published_at.isoformat()}">' in text
