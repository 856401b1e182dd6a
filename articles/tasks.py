"""Background work on articles, run by a task worker: scheduled publishing here, workflow mail in
``articles.review.notifications.send_notification`` (the module that owns the mail owns its task).

A thin wrapper around ``articles.review.workflow.publish_scheduled``.
"""

from django_tasks import task

from articles.review import workflow
from articles.publishing.frontend_cache import purge_frontend_cache  # noqa: F401 (the worker finds it here too)
from articles.review.notifications import send_notification  # noqa: F401 (the worker finds both here)
from references.tasks import TaskFailed


@task()
def publish_scheduled():
    """Publish every article whose time has come, each through the gate; returns one line per article."""
    results = workflow.publish_scheduled()
    lines = [
        f"{result.article.title}: {'published' if result.published else 'refused: ' + result.error}"
        for result in results
    ]
    refused = sum(not result.published for result in results)
    if refused:
        raise TaskFailed(f"{refused} of {len(results)} scheduled article(s) refused: " + "; ".join(lines))
    return "\n".join(lines) or "Nothing was due."
