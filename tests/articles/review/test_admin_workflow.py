"""The article admin's workflow panels, buttons and actions; and every way around them failing."""

import pytest
from django.urls import reverse

from articles.review import gate, workflow
from articles.models import Article, Status
from references.models import PeerReviewStatus
from references.services import override_peer_review
from tests.factories import make_reference, make_reviewer, make_user

pytestmark = pytest.mark.django_db


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def workflow_url(article, verb):
    return reverse("admin:articles_article_workflow", args=[article.pk, verb])


def approved(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    return Article.objects.get(pk=article.pk)


def form_data(article, **overrides):
    """What the change form posts, unchanged, plus ``overrides``."""
    data = {
        "title": article.title, "slug": article.slug, "summary": article.summary, "byline": article.byline,
        "disclosure": article.disclosure, "review_interval_months": article.review_interval_months,
        "authors": [u.pk for u in article.authors.all()],
        "sections-TOTAL_FORMS": 0, "sections-INITIAL_FORMS": 0, "sections-MIN_NUM_FORMS": 0,
        "sections-MAX_NUM_FORMS": 1000, "_continue": "Save",
    }
    data.update(overrides)
    return data


def test_editors_see_the_blockers_on_the_change_form(client, editor):
    from tests.factories import make_supported_article

    article = make_supported_article(author=editor, sections={"Effects": ["An uncited claim."]})
    client.force_login(editor)
    html = client.get(change_url(article)).content.decode()
    assert "What stops publication" in html
    assert "section &quot;Effects&quot;, claim 1 (“An uncited claim.”): cites no source." in html
    assert "No reviewer has approved this content." in html
    assert "Submit for review</a>" in html


def test_posting_a_status_in_the_change_form_changes_nothing(client, editor, article, reviewer):
    client.force_login(editor)
    response = client.post(change_url(article), form_data(
        article, status="published", published_at="2020-01-01 00:00", approved_fingerprint="x" * 64,
        approved_by=reviewer.pk, published_revision=1,
    ))
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.status, article.approved_fingerprint, article.approved_by) == (Status.DRAFT, "", None)


