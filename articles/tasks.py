"""Background work on articles: scheduled publishing and workflow mail, run by a task worker.

Thin wrappers around ``articles.workflow.publish_scheduled`` and ``articles.notifications.send_now``; mail
the mail server could not take is tried again later (``references.tasks.retry_later``).
"""

import smtplib

from django_tasks import task

from articles import notifications, workflow
from references.tasks import TaskFailed, retry_later

# A refused connection or a server that hung up may accept the mail later; a refused address will not.
MAIL_TRANSIENT = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPDataError,
                  smtplib.SMTPHeloError, ConnectionError, TimeoutError)


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


@task()
def send_notification(event, article_id, *, details=None, attempt=1):
    """Mail everyone who should hear about ``event`` on the article; returns how many messages went."""
    try:
        sent = notifications.send_now(event, article_id, **(details or {}))
    except MAIL_TRANSIENT as exc:
        retry_later(send_notification, event, article_id, details=details, attempt=attempt,
                    reason=f"The mail server did not take the {event} mail: {exc.__class__.__name__}: {exc}.")
    except smtplib.SMTPException as exc:
        raise TaskFailed(f"The mail server refused the {event} mail: {exc}") from exc
    return f"{sent} message(s) sent about {event}."
