"""Redis failing never breaks reading, and no page older than a change is served once it answers again.

Each test runs a Redis server of its own on a free port (no persistence), so it
can be stopped, paused and started again without touching anyone else's.
A stopped server is what a crash or a restart looks like; a paused one
(SIGSTOP) is a Redis that keeps its data while nobody can reach it.
"""

import io
import logging
import shutil
import signal
import socket
import subprocess
import time

import pytest
from django.core.management import call_command
from django.test import override_settings

from articles.publishing import cache as page_cache
from articles.review import workflow
from articles.models import Article
from references import services
from references.models import Reference
from tests.articles.publish_helpers import make_published, publish
from tests.factories import make_reference
from tests.fake_crossref import load_work

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server (apt-get install redis)"),
]

# Short, so a paused server costs a test a fraction of a second per attempt.
TIMEOUT = 0.3


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own: started, stopped (as a crash), paused and resumed."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def keys(self):
        import redis

        return redis.Redis(port=self.port).keys("*")


def redis_settings(url):
    return {"default": {"BACKEND": "psychly.cache.RedisCache", "LOCATION": url,
                        "OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT}}}


@pytest.fixture
def own_redis(settings):
    server = RedisServer()
    server.start()
    settings.CACHES = redis_settings(server.url)
    yield server
    server.stop()


@pytest.fixture
def live(editor, reviewer):
    return make_published("Ketamine before the outage", editor=editor, reviewer=reviewer)


def revise(article, title, *, editor, reviewer):
    article.title = title
    article.save()
    return publish(article, editor=editor, reviewer=reviewer)


def cache_warnings(caplog):
    return [r for r in caplog.records if r.name.startswith("psychly") and r.levelno == logging.WARNING]


def test_pages_answer_from_the_database_while_redis_is_down_and_cache_again_after(
    client, own_redis, live, editor, reviewer, caplog, django_assert_num_queries
):
    urls = [live.get_absolute_url(), "/", "/search/?q=ketamine", "/feed/", "/sitemap.xml"]
    for url in urls:
        assert client.get(url).status_code == 200
    own_redis.stop()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, url
        assert b"Ketamine before the outage" in client.get(live.get_absolute_url()).content
        # A publish while Redis is down goes through, and readers see it at once.
        revise(live, "Ketamine during the outage", editor=editor, reviewer=reviewer)
        assert b"Ketamine during the outage" in client.get(live.get_absolute_url()).content
        assert b"Ketamine during the outage" in client.get("/").content
    # One warning for the outage, not one per request (and one from the watch of invalidations, which it ends).
    messages = [r.getMessage() for r in cache_warnings(caplog)]
    assert len([m for m in messages if m.startswith("The page cache is unreachable")]) == 1, messages
    assert len([m for m in messages if m.startswith("The watch of cache keys")]) <= 1, messages
    assert len(messages) <= 2, messages

    own_redis.start()  # empty, as a restarted Redis without persistence
    time.sleep(page_cache.RETRY_SECONDS + 0.1)
    for _ in range(2):  # the first request after the outage applies the invalidations it missed, and stores nothing
        page = client.get(live.get_absolute_url()).content
        assert b"Ketamine during the outage" in page
    with django_assert_num_queries(0):
        assert client.get(live.get_absolute_url()).content == page  # cached again


def test_a_redis_that_kept_its_data_serves_no_page_older_than_a_publish_it_missed(
    client, own_redis, live, editor, reviewer
):
    url = live.get_absolute_url()
    client.get(url)
    client.get("/")
    assert any(b":generation:" not in key for key in own_redis.keys()), "the page was cached in Redis"
    own_redis.pause()  # nobody can reach it, and it keeps every page and token it holds
    try:
        revise(live, "Ketamine published while Redis hung", editor=editor, reviewer=reviewer)
        assert b"Ketamine published while Redis hung" in client.get(url).content
    finally:
        own_redis.resume()
    time.sleep(page_cache.RETRY_SECONDS + 0.1)
    for _ in range(2):
        assert b"Ketamine published while Redis hung" in client.get(url).content
        assert b"Ketamine published while Redis hung" in client.get("/").content


def test_a_writer_that_could_not_reach_redis_is_caught_up_by_readers_that_could(
    client, own_redis, live, editor, reviewer, settings, recheck_clock
):
    """A cron job on a machine cut off from Redis publishes; the web servers, which reach Redis, must not go on
    serving the page Redis still holds for longer than PAGE_CACHE_RECHECK_SECONDS."""
    url = live.get_absolute_url()
    client.get(url)
    with override_settings(CACHES=redis_settings(f"redis://127.0.0.1:{free_port()}/0")):
        revise(live, "Ketamine published from an isolated machine", editor=editor, reviewer=reviewer)
    recheck_clock.advance(settings.PAGE_CACHE_RECHECK_SECONDS + 0.1)
    for _ in range(2):
        assert b"Ketamine published from an isolated machine" in client.get(url).content
        assert b"Ketamine published from an isolated machine" in client.get("/").content


def test_unpublishing_while_redis_is_down_leaves_no_cached_copy_once_it_is_back(
    client, own_redis, live, editor
):
    url = live.get_absolute_url()
    client.get(url)
    own_redis.pause()
    try:
        workflow.unpublish(live, by=editor, reason="A source was retracted.")
        assert client.get(url).status_code == 404
    finally:
        own_redis.resume()
    time.sleep(page_cache.RETRY_SECONDS + 0.1)
    assert client.get(url).status_code == 404
    assert live.slug not in client.get("/").content.decode()


def test_publish_scheduled_runs_while_redis_is_down(client, own_redis, live, editor, reviewer):
    url = live.get_absolute_url()
    client.get(url)
    live.title = "Ketamine published by cron"
    live.save()
    workflow.submit(live, by=editor)
    workflow.approve(live, by=reviewer)
    workflow.schedule(live, by=editor, at=workflow.timezone.now() + workflow.timezone.timedelta(minutes=1))
    Article.objects.filter(pk=live.pk).update(scheduled_at=workflow.timezone.now())
    own_redis.stop()
    out, err = io.StringIO(), io.StringIO()
    call_command("publish_scheduled", stdout=out, stderr=err)
    assert "Published “Ketamine published by cron”." in out.getvalue()
    assert b"Ketamine published by cron" in client.get(url).content
    own_redis.start()
    time.sleep(page_cache.RETRY_SECONDS + 0.1)
    assert b"Ketamine published by cron" in client.get(url).content


def test_refresh_references_finishes_with_a_warning_while_redis_is_down(
    client, own_redis, fake_crossref, editor, reviewer, caplog
):
    work = load_work("10.5555/psychly.retracted.2019.001")
    work.pop("updated-by")
    retracted_later = services.save_reference(services.apply_work(Reference(), work))
    article = make_published("Ketamine citing a retracted trial", editor=editor, reviewer=reviewer,
                             references=[retracted_later, make_reference()])
    url = article.get_absolute_url()
    assert b"Retracted since this article was published." not in client.get(url).content
    own_redis.stop()
    out, err = io.StringIO(), io.StringIO()
    with caplog.at_level(logging.WARNING):
        # Raises nothing: exit status 0.
        call_command("refresh_references", retracted_later.doi, stdout=out, stderr=err)
    assert "NEWLY RETRACTED" in out.getvalue()
    assert "Checked 1 reference(s): 1 changed, 0 failed." in out.getvalue()
    assert cache_warnings(caplog), "the skipped invalidation is reported"
    assert all(r.exc_info is None for r in cache_warnings(caplog)), "a warning, not a traceback"
    own_redis.start()
    time.sleep(page_cache.RETRY_SECONDS + 0.1)
    assert b"Retracted since this article was published." in client.get(url).content


def test_healthz_reports_a_redis_outage_as_degraded_with_200(client, own_redis):
    assert client.get("/healthz").json()["checks"]["cache"] == "ok"
    own_redis.stop()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["cache"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("down: ")
    assert "failed" not in body
