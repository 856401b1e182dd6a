"""Bounded HTTP for every outside authority (Crossref, NCBI): a total deadline, a size cap, JSON checked.

``requests``' own timeout bounds each socket read, not the whole answer: a server that trickles a byte
every few seconds never trips it, and nothing stops a 200 MB body. Here the body is read in pieces as
they arrive, and the deadline and the size cap are checked after each one. A server can also trickle its
status line and headers, which are read before any of our code runs; so each call arms a timer that cuts
the call's socket when the deadline passes, and the blocked read ends at once. Compressed answers are
inflated piece by piece and the cap counts the inflated bytes, so a small gzip body cannot expand past it.

Every call also draws on the operation's time budget (``references.budget``): its deadline is its own or
what is left of the budget, whichever ends first, and with less than ``MIN_CALL_SECONDS`` left nothing is
asked at all. Either way it raises BudgetSpent, so callers can say which budget ran out.
"""

import contextvars
import json
import socket
import threading
import time
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter

from references import budget

# Tests replace these so deadlines cost no time.
monotonic = time.monotonic


class OutsideCallError(Exception):
    """An outside call failed; the message says why in words an editor can act on."""


class DeadlineExceeded(OutsideCallError):
    """The whole answer did not arrive within the deadline."""


class BudgetSpent(DeadlineExceeded):
    """The operation's time budget ran out before the call could be made (``asked`` False) or finish.

    ``spent`` is the budget's own message ("time budget for this request spent; try again"), ``seconds``
    what was left of it when the call began.
    """

    def __init__(self, message, *, spent, seconds, asked):
        super().__init__(message)
        self.spent, self.seconds, self.asked = spent, seconds, asked


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


class _Call:
    """One call's deadline: when it passes, the socket the call is reading from is shut down."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sock = None
        self.expired = False

    def watch(self, sock):
        with self._lock:
            self._sock = sock
            if self.expired:
                _cut(sock)

    def expire(self):
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _cut(self._sock)


def _cut(sock):
    try:
        # The plain socket's shutdown, even for TLS: the SSL layer's own would tear down state another
        # thread is reading through. The blocked read then returns or fails at once.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


_current_call = contextvars.ContextVar("outside_call", default=None)


class _WatchedConnection:
    """Hands its socket to the running call's timer on connecting and before reading each answer."""

    def connect(self):
        super().connect()
        self._watch()

    def getresponse(self, *args, **kwargs):
        # A kept-alive connection does not connect again, so the socket is handed over here too.
        self._watch()
        return super().getresponse(*args, **kwargs)

    def _watch(self):
        call = _current_call.get()
        if call is not None and self.sock is not None:
            call.watch(self.sock)


class _WatchedHTTPConnection(_WatchedConnection, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager


_session = None


def session():
    """One pooled session per process: connection reuse matters at literature scale."""
    global _session
    if _session is None:
        _session = requests.Session()
        _session.mount("http://", _WatchedAdapter())
        _session.mount("https://", _WatchedAdapter())
    return _session


def get(url, *, params=None, headers=None, deadline_seconds, max_bytes, read_timeout=None, what="the server"):
    """GET ``url`` and read the whole answer within ``deadline_seconds`` and ``max_bytes``; returns an Answer.

    ``what`` names the server in messages ("Crossref", "PubMed"). The deadline is cut to what is left of the
    time budget in force; raises BudgetSpent when the budget, not ``deadline_seconds``, ends the call.
    """
    left = budget.remaining()
    if left is not None and left < budget.MIN_CALL_SECONDS:
        spent = budget.spent_message()
        raise BudgetSpent(f"{spent} ({what} was not asked).", spent=spent, seconds=max(left, 0.0), asked=False)
    if left is None or left >= deadline_seconds:
        return _get_within(url, params, headers, deadline_seconds, max_bytes, read_timeout, what)
    spent = budget.spent_message()
    try:
        return _get_within(url, params, headers, left, max_bytes, read_timeout, what)
    except DeadlineExceeded as exc:
        # The budget's share was shorter than the call's own deadline (and any read timeout within it).
        raise BudgetSpent(
            f"{what} did not finish its answer in the {left:.1f} seconds left; {spent}.", spent=spent, seconds=left,
            asked=True,
        ) from exc


def _get_within(url, params, headers, deadline_seconds, max_bytes, read_timeout, what):
    call = _Call()
    timer = threading.Timer(deadline_seconds, call.expire)
    timer.daemon = True
    token = _current_call.set(call)
    timer.start()
    try:
        return _get(url, params, headers, deadline_seconds, max_bytes, read_timeout, what, call)
    finally:
        timer.cancel()
        _current_call.reset(token)


def _get(url, params, headers, deadline_seconds, max_bytes, read_timeout, what, call):
    started = monotonic()
    remaining = deadline_seconds
    timeout = min(read_timeout or deadline_seconds, deadline_seconds)
    try:
        response = session().get(
            url, params=params, headers=headers or {}, stream=True, timeout=(min(timeout, 10.0), timeout)
        )
    except requests.Timeout as exc:
        raise DeadlineExceeded(f"{what} did not answer within {timeout:g} seconds.") from exc
    except requests.RequestException as exc:
        if call.expired:
            raise DeadlineExceeded(f"{what} did not finish its answer within {deadline_seconds:g} seconds.") from exc
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
                # decode_content inflates gzip/deflate at most 64 KiB at a time, so the cap below counts
                # inflated bytes.
                piece = response.raw.read1(65536, decode_content=True)
            except requests.Timeout as exc:  # pragma: no cover - urllib3 raises its own below
                raise DeadlineExceeded(f"{what} stopped sending within {deadline_seconds:g} seconds.") from exc
            except Exception as exc:  # urllib3's ReadTimeoutError, ProtocolError, DecodeError and socket errors
                if call.expired:
                    raise DeadlineExceeded(
                        f"{what} did not finish its answer within {deadline_seconds:g} seconds."
                    ) from exc
                if "timed out" in str(exc).lower():
                    raise DeadlineExceeded(f"{what} stopped sending its answer for {timeout:g} seconds.") from exc
                raise Unreachable(f"{what} dropped the connection ({exc.__class__.__name__}).") from exc
            if not piece:
                if call.expired:
                    # The timer cut the socket: what arrived is a truncated answer, not the whole one.
                    raise DeadlineExceeded(f"{what} did not finish its answer within {deadline_seconds:g} seconds.")
                break
            size += len(piece)
            if size > max_bytes:
                raise AnswerTooLarge(f"{what}'s answer is larger than the {max_bytes:,} bytes allowed.")
            pieces.append(piece)
        return Answer(status=response.status_code, headers=dict(response.headers), body=b"".join(pieces))
    finally:
        response.close()
