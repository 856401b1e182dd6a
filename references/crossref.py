"""Every call to Crossref goes through here.

Requests go through ``references.http``: each call has a total deadline (``CROSSREF_DEADLINE``, the whole
answer, however slowly it trickles in) and a size cap (``CROSSREF_MAX_BYTES``). crossrefapi supplies only
its ``Etiquette`` (the User-Agent that puts us in Crossref's polite pool); its request machinery and
``Works.doi()`` are not used: they build an https URL on a hard-coded host, do not percent-encode the DOI,
read answers of any size for any time, return ``None`` on errors and never retry. Here the DOI is encoded,
the endpoint comes from settings (a mirror or a local server works), every failure becomes one of our
exceptions, and rate limits and server errors are retried with backoff.

Every operation that calls Crossref runs within a time budget (``references.budget``, re-exported here as
``budget()``), the same one PubMed's calls draw on: an admin request's whole budget
(``CROSSREF_REQUEST_BUDGET``, well under the web worker's timeout) covers every DOI and PMID it adds, the
retries and the waits between them, so the request answers "Crossref unavailable" instead of being killed.
A ``Retry-After`` longer than what is left is not waited for.

Every work message is cleaned (``clean_work``) right after decoding: fields of the wrong JSON type are
coerced or dropped and strings and lists are capped, so the rest of the code only ever sees well-typed data.
"""

import math
import time
from urllib.parse import quote

from crossref.restful import Etiquette
from django.conf import settings

from references import http
# budget, remaining_budget, MIN_CALL_SECONDS and RequestBudgetMiddleware keep their names here for callers.
from references.budget import MIN_CALL_SECONDS, RequestBudgetMiddleware, budget, may_wait, spent_message  # noqa: F401
from references.budget import remaining as remaining_budget

APPLICATION = "Psychly Editorial"
APPLICATION_VERSION = "0.1"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Waits between attempts; a Retry-After header is honoured up to the cap (and never past the budget).
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0

# Tests replace this so retries cost no time.
sleep = time.sleep


class CrossrefError(Exception):
    """Crossref could not give us the work; the message says why."""


class WorkNotFound(CrossrefError):
    """Crossref has no work with this DOI."""


class CrossrefUnavailable(CrossrefError):
    """Crossref could not be reached, timed out, or kept refusing (rate limit, server error)."""


class BudgetSpent(CrossrefUnavailable):
    """The operation's time budget ran out before Crossref was asked (or could answer)."""


class CrossrefBadResponse(CrossrefError):
    """Crossref answered, but not with a work."""


# Calls -------------------------------------------------------------------


def etiquette():
    return Etiquette(APPLICATION, APPLICATION_VERSION, settings.SITE_URL, settings.CROSSREF_MAILTO or "anonymous")


def request_headers():
    return {"User-Agent": str(etiquette()), "Accept": "application/json"}


def work_url(doi):
    """The URL of a work on the configured Crossref endpoint, with the DOI percent-encoded."""
    base = settings.CROSSREF_API_URL.rstrip("/")
    return f"{base}/works/{quote(doi, safe='/')}"


def _retry_delay(answer, attempt):
    retry_after = answer.headers.get("Retry-After", "")
    if retry_after.strip().isdigit():
        return min(float(retry_after), BACKOFF_CAP_SECONDS)
    return min(BACKOFF_BASE_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)


def _size(limit):
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    return f"{limit:,} bytes"


def fetch_work(doi):
    """The cleaned Crossref work message (a dict) for a normalised DOI; raises a CrossrefError subclass."""
    if remaining_budget() is None:
        # Outside any operation (a shell, a script), one fetch is its own operation.
        with budget(settings.CROSSREF_REQUEST_BUDGET, description="this lookup (CROSSREF_REQUEST_BUDGET)"):
            return _fetch_work(doi)
    return _fetch_work(doi)


