"""Retraction watch: Crossref's new editorial notices, matched against the references we hold.

Fetching every cited DOI again takes hours at literature scale; instead the sweep asks Crossref for the
notices *indexed* since the last completed sweep (``filter=is-update:true,from-index-date:...``, which also
catches notices deposited late, unlike publication dates), pages through them with a cursor (no 10,000-row
offset cap), and looks each page's updated DOIs up in one indexed query. Each notice found is recorded on its
reference by ``apply_notices``, which the Retraction Watch CSV import (references.retraction_watch) shares.

Safe from cron on every server: one row in RetractionSweep may be "running" (a partial unique constraint, so
a second sweep cannot start while one is alive, on SQLite and PostgreSQL alike), and recording a notice is
idempotent under the reference's row lock, keyed on (type, notice DOI), so a re-run or a resumed sweep never
records one twice. The watermark (the last completed sweep) moves only when a sweep completes. PubMed's part
has a watermark of its own (the last sweep whose PubMed part completed): PubMed failing leaves it where it was
and the sweep goes on with Crossref, so one authority's outage neither stops the other nor loses a window.
"""

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from references import budget, http
from references.crossref import APPLICATION, APPLICATION_VERSION, CrossrefBadResponse, clean_work
from references.doi import InvalidDOI, normalise_doi
from references.metadata import (
    CONCERN_UPDATES, CORRECTING_UPDATES, RETRACTING_UPDATES, normalise_update_type, retraction_status_for,
)
from references.models import Reference, RetractionSweep, SweepStatus
from references.signals import reference_status_changed

ROWS = 1000
SELECT = "DOI,update-to,type,title,indexed"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Crossref forgets a cursor five minutes after its last use; an older one cannot resume a sweep.
CURSOR_LIFETIME = datetime.timedelta(minutes=5)
# "reinstatement" comes from Retraction Watch's data; it is shown, and never lifts a retraction by itself.
EDITORIAL_UPDATES = RETRACTING_UPDATES | CONCERN_UPDATES | CORRECTING_UPDATES | {"reinstatement"}

# Tests replace this so retries cost no time.
sleep = time.sleep


class SweepError(Exception):
    """The sweep could not finish; the message says why. Its progress is kept for the next run."""


class SweepBusy(SweepError):
    """Another sweep is running."""


@dataclass(frozen=True)
class Notice:
    """One editorial notice about one work: ``target_doi`` (or ``target_pmid``) is the work it updates."""

    type: str
    doi: str
    label: str
    source: str
    updated: str = ""
    target_doi: str = ""
    target_pmid: str = ""

    @property
    def key(self):
        return (self.type, self.doi)

    def as_update(self):
        """The compact form stored in Reference.updates (as references.metadata.updates_from_work makes)."""
        return {"type": self.type, "DOI": self.doi, "label": self.label, "source": self.source,
                "updated": self.updated}


def _date(value):
    parts = (value or {}).get("date-parts") or [[]]
    first = parts[0] or []
    return "-".join(f"{int(p):02d}" for p in first if p is not None)


def _doi_or_blank(raw):
    try:
        return normalise_doi(raw) if raw else ""
    except InvalidDOI:
        return ""


def notices_from_item(item):
    """The editorial notices one work-list item announces, one per (updated DOI, type).

    ``update-to`` entries naming the notice itself (some publishers deposit those) and relations that are no
    notice (new_version, new_edition) are skipped; types are spelled canonically ("Retraction", "retration").
    """
    notice_doi = _doi_or_blank(item.get("DOI"))
    found = {}
    for entry in item.get("update-to") or []:
        if not isinstance(entry, dict):
            continue
        kind = normalise_update_type(entry.get("type"))
        target = _doi_or_blank(entry.get("DOI"))
        if kind not in EDITORIAL_UPDATES or not target or target == notice_doi:
            continue
        found.setdefault((target, kind), Notice(
            type=kind, doi=notice_doi, label=entry.get("label") or kind.replace("_", " ").capitalize(),
            source=entry.get("source") or "publisher", updated=_date(entry.get("updated")), target_doi=target,
        ))
    return list(found.values())


@dataclass
class Applied:
    reference: Reference
    added: list = field(default_factory=list)
    was_support: bool = True
    is_support: bool = True
    newly_retracted: bool = False


