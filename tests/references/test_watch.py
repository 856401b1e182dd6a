"""The retraction sweep (references.watch, manage.py watch_retractions) against a fake Crossref list endpoint.

The notice list is tests/fixtures/crossref/notices-is-update.json: items built from real Crossref records (see
the README there), served in cursor pages by tests/fake_crossref_lists.py.
"""

import datetime
import io
import threading

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, AuditEntry, WorkflowAction
from references import watch
from references.models import Reference, RetractionStatus, RetractionSweep, SweepStatus
from references.signals import reference_status_changed
from tests.articles.publish_helpers import make_published
from tests.factories import make_editor, make_reference, make_reviewer
from tests.fake_crossref_lists import FakeNoticeList, RecordedListAnswer, recorded_items

WAKEFIELD = "10.1016/s0140-6736(97)11096-0"
WAKEFIELD_RETRACTION = "10.1016/s0140-6736(10)60175-4"
WAKEFIELD_CORRECTION = "10.1016/s0140-6736(04)15715-2"
PLOS = "10.1371/journal.pone.0033693"
PLOS_CORRECTION = "10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda"


def indexed_today(items):
    """The items as if Crossref had indexed them today, so the first sweep's window always holds them."""
    today = timezone.localdate()
    return [{**item, "indexed": {"date-parts": [[today.year, today.month, today.day]]}} for item in items]


def synthetic_items(count, *, prefix="10.5555/psychly.sweep"):
    """Notices in Crossref's shape for works we may hold (10.5555 is Crossref's test prefix), indexed today."""
    today = timezone.localdate()
    return [
        {"DOI": f"{prefix}.notice.{n}", "type": "journal-article",
         "indexed": {"date-parts": [[today.year, today.month, today.day]]},
         "update-to": [{"DOI": f"{prefix}.work.{n}", "type": "retraction", "label": "Retraction",
                        "source": "publisher", "updated": {"date-parts": [[2026, 11, 29]]}}]}
        for n in range(count)
    ]


@pytest.fixture
def no_retry_wait(monkeypatch):
    waits = []
    monkeypatch.setattr(watch, "sleep", waits.append)
    return waits


@pytest.fixture
def notice_list(settings, no_retry_wait):
    """A fake Crossref serving the recorded notices, indexed today; yields the server (``items`` may be changed)."""
    with FakeNoticeList(indexed_today(recorded_items())) as server:
        settings.CROSSREF_API_URL = server.url
        settings.CROSSREF_MAX_RETRIES = 0
        yield server


@pytest.fixture
def people(db):
    return make_editor("ed_watch"), make_reviewer("rev_watch")


def notice_keys(reference):
    reference.refresh_from_db()
    return sorted((u["type"], u["DOI"]) for u in reference.updates)


# ---- reading Crossref's items ----------------------------------------------------------------------------------


def test_notices_from_the_recorded_list_name_the_works_they_update():
    notices = [n for item in recorded_items() for n in watch.notices_from_item(item)]
    assert {(n.target_doi, n.type, n.doi, n.source) for n in notices} == {
        (WAKEFIELD, "retraction", WAKEFIELD_RETRACTION, "retraction-watch"),
        (WAKEFIELD, "correction", WAKEFIELD_CORRECTION, "retraction-watch"),
        (PLOS, "correction", PLOS_CORRECTION, "publisher"),
        ("10.1038/s41586-020-2012-7", "addendum", "10.1038/s41586-020-2951-z", "publisher"),
    }, "10.5555/12345678's update-to names itself and must be skipped"
    retraction = next(n for n in notices if n.type == "retraction")
    assert retraction.as_update() == {"type": "retraction", "DOI": WAKEFIELD_RETRACTION, "label": "Retraction",
                                      "source": "retraction-watch", "updated": "2010-02-06"}


