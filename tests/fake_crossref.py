"""A local stand-in for api.crossref.org that answers from recorded work messages.

GET /works/<percent-encoded DOI> serves tests/fixtures/crossref/work-<doi with / as _>.json;
an unknown DOI gets Crossref's own 404 ("Resource not found.", text/plain).
``server.set_mode(mode, times=None)`` switches answers to a failure:
"rate_limit" (429, text body), "server_error" (500, HTML body), "slow" (sleeps
``slow_seconds`` before answering), "bad_json" (a truncated body), "not_a_work"
(valid JSON of another message-type) or "json_refusal" (400 with a JSON body
whose message is a list, as Crossref sends for a malformed request); with
``times`` only that many requests fail and later ones are answered normally.
``server.requests`` records each path asked for, ``server.user_agents`` each
User-Agent.

    with FakeCrossref() as server:
        settings.CROSSREF_API_URL = server.url
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "crossref"
MODES = {"normal", "rate_limit", "server_error", "slow", "bad_json", "not_a_work", "json_refusal"}


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

    def do_GET(self):  # noqa: N802 - http.server's naming
        fake = self.server.fake
        path = urlsplit(self.path).path
        fake.requests.append(path)
        fake.user_agents.append(self.headers.get("User-Agent", ""))
        mode = fake.take_mode()
        if mode == "rate_limit":
            return self._send(429, "Too Many Requests", "text/plain", {"Retry-After": "1"})
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
        return self._send(200, file.read_text())


class FakeCrossref:
    """An http.server on 127.0.0.1 on a free port, run in a background thread."""

    def __init__(self, directory=FIXTURES):
        self.directory = Path(directory)
        self.mode = "normal"
        self.failures_left = None
        self._lock = threading.Lock()
        self.slow_seconds = 2.0
        self.requests = []
        self.user_agents = []
        self._httpd = None
        self._thread = None

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def set_mode(self, mode, times=None):
        """Answer in this mode; with times, only the next that many requests, then normally."""
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}; choose one of {sorted(MODES)}.")
        with self._lock:
            self.mode = mode
            self.failures_left = times

    def take_mode(self):
        """The mode for one request, counting down a limited run of failures."""
        with self._lock:
            mode = self.mode
            if self.failures_left is not None:
                self.failures_left -= 1
                if self.failures_left <= 0:
                    self.mode, self.failures_left = "normal", None
            return mode

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-crossref", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    # Handy by hand: CROSSREF_API_URL=http://127.0.0.1:<port> manage.py runserver
    import sys

    with FakeCrossref() as running:
        print(f"Fake Crossref serving {FIXTURES} at {running.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sys.exit(0)