def apply_notices(reference, notices):
    """Record ``notices`` on ``reference`` (those not already there) and tell articles; returns Applied.

    Under the reference's row lock the stored updates are read again, so two sweeps, or a sweep and an import,
    never record one notice twice. The signal is sent inside the transaction, as a refresh sends it: the
    articles it sends back to review commit or roll back with the notice.
    """
    with transaction.atomic():
        return _apply_locked(Reference.objects.select_for_update().get(pk=reference.pk), notices)


def _apply_locked(reference, notices):
    """apply_notices on a reference read under its row lock, inside the caller's transaction."""
    before = list(reference.updates or [])
    known = {(normalise_update_type(u.get("type")), (u.get("DOI") or "").lower()) for u in before}
    added = []
    for notice in notices:
        if notice.key not in known:
            known.add(notice.key)
            added.append(notice)
    result = Applied(reference=reference, added=added, was_support=reference.counts_as_support,
                     is_support=reference.counts_as_support)
    if not added:
        return result
    was_retracted, old_status = reference.is_retracted, reference.retraction_status
    reference.updates = before + [notice.as_update() for notice in added]
    reference.retraction_status = retraction_status_for(reference.updates)
    reference.save(update_fields=["updates", "retraction_status", "updated_at"])
    changes = {"updates": (before, reference.updates)}
    if old_status != reference.retraction_status:
        changes["retraction_status"] = (old_status, reference.retraction_status)
    result.is_support = reference.counts_as_support
    result.newly_retracted = reference.is_retracted and not was_retracted
    reference_status_changed.send(
        sender=Reference, reference=reference, was_support=result.was_support, is_support=result.is_support,
        newly_retracted=result.newly_retracted, changes=changes,
    )
    return result


def keep_notices(reference, previous):
    """After a refresh replaced ``updates`` with Crossref's list, keep the notices recorded before that it lacks.

    A notice found by the sweep, the Retraction Watch dataset or PubMed is not taken back because one
    authority's record does not carry it: a retraction is never lifted by a refresh. Unsaved changes.
    """
    current = {(normalise_update_type(u.get("type")), (u.get("DOI") or "").lower()) for u in reference.updates}
    kept = [u for u in previous or []
            if (normalise_update_type(u.get("type")), (u.get("DOI") or "").lower()) not in current]
    if kept:
        reference.updates = list(reference.updates) + kept
        reference.retraction_status = retraction_status_for(reference.updates)
    return reference


def matching_references(dois, pmids=()):
    """The references with one of ``dois`` (lower-cased) or ``pmids``: one query, through indexes only.

    lower(doi) is what the unique DOI index covers and pmid is unique, so at any library size each value is
    one index probe.
    """
    condition = Q(doi_key__in=dois) if dois else Q()
    if pmids:
        condition = condition | Q(pmid__in=pmids) if dois else Q(pmid__in=pmids)
    return Reference.objects.annotate(doi_key=Lower("doi")).filter(condition).order_by("pk")


def record_notices(notices):
    """Apply notices to every reference they name (by DOI or PMID); returns (matched references, notices added)."""
    by_doi, by_pmid = defaultdict(list), defaultdict(list)
    for notice in notices:
        if notice.target_doi:
            by_doi[notice.target_doi].append(notice)
        if notice.target_pmid:
            by_pmid[notice.target_pmid].append(notice)
    if not by_doi and not by_pmid:
        return 0, 0
    updated = added = 0
    # One transaction per page: the matches are locked in one query (in primary-key order, so two sweeps never
    # wait on each other in a circle) and committed together, instead of a commit per reference.
    with transaction.atomic():
        for reference in matching_references(list(by_doi), list(by_pmid)).select_for_update(of=("self",)):
            wanted = by_doi.get((reference.doi or "").lower(), []) + by_pmid.get(reference.pmid or "", [])
            result = _apply_locked(reference, wanted)
            if result.added:
                updated += 1
                added += len(result.added)
    return updated, added


# ---- Crossref's list of notices -------------------------------------------------------------------------------


def _headers():
    contact = f"; mailto:{settings.CROSSREF_MAILTO}" if settings.CROSSREF_MAILTO else ""
    return {"User-Agent": f"{APPLICATION}/{APPLICATION_VERSION} ({settings.SITE_URL}{contact})",
            "Accept": "application/json"}


# Crossref's cursors are a few hundred characters; anything far longer is not one.
MAX_CURSOR = 4_000