def test_misspelt_and_capitalised_types_are_mended_and_version_links_skipped():
    item = {"DOI": "10.5555/Notice.1", "update-to": [
        {"DOI": "10.5555/A", "type": "Retraction"},
        {"DOI": "10.5555/b", "type": "retration"},
        {"DOI": "10.5555/c", "type": "new_version"},
        {"DOI": "10.5555/d", "type": "new_edition"},
        {"DOI": "https://doi.org/10.5555/E", "type": "Expression of Concern"},
        {"DOI": "not a doi", "type": "retraction"},
        "garbage",
    ]}
    got = {(n.target_doi, n.type, n.doi) for n in watch.notices_from_item(item)}
    assert got == {("10.5555/a", "retraction", "10.5555/notice.1"), ("10.5555/b", "retraction", "10.5555/notice.1"),
                   ("10.5555/e", "expression_of_concern", "10.5555/notice.1")}


# ---- recording a notice ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_apply_notices_records_each_notice_once_and_signals_only_when_something_is_new():
    reference = make_reference(PLOS)
    notice = watch.Notice(type="correction", doi=PLOS_CORRECTION, label="Correction", source="publisher",
                          updated="2012-05-08", target_doi=PLOS)
    sent = []

    def listener(sender, **kwargs):
        sent.append(kwargs)

    reference_status_changed.connect(listener, dispatch_uid="test-watch-listener")
    try:
        first = watch.apply_notices(reference, [notice, notice])
        again = watch.apply_notices(reference, [notice])
    finally:
        reference_status_changed.disconnect(dispatch_uid="test-watch-listener")
    assert len(first.added) == 1 and again.added == []
    assert notice_keys(reference) == [("correction", PLOS_CORRECTION)]
    assert reference.retraction_status == RetractionStatus.CORRECTED
    assert len(sent) == 1
    assert sent[0]["changes"]["retraction_status"] == (RetractionStatus.NONE, RetractionStatus.CORRECTED)


@pytest.mark.django_db
def test_a_refresh_from_crossref_never_drops_a_notice_recorded_from_elsewhere(fake_crossref):
    from references import services

    feder = "10.1176/appi.ajp.2020.20050596"  # its recorded Crossref answer has no updated-by
    reference, _ = services.add_reference_by_doi(feder)
    watch.apply_notices(reference, [watch.Notice(type="retraction", doi="10.5555/rw.notice", label="Retraction",
                                                 source="retraction-watch", target_doi=feder)])
    result = services.refresh_reference(Reference.objects.get(pk=reference.pk))
    reference.refresh_from_db()
    assert reference.retraction_status == RetractionStatus.RETRACTED
    assert notice_keys(reference) == [("retraction", "10.5555/rw.notice")]
    assert "retraction_status" not in result.changes and "updates" not in result.changes


# ---- the sweep -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_records_notices_and_sends_live_articles_citing_them_to_review(notice_list, people, settings):
    settings.CROSSREF_MAILTO = "tests@example.org"
    editor, reviewer = people
    wakefield, other = make_reference(WAKEFIELD), make_reference()
    plos = make_reference(PLOS)
    retracted_article = make_published("MMR and autism", editor=editor, reviewer=reviewer,
                                       references=[wakefield, other])
    corrected_article = make_published("Methylphenidate", editor=editor, reviewer=reviewer,
                                       references=[plos, other])
    untouched = make_published("Unrelated", editor=editor, reviewer=reviewer)

    result = watch.run_sweep()

    assert notice_keys(wakefield) == [("correction", WAKEFIELD_CORRECTION), ("retraction", WAKEFIELD_RETRACTION)]
    assert wakefield.retraction_status == RetractionStatus.RETRACTED
    assert next(u for u in wakefield.updates if u["type"] == "retraction")["source"] == "retraction-watch"
    assert plos.__class__.objects.get(pk=plos.pk).retraction_status == RetractionStatus.CORRECTED
    retracted_article, corrected_article, untouched = (
        Article.objects.get(pk=a.pk) for a in (retracted_article, corrected_article, untouched))
    # The first claim cited only the retracted study: it lost its only support.
    assert (retracted_article.needs_rereview, retracted_article.urgent) == (True, True)
    assert f"{WAKEFIELD} was retracted" in retracted_article.rereview_reason
    assert (corrected_article.needs_rereview, corrected_article.urgent) == (True, False)
    assert not untouched.needs_rereview
    sweep = result.sweep
    assert (sweep.status, sweep.pages, sweep.notices_seen, sweep.references_updated) == (
        SweepStatus.COMPLETED, 1, 5, 2)
    assert sweep.from_date == timezone.localdate() - datetime.timedelta(days=7)
    assert watch.watermark() == sweep
    (query,) = notice_list.requests
    assert query == {"filter": f"is-update:true,from-index-date:{sweep.from_date:%Y-%m-%d}", "cursor": "*",
                     "rows": "1000", "select": "DOI,update-to,type,title,indexed",
                     "mailto": django_settings.CROSSREF_MAILTO}


