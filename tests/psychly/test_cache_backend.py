"""The Redis cache backend keeps one client per pool, reads and writes Redis, and reports keys others write."""

import time
import uuid

import pytest

from psychly.cache import EVERYTHING, KeyWatcher, RedisCache
from tests.conftest import kill_key_watches

REDIS_URL = "redis://127.0.0.1:6379/12"


def redis_cache():
    return RedisCache(REDIS_URL, {})


def test_one_client_serves_every_call_on_the_same_pool():
    cache = redis_cache()
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client(write=False) is client  # one server: reads share the write pool


def test_reads_and_writes_go_to_redis():
    import redis

    cache = redis_cache()
    key = f"psychly-test:{uuid.uuid4().hex}"
    try:
        cache.set(key, {"page": "<p>ok</p>"}, timeout=30)
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
    try:
        assert cache.get(key) == {"page": "<p>ok</p>"}
        assert cache.get_many([key, key + ":missing"]) == {key: {"page": "<p>ok</p>"}}
        # Another backend instance, as another worker would have, sees the same value.
        assert redis_cache().get(key) == {"page": "<p>ok</p>"}
    finally:
        cache.delete(key)


@pytest.fixture
def watched():
    """A watcher of the keys under "psychly-test:watch:", started, and a second backend to write as others do."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
    watcher = redis_cache().key_watcher("psychly-test:watch:")
    assert watcher.changed() == EVERYTHING, "a new watch knows nothing of what came before"
    yield watcher, redis_cache()
    watcher.stop()


def changes_within_a_second(watcher):
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        changed = watcher.changed()
        if changed:
            return changed
        time.sleep(0.005)
    return set()


def test_the_watcher_reports_keys_others_write_under_its_prefix(watched):
    watcher, other = watched
    other.set("psychly-test:elsewhere", "not watched", timeout=30)
    other.set("psychly-test:watch:a", "1", timeout=30)
    assert changes_within_a_second(watcher) == {other.make_key("psychly-test:watch:a")}
    assert watcher.changed() == set(), "each change is reported once"
    other.delete("psychly-test:watch:a")
    assert changes_within_a_second(watcher) == {other.make_key("psychly-test:watch:a")}


def test_the_watcher_reports_expired_keys(watched):
    import redis

    watcher, other = watched
    raw = redis.Redis.from_url(REDIS_URL)
    raw.set(other.make_key("psychly-test:watch:short"), b"1", px=20)
    assert changes_within_a_second(watcher) == {other.make_key("psychly-test:watch:short")}
    time.sleep(0.05)
    raw.get(other.make_key("psychly-test:watch:short"))  # Redis notices the expiry on access at the latest
    assert changes_within_a_second(watcher) == {other.make_key("psychly-test:watch:short")}


def test_a_lost_watch_answers_none_then_everything_once_restarted(watched, monkeypatch):
    import redis

    watcher, _ = watched
    kill_key_watches(redis.Redis.from_url(REDIS_URL))
    deadline = time.monotonic() + 1
    while watcher.changed() is not None:
        assert time.monotonic() < deadline, "the closed watch went unnoticed"
        time.sleep(0.005)
    assert watcher.changed() is None, "no new watch before the retry delay"
    monkeypatch.setattr(KeyWatcher, "RETRY_SECONDS", 0)
    watcher._retry_at = 0
    assert watcher.changed() == EVERYTHING


def test_a_forked_process_starts_its_own_watch(watched):
    watcher, other = watched
    watcher._pid = -1  # as in a worker forked from a master that had started the watch
    assert watcher.changed() == EVERYTHING
    other.set("psychly-test:watch:b", "1", timeout=30)
    assert changes_within_a_second(watcher) == {other.make_key("psychly-test:watch:b")}


def test_without_redis_the_watcher_answers_none_and_does_not_raise():
    watcher = RedisCache("redis://127.0.0.1:1/0", {}).key_watcher("psychly-test:watch:")
    assert watcher.changed() is None
    assert watcher.changed() is None


def test_a_watch_that_cannot_start_is_logged_once_per_outage(caplog):
    watcher = RedisCache("redis://127.0.0.1:1/0", {}).key_watcher("psychly-test:watch:")
    watcher.RETRY_SECONDS = 0
    with caplog.at_level("WARNING", logger="psychly.cache"):
        for _ in range(3):
            assert watcher.changed() is None
    assert len(caplog.records) == 1
    assert "could not start" in caplog.records[0].getMessage()
