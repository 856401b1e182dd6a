"""The Editors and Reviewers groups hold just what each role needs."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from articles.models import Article

pytestmark = pytest.mark.django_db


def user_in(group_name, username):
    user = User.objects.create_user(username, password="pw-" + username, is_staff=True)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


def test_editors_write_but_do_not_review_or_delete_articles():
    editor = user_in("Editors", "editor")
    assert editor.has_perms([
        "articles.add_article", "articles.change_article", "articles.add_claim", "articles.delete_claim",
        "articles.add_citation", "references.add_reference", "references.override_peer_review",
    ])
    assert not editor.has_perm("articles.review_article")
    assert not editor.has_perm("articles.delete_article")
    assert not editor.has_perm("references.delete_reference")
    assert not editor.has_perm("auth.change_user")


def test_reviewers_read_and_review_but_do_not_edit():
    reviewer = user_in("Reviewers", "reviewer")
    assert reviewer.has_perms(["articles.view_article", "articles.review_article", "references.view_reference"])
    for codename in ["add_article", "change_article", "publish_article", "change_claim", "add_citation"]:
        assert not reviewer.has_perm(f"articles.{codename}")
    assert not reviewer.has_perm("references.change_reference")
    assert not reviewer.has_perm("references.override_peer_review")


@pytest.mark.parametrize(
    "group, add_status, list_status",
    [("Editors", 200, 200), ("Reviewers", 403, 200), (None, 403, 403)],
)
def test_admin_pages_follow_the_group(client, group, add_status, list_status):
    client.force_login(user_in(group, "someone"))
    assert client.get(reverse("admin:articles_article_add")).status_code == add_status
    assert client.get(reverse("admin:articles_article_changelist")).status_code == list_status


def test_reviewer_cannot_change_an_article_through_the_admin(client):
    article = Article.objects.create(title="Original", slug="original")
    client.force_login(user_in("Reviewers", "reviewer"))
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        {"title": "Changed", "slug": "original", "review_interval_months": "12"},
    )
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title == "Original"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("admin:articles_article_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