@pytest.mark.django_db
def test_the_next_sweep_starts_from_the_watermark_and_records_nothing_twice(notice_list, people, settings):
    editor, reviewer = people
    wakefield = make_reference(WAKEFIELD)
    article = make_published("MMR", editor=editor, reviewer=reviewer, references=[wakefield, make_reference()])
    settings.RETRACTION_SWEEP_FIRST_DAYS = 3
    first = watch.run_sweep()
    flags = AuditEntry.objects.filter(article=article, action=WorkflowAction.FLAG_REREVIEW).count()
    second = watch.run_sweep()
    assert second.sweep.pk != first.sweep.pk
    assert second.sweep.from_date == timezone.localdate(first.sweep.started_at)
    assert notice_list.requests[1]["filter"] == f"is-update:true,from-index-date:{second.sweep.from_date:%Y-%m-%d}"
    assert second.sweep.references_updated == 0
    assert len(notice_keys(wakefield)) == 2
    assert AuditEntry.objects.filter(article=article, action=WorkflowAction.FLAG_REREVIEW).count() == flags == 1


@pytest.mark.django_db
def test_notices_indexed_before_the_watermark_are_not_asked_for(notice_list):
    reference = make_reference("10.5555/12345678.work")
    notice_list.items = [{"DOI": "10.5555/old.notice", "indexed": {"date-parts": [[2020, 1, 1]]},
                          "update-to": [{"DOI": "10.5555/12345678.work", "type": "retraction"}]}]
    assert watch.run_sweep().sweep.notices_seen == 0
    assert notice_keys(reference) == []


@pytest.mark.django_db
def test_each_page_is_matched_in_one_query(notice_list, monkeypatch):
    monkeypatch.setattr(watch, "ROWS", 2)
    notice_list.items = synthetic_items(7)
    with CaptureQueriesContext(connection) as queries:
        result = watch.run_sweep()
    lookups = [q["sql"] for q in queries.captured_queries
               if 'FROM "references_reference"' in q["sql"] and "LOWER" in q["sql"].upper()]
    assert result.sweep.pages == 4 == len(notice_list.requests) == result.requests
    assert len(lookups) == 4
    assert [q["rows"] for q in notice_list.requests] == ["2"] * 4


@pytest.mark.django_db
def test_a_last_page_that_is_full_ends_the_sweep_without_asking_for_an_empty_one(notice_list, monkeypatch):
    monkeypatch.setattr(watch, "ROWS", 2)
    notice_list.items = synthetic_items(6)
    result = watch.run_sweep()
    assert (result.requests, result.sweep.pages, result.sweep.notices_seen) == (3, 3, 6)


@pytest.mark.django_db
def test_an_interrupted_sweep_keeps_the_watermark_and_the_next_run_resumes_without_loss_or_duplicates(
        notice_list, monkeypatch, people):
    editor, reviewer = people
    monkeypatch.setattr(watch, "ROWS", 2)
    notice_list.items = synthetic_items(7)
    works = [make_reference(f"10.5555/psychly.sweep.work.{n}") for n in range(7)]
    article = make_published("Cites the last one", editor=editor, reviewer=reviewer,
                             references=[works[6], make_reference()])
    earlier = RetractionSweep.objects.create(
        from_date=datetime.date(2026, 11, 1), started_at=timezone.now() - datetime.timedelta(days=1),
        heartbeat_at=timezone.now() - datetime.timedelta(days=1), finished_at=timezone.now(),
        status=SweepStatus.COMPLETED)
    notice_list.fail_on_page(3)

    with pytest.raises(watch.SweepError, match="500"):
        watch.run_sweep()

    failed = RetractionSweep.objects.exclude(pk=earlier.pk).get()
    assert (failed.status, failed.pages, failed.references_updated) == (SweepStatus.FAILED, 2, 4)
    assert failed.cursor and "500" in failed.error
    assert watch.watermark() == earlier, "a failed sweep must not move the watermark"
    assert [bool(notice_keys(work)) for work in works] == [True] * 4 + [False] * 3

    notice_list.fail_on_page(None)
    resumed = watch.run_sweep()

    assert resumed.resumed and resumed.sweep.pk == failed.pk
    assert notice_list.requests[-2]["cursor"] == failed.cursor, "resumes from the saved cursor"
    assert (resumed.sweep.status, resumed.sweep.pages, resumed.sweep.references_updated) == (
        SweepStatus.COMPLETED, 4, 7)
    assert watch.watermark() == resumed.sweep
    assert all(notice_keys(work) == [("retraction", f"10.5555/psychly.sweep.notice.{n}")]
               for n, work in enumerate(works))
    article.refresh_from_db()
    assert article.needs_rereview and article.urgent