def _fetch_work(doi):
    url = work_url(doi)
    attempts = 1 + max(settings.CROSSREF_MAX_RETRIES, 0)
    for attempt in range(attempts):
        try:
            # The reader cuts the call to what is left of the budget, or asks nothing when too little is.
            answer = http.get(
                url, headers=request_headers(), deadline_seconds=settings.CROSSREF_DEADLINE,
                max_bytes=settings.CROSSREF_MAX_BYTES, read_timeout=settings.CROSSREF_TIMEOUT, what="Crossref",
            )
        except http.BudgetSpent as exc:
            if not exc.asked:
                raise BudgetSpent(f"{exc.spent} ({doi} was not looked up).") from exc
            raise BudgetSpent(
                f"Crossref did not finish its answer for {doi} in the {exc.seconds:.1f} seconds left; {exc.spent}."
            ) from exc
        except http.DeadlineExceeded as exc:
            raise CrossrefUnavailable(f"{str(exc).rstrip('.')} for {doi}.") from exc
        except http.AnswerTooLarge as exc:
            raise CrossrefBadResponse(
                f"Crossref's answer for {doi} is larger than {_size(settings.CROSSREF_MAX_BYTES)}, the most accepted."
            ) from exc
        except http.Unreachable as exc:
            reason = str(exc).removeprefix("Crossref ").rstrip(".")
            raise CrossrefUnavailable(f"Crossref could not be reached for {doi}: {reason}.") from exc

        if answer.status in RETRY_STATUSES:
            what = "rate limit" if answer.status == 429 else "server error"
            if attempt + 1 < attempts:
                delay = _retry_delay(answer, attempt)
                if not may_wait(delay):
                    raise BudgetSpent(
                        f"Crossref answered {answer.status} ({what}) for {doi} and asks to wait {delay:g} seconds, "
                        f"more than the {max(remaining_budget(), 0):.1f} left; {spent_message()}."
                    )
                sleep(delay)
                continue
            raise CrossrefUnavailable(
                f"Crossref answered {answer.status} ({what}) {attempts} times for {doi}; try again later."
            )
        if answer.status == 404:
            raise WorkNotFound(f"Crossref has no work with the DOI {doi}.")
        if answer.status != 200:
            raise CrossrefBadResponse(
                f"Crossref refused the request for {doi} with status {answer.status}: {answer.text[:200].strip()!r}."
            )
        return _work_message(answer, doi)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _work_message(answer, doi):
    try:
        body = answer.json()
    except (ValueError, RecursionError) as exc:
        raise CrossrefBadResponse(f"Crossref's answer for {doi} is not JSON.") from exc
    if not isinstance(body, dict) or body.get("message-type") != "work":
        kind = body.get("message-type") if isinstance(body, dict) else type(body).__name__
        raise CrossrefBadResponse(f"Crossref's answer for {doi} is not a work (got {str(kind)[:40]!r}).")
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("DOI"), str):
        raise CrossrefBadResponse(f"Crossref's answer for {doi} has no work in its message.")
    return clean_work(message)


# Cleaning a work message -------------------------------------------------

MAX_DOI = 255
MAX_TITLE = 2_000
MAX_SHORT_TEXT = 300
MAX_LONG_TEXT = 20_000
MAX_ITEMS = 1_000
MAX_SHORT_LIST = 20
MAX_DEPTH = 6
MAX_KEYS = 200

STRING_LIST_FIELDS = {"title", "subtitle", "original-title", "short-title", "container-title",
                      "short-container-title", "group-title", "ISSN", "ISBN", "subject", "alternative-id",
                      "archive"}
TEXT_FIELDS = {"type": 50, "subtype": 50, "volume": MAX_SHORT_TEXT, "issue": MAX_SHORT_TEXT,
               "page": MAX_SHORT_TEXT, "article-number": MAX_SHORT_TEXT, "publisher": MAX_SHORT_TEXT,
               "publisher-location": MAX_SHORT_TEXT, "URL": 2_000, "language": 20, "prefix": 50, "member": 50,
               "source": 50, "abstract": MAX_LONG_TEXT, "edition-number": 50, "part-number": 50}
DATE_FIELDS = {"issued", "published", "published-print", "published-online", "posted", "created", "deposited",
               "indexed", "accepted", "approved", "content-created", "content-updated"}
PEOPLE_FIELDS = {"author", "editor", "translator", "chair"}
PERSON_TEXT = {"given", "family", "name", "literal", "suffix", "prefix", "ORCID", "sequence"}
UPDATE_FIELDS = {"updated-by", "update-to"}
UPDATE_TEXT = {"type", "DOI", "label", "source", "record-id"}
# Year, month, day: a part outside these makes the date unknown.
DATE_PART_RANGES = [(1, 9999), (1, 12), (1, 31)]


