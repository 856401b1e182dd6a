"""Two app servers, one PostgreSQL, one Redis: a publish through one is what the other serves at once.

Both servers are gunicorn processes started with the production configuration
(psychly/gunicorn.conf.py, DEBUG off) on their own ports. They share a
PostgreSQL database made for this test and a Redis database number of its own,
so nothing collides with the suite's test database or anyone's cache. Each
server also keeps the pages it served in its own memory, told of invalidations
by Redis (articles.publishing.cache.LocalPages).
"""

import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TWO_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/14")
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="needs PostgreSQL (DATABASE_URL): two server processes cannot share the suite's SQLite test database",
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_database():
    """The suite's PostgreSQL server, a database name of this test's own."""
    parts = urllib.parse.urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/") or "psychly"
    return parts._replace(path=f"/{name}_two_servers").geturl(), f"{name}_two_servers"


def _admin_connection():
    import psycopg

    parts = urllib.parse.urlsplit(DATABASE_URL)
    return psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True)


@pytest.fixture
def shared_services():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis at {REDIS_URL} does not answer ({error}); the PostgreSQL pass of the suite needs it.")
    url, name = _server_database()
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1", DATABASE_URL=url, REDIS_URL=REDIS_URL,
        SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", STATIC_MANIFEST="0", CONN_MAX_AGE="60",
        AXES_ENABLED="0", WEB_CONCURRENCY="1",
    )
    env.pop("CACHE_URL", None)
    env.pop("DATABASE_REPLICA_URL", None)
    run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
    yield env, client
    client.flushdb()
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(command, env):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def task(env, *arguments):
    return json.loads(run([sys.executable, "-m", "tests.psychly._server_tasks", *arguments], env).splitlines()[-1])


class Server:
    def __init__(self, env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "psychly/gunicorn.conf.py", "psychly.wsgi"],
            cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read()
            try:
                if urllib.request.urlopen(self.url + "/healthz", timeout=2).status == 200:
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError(f"gunicorn on port {self.port} did not become healthy")

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return response.status, response.read().decode()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def publish_through_the_admin(server, username, password, pk):
    """Sign in to the server's admin and press Publish, as an editor would."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path, fields):
        page = opener.open(server.url + path, timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return opener.open(server.url + path, data=data, timeout=30)

    post("/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"})
    assert any(cookie.name == "sessionid" for cookie in jar), "the sign-in failed"
    response = post(f"/admin/articles/article/{pk}/workflow/publish/", {})
    assert response.url.endswith(f"/admin/articles/article/{pk}/change/"), response.url


def test_a_publish_on_one_server_is_served_by_the_other_at_once(shared_services):
    env, redis_client = shared_services
    slug = f"two-servers-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    first = task(env, "create", slug, password)
    a, b = Server(env), Server(env)
    try:
        status, page = b.get(f"/articles/{slug}/")
        assert status == 200 and first["text"] in page
        assert a.get(f"/articles/{slug}/")[1] == page
        # B's page now lives in the shared Redis: it is only fresh if a publish on A invalidates it there.
        pages = [key for key in redis_client.keys("*") if b":page:" in key and b":generation:" not in key]
        assert pages, "the article page was not cached in Redis"
        # And in B's own memory: with Redis's copies gone, B still serves it, so only Redis's report of
        # A's invalidation can make B drop it.
        redis_client.delete(*pages)
        assert b.get(f"/articles/{slug}/")[1] == page

        new_text = f"A second trial ({slug}) replicated the effect within a week."
        task(env, "revise", str(first["pk"]), new_text)
        assert first["text"] in b.get(f"/articles/{slug}/")[1], "readers must not see unpublished edits"

        publish_through_the_admin(a, f"publisher-{slug}", password, first["pk"])

        status, page = b.get(f"/articles/{slug}/")
        assert status == 200
        assert new_text in page
        assert first["text"] not in page
    finally:
        a.stop()
        b.stop()