@pytest.mark.django_db
def test_a_resumed_sweep_whose_cursor_expired_starts_over_and_records_nothing_twice(notice_list, monkeypatch):
    monkeypatch.setattr(watch, "ROWS", 2)
    notice_list.items = synthetic_items(5)
    works = [make_reference(f"10.5555/psychly.sweep.work.{n}") for n in range(5)]
    notice_list.fail_on_page(2)
    with pytest.raises(watch.SweepError):
        watch.run_sweep()
    notice_list.fail_on_page(None)
    later = timezone.now() + watch.CURSOR_LIFETIME + datetime.timedelta(seconds=1)
    result = watch.run_sweep(now=later)
    assert notice_list.requests[-3]["cursor"] == "*"
    assert result.sweep.status == SweepStatus.COMPLETED
    assert all(len(notice_keys(work)) == 1 for work in works)


@pytest.mark.django_db
def test_a_sweep_already_running_makes_another_skip_and_a_stalled_one_is_taken_over(notice_list, settings):
    now = timezone.now()
    running = RetractionSweep.objects.create(from_date=datetime.date(2026, 11, 25), started_at=now,
                                             heartbeat_at=now)
    with pytest.raises(watch.SweepBusy):
        watch.run_sweep(now=now + datetime.timedelta(minutes=1))
    assert notice_list.requests == []
    stalled = now + datetime.timedelta(minutes=settings.RETRACTION_SWEEP_STALE_MINUTES + 1)
    result = watch.run_sweep(now=stalled)
    assert result.sweep.pk == running.pk and result.sweep.status == SweepStatus.COMPLETED
    assert notice_list.requests[0]["filter"].endswith("from-index-date:2026-11-25")