def clean_work(message):
    """A work message with every field we read of the right type, strings and lists capped.

    Wrong-typed fields are coerced where the intent is plain (a title as a string becomes a list of one,
    a volume as a number its digits, a date part "2019" the year) and dropped otherwise; fields we do
    not read are kept, bounded in size and depth. Raises CrossrefBadResponse without a usable DOI.
    """
    doi = message.get("DOI") if isinstance(message, dict) else None
    doi = doi.strip() if isinstance(doi, str) else ""
    if not (doi.startswith("10.") and len(doi) <= MAX_DOI and doi.isprintable() and not any(c.isspace() for c in doi)):
        raise CrossrefBadResponse(f"Crossref's work message has no usable DOI (got {str(doi)[:60]!r}).")
    cleaned = {}
    for key, value in list(message.items())[:MAX_KEYS]:
        if not isinstance(key, str):
            continue
        if key == "DOI":
            value = doi
        elif key in STRING_LIST_FIELDS:
            value = _string_list(value, MAX_TITLE)
        elif key in TEXT_FIELDS:
            value = _text(value, TEXT_FIELDS[key])
        elif key in DATE_FIELDS:
            value = _date(value)
        elif key in PEOPLE_FIELDS:
            value = _people(value)
        elif key in UPDATE_FIELDS:
            value = _updates(value)
        else:
            value = _bounded(value, MAX_DEPTH)
        if value is not None:
            cleaned[key] = value
    return cleaned


def _text(value, limit):
    """A string, from a string or a number (a volume deposited as 12); anything else is None."""
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (int, float)):
        value = f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list) and len(value) == 1:
        return _text(value[0], limit)
    if not isinstance(value, str):
        return None
    return value[:limit]


def _string_list(value, limit):
    if not isinstance(value, list):
        value = [value]
    strings = (_text(item, limit) for item in value[:MAX_SHORT_LIST * 5] if not isinstance(item, list))
    return [item for item in strings if item is not None][:MAX_SHORT_LIST] or None


def _date_part(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 4:
        return int(value.strip())
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def _date(value):
    """{"date-parts": [[year, month, day]]} with plausible integers, or None when there is no such date."""
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if not isinstance(parts, list) or not parts or not isinstance(parts[0], list):
        return None
    first = []
    for raw, (low, high) in zip(parts[0], DATE_PART_RANGES):
        part = _date_part(raw)
        if part is None or not low <= part <= high:
            break
        first.append(part)
    if not first:
        return None
    date = {"date-parts": [first]}
    for key in ("date-time", "timestamp"):
        if isinstance(value.get(key), str):
            date[key] = value[key][:50]
        elif isinstance(value.get(key), int) and not isinstance(value.get(key), bool):
            date[key] = value[key]
    return date


def _people(value):
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    people = []
    for person in value[:MAX_ITEMS]:
        if not isinstance(person, dict):
            continue
        cleaned = {key: _text(person.get(key), MAX_SHORT_TEXT) for key in PERSON_TEXT}
        cleaned = {key: text for key, text in cleaned.items() if text is not None}
        affiliations = person.get("affiliation")
        if isinstance(affiliations, list):
            cleaned["affiliation"] = [
                {"name": name} for name in (
                    _text(a.get("name"), MAX_SHORT_TEXT) for a in affiliations[:MAX_SHORT_LIST] if isinstance(a, dict)
                ) if name is not None
            ]
        if isinstance(person.get("authenticated-orcid"), bool):
            cleaned["authenticated-orcid"] = person["authenticated-orcid"]
        if cleaned:
            people.append(cleaned)
    return people


def _updates(value):
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    updates = []
    for entry in value[:MAX_ITEMS]:
        if not isinstance(entry, dict):
            continue
        cleaned = {key: _text(entry.get(key), MAX_SHORT_TEXT) for key in UPDATE_TEXT}
        cleaned = {key: text for key, text in cleaned.items() if text is not None}
        updated = _date(entry.get("updated"))
        if updated is not None:
            cleaned["updated"] = updated
        if cleaned:
            updates.append(cleaned)
    return updates


def _bounded(value, depth):
    """Any JSON value, with strings, lists, objects and nesting capped; what is too deep is dropped."""
    if isinstance(value, str):
        return value[:MAX_LONG_TEXT]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and Infinity parse as JSON here but PostgreSQL's jsonb refuses them
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth <= 0:
        return None
    if isinstance(value, list):
        return [item for item in (_bounded(v, depth - 1) for v in value[:MAX_ITEMS]) if item is not None]
    if isinstance(value, dict):
        items = ((k, _bounded(v, depth - 1)) for k, v in list(value.items())[:MAX_KEYS] if isinstance(k, str))
        return {k[:MAX_SHORT_TEXT]: v for k, v in items if v is not None}
    return None
