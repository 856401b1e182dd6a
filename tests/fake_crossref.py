"""A local stand-in for api.crossref.org that answers from recorded work messages.

GET /works/<percent-encoded DOI> serves tests/fixtures/crossref/work-<doi with / as _>.json;
an unknown DOI gets Crossref's own 404 ("Resource not found.", text/plain).
``server.set_mode(mode, times=None)`` switches answers to a failure:
"rate_limit" (429, text body), "server_error" (500, HTML body), "slow" (sleeps
``slow_seconds`` before answering), "bad_json" (a truncated body), "not_a_work"
(valid JSON of another message-type) or "json_refusal" (400 with a JSON body
whose message is a list, as Crossref sends for a malformed request); with
``times`` only that many requests fail and later ones are answered normally.
Hostile modes, for the bounded client: "trickle" (the whole answer, status line
and headers included, one byte every ``trickle_seconds``), "trickle_body"
(headers at once, then the body a byte at a time), "huge" (a valid work whose
title is ``huge_bytes`` long, with its Content-Length), "huge_undeclared" (the
same without Content-Length, until the connection closes), "gzip" (the recorded
answer gzip-encoded), "gzip_bomb" (a small gzip body that inflates to
``huge_bytes``), "mistyped" (a work whose fields have the wrong JSON types),
"reset" (the connection is reset before any answer); "rate_limit" sends
``Retry-After: retry_after``. Big bodies are generated piece by piece, never
held whole in memory.
``server.requests`` records each path asked for, ``server.user_agents`` each
User-Agent.

    with FakeCrossref() as server:
        settings.CROSSREF_API_URL = server.url
"""

import gzip
import io
import json
import socket
import struct
import time
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.fake_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "crossref"
MODES = {"normal", "rate_limit", "server_error", "slow", "bad_json", "not_a_work", "json_refusal", "trickle",
         "trickle_body", "huge", "huge_undeclared", "gzip", "gzip_bomb", "mistyped", "reset"}

# Every field a work message has, with the wrong JSON type (or absurd in size where the type is right).
MISTYPED_FIELDS = {
    "title": "A title as a string, not a list",
    "container-title": {"name": "a dict"},
    "short-container-title": [["nested"], 3],
    "author": {"family": "Dict", "given": "Not a list"},
    "editor": "nobody",
    "issued": {"date-parts": [["2019", "x", None]]},
    "published": {"date-parts": "2019"},
    "published-print": {"date-parts": [[[2019]]]},
    "created": [2019],
    "volume": 12,
    "issue": ["3"],
    "page": {"first": 1},
    "article-number": 7.5,
    "publisher": None,
    "type": ["journal-article"],
    "subtype": 1,
    "URL": 42,
    "ISSN": "1234-5678",
    "updated-by": {"type": "retraction"},
    "update-to": "yes",
    "relation": [],
}

HUGE_PIECE = 1 << 16


def _huge_work_pieces(doi, size):
    """A valid work answer whose title is ``size`` letters, as a stream of pieces."""
    head = json.dumps({"status": "ok", "message-type": "work", "message": {"DOI": doi, "type": "journal-article"}})
    head = head[:-2] + ', "title": ["'
    tail = '"]}}'
    yield head.encode()
    left = size
    while left > 0:
        n = min(HUGE_PIECE, left)
        yield b"A" * n
        left -= n
    yield tail.encode()


def _huge_length(doi, size):
    return sum(len(p) for p in _huge_work_pieces(doi, 0)) + size