@pytest.mark.django_db
def test_the_database_refuses_two_running_sweeps():
    from django.db import IntegrityError, transaction

    now = timezone.now()
    RetractionSweep.objects.create(from_date=now.date(), started_at=now, heartbeat_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetractionSweep.objects.create(from_date=now.date(), started_at=now, heartbeat_at=now)


@pytest.mark.django_db
def test_a_refused_or_broken_answer_fails_the_sweep_with_a_clear_message(notice_list, monkeypatch):
    monkeypatch.setattr(watch, "SELECT", "DOI,update-to,updated")
    with pytest.raises(watch.SweepError, match="Crossref answered 400.*select-not-available"):
        watch.run_sweep()
    assert RetractionSweep.objects.get().status == SweepStatus.FAILED


@pytest.mark.django_db
def test_server_errors_are_retried_with_a_wait(settings, no_retry_wait, monkeypatch):
    with FakeNoticeList(indexed_today(recorded_items())) as server:
        settings.CROSSREF_API_URL = server.url
        settings.CROSSREF_MAX_RETRIES = 2
        server.fail_on_page(1)
        original, statuses = watch.http.get, []

        def answer_then_recover(*args, **kwargs):
            answer = original(*args, **kwargs)
            statuses.append(answer.status)
            server.fail_on_page(None)
            return answer

        monkeypatch.setattr(watch.http, "get", answer_then_recover)
        result = watch.run_sweep()
    assert result.sweep.status == SweepStatus.COMPLETED
    assert statuses == [500, 200] and no_retry_wait == [1.0]


@pytest.mark.django_db
def test_crossrefs_recorded_empty_list_answer_completes_the_sweep_in_one_request(settings):
    """A real answer of Crossref's list endpoint to a from-index-date filter with cursor=* (see the fixtures'
    README): no items, total-results 0, and still a next-cursor, which the sweep must not follow."""
    make_reference(WAKEFIELD)
    with RecordedListAnswer("list-from-index-date-empty.json") as server:
        settings.CROSSREF_API_URL = server.url
        items, next_cursor, total = watch.fetch_page(timezone.localdate(), "*")
        assert (items, total) == ([], 0) and next_cursor.startswith("DnF1ZXJ5VGhlbkZldGNo")
        server.requests.clear()
        result = watch.run_sweep()
    (query,) = server.requests
    assert query["cursor"] == "*" and query["filter"].startswith("is-update:true,from-index-date:")
    sweep = result.sweep
    assert (sweep.status, sweep.pages, sweep.notices_seen, sweep.references_updated) == (
        SweepStatus.COMPLETED, 1, 0, 0)
    assert watch.watermark() == sweep and sweep.cursor == ""
    assert str(result).endswith(": completed, 1 page(s), 0 notice(s) seen, 0 reference(s) updated, "
                                "1 Crossref request(s).")


# ---- PubMed's "Retracted Publication" -----------------------------------------------------------------------


@pytest.mark.django_db
def test_pubmed_retractions_are_recorded_on_references_known_by_pmid(notice_list, settings, people):
    editor, reviewer = people
    settings.NCBI_API_URL = notice_list.url
    by_pmid = make_reference(None, url="https://pubmed.ncbi.nlm.nih.gov/27013874/", pmid="27013874")
    unrelated = make_reference(pmid="11111111")
    article = make_published("Nanomedicine", editor=editor, reviewer=reviewer, references=[by_pmid, unrelated])
    notice_list.retracted_pmids = ["99999999", "27013874"]

    result = watch.run_sweep()

    by_pmid.refresh_from_db()
    assert by_pmid.retraction_status == RetractionStatus.RETRACTED
    assert by_pmid.updates == [{"type": "retraction", "DOI": "", "label": "Retracted Publication (PubMed)",
                                "source": "pubmed", "updated": ""}]
    assert notice_keys(unrelated) == []
    (query,) = notice_list.pubmed_requests
    assert (query["mindate"], query["maxdate"]) == (f"{result.sweep.from_date:%Y/%m/%d}",
                                                    f"{timezone.localdate():%Y/%m/%d}")
    assert result.pubmed_requests == 1 and "1 PubMed request(s)." in str(result)
    article.refresh_from_db()
    assert article.needs_rereview
    # A second sweep asks again (its own window) and records nothing twice.
    watch.run_sweep()
    assert len(notice_keys(by_pmid)) == 1


@pytest.mark.django_db
def test_pubmeds_answer_is_read_page_by_page(notice_list, settings, monkeypatch):
    settings.NCBI_API_URL = notice_list.url
    monkeypatch.setattr(watch, "PUBMED_PAGE", 2)
    notice_list.retracted_pmids = ["101", "102", "103", "104", "105"]
    last = make_reference(pmid="105")
    result = watch.run_sweep()
    assert [q["retstart"] for q in notice_list.pubmed_requests] == ["0", "2", "4"]
    assert result.pubmed_requests == 3
    assert notice_keys(last) == [("retraction", "")]


@pytest.mark.django_db
def test_pubmed_is_not_asked_when_no_reference_has_a_pmid(notice_list, settings):
    settings.NCBI_API_URL = notice_list.url
    make_reference(WAKEFIELD)
    result = watch.run_sweep()
    assert notice_list.pubmed_requests == [] and result.pubmed_requests == 0


@pytest.mark.django_db
def test_a_pubmed_failure_leaves_crossrefs_part_completed_and_pubmeds_window_for_the_next_run(
        notice_list, settings, people):
    settings.NCBI_API_URL = "http://127.0.0.1:9"  # nothing listens there: connection refused
    settings.NCBI_TIMEOUT = 2
    wakefield = make_reference(WAKEFIELD)
    by_pmid = make_reference(None, url="https://pubmed.ncbi.nlm.nih.gov/27013874/", pmid="27013874")
    first_day = timezone.now() - datetime.timedelta(days=3)

    first = watch.run_sweep(now=first_day)

    # Crossref's part completed and moved its watermark; PubMed's part is recorded as failed, with the reason.
    sweep = first.sweep
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.COMPLETED and watch.watermark() == sweep
    assert notice_keys(wakefield) == [("correction", WAKEFIELD_CORRECTION), ("retraction", WAKEFIELD_RETRACTION)]
    assert not sweep.pubmed_done and "PubMed" in sweep.pubmed_error
    assert watch.pubmed_watermark() is None
    line = str(first)
    assert ": completed, 1 page(s)" in line
    assert "; PubMed failed (" in line
    assert f"its window from {sweep.from_date:%Y-%m-%d} is asked again next run." in line

    # PubMed is back: the next sweep asks Crossref from its watermark and PubMed from the failed window's start.
    settings.NCBI_API_URL = notice_list.url
    notice_list.retracted_pmids = ["27013874"]
    second = watch.run_sweep()
    (query,) = notice_list.pubmed_requests
    assert query["mindate"] == f"{sweep.from_date:%Y/%m/%d}"
    assert second.sweep.from_date == timezone.localdate(first_day)
    assert notice_keys(by_pmid) == [("retraction", "")]
    assert second.sweep.pubmed_done and second.sweep.pubmed_error == ""
    assert "PubMed failed" not in str(second)
    # Once PubMed's part completed, its window starts from that sweep.
    watch.run_sweep()
    assert notice_list.pubmed_requests[-1]["mindate"] == f"{timezone.localdate(second.sweep.started_at):%Y/%m/%d}"


@pytest.mark.django_db
def test_a_resumed_sweep_does_not_ask_pubmed_again_once_its_part_completed(notice_list, settings):
    settings.NCBI_API_URL = notice_list.url
    make_reference(pmid="27013874")
    notice_list.fail_on_page(1)
    with pytest.raises(watch.SweepError):
        watch.run_sweep()
    assert len(notice_list.pubmed_requests) == 1 and RetractionSweep.objects.get().pubmed_done
    notice_list.fail_on_page(None)
    result = watch.run_sweep()
    assert result.resumed and result.sweep.status == SweepStatus.COMPLETED
    assert len(notice_list.pubmed_requests) == 1


# ---- the command -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_a_summary_line_for_cron(notice_list, capsys):
    make_reference(WAKEFIELD)
    call_command("watch_retractions")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("Retraction sweep from ")
    assert "completed, 1 page(s), 5 notice(s) seen, 1 reference(s) updated, 1 Crossref request(s)." in out[0]


@pytest.mark.django_db
def test_command_says_in_its_one_line_when_pubmed_failed_and_exits_zero(notice_list, settings):
    settings.NCBI_API_URL = "http://127.0.0.1:9"
    settings.NCBI_TIMEOUT = 2
    make_reference(pmid="27013874")
    out = io.StringIO()
    call_command("watch_retractions", stdout=out, verbosity=0)
    (line,) = out.getvalue().strip().splitlines()
    assert ": completed, " in line and "PubMed failed (" in line and "asked again next run." in line


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db
def test_command_shows_a_progress_bar_only_on_a_terminal(notice_list, capsys):
    out = Terminal()
    call_command("watch_retractions", stdout=out)
    assert "Crossref notices" in capsys.readouterr().err
    assert out.getvalue().startswith("Retraction sweep from ")
    call_command("watch_retractions", stdout=io.StringIO())
    assert "Crossref notices" not in capsys.readouterr().err


@pytest.mark.django_db
def test_command_exits_non_zero_when_the_sweep_fails_and_quietly_when_another_runs(notice_list, capsys):
    notice_list.fail_on_page(1)
    with pytest.raises(CommandError, match="Retraction sweep failed: .*500.* The next run resumes it.") as failure:
        call_command("watch_retractions")
    assert failure.value.returncode == 1
    RetractionSweep.objects.filter(status=SweepStatus.FAILED).update(status=SweepStatus.RUNNING,
                                                                     heartbeat_at=timezone.now())
    call_command("watch_retractions")
    assert "Retraction sweep skipped: Another retraction sweep is running" in capsys.readouterr().out


# ---- two sweeps at once (PostgreSQL) ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql",
    reason="needs PostgreSQL row locks and two connections",
)
def test_two_sweeps_at_once_record_each_notice_once(notice_list, monkeypatch):
    editor, reviewer = make_editor("ed_two_sweeps"), make_reviewer("rev_two_sweeps")
    monkeypatch.setattr(watch, "ROWS", 3)
    notice_list.items = synthetic_items(10) + indexed_today(recorded_items())
    works = [make_reference(f"10.5555/psychly.sweep.work.{n}") for n in range(10)]
    wakefield = make_reference(WAKEFIELD)
    article = make_published("Two crons", editor=editor, reviewer=reviewer, references=[wakefield, works[0]])
    barrier = threading.Barrier(2)
    outcomes = []

    def cron_run():
        try:
            barrier.wait()
            outcomes.append(watch.run_sweep())
        except watch.SweepBusy as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=cron_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2
    assert any(isinstance(o, watch.SweepResult) for o in outcomes)
    for n, work in enumerate(works):
        assert notice_keys(work) == [("retraction", f"10.5555/psychly.sweep.notice.{n}")]
    assert notice_keys(wakefield) == [("correction", WAKEFIELD_CORRECTION), ("retraction", WAKEFIELD_RETRACTION)]
    # One flag per cited source that got notices, however many sweeps saw them.
    flags = AuditEntry.objects.filter(article=article, action=WorkflowAction.FLAG_REREVIEW)
    assert sorted(flag.comment.split()[2] for flag in flags) == sorted([WAKEFIELD, works[0].doi])
    assert RetractionSweep.objects.filter(status=SweepStatus.RUNNING).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql",
    reason="needs PostgreSQL row locks and two connections",
)
def test_two_recorders_of_one_notice_at_once_record_it_once():
    reference = make_reference(PLOS)
    notice = watch.Notice(type="correction", doi=PLOS_CORRECTION, label="Correction", source="publisher",
                          target_doi=PLOS)
    barrier = threading.Barrier(2)
    added = []

    def record():
        try:
            barrier.wait()
            added.append(len(watch.apply_notices(Reference.objects.get(pk=reference.pk), [notice]).added))
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(added) == [0, 1]
    assert notice_keys(reference) == [("correction", PLOS_CORRECTION)]


