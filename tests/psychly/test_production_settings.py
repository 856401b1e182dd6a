"""Production mode: secure defaults, and gunicorn serving the app and its static files as `make serve` does."""

import gzip
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.psychly.test_settings import STRONG_KEY, ROOT, load_settings

PRINT_SECURITY = (
    "import json, django; from django.conf import settings as s; django.setup(); "
    "print(json.dumps({'redirect': s.SECURE_SSL_REDIRECT, 'exempt': s.SECURE_REDIRECT_EXEMPT, "
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
    "'hsts': s.SECURE_HSTS_SECONDS, 'storage': s.STORAGES['staticfiles']['BACKEND'], "
    "'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'], 'bare': s.BENCH_BARE_VIEW}))"
)


def security(**environment):
    import json

    env = {key: value for key, value in os.environ.items()
           if key not in {"SECURE_SSL_REDIRECT", "SECURE_COOKIES", "STATIC_MANIFEST", "DEBUG", "CONN_MAX_AGE",
                          "SECURE_HSTS_SECONDS", "BENCH_BARE_VIEW"}}
    env.update({"DJANGO_SETTINGS_MODULE": "psychly.settings", "PSYCHLY_READ_DOT_ENV": "0",
                "SECRET_KEY": STRONG_KEY, **environment})
    result = subprocess.run([sys.executable, "-c", PRINT_SECURITY], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_off_is_secure_by_default():
    values = security()
    assert values["redirect"] is True
    assert values["session_secure"] is values["csrf_secure"] is True
    assert values["hsts"] == 31_536_000
    assert values["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["bare"] is False
    # Only the health check is answered over plain HTTP (load balancers probe app servers that way).
    assert values["exempt"] == [r"^healthz$"]


def test_local_plain_http_serving_turns_off_only_the_redirect_and_secure_cookies():
    values = security(SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0")
    assert values["redirect"] is False
    assert values["session_secure"] is values["csrf_secure"] is False
    assert values["hsts"] == 31_536_000  # sent only over HTTPS, so harmless on 127.0.0.1
    assert values["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_persistent_connections_come_from_conn_max_age():
    assert security()["conn_max_age"] == 0
    assert security(CONN_MAX_AGE="60")["conn_max_age"] == 60


def test_replica_settings_only_when_asked_for():
    code = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        "print(json.dumps({'aliases': sorted(s.DATABASES), 'routers': s.DATABASE_ROUTERS, "
        "'mirror': s.DATABASES.get('replica', {}).get('TEST', {}).get('MIRROR'), "
        "'first_middleware': s.MIDDLEWARE[0]}))"
    )
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DATABASE_REPLICA_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", SECRET_KEY=STRONG_KEY,
               DATABASE_URL="postgres://postgres@primary.internal:5432/psychly",
               DATABASE_REPLICA_URL="postgres://postgres@replica.internal:5432/psychly")
    import json

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {"aliases": ["default", "replica"], "routers": ["psychly.db_router.PrimaryReplicaRouter"],
                      "mirror": "default", "first_middleware": "psychly.db_router.PinSignedInToPrimaryMiddleware"}


def test_gunicorn_configuration():
    code = (
        "import runpy, json; c = runpy.run_path('psychly/gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'worker_class', 'preload_app', 'accesslog')}))"
    )
    import json

    def config(**environment):
        env = {key: value for key, value in os.environ.items()
               if key not in {"PORT", "GUNICORN_BIND", "WEB_CONCURRENCY"}}
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, **environment},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    default = config()
    assert default["bind"] == "127.0.0.1:8000"
    assert default["workers"] == (os.cpu_count() or 1) * 2 + 1
    assert default["worker_class"] == "sync" and default["preload_app"] is True
    assert default["accesslog"] is None
    assert config(PORT="9123", WEB_CONCURRENCY="2")["bind"] == "127.0.0.1:9123"
    assert config(PORT="9123", WEB_CONCURRENCY="2")["workers"] == 2
    assert config(GUNICORN_BIND="0.0.0.0:8080")["bind"] == "0.0.0.0:8080"


def test_production_mode_serves_pages_health_and_hashed_compressed_static_files(tmp_path):
    """What `make serve` runs: collectstatic, then gunicorn with DEBUG off, over plain HTTP on 127.0.0.1."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "DJANGO_")) and key not in {"CACHE_URL", "REDIS_URL",
                                                                         "DATABASE_REPLICA_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}", SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0",
        CONN_MAX_AGE="60", WEB_CONCURRENCY="1", STATIC_MANIFEST="1",
    )
    env.pop("STATIC_MANIFEST")  # the default with DEBUG off
    for command in (["migrate", "--noinput", "--verbosity", "0"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        result = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "psychly/gunicorn.conf.py", "psychly.wsgi"],
        cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                health = urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert health.status == 200
        assert health.headers["Server"] == "gunicorn"

        home = urllib.request.urlopen(base + "/", timeout=10)
        assert home.status == 200
        html = home.read().decode()
        stylesheet = re.search(r'href="(/static/css/[^"]+\.[0-9a-f]{12}\.css)"', html)
        assert stylesheet, "the page should link the hashed stylesheet name"

        request = urllib.request.Request(base + stylesheet.group(1), headers={"Accept-Encoding": "gzip"})
        css = urllib.request.urlopen(request, timeout=10)
        assert css.status == 200
        assert "immutable" in css.headers["Cache-Control"]
        assert "max-age=315360000" in css.headers["Cache-Control"]
        assert css.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(css.read())

        # The benchmark's bare view is not mounted unless BENCH_BARE_VIEW=1.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/bench/bare", timeout=10)
        assert missing.value.code == 404
    except (AssertionError, urllib.error.HTTPError) as error:
        server.terminate()
        raise AssertionError(f"{error}\n--- server log ---\n{server.communicate(timeout=20)[1][-4000:]}") from error
    finally:
        server.terminate()
        server.wait(timeout=20)


def _database_options(**environment):
    import json

    code = ("import json, django; from django.conf import settings as s; django.setup(); "
            "print(json.dumps({alias: d.get('OPTIONS', {}) for alias, d in s.DATABASES.items()}))")
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "DATABASE_SERVER_SIDE_BINDING",
                          "DATABASE_PREPARE_THRESHOLD"}}
    env.update(DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", SECRET_KEY=STRONG_KEY,
               **environment)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_prepares_repeated_statements_unless_turned_off():
    primary, replica = "postgres://u@primary.internal:5432/p", "postgres://u@replica.internal:5432/p"
    options = _database_options(DATABASE_URL=primary, DATABASE_REPLICA_URL=replica)
    for alias in ("default", "replica"):
        assert options[alias]["server_side_binding"] is True
        assert options[alias]["prepare_threshold"] == 5
    assert _database_options(DATABASE_URL=primary, DATABASE_PREPARE_THRESHOLD="2")["default"]["prepare_threshold"] == 2
    off = _database_options(DATABASE_URL=primary, DATABASE_SERVER_SIDE_BINDING="0")["default"]
    assert "server_side_binding" not in off and "prepare_threshold" not in off
    # SQLite has neither.
    assert "server_side_binding" not in _database_options()["default"]
