"""What public responses tell the caches in front of the site, and purging them (Varnish, Cloudflare, CloudFront)."""

import json
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.cache import cache

from articles.publishing import frontend_cache
from tests.articles.publish_helpers import make_published
from tests.factories import make_reference
from tests.fake_server import LocalServer

pytestmark = pytest.mark.django_db


class _Recorder(BaseHTTPRequestHandler):
    def _answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        fake.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                              "body": body.decode()})
        status, content_type, answer = fake.answer(self)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_PURGE = do_GET = _answer

    def log_message(self, *args):
        pass


class FakeFrontend(LocalServer):
    """Answers as Varnish's purge (200), Cloudflare's purge_cache (JSON) and CloudFront's invalidation (XML)."""

    handler = _Recorder
    name = "fake-frontend-cache"

    def __init__(self):
        super().__init__()
        self.requests = []

    def answer(self, request):
        if request.command == "PURGE":
            return 200, "text/plain", b"Purged"
        if "/purge_cache" in request.path:
            return 200, "application/json", json.dumps({"success": True, "result": {"id": "x"}}).encode()
        paths = "".join(f"<Path>{p}</Path>" for p in _paths_in(request.server.fake.requests[-1]["body"]))
        xml = (
            '<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            "<Id>I1</Id><Status>InProgress</Status><CreateTime>2026-12-02T12:00:00Z</CreateTime>"
            f"<InvalidationBatch><Paths><Quantity>1</Quantity><Items>{paths}</Items></Paths>"
            "<CallerReference>x</CallerReference></InvalidationBatch></Invalidation>"
        )
        return 201, "text/xml", xml.encode()


def _paths_in(xml):
    import re

    return re.findall(r"<Path>([^<]*)</Path>", xml)


@pytest.fixture
def frontend(settings, monkeypatch):
    with FakeFrontend() as server:
        settings.FRONTEND_CACHE_VARNISH_URLS = [server.url]
        settings.CLOUDFLARE_ZONE_ID, settings.CLOUDFLARE_API_TOKEN = "zone1", "token1"
        settings.CLOUDFLARE_API_URL = server.url + "/client/v4"
        settings.CLOUDFRONT_DISTRIBUTION_ID, settings.CLOUDFRONT_ENDPOINT_URL = "DIST1", server.url
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
        yield server


def test_a_public_article_page_is_cacheable_by_shared_caches_and_names_its_keys(client, editor, reviewer):
    refs = [make_reference(), make_reference()]
    article = make_published("Lithium", editor=editor, reviewer=reviewer, references=refs)
    for attempt in ("rendered", "stored"):
        cache.clear()
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200, attempt
        control = response["Cache-Control"]
        assert "public" in control and "s-maxage=86400" in control and "max-age=60" in control
        keys = response["xkey"].split()
        assert keys[0] == f"a{article.pk}" and {f"r{ref.pk}" for ref in refs} <= set(keys) and "pages" in keys
        assert response["Surrogate-Key"] == response["xkey"]
        assert response["Cache-Tag"] == response["xkey"].replace(" ", ",")
        assert response["ETag"].startswith('"') and response["Last-Modified"]


def test_lists_feed_and_sitemap_name_the_lists_key(client, editor, reviewer):
    make_published("Lithium", editor=editor, reviewer=reviewer)
    for path in ("/", "/search/?q=lithium", "/feed/", "/sitemap.xml"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "lists" in response["xkey"].split() and "public" in response["Cache-Control"], path


def test_the_same_page_answers_304_to_its_validators_whether_stored_or_not(client, editor, reviewer):
    article = make_published("Lithium", editor=editor, reviewer=reviewer)
    first = client.get(article.get_absolute_url())
    again = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    since = client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    stale = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200 and stale.content == first.content


def test_a_signed_in_reader_is_never_given_a_cacheable_page(client, editor, reviewer):
    article = make_published("Lithium", editor=editor, reviewer=reviewer)
    client.force_login(reviewer)
    for path in (article.get_absolute_url(), "/", "/feed/"):
        response = client.get(path)
        assert response.status_code == 200, path
        control = response["Cache-Control"]
        assert "private" in control and "no-store" in control and "public" not in control, path
        assert not response.has_header("xkey"), path


def test_a_draft_is_a_404_no_cache_may_keep(client, editor):
    from tests.factories import make_supported_article

    draft = make_supported_article("Hidden", author=editor)
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 404 and "public" not in response.get("Cache-Control", "")


def test_publishing_purges_the_article_and_the_lists_from_every_backend(frontend, editor, reviewer,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = make_published("Lithium", editor=editor, reviewer=reviewer)
    purge = [r for r in frontend.requests if r["method"] == "PURGE"]
    assert purge and {f"a{article.pk}", "lists"} <= set(purge[-1]["headers"]["xkey-purge"].split())
    cloudflare = [r for r in frontend.requests if "/zones/zone1/purge_cache" in r["path"]]
    assert cloudflare[-1]["headers"]["Authorization"] == "Bearer token1"
    assert {f"a{article.pk}", "lists"} <= set(json.loads(cloudflare[-1]["body"])["tags"])
    cloudfront = [r for r in frontend.requests if "/distribution/DIST1/invalidation" in r["path"]]
    assert cloudfront and {article.get_absolute_url(), "/"} <= set(_paths_in(cloudfront[-1]["body"]))


def test_a_retraction_purges_only_the_pages_citing_the_source(frontend, editor, reviewer,
                                                              django_capture_on_commit_callbacks):
    from tests.articles.test_signals import retract

    cited, other = make_reference(), make_reference()
    citing = make_published("Citing", editor=editor, reviewer=reviewer, references=[cited, make_reference()])
    bystander = make_published("Bystander", editor=editor, reviewer=reviewer, references=[other, make_reference()])
    frontend.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        retract(cited)
    purged = set()
    for request in frontend.requests:
        if request["method"] == "PURGE":
            purged |= set(request["headers"]["xkey-purge"].split())
    assert f"a{citing.pk}" in purged
    assert f"a{bystander.pk}" not in purged and "lists" not in purged


def test_a_failing_cache_is_logged_and_never_fails_the_change(settings, editor, reviewer, caplog,
                                                              django_capture_on_commit_callbacks):
    settings.FRONTEND_CACHE_VARNISH_URLS = ["http://127.0.0.1:9"]
    with django_capture_on_commit_callbacks(execute=True):
        article = make_published("Lithium", editor=editor, reviewer=reviewer)
    assert article.status == "published"
    assert "Purging" in caplog.text and "Varnish" in caplog.text


def test_purges_go_through_the_task_queue_when_there_is_one(frontend, settings, editor, reviewer,
                                                            django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS_IN_BACKGROUND = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        article = make_published("Lithium", editor=editor, reviewer=reviewer)
    queued = DBTaskResult.objects.filter(task_path="articles.publishing.frontend_cache.purge_frontend_cache")
    assert queued.exists()
    assert any(f"a{article.pk}" in row.args_kwargs["args"][0] for row in queued)
    assert not [r for r in frontend.requests if r["method"] == "PURGE"], "the worker purges, not the request"


def test_without_backends_nothing_is_queued(editor, reviewer, django_capture_on_commit_callbacks):
    article = make_published("Lithium", editor=editor, reviewer=reviewer)
    assert frontend_cache.backends() == []
    with django_capture_on_commit_callbacks() as callbacks:
        frontend_cache.purge_article(article, lists=True)
    assert callbacks == []