# ---- mistyped items and the sweep's time budget -----------------------------------------------------------------


@pytest.mark.django_db
def test_mistyped_items_are_cleaned_or_skipped_and_counted_never_an_exception(notice_list):
    """Items are cleaned as work messages are (references.crossref.clean_work): strings capped, a lone update
    object read as a list of one; what cannot be read at all is skipped and counted in the summary."""
    from references.crossref import MAX_SHORT_TEXT

    today = timezone.localdate()
    indexed = {"date-parts": [[today.year, today.month, today.day]]}
    work = make_reference("10.5555/psychly.typed.work")
    single = make_reference("10.5555/psychly.typed.single")
    notice_list.items = [
        {"DOI": "10.5555/psychly.typed.notice", "indexed": indexed, "title": ["T" * 500_000], "update-to": [
            {"DOI": "10.5555/psychly.typed.work", "type": "retraction", "label": "L" * 100_000,
             "source": ["publisher"], "updated": {"date-parts": [["x", 1, 1]]}}, 7, None]},
        {"DOI": 12345, "indexed": indexed, "update-to": [{"DOI": "10.5555/psychly.typed.work", "type": "retraction"}]},
        {"DOI": "10.5555/" + "x" * 100_000, "indexed": indexed,
         "update-to": [{"DOI": "10.5555/psychly.typed.work", "type": "retraction"}]},
        {"DOI": "10.5555/psychly.typed.string", "indexed": indexed, "update-to": "retraction"},
        {"DOI": "10.5555/psychly.typed.numbers", "indexed": indexed, "update-to": [3, "x"]},
        ["not", "an", "object"],
        {"DOI": "10.5555/psychly.typed.single-notice", "indexed": indexed,
         "update-to": {"DOI": "10.5555/psychly.typed.single", "type": "expression_of_concern"}},
    ]
    out = io.StringIO()
    call_command("watch_retractions", stdout=out)
    sweep = RetractionSweep.objects.get()
    assert (sweep.status, sweep.notices_seen, sweep.references_updated) == (SweepStatus.COMPLETED, 7, 2)
    assert out.getvalue().rstrip().endswith(", 5 mistyped item(s) skipped.")
    work.refresh_from_db()
    [update] = work.updates
    assert (update["type"], update["DOI"], update["source"], update["updated"]) == (
        "retraction", "10.5555/psychly.typed.notice", "publisher", "")
    assert update["label"] == "L" * MAX_SHORT_TEXT
    assert work.retraction_status == RetractionStatus.RETRACTED
    assert notice_keys(single) == [("expression_of_concern", "10.5555/psychly.typed.single-notice")]


