"""An editor schedules an approved article, then cancels the schedule; the approval stands and nothing goes live."""

import pytest

from articles.review import workflow
from articles.models import Article, Status
from tests.e2e.conftest import PASSWORD
from tests.factories import make_editor, make_reviewer, make_supported_article

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_schedule_then_cancel_the_schedule(open_session):
    editor_user = make_editor("edna", first_name="Edna", last_name="Moss", password=PASSWORD)
    reviewer = make_reviewer("rita", first_name="Rita", last_name="Okafor", credentials="MD, psychiatrist")
    article = make_supported_article("Ketamine for depression", author=editor_user)
    workflow.submit(article, by=editor_user)
    workflow.approve(article, by=reviewer)

    editor = open_session("editor")
    page = editor.new_page()
    editor.sign_in(page, "edna")
    page.goto(editor.url(f"/admin/articles/article/{article.pk}/change/"))
    assert page.locator("a.workflow-unschedule").count() == 0

    page.click("a.workflow-schedule")
    page.fill("#id_at", "2099-01-01T09:00")
    page.click("#content form [type=submit]")
    page.wait_for_selector("ul.messagelist")
    assert "Schedule: done" in page.inner_text("ul.messagelist")
    assert "Scheduled for" in page.inner_text(".field-workflow_state")
    editor.screenshot(page, "scheduled")

    page.click("a.workflow-unschedule")
    page.wait_for_selector("text=Do not publish at the scheduled time.")
    page.fill("#id_reason", "The journal moved its embargo.")
    editor.screenshot(page, "cancel-confirm")
    page.click("#content form [type=submit]")
    page.wait_for_selector("ul.messagelist")
    assert "Cancel the schedule: done" in page.inner_text("ul.messagelist")
    assert "Scheduled for" not in page.inner_text(".field-workflow_state")
    history = page.inner_text(".field-audit_log")
    assert "Schedule cancelled" in history and "The journal moved its embargo." in history
    assert page.locator("a.workflow-publish").count() == 1, "the approval stands"
    editor.screenshot(page, "schedule-cancelled")

    article = Article.objects.get(pk=article.pk)
    assert (article.status, article.scheduled_at) == (Status.APPROVED, None)
    assert editor.csp_violations() == []
