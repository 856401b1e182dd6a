"""Bounded HTTP for every outside authority (Crossref, NCBI): a total deadline, a size cap, JSON checked.

``requests``' own timeout bounds each socket read, not the whole answer: a server that trickles a byte
every few seconds never trips it, and nothing stops a 200 MB body. Here the body is read in pieces as
they arrive, and the deadline and the size cap are checked after each one.
"""

import json
import time
from dataclasses import dataclass

import requests

# Tests replace these so deadlines cost no time.
monotonic = time.monotonic


class OutsideCallError(Exception):
    """An outside call failed; the message says why in words an editor can act on."""


class DeadlineExceeded(OutsideCallError):
    """The whole answer did not arrive within the deadline."""


class AnswerTooLarge(OutsideCallError):
    """The answer was larger than the cap."""


class Unreachable(OutsideCallError):
    """The server could not be reached or dropped the connection."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")


_session = None


def session():
    """One pooled session per process: connection reuse matters at literature scale."""
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


def get(url, *, params=None, headers=None, deadline_seconds, max_bytes, read_timeout=None, what="the server"):
    """GET ``url`` and read the whole answer within ``deadline_seconds`` and ``max_bytes``; returns an Answer.

    ``what`` names the server in messages ("Crossref", "PubMed").
    """
    started = monotonic()
    remaining = deadline_seconds
    timeout = min(read_timeout or deadline_seconds, deadline_seconds)
    try:
        response = session().get(
            url, params=params, headers=headers or {}, stream=True, timeout=(min(timeout, 10.0), timeout)
        )
    except requests.Timeout as exc:
        raise DeadlineExceeded(f"{what} did not answer within {deadline_seconds:g} seconds.") from exc
    except requests.RequestException as exc:
        raise Unreachable(f"{what} could not be reached ({exc.__class__.__name__}).") from exc
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise AnswerTooLarge(f"{what}'s answer is {int(declared):,} bytes, more than the {max_bytes:,} allowed.")
        pieces, size = [], 0
        while True:
            remaining = deadline_seconds - (monotonic() - started)
            if remaining <= 0:
                raise DeadlineExceeded(f"{what} did not finish its answer within {deadline_seconds:g} seconds.")
            try:
                # read1 returns whatever has arrived (at least one byte) instead of waiting for a full buffer,
                # so a trickle is noticed after each piece.
                piece = response.raw.read1(65536)
            except requests.Timeout as exc:  # pragma: no cover - urllib3 raises its own below
                raise DeadlineExceeded(f"{what} stopped sending within {deadline_seconds:g} seconds.") from exc
            except Exception as exc:  # urllib3's ReadTimeoutError, ProtocolError and socket errors
                if "timed out" in str(exc).lower():
                    raise DeadlineExceeded(f"{what} stopped sending its answer for {timeout:g} seconds.") from exc
                raise Unreachable(f"{what} dropped the connection ({exc.__class__.__name__}).") from exc
            if not piece:
                break
            size += len(piece)
            if size > max_bytes:
                raise AnswerTooLarge(f"{what}'s answer is larger than the {max_bytes:,} bytes allowed.")
            pieces.append(piece)
        return Answer(status=response.status_code, headers=dict(response.headers), body=b"".join(pieces))
    finally:
        response.close()
