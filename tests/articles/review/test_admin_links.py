"""The article admin's links and messages: preview, view on site, the review page, refused bulk publishing."""

import pytest
from django.urls import reverse

from articles.models import Article, Claim, Status
from articles.review import workflow
from tests.factories import make_supported_article, make_user

pytestmark = pytest.mark.django_db


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def published(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    return Article.objects.get(pk=article.pk)


def test_a_drafts_change_page_links_to_its_preview_and_view_on_site_opens_it(client, editor, article):
    client.force_login(editor)
    html = client.get(change_url(article)).content.decode()
    preview = reverse("articles:preview", args=[article.slug])
    assert f'<a href="{preview}" class="preview-link">Preview the working copy</a>' in html
    assert f'<a href="{preview}" class="viewsitelink">' in html
    assert client.get(preview).status_code == 200


def test_view_on_site_for_a_live_article_is_its_public_page(client, editor, reviewer, article):
    article = published(article, editor, reviewer)
    client.force_login(editor)
    html = client.get(change_url(article)).content.decode()
    assert f'<a href="{article.get_absolute_url()}" class="viewsitelink">' in html


def test_the_changelist_links_each_article_to_the_page_that_exists(client, editor, reviewer, article):
    draft = make_supported_article("A draft still", author=editor)
    live = published(article, editor, reviewer)
    client.force_login(editor)
    html = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert f'<a href="{reverse("articles:preview", args=[draft.slug])}">Preview</a>' in html
    assert f'<a href="{live.get_absolute_url()}">On the site</a>' in html


def test_an_author_is_told_they_cannot_review_their_own_article(client, article):
    author_reviewer = make_user("both", "Editors", "Reviewers", credentials="MD")
    article.authors.add(author_reviewer)
    client.force_login(author_reviewer)
    html = client.get(change_url(article)).content.decode()
    assert "You are one of this article’s authors, so you cannot review it" in html.replace("&#x27;", "’")
    assert reverse("review:article", args=[article.pk]) not in html


def test_an_editor_who_is_not_a_reviewer_gets_no_dead_review_link(client, editor, article):
    client.force_login(editor)
    html = client.get(change_url(article)).content.decode()
    assert reverse("review:article", args=[article.pk]) not in html
    assert "Reviewers approve this article on its review page" in html


def test_a_reviewer_who_did_not_write_it_gets_the_review_link(client, article):
    other = make_user("other", "Editors", "Reviewers", credentials="MD")
    client.force_login(other)
    html = client.get(change_url(article)).content.decode()
    assert f'href="{reverse("review:article", args=[article.pk])}" class="review-link"' in html


def test_a_refused_page_says_why_instead_of_a_bare_403(client, editor, article):
    client.force_login(editor)
    response = client.get(reverse("review:article", args=[article.pk]))
    assert response.status_code == 403
    assert "Only reviewers can use the review queue." in response.content.decode()


def test_the_preview_never_says_published(client, editor, article):
    client.force_login(editor)
    html = client.get(reverse("articles:preview", args=[article.slug])).content.decode()
    assert "<dt>Published</dt>" not in html
    assert "Working copy, never published" in html


def test_the_preview_of_a_live_article_names_the_published_version(client, editor, reviewer, article):
    article = published(article, editor, reviewer)
    client.force_login(editor)
    html = client.get(reverse("articles:preview", args=[article.slug])).content.decode()
    assert "<dt>Published</dt>" not in html and "Working copy, not published: readers see the version" in html


def test_a_refused_bulk_publish_lists_the_blockers_for_a_draft(client, editor, article):
    Claim.objects.filter(section__article=article, is_context=False).first().citations.all().delete()
    client.force_login(editor)
    html = client.post(reverse("admin:articles_article_changelist"),
                       {"action": "publish_selected", "_selected_action": [article.pk]}, follow=True).content.decode()
    assert "Publish refused for Ketamine for depression." in html
    assert "What stops publication: (1)" in html and "cites no source." in html
    assert "No reviewer has approved this content." in html
    assert Article.objects.get(pk=article.pk).status == Status.DRAFT


def test_a_refused_bulk_publish_lists_at_most_five_blockers(client, editor):
    from tests.factories import make_reference

    article = make_supported_article("Many gaps", author=editor, sections={
        "S": [{"text": "Supported.", "refs": [make_reference()]}, *[f"Uncited claim {n}." for n in range(9)]],
    })
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    client.force_login(editor)
    html = client.post(reverse("admin:articles_article_changelist"),
                       {"action": "publish_selected", "_selected_action": [article.pk]}, follow=True).content.decode()
    assert "(5)" in html and "(6)" not in html and "and 5 more (open the article to see them all)." in html