def read_items(items):
    """(The list items the sweep can read, how many were skipped as mistyped.)

    Each item is cleaned as a work is (references.crossref.clean_work): strings capped, dates checked,
    ``update-to`` as one entry coerced to a list. An item that is not an object, has no usable DOI, or has an
    ``update-to`` of no entries to read is skipped and counted, never an exception.
    """
    readable, skipped = [], 0
    for item in items:
        try:
            cleaned = clean_work(item) if isinstance(item, dict) else None
        except CrossrefBadResponse:
            cleaned = None
        if cleaned is None or (item.get("update-to") not in (None, []) and not cleaned.get("update-to")):
            skipped += 1
            continue
        readable.append(cleaned)
    return readable, skipped


def fetch_page(from_date, cursor, *, rows=None):
    """One page of notices indexed since ``from_date``: (items, next cursor, total results); raises SweepError.

    The page, its retries and their waits share one time budget (CROSSREF_COMMAND_BUDGET, within any
    enclosing budget). Items are returned as Crossref sent them; ``read_items`` cleans them.
    """
    with budget.command_budget("one page of the retraction sweep"):
        return _fetch_page(from_date, cursor, rows=rows)


def _fetch_page(from_date, cursor, *, rows=None):
    params = {
        "filter": f"is-update:true,from-index-date:{from_date:%Y-%m-%d}",
        "cursor": cursor, "rows": rows or ROWS, "select": SELECT,
    }
    if settings.CROSSREF_MAILTO:
        params["mailto"] = settings.CROSSREF_MAILTO
    url = settings.CROSSREF_API_URL.rstrip("/") + "/works"
    attempts = 1 + max(settings.CROSSREF_MAX_RETRIES, 0)
    for attempt in range(attempts):
        try:
            answer = http.get(
                url, params=params, headers=_headers(), deadline_seconds=settings.RETRACTION_SWEEP_TIMEOUT,
                max_bytes=settings.RETRACTION_SWEEP_MAX_BYTES, what="Crossref",
            )
        except http.OutsideCallError as exc:
            raise SweepError(str(exc)) from exc
        if answer.status in RETRY_STATUSES and attempt + 1 < attempts:
            retry_after = answer.headers.get("Retry-After", "")
            delay = min(float(retry_after) if retry_after.strip().isdigit() else 2.0**attempt, 30.0)
            if not budget.may_wait(delay):
                raise SweepError(
                    f"Crossref answered {answer.status} to the list of notices and asks to wait {delay:g} seconds, "
                    f"more than the {max(budget.remaining(), 0):.1f} left; {budget.spent_message()}."
                )
            sleep(delay)
            continue
        break
    if answer.status != 200:
        raise SweepError(f"Crossref answered {answer.status} to the list of notices: {answer.text[:200].strip()!r}.")
    try:
        body = answer.json()
    except (ValueError, RecursionError) as exc:
        raise SweepError("Crossref's list of notices is not JSON.") from exc
    kind = body.get("message-type") if isinstance(body, dict) else type(body).__name__
    message = body.get("message") if isinstance(body, dict) else None
    if kind != "work-list" or not isinstance(message, dict) or not isinstance(message.get("items"), list):
        raise SweepError(f"Crossref's answer is not a list of works (got {str(kind)[:40]!r}).")
    next_cursor = message.get("next-cursor") or ""
    if not isinstance(next_cursor, str) or len(next_cursor) > MAX_CURSOR or not next_cursor.isprintable():
        # Without a cursor to go on the sweep would end here and count as complete, missing the later pages.
        raise SweepError(f"Crossref's list of notices has an unusable next-cursor (got {str(next_cursor)[:40]!r}).")
    total = message.get("total-results")
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    return message["items"], next_cursor, total


# ---- PubMed's "Retracted Publication" ------------------------------------------------------------------------

PUBMED_TERM = '"Retracted Publication"[pt]'
# esearch returns at most this many ids a call; a day's modified retracted records are far fewer.
PUBMED_PAGE = 5000
PUBMED_MAX = 9999


