"""Fixtures every suite may use: a fake Crossref on 127.0.0.1 and fast password hashing."""

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
