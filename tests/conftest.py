"""Fixtures every suite may use: a fake Crossref on 127.0.0.1, fast password hashing, Redis as the cache."""

import pytest

from references import crossref
from tests.fake_crossref import FakeCrossref


@pytest.fixture
def fake_crossref(settings):
    """A running fake Crossref that settings.CROSSREF_API_URL points at."""
    with FakeCrossref() as server:
        settings.CROSSREF_API_URL = server.url
        settings.CROSSREF_TIMEOUT = 5
        yield server


@pytest.fixture(autouse=True)
def no_backoff_wait(monkeypatch):
    """Retries happen, but their waits are recorded instead of slept."""
    waits = []
    monkeypatch.setattr(crossref, "sleep", waits.append)
    return waits


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_page_cache():
    """Each test starts with no cached public pages (the local-memory cache outlives a test's database)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Redis database number the page-cache tests have to themselves (.ci/run starts Redis; the machines run one).
PAGE_CACHE_REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def redis_page_cache(settings):
    """Django's cache is Redis (psychly.cache.RedisCache) on an emptied database; yields a raw client of it."""
    import redis

    client = redis.Redis.from_url(PAGE_CACHE_REDIS_URL)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {PAGE_CACHE_REDIS_URL} (.ci/run starts one)")
    settings.CACHES = {"default": {"BACKEND": "psychly.cache.RedisCache", "LOCATION": PAGE_CACHE_REDIS_URL}}
    yield client
    client.flushdb()


def kill_key_watches(client):
    """Close every connection watching keys in broadcast mode (a KeyWatcher's), as a network failure would."""
    watching = [entry["id"] for entry in client.client_list() if "B" in entry["flags"]]
    assert watching, "no connection watches any keys"
    for client_id in watching:
        client.client_kill_filter(_id=client_id)
