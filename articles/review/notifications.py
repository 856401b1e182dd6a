"""Workflow mail, sent through Django's email backend (the console in development).

``articles.review.workflow`` calls ``send`` from ``transaction.on_commit``, so nobody is
told about a change that was rolled back.
"""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse
from django_tasks import task

from articles.models import Article
from references.tasks import TaskFailed, retry_later

# A refused connection or a server that hung up may accept the mail later; a refused address will not.
MAIL_TRANSIENT = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPDataError,
                  smtplib.SMTPHeloError, ConnectionError, TimeoutError)

logger = logging.getLogger("psychly")


def _url(path):
    return settings.SITE_URL.rstrip("/") + path


def _reviewers(article):
    """Active users who may review, minus the article's authors (they cannot review their own work)."""
    users = get_user_model().objects.with_perm(
        "articles.review_article", is_active=True, include_superusers=True,
        backend="django.contrib.auth.backends.ModelBackend",
    )
    return users.exclude(email="").exclude(pk__in=article.authors.values("pk"))


def _authors(article):
    return article.authors.filter(is_active=True).exclude(email="")


def _message(article, event, **kwargs):
    title = f"“{article.title}”"
    review_url = _url(reverse("review:article", kwargs={"pk": article.pk}))
    admin_url = _url(reverse("admin:articles_article_change", args=[article.pk]))
    if event == "submitted":
        return _reviewers(article), f"For review: {article.title}", (
            f"{title} is waiting for review.\n\nReview it at {review_url}\n"
        )
    if event == "approved":
        return _authors(article), f"Approved: {article.title}", (
            f"{title} was approved and can be published.\n\n{admin_url}\n"
        )
    if event == "changes_requested":
        where = f"\nOn {kwargs['claim_label']}\n" if kwargs.get("claim_label") else ""
        return _authors(article), f"Changes requested: {article.title}", (
            f"A reviewer asked for changes to {title}.\n{where}\n{kwargs['comment']}\n\n{admin_url}\n"
        )
    if event == "published":
        return _authors(article), f"Published: {article.title}", (
            f"{title} is live at {_url(article.get_absolute_url())}\n"
        )
    if event == "unpublished":
        reason = f"\nReason: {kwargs['reason']}\n" if kwargs.get("reason") else ""
        return _authors(article), f"Unpublished: {article.title}", f"{title} was taken off the site.\n{reason}"
    if event == "flagged":
        prefix = "URGENT re-review" if kwargs.get("urgent") else "Re-review"
        recipients = [*_reviewers(article), *_authors(article)]
        return recipients, f"{prefix}: {article.title}", (
            f"{title} is live and needs re-review.\n\n{kwargs['reason']}\n\nReview it at {review_url}\n"
        )
    if event == "approval_voided":
        return _authors(article), f"Approval voided: {article.title}", (
            f"The approval of {title} no longer stands.\n\n{kwargs['reason']}\n\n"
            f"Submit it for review again: {admin_url}\n"
        )
    if event == "schedule_failed":
        recipients = get_user_model().objects.filter(pk=kwargs.get("to_user_id")).exclude(email="")
        return recipients, f"Not published: {article.title}", (
            f"The scheduled publication of {title} was refused:\n\n{kwargs['error']}\n\n{admin_url}\n"
        )
    if event == "unscheduled":
        recipients = get_user_model().objects.filter(pk=kwargs.get("to_user_id"), is_active=True).exclude(email="")
        reason = f"\nReason: {kwargs['reason']}\n" if kwargs.get("reason") else ""
        return recipients, f"Schedule cancelled: {article.title}", (
            f"{kwargs['by_name']} cancelled the scheduled publication of {title}; it will not be published "
            f"at the time you set.\n{reason}\n{admin_url}\n"
        )
    raise ValueError(f"Unknown workflow event {event!r}.")


def send(event, article_id, **kwargs):
    """Mail about ``event``: queued for the task worker when TASKS_IN_BACKGROUND is on, else sent now.

    Returns the number of messages sent now (0 when queued). The mail's details travel as task arguments,
    so they are plain strings, numbers and booleans.
    """
    if settings.TASKS_IN_BACKGROUND:
        send_notification.enqueue(event, article_id, details=kwargs)
        return 0
    return send_now(event, article_id, **kwargs)


def send_now(event, article_id, **kwargs):
    """Mail everyone who should hear about ``event`` on the article; returns the number of messages sent."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return 0
    recipients, subject, body = _message(article, event, **kwargs)
    addresses = sorted({user.email for user in recipients})
    if not addresses:
        logger.info("No one to mail about %s on article %s", event, article_id)
        return 0
    # One message per person: addresses are never shown to each other.
    messages = [(f"[{settings.SITE_NAME}] {subject}", body, None, [address]) for address in addresses]
    return send_mass_mail(messages, fail_silently=False)


@task()
def send_notification(event, article_id, *, details=None, attempt=1):
    """Mail everyone who should hear about ``event`` on the article; returns how many messages went."""
    try:
        sent = send_now(event, article_id, **(details or {}))
    except MAIL_TRANSIENT as exc:
        retry_later(send_notification, event, article_id, details=details, attempt=attempt,
                    reason=f"The mail server did not take the {event} mail: {exc.__class__.__name__}: {str(exc).rstrip('.')}.")
    except smtplib.SMTPException as exc:
        raise TaskFailed(f"The mail server refused the {event} mail: {exc}") from exc
    return f"{sent} message(s) sent about {event}."
