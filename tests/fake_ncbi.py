"""A local stand-in for NCBI E-utilities that answers from recorded PubMed records.

GET /efetch.fcgi?db=pubmed&id=<PMID> serves tests/fixtures/pubmed/pubmed-<PMID>.xml (or a body put in
``server.records[pmid]``); an unknown PMID gets an empty <PubmedArticleSet>, as NCBI answers.
GET /esearch.fcgi?term=PMC<n>[pmcid]&retmode=json finds the record whose ArticleIdList names that PMCID.
``server.set_mode(mode, times=None)`` switches answers to a failure: "rate_limit" (429 with NCBI's JSON
body), "server_error" (502, HTML), "slow" (sleeps ``slow_seconds`` first), "huge" (a body of
``huge_bytes`` with no Content-Length), "trickle" (one byte every ``trickle_seconds``, never finishing
within a test's deadline), "bad_xml" (a truncated body) or "drop" (closes the connection unanswered);
with ``times`` only that many requests fail. ``server.requests`` records (monotonic time, path, query)
for each request.

    with FakeNCBI() as server:
        settings.NCBI_API_URL = server.url
"""

import json
import re
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fake_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "pubmed"
MODES = {"normal", "rate_limit", "server_error", "slow", "huge", "trickle", "bad_xml", "drop"}
EMPTY_SET = b'<?xml version="1.0" ?>\n<PubmedArticleSet></PubmedArticleSet>\n'


def load_record(pmid, directory=FIXTURES):
    """The recorded efetch answer for a PMID, as bytes."""
    return (Path(directory) / f"pubmed-{pmid}.xml").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeNCBI/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the per-request stderr lines
        pass

    def _send(self, status, body, content_type="text/xml", headers=None, length=True):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if length:
                self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        fake = self.server.fake
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        fake.requests.append((time.monotonic(), parts.path, query))
        mode = fake.take_mode()
        if mode == "rate_limit":
            body = json.dumps({"error": "API rate limit exceeded", "api-key": "127.0.0.1", "count": "4",
                               "limit": "3"}).encode()
            return self._send(429, body, "application/json", {"Retry-After": "1"})
        if mode == "server_error":
            return self._send(502, b"<html><body>Bad Gateway</body></html>", "text/html")
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        if mode == "slow":
            time.sleep(fake.slow_seconds)
        if mode == "huge":
            return self._stream(b"<PubmedArticleSet>" + b" " * fake.huge_bytes)
        if mode == "trickle":
            return self._trickle()
        name = parts.path.rsplit("/", 1)[-1]
        if name == "efetch.fcgi":
            body = fake.record(query.get("id", ""))
            if mode == "bad_xml":
                body = body[: len(body) // 2]
            return self._send(200, body)
        if name == "esearch.fcgi":
            match = re.fullmatch(r"(PMC\d+)\[pmcid\]", query.get("term", ""), re.IGNORECASE)
            ids = fake.pmids_for_pmcid(match.group(1)) if match else []
            body = {"header": {"type": "esearch", "version": "0.3"},
                    "esearchresult": {"count": str(len(ids)), "retmax": str(len(ids)), "retstart": "0",
                                      "idlist": ids, "translationset": [], "querytranslation": query.get("term")}}
            return self._send(200, json.dumps(body).encode(), "application/json")
        return self._send(404, b"<html><body>Not Found</body></html>", "text/html")

    def _stream(self, body):
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            for start in range(0, len(body), 65536):
                self.wfile.write(body[start:start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _trickle(self):
        fake = self.server.fake
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            self.wfile.flush()
            deadline = time.monotonic() + fake.trickle_for_seconds
            while time.monotonic() < deadline:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(fake.trickle_seconds)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class FakeNCBI(LocalServer):
    """An http.server on 127.0.0.1 on a free port, run in a background thread."""

    handler = _Handler
    MODES = MODES
    name = "fake-ncbi"

    def __init__(self, directory=FIXTURES):
        super().__init__()
        self.directory = Path(directory)
        self.records = {}
        self.slow_seconds = 2.0
        self.huge_bytes = 6 * 1024 * 1024
        self.trickle_seconds = 0.2
        self.trickle_for_seconds = 10.0
        self.requests = []

    def record(self, pmid):
        if pmid in self.records:
            return self.records[pmid]
        path = self.directory / f"pubmed-{pmid}.xml"
        return path.read_bytes() if pmid.isdigit() and path.is_file() else EMPTY_SET

    def pmids_for_pmcid(self, pmcid):
        bodies = dict(self.records)
        for path in self.directory.glob("pubmed-*.xml"):
            bodies.setdefault(path.stem.split("-", 1)[1], path.read_bytes())
        needle = f'<ArticleId IdType="pmc">{pmcid.upper()}</ArticleId>'.encode()
        return sorted(pmid for pmid, body in bodies.items() if needle in body)
