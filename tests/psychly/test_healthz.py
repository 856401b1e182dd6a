"""/healthz: 200 with a small JSON body when the database and the cache answer, 503 naming what failed."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import kill_key_watches

ROOT = Path(__file__).resolve().parents[2]

# A port nothing listens on: connecting fails at once, as with a stopped Redis.
DEAD_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:9/0",
                          "OPTIONS": {"socket_connect_timeout": 1}}}


@pytest.mark.django_db
def test_healthy_when_database_and_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    # A load balancer must never see a cached answer.
    assert "no-cache" in response["Cache-Control"]


def test_the_url_is_named():
    assert reverse("healthz") == "/healthz"


@pytest.mark.django_db
def test_a_cache_that_does_not_answer_is_reported_as_degraded_with_200(client):
    # Readers are still served, from the database: a load balancer must not take the server out.
    with override_settings(CACHES=DEAD_REDIS):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["cache"]
    assert "failed" not in body
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("down: ")
    # The class of the failure, never connection details.
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_a_site_configured_without_a_cache_is_healthy(client):
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "disabled"}


@pytest.mark.django_db
def test_only_get_is_answered(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_not_redirected_to_https_so_plain_http_probes_work(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


def _healthz_in_a_fresh_process(**environment):
    """GET /healthz in a new interpreter whose settings come from ``environment`` (a database that is down)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "CACHE_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "psychly.settings", "PSYCHLY_READ_DOT_ENV": "0", **environment})
    code = (
        "import json, django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_database_that_does_not_answer_is_named_with_503(tmp_path):
    # A PostgreSQL port nothing listens on: the connection is refused, as when the server is down.
    answer = _healthz_in_a_fresh_process(DATABASE_URL="postgres://postgres@127.0.0.1:9/psychly_down")
    assert answer["status"] == 503
    assert answer["body"]["failed"] == ["database"]
    assert answer["body"]["checks"]["cache"] == "ok"
    assert answer["body"]["checks"]["database"] == "failed: OperationalError"


def test_both_down_names_both():
    answer = _healthz_in_a_fresh_process(
        DATABASE_URL="postgres://postgres@127.0.0.1:9/psychly_down", REDIS_URL="redis://127.0.0.1:9/0"
    )
    assert answer["status"] == 503
    assert answer["body"]["failed"] == ["database"]
    assert answer["body"]["degraded"] == ["cache"]
    assert answer["body"]["checks"]["cache"].startswith("down: ")


@pytest.mark.django_db
def test_with_redis_it_says_whether_pages_kept_in_memory_are_served(client, redis_page_cache):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "page_copies": "ok"}


@pytest.mark.django_db
def test_a_lost_watch_is_reported_but_is_no_failure(client, redis_page_cache):
    assert client.get("/healthz").json()["checks"]["page_copies"] == "ok"
    kill_key_watches(redis_page_cache)
    deadline = time.monotonic() + 1  # the closed connection reaches this process within microseconds
    while (response := client.get("/healthz")).json()["checks"]["page_copies"] == "ok":
        assert time.monotonic() < deadline, "the lost watch went unreported"
        time.sleep(0.01)
    assert response.status_code == 200
    assert response.json()["checks"]["page_copies"].startswith("off: ")
    assert "failed" not in response.json()
