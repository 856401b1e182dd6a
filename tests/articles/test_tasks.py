"""Scheduled publishing and workflow mail on the task queue, run by the database worker in this process."""

import datetime
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles import tasks
from articles.review import workflow
from articles.models import AuditEntry, Claim, Status
from tests.task_worker import run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings):
    settings.TASKS_IN_BACKGROUND = True
    settings.TASKS_RETRY_SECONDS = 0
    settings.TASKS_MAX_ATTEMPTS = 2


def _scheduled(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    start = timezone.now()
    workflow.schedule(article, by=editor, at=start + datetime.timedelta(hours=2))
    return start + datetime.timedelta(hours=3)


def test_the_publish_task_publishes_what_is_due_through_the_gate(article, editor, reviewer):
    later = _scheduled(article, editor, reviewer)
    tasks.publish_scheduled.enqueue()
    with mock.patch("django.utils.timezone.now", return_value=later):
        [result] = run_worker()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == "Ketamine for depression: published"
    article.refresh_from_db()
    assert (article.status, article.scheduled_at) == (Status.PUBLISHED, None)
    assert AuditEntry.objects.get(article=article, action="publish").actor == editor


def test_the_publish_task_fails_with_the_gates_reason_when_the_words_changed(article, editor, reviewer):
    later = _scheduled(article, editor, reviewer)
    Claim.objects.filter(section__article=article).update(text="Sneaked in after approval.")
    tasks.publish_scheduled.enqueue()
    with mock.patch("django.utils.timezone.now", return_value=later):
        [result] = run_worker()
    assert result.status == "FAILED"
    assert "1 of 1 scheduled article(s) refused" in result.traceback
    assert "changed after it was approved" in result.traceback
    article.refresh_from_db()
    assert article.status == Status.APPROVED


def test_workflow_mail_goes_through_the_queue_after_commit(article, editor, reviewer, background,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(article, by=editor)
    assert mail.outbox == []
    [queued] = DBTaskResult.objects.all()
    assert (queued.task_path, queued.args_kwargs["args"]) == ("articles.review.notifications.send_notification",
                                                              ["submitted", article.pk])
    [result] = run_worker()
    assert result.status == "SUCCESSFUL" and result.return_value == "1 message(s) sent about submitted."
    assert [m.to for m in mail.outbox] == [[reviewer.email]]


def test_mail_the_server_dropped_is_retried_then_failed_with_the_reason(article, editor, reviewer, background,
                                                                       django_capture_on_commit_callbacks):
    with mock.patch.object(EmailBackend, "send_messages", side_effect=smtplib.SMTPServerDisconnected("bye")):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit(article, by=editor)
        first, last = run_worker()
    assert (first.status, last.status) == ("FAILED", "FAILED")
    assert "Attempt 2 of 2 queued" in first.traceback
    assert "Gave up after 2 attempt(s)" in last.traceback and "bye" in last.traceback
    assert mail.outbox == []


def test_mail_the_server_dropped_once_is_sent_on_the_next_attempt(article, editor, reviewer, background,
                                                                  django_capture_on_commit_callbacks):
    real = EmailBackend.send_messages
    calls = []

    def drop_first(self, messages):
        calls.append(len(messages))
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("bye")
        return real(self, messages)

    with mock.patch.object(EmailBackend, "send_messages", drop_first):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit(article, by=editor)
        first, second = run_worker()
    assert (first.status, second.status) == ("FAILED", "SUCCESSFUL")
    assert [m.to for m in mail.outbox] == [[reviewer.email]]


def test_without_the_queue_mail_is_sent_in_the_request(article, editor, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(article, by=editor)
    assert [m.to for m in mail.outbox] == [[reviewer.email]]
    assert not DBTaskResult.objects.exists()
