"""check_article and publish_scheduled."""

import datetime
import threading
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from articles.review import workflow
from articles.models import Article, AuditEntry, Claim, Status

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_check_article_lists_blockers_and_fails(editor):
    from tests.factories import make_supported_article

    article = make_supported_article("Uncited", author=editor, sections={
        "Effects": ["Ketamine works for everyone.", {"text": "Ask your doctor.", "context": True}],
    })
    out = StringIO()
    with pytest.raises(CommandError, match="2 blocker"):
        call_command("check_article", article.slug, stdout=out)
    text = out.getvalue()
    assert 'section "Effects", claim 1 (“Ketamine works for everyone.”): cites no source.' in text
    assert "[no_approval]" in text
    assert "1 context statement" in text and "context: claim 2" in text


def test_check_article_passes_an_approved_article(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    out, _ = run("check_article", article.slug)
    assert "No blockers" in out


def test_check_article_names_an_unknown_slug():
    with pytest.raises(CommandError, match="No article with the slug 'nope'"):
        run("check_article", "nope")


def _at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_publish_scheduled_publishes_what_is_due_through_the_gate(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    start = timezone.now()
    workflow.schedule(article, by=editor, at=start + datetime.timedelta(hours=2))
    with _at(start + datetime.timedelta(hours=1)):
        out, _ = run("publish_scheduled")
    assert "Nothing is due" in out
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED
    with _at(start + datetime.timedelta(hours=3)):
        out, _ = run("publish_scheduled")
    article.refresh_from_db()
    assert "Published “Ketamine for depression”" in out
    assert (article.status, article.scheduled_at) == (Status.PUBLISHED, None)
    assert AuditEntry.objects.get(article=article, action="publish").actor == editor


def test_publish_scheduled_refuses_content_edited_after_scheduling(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    start = timezone.now()
    workflow.schedule(article, by=editor, at=start + datetime.timedelta(hours=2))
    Claim.objects.filter(section__article=article).update(text="Sneaked in after approval.")
    with _at(start + datetime.timedelta(hours=3)), pytest.raises(CommandError, match="1 scheduled article"):
        run("publish_scheduled")
    article.refresh_from_db()
    assert article.status == Status.APPROVED
    assert article.scheduled_at is None
    failure = AuditEntry.objects.get(article=article, action="schedule_failed")
    assert "changed after it was approved" in failure.comment


def test_publish_scheduled_refuses_when_the_scheduler_lost_permission(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    start = timezone.now()
    workflow.schedule(article, by=editor, at=start + datetime.timedelta(hours=2))
    editor.groups.clear()
    with _at(start + datetime.timedelta(hours=3)), pytest.raises(CommandError):
        run("publish_scheduled")
    assert Article.objects.get(pk=article.pk).status == Status.APPROVED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql", reason="needs PostgreSQL row locks"
)
def test_two_machines_running_publish_scheduled_at_once_publish_each_article_once():
    from tests.factories import make_editor, make_reviewer, make_supported_article

    editor, reviewer = make_editor("ed_cron"), make_reviewer("rev_cron")
    start = timezone.now()
    articles = []
    for index in range(6):
        article = make_supported_article(f"Scheduled {index}", author=editor)
        workflow.submit(article, by=editor)
        workflow.approve(article, by=reviewer)
        workflow.schedule(article, by=editor, at=start + datetime.timedelta(minutes=1))
        articles.append(article)
    barrier = threading.Barrier(2)
    outcomes = []

    def cron_run():
        try:
            barrier.wait()
            outcomes.extend(workflow.publish_scheduled(now=start + datetime.timedelta(minutes=2)))
        finally:
            connection.close()

    threads = [threading.Thread(target=cron_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result.article.pk for result in outcomes) == sorted(article.pk for article in articles)
    assert all(result.published for result in outcomes), [result.error for result in outcomes]
    for article in articles:
        article.refresh_from_db()
        assert (article.status, article.scheduled_at) == (Status.PUBLISHED, None)
        assert article.revisions.count() == 1
        assert AuditEntry.objects.filter(article=article, action="publish").count() == 1
    assert not AuditEntry.objects.filter(action="schedule_failed").exists()


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the PostgreSQL pass runs the row-lock version above",
)
def test_two_processes_running_publish_scheduled_at_once_on_one_sqlite_file(tmp_path):
    """Two cron processes on one SQLite file: the second waits for the first's write lock instead of failing."""
    import json
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {key: value for key, value in os.environ.items() if key not in {"CACHE_URL", "REDIS_URL"}}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cron.sqlite3'}", "DJANGO_SETTINGS_MODULE": "psychly.settings",
                "EMAIL_URL": "dummymail://"})

    def python(*args, **kwargs):
        return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True,
                              timeout=300, **kwargs)

    migrated = python("manage.py", "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    scheduled = python("-m", "tests.articles._sqlite_cron", "schedule", "12", "3")
    assert scheduled.returncode == 0, scheduled.stderr
    start = max(json.loads(scheduled.stdout.splitlines()[-1])["at"], time.time() + 3) + 0.5
    runs = [
        subprocess.Popen([sys.executable, "-m", "tests.articles._sqlite_cron", "cron", str(start)], cwd=root,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    answers = [run.communicate(timeout=300) + (run.returncode,) for run in runs]
    for out, err, code in answers:
        assert code == 0 and "database is locked" not in err, err
    published = [line for out, _, _ in answers for line in out.splitlines() if line.startswith("Published")]
    assert len(published) == 12, published
    report = json.loads(python("-m", "tests.articles._sqlite_cron", "report").stdout.splitlines()[-1])
    assert len(report) == 12
    assert all(
        outcome == {"status": Status.PUBLISHED, "scheduled": False, "revisions": 1, "publishes": 1, "failures": 0}
        for outcome in report.values()
    ), report
