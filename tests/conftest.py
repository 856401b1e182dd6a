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
def no_pubmed_wait(monkeypatch):
    """PubMed's rate limiter and retries record their waits instead of sleeping; each test starts unthrottled."""
    from references import pubmed

    waits = []
    monkeypatch.setattr(pubmed, "sleep", waits.append)
    pubmed.limiter.reset()
    return waits


@pytest.fixture
def fake_ncbi(settings):
    """A running fake NCBI E-utilities that settings.NCBI_API_URL points at."""
    from tests.fake_ncbi import FakeNCBI

    with FakeNCBI() as server:
        settings.NCBI_API_URL = server.url
        settings.NCBI_TIMEOUT = 5
        yield server


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


class RecheckClock:
    """The clock of the page cache's periodic check for missed invalidations; moves only when a test moves it."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(autouse=True)
def recheck_clock(monkeypatch):
    """Each process checks the database every PAGE_CACHE_RECHECK_SECONDS for invalidations that could not reach
    Redis (articles.publishing.cache). On the wall clock that check would land in whichever request came due, making the
    pinned query counts depend on timing; tests/articles/publishing/test_cache_faults.py moves this clock to test it."""
    from articles.publishing import cache as page_cache

    clock = RecheckClock()
    monkeypatch.setattr(page_cache, "_recheck_clock", clock)
    monkeypatch.setattr(page_cache, "_recheck_due", clock() + 0.001)  # as if it had just run
    return clock
