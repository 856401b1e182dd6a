"""Reference work on the task queue: the admin enqueues, the database worker runs, the admin shows the outcome.

The Crossref answers are the recorded works in tests/fixtures/crossref/ served by tests/fake_crossref.py.
"""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from references import services, tasks, watch
from references.models import Reference, RetractionStatus, RetractionSweep, SweepStatus
from tests.factories import make_reference
from tests.fake_crossref import load_work
from tests.fake_crossref_lists import FakeNoticeList, recorded_items
from tests.task_worker import run_worker

CHANGELIST = reverse("admin:references_reference_changelist")
RETRACTED = "10.5555/psychly.retracted.2019.001"

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings):
    settings.TASKS_IN_BACKGROUND = True
    settings.TASKS_RETRY_SECONDS = 0
    settings.TASKS_MAX_ATTEMPTS = 3


def _retracted_reference_not_yet_known():
    work = load_work(RETRACTED)
    work.pop("updated-by")
    return services.save_reference(services.apply_work(Reference(), work))


def test_the_refresh_action_queues_one_task_per_reference_and_fetches_nothing(editor_client, fake_crossref,
                                                                               background):
    first = _retracted_reference_not_yet_known()
    second = services.save_reference(services.apply_work(Reference(), load_work("10.1176/appi.ajp.2020.20050596")))
    response = editor_client.post(CHANGELIST, {"action": "refresh_selected", "_selected_action": [first.pk, second.pk]},
                                  follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)][0].startswith("2 refreshes queued")
    assert fake_crossref.requests == []
    queued = DBTaskResult.objects.all()
    assert sorted(r.args_kwargs["args"][0] for r in queued) == sorted([first.pk, second.pk])
    assert {r.task_path for r in queued} == {"references.tasks.refresh_reference"}
    assert {r.status for r in queued} == {"READY"}


def test_the_worker_refreshes_against_crossref_and_marks_the_result_successful(editor_client, fake_crossref,
                                                                               background):
    reference = _retracted_reference_not_yet_known()
    editor_client.post(CHANGELIST, {"action": "refresh_selected", "_selected_action": [reference.pk]})
    [result] = run_worker()
    assert result.status == "SUCCESSFUL"
    assert "NEWLY RETRACTED" in result.return_value
    reference.refresh_from_db()
    assert reference.is_retracted
    assert reference.refresh_attempted_at is not None
    assert fake_crossref.requests == [f"/works/{RETRACTED}"]


def test_an_unavailable_crossref_is_retried_a_bounded_number_of_times_then_failed(fake_crossref, background):
    reference = _retracted_reference_not_yet_known()
    fake_crossref.set_mode("server_error")
    tasks.refresh_reference.enqueue(reference.pk)
    results = run_worker()
    assert [r.status for r in results] == ["FAILED", "FAILED", "FAILED"]
    assert [r.args_kwargs["kwargs"].get("attempt", 1) for r in results] == [1, 2, 3]
    assert "Attempt 2 of 3 queued" in results[0].traceback
    assert results[-1].exception_class_path == "references.tasks.TaskFailed"
    assert "Gave up after 3 attempt(s)" in results[-1].traceback
    assert RETRACTED in results[-1].traceback
    reference.refresh_from_db()
    assert not reference.is_retracted


def test_a_retry_waits_longer_each_time(fake_crossref, settings):
    settings.TASKS_RETRY_SECONDS = 60
    settings.TASKS_MAX_ATTEMPTS = 3
    reference = _retracted_reference_not_yet_known()
    fake_crossref.set_mode("server_error")
    tasks.refresh_reference.enqueue(reference.pk, attempt=2)
    before = timezone.now()
    first, retry = run_worker()
    assert first.status == "FAILED" and retry.status == "READY"
    # Attempt 3 after two periods of TASKS_RETRY_SECONDS, and the worker left it for later.
    assert retry.run_after - before >= datetime.timedelta(seconds=119)
    assert retry.args_kwargs["kwargs"] == {"attempt": 3}


def test_a_missing_work_fails_at_once_without_retrying(fake_crossref, background):
    reference = services.save_reference(Reference(doi="10.5555/no-such-work", title="Gone", entered_by=None))
    tasks.refresh_reference.enqueue(reference.pk)
    [result] = run_worker()
    assert result.status == "FAILED"
    assert "10.5555/no-such-work" in result.traceback


def test_a_batch_queues_the_references_checked_longest_ago_within_the_budget(fake_crossref, background):
    old = _retracted_reference_not_yet_known()
    recent = services.save_reference(services.apply_work(Reference(), load_work("10.1176/appi.ajp.2020.20050596")))
    Reference.objects.filter(pk=recent.pk).update(status_checked_at=timezone.now())
    Reference.objects.filter(pk=old.pk).update(status_checked_at=timezone.now() - datetime.timedelta(days=90))
    tasks.refresh_due.enqueue(budget=1)
    batch, refresh = run_worker()
    assert batch.status == "SUCCESSFUL" and batch.return_value == "1 refresh(es) queued."
    assert refresh.args_kwargs["args"] == [old.pk] and refresh.status == "SUCCESSFUL"


def test_the_task_results_are_read_only_and_editors_see_only_their_own(admin_client, editor_client, background):
    tasks.refresh_due.enqueue(budget=1)
    result = DBTaskResult.objects.get()
    changelist = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    assert "refresh_due" in admin_client.get(changelist).content.decode()
    change = admin_client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.pk]))
    assert change.status_code == 200 and 'type="submit"' not in change.content.decode().split('id="content"')[1]
    assert admin_client.post(reverse("admin:django_tasks_database_dbtaskresult_delete", args=[result.pk])).status_code == 403
    # Queued by no one in particular (cron, a shell): an editor does not see it.
    listing = editor_client.get(changelist)
    assert listing.status_code == 200 and "refresh_due" not in listing.content.decode()


def test_the_sweep_task_records_the_recorded_notices(settings, background, monkeypatch):
    """The notice list is the recorded one of tests/fixtures/crossref (see its README), indexed today."""
    monkeypatch.setattr(watch, "sleep", lambda seconds: None)
    wakefield = make_reference("10.1016/s0140-6736(97)11096-0")
    today = timezone.localdate()
    items = [{**item, "indexed": {"date-parts": [[today.year, today.month, today.day]]}} for item in recorded_items()]
    with FakeNoticeList(items) as server:
        settings.CROSSREF_API_URL = server.url
        tasks.sweep_retractions.enqueue()
        [result] = run_worker()
    assert result.status == "SUCCESSFUL"
    wakefield.refresh_from_db()
    assert wakefield.retraction_status == RetractionStatus.RETRACTED
    assert RetractionSweep.objects.get().status == SweepStatus.COMPLETED


def test_a_sweep_crossref_cannot_answer_is_retried_then_failed(settings, background, monkeypatch):
    monkeypatch.setattr(watch, "sleep", lambda seconds: None)
    settings.CROSSREF_MAX_RETRIES = 0  # nothing listens at CROSSREF_API_URL in the tests
    tasks.sweep_retractions.enqueue()
    results = run_worker()
    assert [r.status for r in results] == ["FAILED", "FAILED", "FAILED"]
    assert "The retraction sweep failed" in results[0].traceback and "Attempt 2 of 3" in results[0].traceback
    assert "Gave up after 3 attempt(s)" in results[-1].traceback
    assert not RetractionSweep.objects.filter(status=SweepStatus.COMPLETED).exists()
