"""A PostgreSQL restart between two requests on one persistent connection: the next request still answers.

It needs PostgreSQL's server binaries (Debian's postgresql package, /usr/lib/postgresql/N/bin) to start a
throwaway instance of its own on a free port from 5440; the shared server on 5432 is never touched.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql",
        reason="PostgreSQL restarts are tested in the PostgreSQL pass",
    ),
]


def _server_binaries():
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def _free_port(start):
    for port in range(start, start + 100):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {start}")


class ThrowawayPostgres:
    """initdb, start, restart and stop one PostgreSQL data directory, as the postgres user when run as root."""

    def __init__(self, binaries, port):
        self.binaries, self.port = binaries, port
        self.directory = Path(tempfile.mkdtemp(prefix="psychly-pg-"))
        self.data = self.directory / "data"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, program, *args):
        command = [str(self.binaries / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{program} failed: {result.stdout}{result.stderr}"

    def create(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-o", options, "-w", "start")

    def restart(self):
        # "fast" ends every session, as an operator's restart or a failover does.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-m", "fast", "-w", "restart")

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def own_postgres():
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser to start PostgreSQL as the postgres user")
    server = ThrowawayPostgres(binaries, _free_port(5440))
    server.create()
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(server.directory, ignore_errors=True)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_first_request_after_a_database_restart_answers(own_postgres):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "DJANGO_")) and key not in {"CACHE_URL", "REDIS_URL",
                                                                         "DATABASE_REPLICA_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", DEBUG="0",
        DATABASE_URL=own_postgres.url, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0",
        STATIC_MANIFEST="0",
        # One worker keeping its connection: the second request reuses the first one's, across the restart.
        CONN_MAX_AGE="600", WEB_CONCURRENCY="1",
        # Every page is rendered from the database, none from a cache.
        CACHE_URL="dummycache://",
    )
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port(18400)
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
                urllib.request.urlopen(base + "/robots.txt", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert _get(base + "/") == 200
        assert _get(base + "/search/?q=sleep") == 200
        own_postgres.restart()
        assert _get(base + "/") == 200
        assert _get(base + "/search/?q=sleep") == 200
    except AssertionError as error:
        server.terminate()
        raise AssertionError(f"{error}\n--- server log ---\n{server.communicate(timeout=20)[1][-4000:]}") from error
    finally:
        server.terminate()
        server.wait(timeout=20)