def pubmed_retractions(from_date, until_date):
    """(PMIDs PubMed tags "Retracted Publication" among records modified in the window, requests made).

    Raises SweepError.

    The modification date, not the entry date: the tag is added to a record years after it entered PubMed.
    """
    from references import pubmed

    pmids, start, requests = [], 0, 0
    while True:
        params = {
            "db": "pubmed", "term": PUBMED_TERM, "datetype": "mdat", "mindate": f"{from_date:%Y/%m/%d}",
            "maxdate": f"{until_date:%Y/%m/%d}", "retmax": PUBMED_PAGE, "retstart": start, "retmode": "json",
        }
        try:
            with budget.command_budget("one PubMed search of the retraction sweep"):
                answer = pubmed._get("esearch.fcgi", params, "the search for retracted publications")
            requests += 1
            result = answer.json()["esearchresult"] if answer.status == 200 else None
            ids, count = [str(i) for i in result["idlist"]], int(result["count"])
        except pubmed.PubMedError as exc:
            raise SweepError(str(exc)) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise SweepError(f"PubMed's answer to the search for retracted publications is not an esearch "
                             f"result (status {answer.status}).") from exc
        pmids += ids
        start += len(ids)
        if not ids or start >= min(count, PUBMED_MAX):
            return pmids, requests


def record_pubmed_retractions(from_date, until_date):
    """Record PubMed's retractions on our references known by PMID; returns (references updated, requests)."""
    if not Reference.objects.filter(pmid__isnull=False).exists():
        return 0, 0
    pmids, requests = pubmed_retractions(from_date, until_date)
    updated = 0
    for start in range(0, len(pmids), ROWS):
        # The same form references.pubmed gives a record's own "Retracted Publication" type, so the two never
        # make two notices of one.
        notices = [Notice(type="retraction", doi="", label="Retracted Publication (PubMed)", source="pubmed",
                          target_pmid=pmid) for pmid in pmids[start:start + ROWS]]
        updated += record_notices(notices)[0]
    return updated, requests


# ---- The sweep --------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    sweep: RetractionSweep
    requests: int = 0
    pubmed_requests: int = 0
    resumed: bool = False
    # List items skipped as mistyped in this run (references.watch.read_items).
    skipped: int = 0

    def __str__(self):
        s = self.sweep
        pubmed = ""
        if s.pubmed_error:
            pubmed = (f"; PubMed failed ({s.pubmed_error.rstrip('.')}), its window from "
                      f"{s.pubmed_from_date or s.from_date:%Y-%m-%d} is asked again next run")
        return (
            f"Retraction sweep from {s.from_date:%Y-%m-%d}: {s.status}, {s.pages} page(s), {s.notices_seen} "
            f"notice(s) seen, {s.references_updated} reference(s) updated, {self.requests} Crossref request(s)"
            + (f", {self.pubmed_requests} PubMed request(s)" if self.pubmed_requests else "")
            + (f", {self.skipped} mistyped item(s) skipped" if self.skipped else "")
            + pubmed + "."
        )


def watermark():
    """The last completed sweep, or None."""
    return RetractionSweep.objects.filter(status=SweepStatus.COMPLETED).order_by("-started_at", "-pk").first()


def pubmed_watermark():
    """The last sweep whose PubMed part completed, or None: PubMed's next window starts on the day it started."""
    return RetractionSweep.objects.filter(pubmed_done=True).order_by("-started_at", "-pk").first()


def _pubmed_from(from_date):
    """Where PubMed's window starts: the oldest window a sweep's PubMed part missed since its watermark, else the
    day of that watermark, else ``from_date`` (Crossref's)."""
    last = pubmed_watermark()
    missed = RetractionSweep.objects.filter(pubmed_done=False)
    if last:
        missed = missed.filter(started_at__gt=last.started_at)
    oldest = missed.order_by("started_at", "pk").first()
    if oldest:
        return min(oldest.pubmed_from_date or oldest.from_date, from_date)
    return min(timezone.localdate(last.started_at), from_date) if last else from_date


