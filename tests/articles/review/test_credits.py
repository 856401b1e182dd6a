"""articles.review.credits: a reviewer's public credit changes only by that reviewer or an administrator, audited,
and an article shows the credit as it stood when it was approved."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from articles.review import credits, workflow
from articles.models import Article, ReviewerCreditChange, ReviewerProfile
from tests.articles.publish_helpers import make_published
from tests.factories import make_editor, make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db


def test_a_reviewer_changes_their_own_credit_and_the_change_is_kept(reviewer):
    credits.set_reviewer_credit(reviewer=reviewer, display_name="Rita Okafor", credentials="MD, PhD, psychiatrist",
                                by=reviewer)
    assert ReviewerProfile.objects.get(user=reviewer).credentials == "MD, PhD, psychiatrist"
    [change] = ReviewerCreditChange.objects.all()
    assert (change.reviewer, change.changed_by, change.changed_by_name) == (reviewer, reviewer, "Rita Okafor")
    assert (change.old_display_name, change.old_credentials) == ("Rita Okafor", "MD, psychiatrist")
    assert (change.new_display_name, change.new_credentials) == ("Rita Okafor", "MD, PhD, psychiatrist")


def test_an_editor_cannot_change_a_reviewers_credit(reviewer, editor):
    with pytest.raises(credits.CreditError, match="Only Rita Okafor or an administrator"):
        credits.set_reviewer_credit(reviewer=reviewer, display_name="Dr Rita", credentials="Nobel laureate",
                                    by=editor)
    assert ReviewerProfile.objects.get(user=reviewer).credentials == "MD, psychiatrist"
    assert not ReviewerCreditChange.objects.exists()


def test_another_reviewer_cannot_either_but_an_administrator_can(reviewer):
    with pytest.raises(credits.CreditError):
        credits.set_reviewer_credit(reviewer=reviewer, display_name="X", credentials="Y", by=make_reviewer("sam"))
    for admin in (make_user("ada", superuser=True), make_user("max")):
        if not admin.is_superuser:
            admin.user_permissions.add(Permission.objects.get(codename="change_any_reviewer_credit"))
            admin = type(admin).objects.get(pk=admin.pk)  # a fresh permission cache
        credits.set_reviewer_credit(reviewer=reviewer, display_name="Rita Okafor",
                                    credentials=f"MD, set by {admin.username}", by=admin)
    assert [c.changed_by.username for c in ReviewerCreditChange.objects.order_by("at", "id")] == ["ada", "max"]


def test_an_empty_name_or_credentials_is_refused_naming_what_is_missing(reviewer):
    with pytest.raises(credits.CreditError, match="The public name and credentials cannot be empty"):
        credits.set_reviewer_credit(reviewer=reviewer, display_name=" ", credentials="", by=reviewer)


def test_approving_freezes_the_credit_on_the_article_and_its_revision(editor, reviewer):
    live = make_published("Frozen credit", editor=editor, reviewer=reviewer)
    assert (live.approved_credit_name, live.approved_credit_credentials) == ("Rita Okafor", "MD, psychiatrist")
    credits.set_reviewer_credit(reviewer=reviewer, display_name="Rita Okafor", credentials="Life coach",
                                by=reviewer)
    # A later version, published after the change, is frozen with the credit it was approved under.
    Article.objects.filter(pk=live.pk).update(summary="A second version.")
    workflow.submit(live, by=editor)
    assert live.revisions.get(number=1).snapshot["reviewer"] == {"name": "Rita Okafor",
                                                                  "credentials": "MD, psychiatrist"}
    workflow.approve(live, by=reviewer)
    workflow.publish(live, by=editor)
    assert live.revisions.get(number=2).snapshot["reviewer"]["credentials"] == "Life coach"


def test_an_approved_article_published_after_a_credit_change_shows_the_credit_approved(client, editor, reviewer):
    article = make_supported_article("Approved under one credit", author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    ReviewerProfile.objects.filter(user=reviewer).update(credentials="Rewritten by someone")
    workflow.publish(article, by=editor)
    page = client.get(Article.objects.get(pk=article.pk).get_absolute_url()).content.decode()
    assert "Medically reviewed by Rita Okafor, MD, psychiatrist" in page
    assert "Rewritten by someone" not in page


def test_a_reviewer_without_a_credit_cannot_approve(editor):
    article = make_supported_article("Needs a credited reviewer", author=editor)
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.NotAllowed, match="add your reviewer profile"):
        workflow.approve(article, by=make_reviewer("nocred", credentials=None))


# -- the admin ---------------------------------------------------------------------------------------

def _profile_url(reviewer):
    return reverse("admin:articles_reviewerprofile_change", args=[reviewer.reviewer_profile.pk])


def _post_credit(client, reviewer, credentials):
    return client.post(_profile_url(reviewer), {"display_name": "Rita Okafor", "credentials": credentials})


def test_an_editor_sees_a_reviewers_credit_read_only_and_cannot_post_a_change(client, editor, reviewer):
    client.force_login(editor)
    page = client.get(_profile_url(reviewer))
    assert page.status_code == 200 and 'name="credentials"' not in page.content.decode()
    assert _post_credit(client, reviewer, "Nobel laureate").status_code == 403
    assert ReviewerProfile.objects.get(user=reviewer).credentials == "MD, psychiatrist"


def test_a_reviewer_edits_their_own_credit_in_the_admin_and_sees_its_history(client, reviewer):
    client.force_login(reviewer)
    assert 'name="credentials"' in client.get(_profile_url(reviewer)).content.decode()
    assert _post_credit(client, reviewer, "MD, consultant psychiatrist").status_code == 302
    assert ReviewerProfile.objects.get(user=reviewer).credentials == "MD, consultant psychiatrist"
    page = client.get(_profile_url(reviewer)).content.decode()
    assert "History of this credit" in page
    assert "Rita Okafor, MD, psychiatrist" in page and "Rita Okafor, MD, consultant psychiatrist" in page


def test_a_reviewer_cannot_edit_another_reviewers_credit_in_the_admin(client, reviewer):
    other = make_reviewer("sam", first_name="Sam")
    client.force_login(reviewer)
    assert _post_credit(client, other, "Quack").status_code == 403
    assert ReviewerProfile.objects.get(user=other).credentials == "MD, psychiatrist"


def test_a_reviewer_without_a_credit_adds_their_own_but_not_someone_elses(client):
    newcomer = make_reviewer("nina", credentials=None, first_name="Nina")
    client.force_login(newcomer)
    url = reverse("admin:articles_reviewerprofile_add")
    editor = make_editor("ed")
    form = client.get(url).content.decode()
    assert f'<option value="{newcomer.pk}">' in form and f'<option value="{editor.pk}">' not in form
    refused = client.post(url, {"user": editor.pk, "display_name": "Ed", "credentials": "MD"})
    assert refused.status_code == 200 and not ReviewerProfile.objects.filter(user=editor).exists()
    assert client.post(url, {"user": newcomer.pk, "display_name": "Nina Park",
                             "credentials": "PsyD"}).status_code == 302
    [change] = ReviewerCreditChange.objects.all()
    assert (change.old_display_name, change.new_display_name, change.changed_by) == ("", "Nina Park", newcomer)


def test_an_administrator_sees_every_credit_change(client, reviewer):
    admin = make_user("ada", superuser=True)
    credits.set_reviewer_credit(reviewer=reviewer, display_name="Rita O.", credentials="MD", by=admin)
    client.force_login(admin)
    page = client.get(reverse("admin:articles_reviewercreditchange_changelist")).content.decode()
    assert "Rita O., MD" in page and "Rita Okafor, MD, psychiatrist" in page
