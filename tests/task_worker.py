"""Run the database task queue in this process, as `manage.py db_worker --batch` does, without its signals."""

from unittest import mock

from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult


def run_worker():
    """Run every ready task until none is left; returns the results, oldest first.

    The worker closes "old" connections between tasks, which inside a test's transaction would close the
    test's own connection; Django's test client leaves them open for the same reason.
    """
    worker = db_worker.Worker(queue_names=["*"], interval=0, batch=True, backend_name="default",
                              startup_delay=False, max_tasks=None, worker_id="tests", excluded_queue_names=[])
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        worker.run()
    return list(DBTaskResult.objects.order_by("enqueued_at"))