def test_saving_an_approved_article_with_an_edit_voids_the_approval(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    response = client.post(change_url(article), form_data(article, title="A new title"), follow=True)
    assert "voided the approval" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.DRAFT


def test_saving_without_an_edit_keeps_the_approval(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    client.post(change_url(article), form_data(article))
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_get_on_a_workflow_url_only_asks(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    response = client.get(workflow_url(article, "publish"))
    assert response.status_code == 200
    assert 'value="Publish"' in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED
    response = client.post(workflow_url(article, "publish"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    html = client.get(change_url(article)).content.decode()
    assert "Revision 1</a>" in html and "Published" in html
    revision_page = client.get(reverse("admin:articles_article_revision", args=[article.pk, 1]))
    assert "Ketamine blocks NMDA receptors." in revision_page.content.decode()


def test_the_publish_page_lists_blockers_and_refuses(client, editor, article):
    client.force_login(editor)
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    response = client.get(workflow_url(article, "publish"))
    assert "No reviewer has approved this content." in response.content.decode()
    response = client.post(workflow_url(article, "publish"), follow=True)
    assert "cannot be published" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_scheduling_from_the_admin(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    response = client.post(workflow_url(article, "schedule"), {"at": "2099-01-01T09:00"})
    assert response.status_code == 302
    assert Article.objects.get(pk=article.pk).scheduled_at.year == 2099


def test_republishing_from_the_admin_with_a_note_for_readers(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    workflow.publish(article, by=editor)
    article.title = "Ketamine for depression, corrected"
    article.save()
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    client.force_login(editor)
    confirm = client.get(workflow_url(article, "publish")).content.decode()
    assert 'name="note"' in confirm and "Corrections and updates" in confirm
    response = client.post(workflow_url(article, "publish"), {"note": "Corrected the title."}, follow=True)
    assert "Publish: done" in response.content.decode()
    revision = Article.objects.get(pk=article.pk).published_revision
    assert (revision.number, revision.snapshot["change_note"]) == (2, "Corrected the title.")
    page = client.get(reverse("admin:articles_article_revision", args=[article.pk, 2])).content.decode()
    assert "Note for readers: Corrected the title." in page


def test_a_too_long_note_for_readers_is_a_form_error(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    response = client.post(workflow_url(article, "publish"), {"note": "x" * 501})
    assert response.status_code == 200
    assert "Ensure this value has at most 500 characters" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_only_the_publish_page_asks_for_a_note(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    assert 'name="note"' not in client.get(workflow_url(article, "schedule")).content.decode()


def test_cancelling_a_schedule_from_the_admin(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    assert "workflow-unschedule" not in client.get(change_url(article)).content.decode(), "nothing to cancel yet"
    client.post(workflow_url(article, "schedule"), {"at": "2099-01-01T09:00"})
    html = client.get(change_url(article)).content.decode()
    assert "Scheduled for" in html and "workflow-unschedule" in html
    confirm = client.get(workflow_url(article, "unschedule")).content.decode()
    assert "Cancel the schedule" in confirm and 'name="reason"' in confirm
    response = client.post(workflow_url(article, "unschedule"), {"reason": "Waiting for the journal's embargo."},
                           follow=True)
    html = response.content.decode()
    assert "Cancel the schedule: done" in html
    assert "Schedule cancelled" in html and "Waiting for the journal&#x27;s embargo." in html
    assert "Scheduled for" not in html and "workflow-unschedule" not in html
    article.refresh_from_db()
    assert (article.status, article.scheduled_at) == (Status.APPROVED, None)


def test_cancelling_when_nothing_is_scheduled_says_so(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    response = client.post(workflow_url(article, "unschedule"), {}, follow=True)
    assert "is not scheduled for publication" in response.content.decode()


@pytest.mark.parametrize("verb", ["publish", "submit", "unpublish", "archive", "approve", "explode"])
def test_reviewers_cannot_use_editors_workflow_pages(client, editor, article, reviewer, verb):
    article = approved(article, editor, reviewer)
    client.force_login(make_reviewer("other"))
    assert client.get(workflow_url(article, verb)).status_code in (403, 404)
    assert client.post(workflow_url(article, verb)).status_code in (403, 404)
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_anonymous_users_cannot_reach_workflow_pages(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    response = client.post(workflow_url(article, "publish"))
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_bulk_actions_call_the_workflow(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish_selected", "_selected_action": [article.pk]}, follow=True,
    )
    assert "Publish: done for 1 article(s)." in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.PUBLISHED


def test_bulk_publish_refuses_what_the_gate_refuses(client, editor, article):
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish_selected", "_selected_action": [article.pk]}, follow=True,
    )
    assert "Publish refused for Ketamine for depression" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


def test_bulk_actions_are_not_offered_without_permission(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish_selected", "_selected_action": [article.pk]}, follow=True,
    )
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED
    assert "publish_selected" not in response.content.decode()


def test_an_editor_without_publish_permission_cannot_publish(client, editor, article, reviewer):
    from django.contrib.auth.models import Permission

    article = approved(article, editor, reviewer)
    writer = make_user("writer")
    writer.user_permissions.add(*Permission.objects.filter(codename__in=["change_article", "view_article"]))
    client.force_login(writer)
    assert client.get(workflow_url(article, "publish")).status_code == 403
    client.post(reverse("admin:articles_article_changelist"),
                {"action": "publish_selected", "_selected_action": [article.pk]})
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED
    assert gate.publish_blockers(article) == []


def test_the_change_form_costs_a_bounded_number_of_queries(client, editor, article, reviewer,
                                                          django_assert_max_num_queries):
    article = approved(article, editor, reviewer)
    client.force_login(editor)
    with django_assert_max_num_queries(40):
        assert client.get(change_url(article)).status_code == 200


def test_the_history_shows_peer_review_statuses_set_by_hand_on_cited_sources(client, editor, article):
    cited = article.sections.first().claims.first().references.first()
    override_peer_review(cited, status=PeerReviewStatus.NOT_PEER_REVIEWED, reason="A conference abstract.", by=editor)
    elsewhere = make_reference(title="Cited by another article only")
    override_peer_review(elsewhere, status=PeerReviewStatus.NOT_PEER_REVIEWED, reason="Not ours.", by=editor)
    client.force_login(editor)
    html = client.get(change_url(article)).content.decode()
    assert "Peer-review status set by hand on cited sources" in html
    assert "A conference abstract." in html and cited.doi in html
    assert "Not ours." not in html


def test_no_override_table_without_overrides(client, editor, article):
    client.force_login(editor)
    assert "set by hand on cited sources" not in client.get(change_url(article)).content.decode()


def test_a_live_unchanged_article_offers_no_publish_button(client, editor, article, reviewer):
    article = approved(article, editor, reviewer)
    workflow.publish(article, by=editor)
    client.force_login(editor)
    html = client.get(change_url(article)).content.decode()
    assert "Readers see this version (revision 1)." in html
    assert "workflow-publish" not in html and "workflow-unpublish" in html