def _claim(now):
    """The sweep this run carries out: a failed or stalled one resumed, else a new one; raises SweepBusy."""
    stale = now - datetime.timedelta(minutes=settings.RETRACTION_SWEEP_STALE_MINUTES)
    last = watermark()
    unfinished = RetractionSweep.objects.exclude(status=SweepStatus.COMPLETED)
    if last:
        unfinished = unfinished.filter(started_at__gte=last.started_at)
    # At most one row is running (a constraint), whatever its age.
    running = RetractionSweep.objects.filter(status=SweepStatus.RUNNING).first()
    if running and running.heartbeat_at >= stale:
        raise SweepBusy(f"Another retraction sweep is running (started {running.started_at:%Y-%m-%d %H:%M} UTC).")
    candidate = running or unfinished.filter(status=SweepStatus.FAILED).order_by("-started_at", "-pk").first()
    if candidate:
        last_heard = candidate.heartbeat_at
        # A conditional update: of two runs taking the same sweep over, one changes the row and the other none
        # (or meets the one-running constraint).
        try:
            with transaction.atomic():
                changed = RetractionSweep.objects.filter(
                    pk=candidate.pk, status=candidate.status, heartbeat_at=last_heard
                ).update(status=SweepStatus.RUNNING, heartbeat_at=now, error="")
        except IntegrityError:
            changed = 0
        if not changed:
            raise SweepBusy("Another retraction sweep took the unfinished one over first.")
        candidate.refresh_from_db()
        return candidate, last_heard
    first_days = settings.RETRACTION_SWEEP_FIRST_DAYS
    from_date = timezone.localdate(last.started_at) if last else timezone.localdate(now) - datetime.timedelta(
        days=first_days)
    pubmed_from = _pubmed_from(from_date)
    try:
        with transaction.atomic():
            sweep = RetractionSweep.objects.create(from_date=from_date, pubmed_from_date=pubmed_from,
                                                   started_at=now, heartbeat_at=now)
    except IntegrityError as exc:
        raise SweepBusy("Another retraction sweep started at the same moment.") from exc
    return sweep, None


def run_sweep(*, now=None, progress=None):
    """Ask Crossref for notices since the watermark, record those on our references; returns SweepResult.

    ``progress``, if given, is called with the number of items after each page. Raises SweepBusy when another
    sweep is running, SweepError (after saving how far it got) when Crossref fails.
    """
    now = now or timezone.now()
    sweep, last_heard = _claim(now)
    result = SweepResult(sweep=sweep, resumed=last_heard is not None)
    # A saved cursor is usable only while Crossref still remembers it; otherwise the sweep starts over from its
    # index date, which records nothing twice.
    cursor = "*"
    if sweep.cursor and last_heard is not None and now - last_heard < CURSOR_LIFETIME:
        cursor = sweep.cursor
    # Counted only from a fresh start ("*"), when Crossref's total-results covers exactly what this run reads.
    fetched = 0 if cursor == "*" else None
    try:
        if not sweep.pubmed_done:
            _pubmed_part(sweep, result, timezone.localdate(now))
        while True:
            items, next_cursor, total = fetch_page(sweep.from_date, cursor)
            result.requests += 1
            readable, skipped = read_items(items)
            result.skipped += skipped
            notices = [notice for item in readable for notice in notices_from_item(item)]
            updated, _added = record_notices(notices)
            sweep.pages += 1
            sweep.notices_seen += len(items)
            sweep.references_updated += updated
            sweep.cursor = next_cursor
            sweep.heartbeat_at = timezone.now()
            sweep.save(update_fields=["pages", "notices_seen", "references_updated", "cursor", "heartbeat_at"])
            if progress:
                progress(len(items))
            if fetched is not None:
                fetched += len(items)
            # The last page is the one shorter than a page, or the one reaching the total: no empty page is asked.
            if len(items) < ROWS or not next_cursor or (fetched is not None and total is not None
                                                         and fetched >= total):
                break
            cursor = next_cursor
    except Exception as exc:
        sweep.status, sweep.error = SweepStatus.FAILED, str(exc)[:2000]
        sweep.heartbeat_at = timezone.now()
        sweep.save(update_fields=["status", "error", "heartbeat_at"])
        if isinstance(exc, SweepError):
            raise
        raise SweepError(f"The sweep stopped: {exc.__class__.__name__}: {exc}") from exc
    sweep.status, sweep.finished_at, sweep.cursor = SweepStatus.COMPLETED, timezone.now(), ""
    sweep.save(update_fields=["status", "finished_at", "cursor"])
    return result


def _pubmed_part(sweep, result, until):
    """PubMed's part of the sweep, saved on the sweep: done, or failed with the reason (Crossref's part goes on).

    A failed part leaves PubMed's watermark where it was, so the next sweep asks PubMed for the whole window
    again, recording nothing twice.
    """
    try:
        updated, requests = record_pubmed_retractions(sweep.pubmed_from_date or sweep.from_date, until)
    except SweepError as exc:
        sweep.pubmed_error = str(exc)[:2000]
    else:
        sweep.references_updated += updated
        result.pubmed_requests = requests
        sweep.pubmed_done, sweep.pubmed_error = True, ""
    sweep.save(update_fields=["pubmed_done", "pubmed_error", "references_updated"])
