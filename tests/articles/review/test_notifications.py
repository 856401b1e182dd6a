"""Workflow mail: who hears about what, and only once the change is committed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from articles.review import notifications, workflow
from articles.models import Claim
from tests.factories import make_reviewer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_reviewer():
    return make_reviewer("sam", first_name="Sam")


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def test_submission_mails_every_reviewer_but_not_the_authors(
    article, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    make_user("nomail", "Reviewers", email="")
    author_reviewer = make_reviewer("writer")
    article.authors.add(author_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(article, by=editor)
    assert recipients() == ["rita@example.org", "sam@example.org"]
    assert mail.outbox[0].subject == "[Psychly] For review: Ketamine for depression"
    assert f"/review/{article.pk}/" in mail.outbox[0].body


def test_no_mail_before_commit(article, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow.submit(article, by=editor)
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_refused_transition_sends_nothing(article, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(workflow.InvalidTransition):
        workflow.publish(article, by=editor)
    assert mail.outbox == []


def test_authors_hear_of_changes_requested_with_the_comment_and_claim(
    article, editor, reviewer, django_capture_on_commit_callbacks
):
    workflow.submit(article, by=editor)
    claim = Claim.objects.filter(section__article=article).first()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_changes(article, by=reviewer, comment="Cite the 2019 meta-analysis.", claim=claim)
    [message] = mail.outbox
    assert message.to == ["eddie@example.org"]
    assert "Cite the 2019 meta-analysis." in message.body
    assert "Ketamine blocks NMDA receptors" in message.body


def test_authors_hear_of_approval_and_publication(article, editor, reviewer, django_capture_on_commit_callbacks):
    workflow.submit(article, by=editor)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve(article, by=reviewer)
        workflow.publish(article, by=editor)
    assert [m.subject for m in mail.outbox] == [
        "[Psychly] Approved: Ketamine for depression", "[Psychly] Published: Ketamine for depression",
    ]
    assert all(m.to == ["eddie@example.org"] for m in mail.outbox)
    assert article.get_absolute_url() in mail.outbox[1].body


def test_an_unknown_event_is_an_error(article):
    with pytest.raises(ValueError, match="Unknown workflow event"):
        notifications.send("exploded", article.pk)


def test_a_deleted_article_sends_nothing():
    assert notifications.send("submitted", 987654) == 0


def test_whoever_scheduled_hears_when_someone_else_cancels(
    article, editor, reviewer, django_capture_on_commit_callbacks
):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    chief = make_user("chief", "Editors", first_name="Chris", last_name="Chief")
    workflow.schedule(article, by=editor, at=timezone.now() + timedelta(days=1))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.unschedule(article, by=chief, reason="Legal asked us to wait.")
    assert recipients() == [editor.email]
    assert mail.outbox[0].subject == "[Psychly] Schedule cancelled: Ketamine for depression"
    assert "Chris Chief cancelled the scheduled publication" in mail.outbox[0].body
    assert "Legal asked us to wait." in mail.outbox[0].body


def test_cancelling_your_own_schedule_sends_no_mail(article, editor, reviewer, django_capture_on_commit_callbacks):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.schedule(article, by=editor, at=timezone.now() + timedelta(days=1))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.unschedule(article, by=editor)
    assert mail.outbox == []
