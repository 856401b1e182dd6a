"""The References list's "Check for retractions now" and "Refresh oldest sources now", through the real admin,
and the task results editors and reviewers follow them by."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from references import watch
from references.models import Reference, RetractionStatus
from tests.factories import make_editor, make_reference, make_reviewer, make_user
from tests.fake_crossref_lists import FakeNoticeList, recorded_items
from tests.task_worker import run_worker

CHANGELIST = reverse("admin:references_reference_changelist")
CHECK = reverse("admin:references_reference_check_retractions")
REFRESH = reverse("admin:references_reference_refresh_oldest")
RESULTS = reverse("admin:django_tasks_database_dbtaskresult_changelist")
WAKEFIELD = "10.1016/s0140-6736(97)11096-0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings, monkeypatch):
    settings.TASKS_IN_BACKGROUND = True
    settings.TASKS_RETRY_SECONDS = 0
    settings.TASKS_MAX_ATTEMPTS = 3
    monkeypatch.setattr(watch, "sleep", lambda seconds: None)


@pytest.fixture
def notices(settings):
    today = timezone.localdate()
    items = [{**item, "indexed": {"date-parts": [[today.year, today.month, today.day]]}} for item in recorded_items()]
    with FakeNoticeList(items) as server:
        settings.CROSSREF_API_URL = server.url
        settings.CROSSREF_MAX_RETRIES = 0
        yield server


def logged_in(user, **client_options):
    client = Client(**client_options)
    client.force_login(user)
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_editors_and_reviewers_see_both_buttons_as_post_forms_and_others_see_none():
    for person in (make_editor(), make_reviewer()):
        page = logged_in(person).get(CHANGELIST).content.decode()
        for url, label in ((CHECK, "Check for retractions now"), (REFRESH, "Refresh oldest sources now")):
            form = re.search(rf'<form method="post" action="{re.escape(url)}"[^>]*>(.*?)</form>', page, re.S)
            assert form and label in form.group(1) and 'name="csrfmiddlewaretoken"' in form.group(1)
    reader = make_user("reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_reference"))
    page = logged_in(reader).get(CHANGELIST)
    assert page.status_code == 200
    assert CHECK not in page.content.decode() and REFRESH not in page.content.decode()


def test_the_checks_are_post_only_permission_checked_and_csrf_protected(background):
    editor = make_editor()
    assert logged_in(editor).get(CHECK).status_code == 405
    assert logged_in(editor).get(REFRESH).status_code == 405
    reader = make_user("reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_reference"))
    assert logged_in(reader).post(CHECK).status_code == 403
    assert logged_in(reader).post(REFRESH).status_code == 403
    strict = logged_in(editor, enforce_csrf_checks=True)
    assert strict.post(CHECK).status_code == 403
    assert not DBTaskResult.objects.exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', strict.get(CHANGELIST).content.decode()).group(1)
    assert strict.post(CHECK, {"csrfmiddlewaretoken": token}).status_code == 302
    assert DBTaskResult.objects.get().task_path == "references.tasks.sweep_retractions"


def test_check_for_retractions_queues_the_sweep_and_links_to_its_status(background, notices):
    wakefield = make_reference(WAKEFIELD)
    reviewer = make_reviewer()
    client = logged_in(reviewer)
    response = client.post(CHECK, follow=True)
    result = DBTaskResult.objects.get()
    assert result.task_path == "references.tasks.sweep_retractions" and result.status == "READY"
    assert result.args_kwargs["kwargs"] == {"requested_by": reviewer.pk}
    status_url = reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.pk])
    (message,) = messages_of(response)
    assert message.startswith("The check for retractions is queued for the task worker")
    assert f'<a href="{status_url}">follow its status</a>' in response.content.decode()
    assert notices.requests == []  # nothing asked of Crossref in the request

    assert "Ready" in client.get(status_url).content.decode()
    [done] = run_worker()
    assert done.status == "SUCCESSFUL"
    page = client.get(status_url).content.decode()
    assert "Successful" in page and "Retraction sweep from " in page
    wakefield.refresh_from_db()
    assert wakefield.retraction_status == RetractionStatus.RETRACTED


def test_refresh_oldest_queues_the_batch_and_its_refreshes_are_listed_as_started_by_the_editor(
        background, fake_crossref, settings):
    settings.REFRESH_BUDGET_PER_RUN = 2
    for doi in ("10.1176/appi.ajp.2020.20050596", "10.1159/000493425", "10.1523/jneurosci.1547-16.2016"):
        make_reference(doi)
    editor, other = make_editor("ed_refresh"), make_editor("ed_other")
    response = logged_in(editor).post(REFRESH, follow=True)
    assert messages_of(response)[0].startswith("The refresh of the oldest sources is queued")
    results = run_worker()
    assert [r.task_path.rsplit(".", 1)[1] for r in results] == ["refresh_due", "refresh_reference",
                                                               "refresh_reference"]
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert {r.args_kwargs["kwargs"]["requested_by"] for r in results} == {editor.pk}

    listing = logged_in(editor).get(RESULTS).content.decode()
    assert listing.count("ed_refresh") == 3 and listing.count("refresh_reference") >= 2
    assert "refresh_due" not in logged_in(other).get(RESULTS).content.decode()
    assert Reference.objects.filter(refresh_attempted_at__isnull=False).count() == 2


def test_a_failed_check_shows_its_status_error_and_each_attempt(background, settings):
    settings.CROSSREF_MAX_RETRIES = 0  # nothing listens at CROSSREF_API_URL in the tests
    editor = make_editor()
    client = logged_in(editor)
    client.post(CHECK)
    results = run_worker()
    assert [r.status for r in results] == ["FAILED", "FAILED", "FAILED"]
    listing = client.get(RESULTS).content.decode()
    body = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', listing, re.S).group(1)
    rows = re.findall(r"<tr>.*?</tr>", body, re.S)
    assert len(rows) == 3
    # Newest first: attempt 3 gave up; attempts 1 and 2 each say when the next runs.
    assert "Gave up after 3 attempt(s)" in rows[0] and 'class="field-attempt">3<' in rows[0]
    assert "Attempt 3 of 3 queued" in rows[1] and 'class="field-attempt">2<' in rows[1]
    assert "Attempt 2 of 3 queued" in rows[2] and "TaskFailed" in rows[2]
    assert all("Failed" in row for row in rows)


def test_the_task_list_costs_the_same_queries_however_long(background, django_assert_max_num_queries):
    from references import tasks

    editor = make_editor()
    client = logged_in(editor)
    for _ in range(3):
        tasks.sweep_retractions.enqueue(requested_by=editor.pk)
    client.get(RESULTS)  # the session and permissions are cached from here on
    # Session, user, permissions (2), the count (filtered and total), the page with the starter's name.
    with django_assert_max_num_queries(8) as few:
        assert client.get(RESULTS).status_code == 200
    for _ in range(30):
        tasks.sweep_retractions.enqueue(requested_by=editor.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(RESULTS)
    assert page.content.decode().count("sweep_retractions") >= 33


def test_in_the_foreground_the_check_runs_in_the_request(settings, notices):
    settings.TASKS_IN_BACKGROUND = False
    wakefield = make_reference(WAKEFIELD)
    response = logged_in(make_editor()).post(CHECK, follow=True)
    (message,) = messages_of(response)
    assert message.startswith("Retraction sweep from ") and ": completed, " in message
    assert not DBTaskResult.objects.exists()
    wakefield.refresh_from_db()
    assert wakefield.is_retracted


def test_the_cron_line_prunes_old_outcomes_and_keeps_failures_longer_and_pending_work(background, settings):
    """The README's line: `prune_db_task_results --queue-name '*' --min-age-days 30 --failed-min-age-days 90`."""
    import datetime
    import io

    from django.core.management import call_command

    from references import tasks

    settings.CROSSREF_MAX_RETRIES = 0
    settings.TASKS_MAX_ATTEMPTS = 1
    tasks.sweep_retractions.enqueue()  # fails: nothing listens at CROSSREF_API_URL
    tasks.refresh_due.enqueue(budget=1)  # succeeds: nothing to refresh
    failed, succeeded = run_worker()
    assert (failed.status, succeeded.status) == ("FAILED", "SUCCESSFUL")
    pending = tasks.refresh_due.enqueue(budget=1)
    now = timezone.now()
    DBTaskResult.objects.filter(pk=succeeded.pk).update(finished_at=now - datetime.timedelta(days=31))
    DBTaskResult.objects.filter(pk=failed.pk).update(finished_at=now - datetime.timedelta(days=31))
    DBTaskResult.objects.filter(pk=pending.id).update(enqueued_at=now - datetime.timedelta(days=365))

    def prune():
        call_command("prune_db_task_results", "--queue-name", "*", "--min-age-days", "30",
                     "--failed-min-age-days", "90", stdout=io.StringIO())

    prune()
    # The success a month old goes; the failure of the same age stays for its reader; the queued task stays.
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"FAILED", "READY"}
    DBTaskResult.objects.filter(pk=failed.pk).update(finished_at=now - datetime.timedelta(days=91))
    prune()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]
