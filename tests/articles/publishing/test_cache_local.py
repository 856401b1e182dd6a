"""With Redis, each process keeps the pages it served in its own memory, and serves them only while current.

A page is in process memory when it is served although its copy in Redis is
gone. Another server is played by a cache backend of the test's own, writing the
shared generation tokens as another server's publish would.
"""

import time
import zlib

import pytest
from django.core.cache import cache

from articles.publishing import cache as page_cache
from articles.models import ArticlePage
from articles.publishing.pages import page_html
from psychly.cache import RedisCache
from tests.articles.publish_helpers import make_published, publish
from tests.conftest import PAGE_CACHE_REDIS_URL, kill_key_watches

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_redis(redis_page_cache):
    """The Redis every server of the site shares (a raw client of it); Django's cache uses it."""
    return redis_page_cache


@pytest.fixture
def live(editor, reviewer):
    return make_published("Ketamine kept locally", editor=editor, reviewer=reviewer)


def page_keys(shared_redis):
    return [key for key in shared_redis.keys("*") if b":generation:" not in key]


def delete_shared_pages(shared_redis):
    """Remove every page from Redis, leaving the generation tokens: only a process's own copy can answer now."""
    keys = page_keys(shared_redis)
    assert keys, "the page was never stored in Redis"
    shared_redis.delete(*keys)


def another_server_invalidates(slug):
    """Write the article's token through a cache backend of its own, as another server's publish does."""
    other_server = RedisCache(PAGE_CACHE_REDIS_URL, {})
    other_server.set(f"psychly:page:generation:article:{slug}", "written elsewhere", timeout=None)


def wait_until(condition):
    """Redis pushes a change to the watching connection within microseconds; allow a loaded machine a second."""
    deadline = time.monotonic() + 1
    while not condition():
        assert time.monotonic() < deadline, "Redis did not report the change within a second"
        time.sleep(0.005)


def test_a_served_page_is_kept_in_process_memory(client, shared_redis, live, django_assert_num_queries):
    url = live.get_absolute_url()
    first = client.get(url)
    delete_shared_pages(shared_redis)
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_another_servers_invalidation_is_seen_at_once(client, shared_redis, live):
    url = live.get_absolute_url()
    assert b"Ketamine kept locally" in client.get(url).content
    # The stored page changes in the database as a publish on another server would change it ...
    stored = ArticlePage.objects.get(article=live)
    html = page_html(stored.html).replace(b"Ketamine kept locally", b"Ketamine republished elsewhere")
    ArticlePage.objects.filter(pk=stored.pk).update(html=zlib.compress(html))
    assert b"Ketamine kept locally" in client.get(url).content, "nothing told this process yet"
    # ... and that server writes the article's token in Redis.
    another_server_invalidates(live.slug)
    page = client.get(url).content
    assert b"Ketamine republished elsewhere" in page
    assert b"Ketamine kept locally" not in page


def test_a_publish_in_this_process_refreshes_its_own_copy(client, shared_redis, live, editor, reviewer):
    url = live.get_absolute_url()
    client.get(url)
    client.get(url)
    live.title = "Ketamine revised locally"
    live.save()
    publish(live, editor=editor, reviewer=reviewer)
    assert b"Ketamine revised locally" in client.get(url).content


def test_a_flush_forgets_every_local_page(client, shared_redis, live, django_assert_max_num_queries):
    url = live.get_absolute_url()
    client.get(url)
    shared_redis.flushdb()
    with django_assert_max_num_queries(5) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) > 0, "rendered afresh after the flush"


def test_a_lost_watch_stops_local_serving(client, shared_redis, live, django_assert_max_num_queries):
    url = live.get_absolute_url()
    client.get(url)
    kill_key_watches(shared_redis)
    delete_shared_pages(shared_redis)
    # Invalidations may have been missed while the watch was down: the process's copy is not trusted.
    with django_assert_max_num_queries(5) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) > 0


def test_a_local_page_lives_no_longer_than_page_cache_seconds(
    client, shared_redis, live, settings, monkeypatch, django_assert_max_num_queries
):
    settings.PAGE_CACHE_SECONDS = 60
    url = live.get_absolute_url()
    client.get(url)
    delete_shared_pages(shared_redis)
    now = time.monotonic()
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now + 61)
    with django_assert_max_num_queries(5) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) > 0


def test_local_pages_stay_within_their_memory_budget(client, shared_redis, editor, reviewer, settings,
                                                     django_assert_max_num_queries):
    first = make_published("First kept", editor=editor, reviewer=reviewer)
    second = make_published("Second kept", editor=editor, reviewer=reviewer)
    size = len(client.get(first.get_absolute_url()).content)
    settings.PAGE_CACHE_LOCAL_MIB = size * 1.5 / 1024 / 1024  # room for one page, not two
    client.get(first.get_absolute_url())
    client.get(second.get_absolute_url())  # pushes the first out
    local = page_cache.local_pages()
    assert 0 < local._bytes <= local.max_bytes
    delete_shared_pages(shared_redis)
    with django_assert_max_num_queries(0):
        assert b"Second kept" in client.get(second.get_absolute_url()).content
    with django_assert_max_num_queries(5) as queries:
        assert b"First kept" in client.get(first.get_absolute_url()).content
    assert len(queries) > 0


def test_page_cache_local_mib_zero_keeps_nothing(client, shared_redis, live, settings,
                                                 django_assert_max_num_queries):
    settings.PAGE_CACHE_LOCAL_MIB = 0
    url = live.get_absolute_url()
    client.get(url)
    assert page_cache.local_pages() is None
    delete_shared_pages(shared_redis)
    with django_assert_max_num_queries(5) as queries:
        client.get(url)
    assert len(queries) > 0


def test_tokens_read_before_a_reported_change_are_not_kept(shared_redis, live):
    local = page_cache.local_pages()
    token_key = cache.make_key(f"psychly:page:generation:article:{live.slug}")
    epoch = local.sync()
    assert epoch is not None
    # This process read the token, and another server wrote a new one before it was remembered.
    another_server_invalidates(live.slug)
    wait_until(lambda: local.sync() != epoch)
    local.remember(epoch, "page", (token_key,), ["read before the change"], b"<p>old</p>", {})
    assert local.get("page", (token_key,)) is None
    # Read after the change, the same token is kept.
    epoch = local.sync()
    local.remember(epoch, "page", (token_key,), ["read after the change"], b"<p>new</p>", {})
    assert local.get("page", (token_key,)) == (b"<p>new</p>", {})


def test_without_redis_nothing_is_kept_and_pages_still_cache(client, live, django_assert_num_queries):
    assert page_cache.local_pages() is None  # the suite's local-memory cache is already per process
    client.get(live.get_absolute_url())
    with django_assert_num_queries(1):  # the page's tokens, from the database every process shares
        client.get(live.get_absolute_url())
