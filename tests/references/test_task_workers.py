"""The engine at scale: several `manage.py db_worker` processes on one PostgreSQL queue.

django-tasks-db claims each task with SELECT ... FOR UPDATE SKIP LOCKED (DBTaskResultQuerySet.get_locked),
so two workers take distinct tasks and none is run twice. Two real worker processes against the test
database show it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from tests.task_probe import note_run

ROOT = Path(__file__).resolve().parents[2]
TASKS = 16

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(django_settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql",
                       reason="needs PostgreSQL row locks and two connections"),
]


def _database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db
def test_the_worker_claims_rows_with_skip_locked():
    # The claim the README's "any number of workers" rests on, read from the installed version's own query.
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert DBTaskResult.objects.ready().get_locked() is None
    assert "FOR UPDATE SKIP LOCKED" in queries.captured_queries[-1]["sql"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_take_distinct_tasks_and_run_none_twice(tmp_path):
    log = tmp_path / "runs.txt"
    log.touch()
    for number in range(TASKS):
        note_run.enqueue(str(log), number)
    env = {key: value for key, value in os.environ.items() if key not in {"CACHE_URL", "REDIS_URL"}}
    env.update({"DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "psychly.settings",
                "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"})
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay",
                          "--interval", "0.05", "--worker-id", f"worker-{n}", "--verbosity", "0"],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in (1, 2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err

    runs = [line.split() for line in log.read_text().splitlines()]
    numbers = sorted(int(number) for number, _ in runs)
    assert numbers == list(range(TASKS)), "every task ran exactly once"
    assert len({pid for _, pid in runs}) == 2, "both workers took tasks"
    results = DBTaskResult.objects.all()
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert all(len(r.worker_ids) == 1 for r in results), "no task was claimed by two workers"
    assert {r.worker_ids[0] for r in results} == {"worker-1", "worker-2"}