def _gzip_bomb(size):
    """gzip bytes that inflate to ``size`` zero bytes (about 1,000 to 1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"0" * HUGE_PIECE
    out = io.BytesIO()
    left = size
    while left > 0:
        n = min(HUGE_PIECE, left)
        out.write(compressor.compress(chunk[:n]))
        left -= n
    out.write(compressor.flush())
    return out.getvalue()


def fixture_path(doi, directory=FIXTURES):
    """Where the recorded work message for a DOI lives."""
    return Path(directory) / f"work-{doi.lower().replace('/', '_')}.json"


def load_work(doi, directory=FIXTURES):
    """The recorded work message (the "message" dict) for a DOI."""
    return json.loads(fixture_path(doi, directory).read_text())["message"]


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeCrossref/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the per-request stderr lines
        pass

    def _send(self, status, body, content_type="application/json", headers=None):
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a timeout test); nothing to answer.
            pass

    def _send_pieces(self, status, pieces, headers):
        """An answer written as it is generated (big bodies are never held whole)."""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            for piece in pieces:
                self.wfile.write(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _trickle(self, data, *, from_byte=0):
        """Write ``data`` at once up to ``from_byte``, then one byte every trickle_seconds."""
        fake = self.server.fake
        try:
            self.wfile.write(data[:from_byte])
            self.wfile.flush()
            for i in range(from_byte, len(data)):
                time.sleep(fake.trickle_seconds)
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True

    def _raw_answer(self, body, content_type="application/json"):
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        return head, body

    def do_GET(self):  # noqa: N802 - http.server's naming
        fake = self.server.fake
        path = urlsplit(self.path).path
        fake.requests.append(path)
        fake.user_agents.append(self.headers.get("User-Agent", ""))
        mode = fake.take_mode()
        doi = unquote(path[len("/works/"):]) if path.startswith("/works/") else ""
        if mode == "reset":
            # SO_LINGER with a zero timeout makes close() send a TCP reset instead of a clean end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        if mode in ("trickle", "trickle_body"):
            head, body = self._raw_answer(fixture_path(doi, fake.directory).read_bytes()
                                          if fixture_path(doi, fake.directory).is_file() else b"{}")
            return self._trickle(head + body, from_byte=len(head) if mode == "trickle_body" else 0)
        if mode in ("huge", "huge_undeclared"):
            headers = {"Content-Type": "application/json", "Connection": "close"}
            if mode == "huge":
                headers["Content-Length"] = str(_huge_length(doi, fake.huge_bytes))
            return self._send_pieces(200, _huge_work_pieces(doi, fake.huge_bytes), headers)
        if mode == "gzip_bomb":
            body = _gzip_bomb(fake.huge_bytes)
            return self._send_pieces(200, [body], {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                                   "Content-Length": str(len(body)), "Connection": "close"})
        if mode == "mistyped":
            message = {"DOI": doi, **MISTYPED_FIELDS}
            return self._send(200, json.dumps({"status": "ok", "message-type": "work", "message": message}))
        if mode == "rate_limit":
            return self._send(429, "Too Many Requests", "text/plain", {"Retry-After": str(fake.retry_after)})
        if mode == "server_error":
            return self._send(500, "<html><body>Internal Server Error</body></html>", "text/html")
        if mode == "json_refusal":
            body = {"status": "failed", "message-type": "validation-failure",
                    "message": [{"type": "parameter-not-allowed", "message": "Malformed request"}]}
            return self._send(400, json.dumps(body))
        if mode == "not_a_work":
            return self._send(200, json.dumps({"status": "ok", "message-type": "work-list",
                                               "message": {"items": [], "total-results": 0}}))
        if mode == "slow":
            time.sleep(fake.slow_seconds)
        if not path.startswith("/works/"):
            return self._send(404, "Resource not found.", "text/plain")
        doi = unquote(path[len("/works/"):])
        file = fixture_path(doi, fake.directory)
        if not file.is_file():
            return self._send(404, "Resource not found.", "text/plain")
        if mode == "bad_json":
            return self._send(200, '{"status": "ok", "message-type": "work", "message": {', "application/json")
        if mode == "gzip":
            body = gzip.compress(file.read_bytes())
            return self._send_pieces(200, [body], {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                                   "Content-Length": str(len(body))})
        return self._send(200, file.read_text())


class FakeCrossref(LocalServer):
    """An http.server on 127.0.0.1 on a free port, run in a background thread."""

    handler = _Handler
    MODES = MODES
    name = "fake-crossref"

    def __init__(self, directory=FIXTURES):
        super().__init__()
        self.directory = Path(directory)
        self.slow_seconds = 2.0
        self.trickle_seconds = 0.05
        self.huge_bytes = 200 * 1024 * 1024
        self.retry_after = 1
        self.requests = []
        self.user_agents = []


if __name__ == "__main__":
    # Handy by hand: CROSSREF_API_URL=http://127.0.0.1:<port> manage.py runserver
    # python -m tests.fake_crossref [MODE [TRICKLE_SECONDS]] serves every request in that mode.
    import sys

    with FakeCrossref() as running:
        if len(sys.argv) > 1:
            running.set_mode(sys.argv[1])
        if len(sys.argv) > 2:
            running.trickle_seconds = float(sys.argv[2])
        print(f"Fake Crossref serving {FIXTURES} at {running.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sys.exit(0)
