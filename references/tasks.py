"""Background work on references: the retraction sweep and Crossref/PubMed refreshes, run by a task worker.

Each task is a thin wrapper around the service the commands use. Django's task framework does not retry,
so a task whose authority is unavailable enqueues its next attempt itself (``retry_later``), waiting longer
each time, at most TASKS_MAX_ATTEMPTS in all; its own result is marked failed with the reason and what
happens next, so the admin's task list shows every attempt. ``requested_by`` (a user's id) names who started
the work; it is carried to retries and to the refreshes a batch queues, and the admin lists each person's tasks.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from references import crossref, pubmed, services, watch
from references.budget import command_budget
from references.models import Reference


class TaskFailed(Exception):
    """Raised to mark a task's result failed with a message an editor can read in the admin."""


# What a later attempt may cure: the authority was down, slow or refusing for a while.
TRANSIENT = (crossref.CrossrefUnavailable, pubmed.PubMedUnavailable)


def retry_later(task_obj, *args, attempt, reason, **kwargs):
    """Enqueue attempt ``attempt + 1`` after a growing delay, or give up; raises TaskFailed either way."""
    limit = settings.TASKS_MAX_ATTEMPTS
    if attempt >= limit:
        raise TaskFailed(f"{reason} Gave up after {attempt} attempt(s).")
    delay = settings.TASKS_RETRY_SECONDS * 2 ** (attempt - 1)
    when = timezone.now() + datetime.timedelta(seconds=delay)
    # Unset keywords stay unset, so each attempt's arguments read as the first one's.
    kwargs = {key: value for key, value in kwargs.items() if value is not None}
    task_obj.using(run_after=when).enqueue(*args, attempt=attempt + 1, **kwargs)
    raise TaskFailed(f"{reason} Attempt {attempt + 1} of {limit} queued for {when:%Y-%m-%d %H:%M:%S %Z}.")


@task()
def refresh_reference(reference_id, *, attempt=1, requested_by=None):
    """Re-fetch one reference from Crossref (or PubMed); returns the summary line the command prints."""
    reference = Reference.objects.filter(pk=reference_id).first()
    if reference is None:
        return f"Reference {reference_id} no longer exists: nothing to refresh."
    reference.refresh_attempted_at = timezone.now()
    Reference.objects.filter(pk=reference.pk).update(refresh_attempted_at=reference.refresh_attempted_at)
    with command_budget("this reference"):
        result = services.refresh_reference(reference)
    if isinstance(result.error, TRANSIENT):
        retry_later(refresh_reference, reference_id, attempt=attempt, reason=str(result), requested_by=requested_by)
    if result.error:
        # Not found, a bad answer, no DOI: another try would answer the same.
        raise TaskFailed(str(result))
    return str(result)


@task()
def refresh_due(*, budget=None, requested_by=None):
    """Queue a refresh of the references checked longest ago, at most ``budget`` (REFRESH_BUDGET_PER_RUN)."""
    from references.management.commands.refresh_references import checkable, oldest_first

    budget = settings.REFRESH_BUDGET_PER_RUN if budget is None else budget
    references = oldest_first(checkable(), budget)
    # Their turn is taken now, so a second batch before these run picks the next ones.
    Reference.objects.filter(pk__in=[r.pk for r in references]).update(refresh_attempted_at=timezone.now())
    queue_refreshes(references, requested_by=requested_by)
    return f"{len(references)} refresh(es) queued."


@task()
def sweep_retractions(*, attempt=1, requested_by=None):
    """One retraction sweep (references.watch.run_sweep); returns its summary line."""
    try:
        result = watch.run_sweep()
    except watch.SweepBusy as exc:
        # The running sweep does the work; a second one would only wait for it.
        return str(exc)
    except watch.SweepError as exc:
        # The failed sweep saved how far it got: the next attempt resumes from there.
        retry_later(sweep_retractions, attempt=attempt, reason=f"The retraction sweep failed: {exc}",
                    requested_by=requested_by)
    return str(result)


def queue_refreshes(references, *, requested_by=None):
    """Enqueue one refresh per reference; returns how many were queued."""
    extra = {"requested_by": requested_by} if requested_by is not None else {}
    count = 0
    for reference in references:
        refresh_reference.enqueue(reference.pk, **extra)
        count += 1
    return count
