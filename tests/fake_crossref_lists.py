"""A local stand-in for Crossref's list endpoint, ``GET /works?filter=is-update:true,...&cursor=...``.

It serves the given work-list items as Crossref does: ``cursor=*`` starts, each answer carries a
``next-cursor`` (opaque) and at most ``rows`` items, and the last page is shorter than ``rows``. Items whose
``indexed`` date is before the filter's ``from-index-date`` are left out, as Crossref leaves them out; a
filter without ``is-update:true`` or an unknown ``select`` field gets Crossref's 400 validation failure.
``fail_on_page(n)`` makes the n-th page (1-based, of any sweep) answer 500 until ``fail_on_page(None)``.
``requests`` records each query (a dict of its parameters). Items that are not objects (hostile tests) are
served whatever the filter.

It also stands in for NCBI's ``esearch.fcgi`` (point NCBI_API_URL at it): the search for
``"Retracted Publication"[pt]`` by modification date answers ``retracted_pmids``, paged by retstart/retmax;
``pubmed_requests`` records those queries.

    with FakeNoticeList(items) as server:
        settings.CROSSREF_API_URL = server.url
"""

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fake_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "crossref"
# Crossref's selectable fields that the sweep may ask for (a subset of its list).
SELECTABLE = {"DOI", "update-to", "type", "title", "indexed", "updated-by", "URL", "issued", "container-title"}


def recorded_items(name="notices-is-update.json"):
    """The items of a recorded work-list answer in tests/fixtures/crossref/."""
    return json.loads((FIXTURES / name).read_text())["message"]["items"]


def _indexed(item):
    try:
        parts = ((item.get("indexed") or {}).get("date-parts") or [[]])[0]
        return "-".join(f"{int(p):02d}" for p in parts) if len(parts) == 3 else ""
    except (AttributeError, TypeError, ValueError, IndexError):
        return ""


def _served(item, since):
    # Hostile tests put items that are not objects in the list: those are always served.
    return not since or not isinstance(item, dict) or _indexed(item) >= since


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeCrossrefLists/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence per-request lines
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _esearch(self, fake, query):
        fake.pubmed_requests.append(query)
        if query.get("term") != '"Retracted Publication"[pt]' or query.get("datetype") != "mdat":
            return self._send(400, {"error": f"unexpected search {query.get('term')!r}"})
        start, size = int(query.get("retstart", 0)), int(query.get("retmax", 20))
        ids = fake.retracted_pmids[start:start + size]
        self._send(200, {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {
            "count": str(len(fake.retracted_pmids)), "retmax": str(len(ids)), "retstart": str(start),
            "idlist": ids, "translationset": [], "querytranslation": query["term"]}})

    def do_GET(self):  # noqa: N802 - http.server's naming
        fake = self.server.fake
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path.endswith("/esearch.fcgi"):
            return self._esearch(fake, query)
        page_number = fake.record(query)
        if url.path != "/works":
            return self._send(404, {"status": "error", "message": "Resource not found."})
        filters = dict(part.split(":", 1) for part in query.get("filter", "").split(",") if ":" in part)
        if filters.get("is-update") != "true":
            return self._send(400, {"status": "failed", "message-type": "validation-failure",
                                    "message": [{"type": "filter-not-expected", "value": query.get("filter")}]})
        unknown = set(query.get("select", "DOI").split(",")) - SELECTABLE
        if unknown:
            return self._send(400, {"status": "failed", "message-type": "validation-failure", "message": [
                {"type": "select-not-available", "value": sorted(unknown)[0]}]})
        if fake.failing_page is not None and page_number >= fake.failing_page:
            return self._send(500, {"status": "error", "message": "Internal Server Error"})
        since = filters.get("from-index-date", "")
        items = [item for item in fake.items if _served(item, since)]
        rows = int(query.get("rows", 20))
        cursor = query.get("cursor", "*")
        offset = 0 if cursor == "*" else fake.cursors.get(cursor)
        if offset is None:
            return self._send(400, {"status": "failed", "message-type": "validation-failure",
                                    "message": [{"type": "cursor-expired", "value": cursor}]})
        page = items[offset:offset + rows]
        next_cursor = fake.new_cursor(offset + rows)
        self._send(200, {"status": "ok", "message-type": "work-list", "message-version": "1.0.0", "message": {
            "facets": {}, "total-results": len(items), "items": page, "items-per-page": rows,
            "next-cursor": next_cursor, "query": {"start-index": 0, "search-terms": None}}})


class FakeNoticeList(LocalServer):
    """An http.server on 127.0.0.1 on a free port serving ``items`` as cursor pages."""

    handler = _Handler
    name = "fake-crossref-lists"

    def __init__(self, items):
        super().__init__()
        self.items = list(items)
        self.requests = []
        self.cursors = {}
        self.failing_page = None
        self.retracted_pmids = []
        self.pubmed_requests = []
        self._pages_served = 0

    def fail_on_page(self, number):
        """Answer 500 from the ``number``-th page asked for (counting from now) on; None: answer normally."""
        with self._lock:
            self._pages_served = 0
            self.failing_page = number

    def record(self, query):
        with self._lock:
            self.requests.append(query)
            self._pages_served += 1
            return self._pages_served

    def new_cursor(self, offset):
        with self._lock:
            token = f"DnF1ZXJ5{len(self.cursors):06d}"
            self.cursors[token] = offset
            return token


class _RecordedHandler(BaseHTTPRequestHandler):
    server_version = "FakeCrossrefRecorded/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence per-request lines
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        fake = self.server.fake
        url = urlsplit(self.path)
        with fake._lock:
            fake.requests.append({key: values[-1] for key, values in parse_qs(url.query).items()})
        body = fake.body if url.path == "/works" else b'{"status": "error", "message": "Resource not found."}'
        self.send_response(200 if url.path == "/works" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RecordedListAnswer(LocalServer):
    """Serves one recorded work-list answer of tests/fixtures/crossref/, byte for byte, to every ``/works``."""

    handler = _RecordedHandler
    name = "fake-crossref-recorded"

    def __init__(self, name):
        super().__init__()
        self.body = (FIXTURES / name).read_bytes()
        self.requests = []
