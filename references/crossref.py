"""Every call to Crossref goes through here.

crossrefapi is used for its request machinery and polite-pool etiquette, but
not for ``Works.doi()``: that builds an https URL on a hard-coded host, does not
percent-encode the DOI, returns ``None`` or a non-dict on errors and never
retries. Here the DOI is encoded, the endpoint comes from settings (so a mirror
or a local server works), every failure becomes one of our exceptions, and
rate limits and server errors are retried with backoff.
"""

import time
from urllib.parse import quote

import requests
from crossref.restful import Etiquette, Works
from django.conf import settings

APPLICATION = "Psychly Editorial"
APPLICATION_VERSION = "0.1"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Waits between attempts; a Retry-After header is honoured up to the cap.
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


class CrossrefBadResponse(CrossrefError):
    """Crossref answered, but not with a work."""


def works_endpoint():
    """A crossrefapi Works endpoint with our etiquette and timeout; throttling is ours."""
    etiquette = Etiquette(
        APPLICATION, APPLICATION_VERSION, settings.SITE_URL, settings.CROSSREF_MAILTO or "anonymous"
    )
    # crossrefapi's own throttle sleeps on every call and crashes on some
    # header values ("50, 50"); retries and backoff are handled below instead.
    return Works(etiquette=etiquette, throttle=False, timeout=settings.CROSSREF_TIMEOUT)


def work_url(doi):
    """The URL of a work on the configured Crossref endpoint, with the DOI percent-encoded."""
    base = settings.CROSSREF_API_URL.rstrip("/")
    return f"{base}/works/{quote(doi, safe='/')}"


def _retry_delay(response, attempt):
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.strip().isdigit():
        return min(float(retry_after), BACKOFF_CAP_SECONDS)
    return min(BACKOFF_BASE_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)


def fetch_work(doi):
    """The Crossref work message (a dict) for a normalised DOI; raises a CrossrefError subclass."""
    works = works_endpoint()
    url = work_url(doi)
    attempts = 1 + max(settings.CROSSREF_MAX_RETRIES, 0)
    for attempt in range(attempts):
        try:
            response = works.do_http_request(
                "get", url, custom_header=works.custom_header, timeout=works.timeout
            )
        except requests.Timeout as exc:
            raise CrossrefUnavailable(
                f"Crossref did not answer within {settings.CROSSREF_TIMEOUT:g} seconds for {doi}."
            ) from exc
        except requests.RequestException as exc:
            raise CrossrefUnavailable(f"Crossref could not be reached for {doi}: {exc.__class__.__name__}.") from exc

        if response.status_code in RETRY_STATUSES:
            if attempt + 1 < attempts:
                sleep(_retry_delay(response, attempt))
                continue
            what = "rate limit" if response.status_code == 429 else "server error"
            raise CrossrefUnavailable(
                f"Crossref answered {response.status_code} ({what}) {attempts} times for {doi}; try again later."
            )
        if response.status_code == 404:
            raise WorkNotFound(f"Crossref has no work with the DOI {doi}.")
        if response.status_code != 200:
            raise CrossrefBadResponse(
                f"Crossref refused the request for {doi} with status {response.status_code}: "
                f"{response.text[:200].strip()!r}."
            )
        return _work_message(response, doi)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _work_message(response, doi):
    try:
        body = response.json()
    except ValueError as exc:
        raise CrossrefBadResponse(f"Crossref's answer for {doi} is not JSON.") from exc
    if not isinstance(body, dict) or body.get("message-type") != "work":
        kind = body.get("message-type") if isinstance(body, dict) else type(body).__name__
        raise CrossrefBadResponse(f"Crossref's answer for {doi} is not a work (got {kind!r}).")
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("DOI"), str):
        raise CrossrefBadResponse(f"Crossref's answer for {doi} has no work in its message.")
    return message
