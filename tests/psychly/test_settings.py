"""Configuration comes from the environment; each case starts a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "strong-production-key-with-enough-entropy-0123456789"
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), 'host': db.get('HOST', ''), "
    "'debug': settings.DEBUG, 'hosts': settings.ALLOWED_HOSTS, 'cache': settings.CACHES['default']['BACKEND'], "
    "'crossref': settings.CROSSREF_API_URL, 'mailto': settings.CROSSREF_MAILTO, "
    "'email_backend': settings.EMAIL_BACKEND}))"
)


def load_settings(**environment):
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CACHE_URL", "REDIS_URL",
                       "EMAIL_URL", "CROSSREF_API_URL", "CROSSREF_MAILTO"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "psychly.settings", "PSYCHLY_READ_DOT_ENV": "0", **environment})
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def loaded(**environment):
    result = load_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sqlite_file_beside_manage_py_by_default():
    values = loaded(SECRET_KEY=STRONG_KEY)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["debug"] is False
    assert values["hosts"] == []


def test_postgres_url_selects_postgresql():
    values = loaded(SECRET_KEY=STRONG_KEY, DATABASE_URL="postgres://postgres@127.0.0.1:5432/psychly")
    assert values["engine"] == "psychly.postgresql"
    assert values["name"] == "psychly"
    assert values["host"] == "127.0.0.1"


def test_deployment_values_come_from_the_environment():
    values = loaded(
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="psychly.example,www.psychly.example",
        REDIS_URL="redis://127.0.0.1:6379/1",
        CROSSREF_API_URL="http://127.0.0.1:8099",
        CROSSREF_MAILTO="editors@psychly.example",
        EMAIL_URL="smtp://mail.psychly.example:587",
    )
    assert values["hosts"] == ["psychly.example", "www.psychly.example"]
    assert values["cache"] == "psychly.cache.RedisCache"
    assert values["crossref"] == "http://127.0.0.1:8099"
    assert values["mailto"] == "editors@psychly.example"
    assert values["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"


def test_local_memory_cache_without_a_cache_url():
    assert loaded(SECRET_KEY=STRONG_KEY)["cache"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    "key, complaint",
    [
        (None, "SECRET_KEY is not set"),
        ("short", "SECRET_KEY is weak"),
        ("a" * 60, "SECRET_KEY is weak"),
        ("django-insecure-" + "x1y2z3" * 10, "django-insecure"),
    ],
)
def test_refuses_to_start_without_a_strong_key_when_debug_is_off(key, complaint):
    environment = {} if key is None else {"SECRET_KEY": key}
    result = load_settings(**environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_debug_on_starts_without_a_key():
    values = loaded(DEBUG="1")
    assert values["debug"] is True
    assert "127.0.0.1" in values["hosts"]
