"""Cron runs of publish_scheduled in separate processes on one SQLite file (python -m, not collected).

    python -m tests.articles._sqlite_cron schedule COUNT SECONDS  -> schedules COUNT approved articles SECONDS ahead
    python -m tests.articles._sqlite_cron cron START              -> at START (a Unix time), manage.py publish_scheduled
    python -m tests.articles._sqlite_cron report                  -> prints what happened to each article, as JSON

DATABASE_URL names the file; the caller runs `manage.py migrate` on it first.
"""

import datetime
import json
import sys
import time

import django


def schedule(count, seconds):
    from django.utils import timezone

    from articles.review import workflow
    from tests.factories import make_editor, make_reviewer, make_supported_article

    editor, reviewer = make_editor("ed_cron"), make_reviewer("rev_cron")
    articles = []
    for index in range(count):
        article = make_supported_article(f"Scheduled {index}", author=editor)
        workflow.submit(article, by=editor)
        workflow.approve(article, by=reviewer)
        articles.append(article)
    at = timezone.now() + datetime.timedelta(seconds=seconds)
    for article in articles:
        workflow.schedule(article, by=editor, at=at)
    return {"at": at.timestamp()}


def cron(start):
    from django.core.management import execute_from_command_line

    # Both runs wake at the same moment, as two machines' crontabs do on the minute.
    time.sleep(max(0.0, start - time.time()))
    execute_from_command_line(["manage.py", "publish_scheduled"])


def report():
    from articles.models import Article, AuditEntry

    return {
        article.title: {
            "status": article.status,
            "scheduled": article.scheduled_at is not None,
            "revisions": article.revisions.count(),
            "publishes": AuditEntry.objects.filter(article=article, action="publish").count(),
            "failures": AuditEntry.objects.filter(article=article, action="schedule_failed").count(),
        }
        for article in Article.objects.order_by("title")
    }


if __name__ == "__main__":
    django.setup()
    command, *args = sys.argv[1:]
    if command == "schedule":
        print(json.dumps(schedule(int(args[0]), float(args[1]))))
    elif command == "cron":
        cron(float(args[0]))
    elif command == "report":
        print(json.dumps(report()))
    else:
        sys.exit(f"unknown command {command!r}")