def test_read_items_counts_only_what_cannot_be_read():
    items = [{"DOI": "10.5555/a", "update-to": []}, {"DOI": "10.5555/b"}, {"DOI": None}, "x"]
    readable, skipped = watch.read_items(items)
    assert [item["DOI"] for item in readable] == ["10.5555/a", "10.5555/b"] and skipped == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "words"), [
    ([1, 2], "not a list of works (got 'list')"),
    ({"message-type": "work-list", "message": {"items": [], "next-cursor": 42}}, "unusable next-cursor (got '42')"),
    ({"message-type": "work-list", "message": {"items": [], "next-cursor": "c" * 10_000}}, "unusable next-cursor"),
])
def test_a_mistyped_list_answer_fails_the_sweep_with_a_clear_message(body, words, monkeypatch, settings):
    import json

    def answer(*args, **kwargs):
        return watch.http.Answer(status=200, headers={}, body=json.dumps(body).encode())

    monkeypatch.setattr(watch.http, "get", answer)
    with pytest.raises(watch.SweepError, match=words.replace("(", r"\(").replace(")", r"\)")):
        watch.run_sweep()
    assert RetractionSweep.objects.get().status == SweepStatus.FAILED


@pytest.mark.django_db
def test_a_trickling_list_ends_with_its_page_budget_named_for_the_sweep(fake_crossref, settings):
    """The list endpoint sending a byte every 20 ms: the page's budget (not the sweep's 10 s deadline) ends it."""
    import time

    settings.CROSSREF_COMMAND_BUDGET = 0.5
    settings.RETRACTION_SWEEP_TIMEOUT = 10
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    started = time.monotonic()
    with pytest.raises(CommandError) as raised:
        call_command("watch_retractions", stdout=io.StringIO())
    assert time.monotonic() - started < 2
    message = str(raised.value)
    assert message.startswith("Retraction sweep failed: Crossref did not finish its answer in the 0.5 seconds left; "
                              "time budget for one page of the retraction sweep (0.5 s, CROSSREF_COMMAND_BUDGET) "
                              "spent; try again. The next run resumes it.")
    assert "this request" not in message
    assert RetractionSweep.objects.get().status == SweepStatus.FAILED


@pytest.mark.django_db
def test_a_wait_longer_than_the_page_budget_left_is_not_waited_for(settings, monkeypatch):
    """The budget's clock moves only while the sweep waits between retries."""
    from references import budget

    clock, waits = [1000.0], []

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(budget, "monotonic", lambda: clock[0])
    monkeypatch.setattr(watch, "sleep", sleep)
    settings.CROSSREF_COMMAND_BUDGET = 5
    settings.CROSSREF_MAX_RETRIES = 3
    with FakeNoticeList(indexed_today(recorded_items())) as server:
        settings.CROSSREF_API_URL = server.url
        server.fail_on_page(1)
        with pytest.raises(watch.SweepError, match="answered 500 to the list of notices and asks to wait 4 seconds"):
            watch.run_sweep()
        assert len(server.requests) == 3
    # Waits of 1 and 2 seconds leave 2 of the 5: a third of 4 would pass the budget.
    assert waits == [1.0, 2.0]
