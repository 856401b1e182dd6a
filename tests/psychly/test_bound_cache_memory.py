"""`manage.py bound_cache_memory` (run by `make serve`) bounds an unbounded Redis and leaves a bounded one alone."""

import io
import shutil
import socket
import subprocess
import time

import pytest
from django.core.management import call_command

redis = pytest.importorskip("redis")

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_redis():
    """Start a redis-server of the test's own with the given arguments; stopped after the test."""
    processes = []

    def start(*arguments):
        port = _free_port()
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             *arguments],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return port, client
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    yield start
    for process in processes:
        process.kill()
        process.wait()


def _use_redis(settings, port):
    settings.CACHES = {"default": {"BACKEND": "psychly.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}}


def _run():
    out, err = io.StringIO(), io.StringIO()
    call_command("bound_cache_memory", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_unbounded_redis_gets_the_configured_bound_and_lru_eviction(settings, start_redis):
    port, client = start_redis()
    assert client.config_get("maxmemory")["maxmemory"] == "0"
    _use_redis(settings, port)
    settings.REDIS_MAXMEMORY = "64mb"
    out, _ = _run()
    assert client.config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    assert "bounded at 64mb with allkeys-lru" in out


def test_a_redis_its_operator_bounded_is_left_as_set(settings, start_redis):
    port, client = start_redis("--maxmemory", "32mb", "--maxmemory-policy", "volatile-lru")
    _use_redis(settings, port)
    out, _ = _run()
    assert client.config_get("maxmemory")["maxmemory"] == str(32 * 1024 * 1024)
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "volatile-lru"
    assert "already bounded" in out


def test_noeviction_is_warned_about(settings, start_redis):
    port, _client = start_redis("--maxmemory", "32mb", "--maxmemory-policy", "noeviction")
    _use_redis(settings, port)
    _, err = _run()
    assert "noeviction" in err


def test_an_unreachable_redis_is_a_warning_not_a_failure(settings):
    _use_redis(settings, _free_port())
    _, err = _run()
    assert "Redis unreachable" in err


def test_without_redis_it_names_the_per_process_bound(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    out, _ = _run()
    assert "PAGE_CACHE_LOCAL_MIB" in out
