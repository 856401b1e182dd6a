"""The Redis cache backend keeps one client per pool and still reads and writes Redis."""

import uuid

import pytest

from psychly.cache import RedisCache

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
