"""Reads from a replica when DATABASE_REPLICA_URL is set; writes, transactions and signed-in requests on the primary.

The router's decisions are tested here directly. The same checks against real
connections run in a second pytest process with DATABASE_REPLICA_URL pointing
at the test database itself (the replica "mirrors" default in tests, as Django
arranges for replicas), on SQLite or PostgreSQL, whichever the suite runs on.
"""

import contextvars
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from articles.models import Article, Topic
from psychly.db_router import PinSignedInToPrimaryMiddleware, PrimaryReplicaRouter, pinned_to_primary

ROOT = Path(__file__).resolve().parents[2]
router = PrimaryReplicaRouter()


def in_fresh_context(function):
    """Run ``function`` with its own pinning state, as each request and command has."""
    return contextvars.Context().run(function)


def test_reads_go_to_the_replica_outside_transactions():
    assert in_fresh_context(lambda: router.db_for_read(Article)) == "replica"


def test_writes_go_to_default():
    assert in_fresh_context(lambda: router.db_for_write(Article)) == "default"


def test_after_a_write_the_rest_of_the_request_reads_from_default():
    def write_then_read():
        router.db_for_write(Topic)
        return router.db_for_read(Article)

    assert in_fresh_context(write_then_read) == "default"
    # Another request starts unpinned.
    assert in_fresh_context(lambda: router.db_for_read(Article)) == "replica"


# Not a transactional test: flushing the database afterwards would drop the groups the data migrations made.
@pytest.mark.django_db
def test_reads_inside_a_transaction_go_to_default():
    def read_in_transaction():
        with transaction.atomic():
            return router.db_for_read(Article)

    assert in_fresh_context(read_in_transaction) == "default"


def test_migrations_run_on_default_only():
    assert router.allow_migrate("default", "articles") is True
    assert router.allow_migrate("replica", "articles") is False


def test_relations_between_primary_and_replica_rows_are_allowed():
    on_replica, on_default = Topic(name="a"), Topic(name="b")
    on_replica._state.db, on_default._state.db = "replica", "default"
    assert router.allow_relation(on_replica, on_default) is True
    elsewhere = Topic(name="c")
    elsewhere._state.db = "archive"
    assert router.allow_relation(on_replica, elsewhere) is False


@pytest.mark.parametrize("cookies, pinned", [({}, False), ({settings.SESSION_COOKIE_NAME: "abc"}, True)])
def test_requests_with_a_session_cookie_are_pinned_to_default(cookies, pinned):
    seen = []

    def view(request):
        seen.append(pinned_to_primary())
        return HttpResponse("ok")

    def handle():
        request = RequestFactory().get("/")
        request.COOKIES.update(cookies)
        PinSignedInToPrimaryMiddleware(view)(request)
        return pinned_to_primary()

    assert in_fresh_context(handle) is False  # unpinned once the response is made
    assert seen == [pinned]


def test_no_replica_and_no_router_unless_configured():
    if os.environ.get("DATABASE_REPLICA_URL"):
        pytest.skip("this run configures a replica")
    assert "replica" not in settings.DATABASES
    assert settings.DATABASE_ROUTERS == []
    assert "psychly.db_router.PinSignedInToPrimaryMiddleware" not in settings.MIDDLEWARE


def test_routing_on_real_connections_with_a_replica_configured():
    """Runs the ``test_with_replica_*`` tests below in a process whose replica is this suite's database."""
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    primary = env.get("DATABASE_URL") or "sqlite://:memory:"
    if primary.startswith("postgres"):
        # Its own database name, so the nested run's test database collides with no one's.
        primary = primary.rsplit("/", 1)[0] + "/" + primary.rsplit("/", 1)[1].split("?")[0] + "_router"
    env.update(DATABASE_URL=primary, DATABASE_REPLICA_URL=primary)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", "with_replica",
         "--create-db"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout, result.stdout[-3000:]


if "replica" in settings.DATABASES:
    from tests.factories import make_article

    def _queries_on(alias, function):
        with CaptureQueriesContext(connections[alias]) as captured:
            function()
        return len(captured)

    @pytest.mark.django_db(transaction=True, databases=["default", "replica"])
    def test_with_replica_public_reads_run_on_the_replica_connection():
        make_article("Routed")
        assert in_fresh_context(lambda: Article.objects.all().db) == "replica"
        assert _queries_on("replica", lambda: in_fresh_context(lambda: list(Article.objects.all()))) == 1

    @pytest.mark.django_db(transaction=True, databases=["default", "replica"])
    def test_with_replica_writes_and_transactions_run_on_default():
        def write_and_read():
            with transaction.atomic():
                topic = Topic.objects.create(name="Sleep", slug="sleep")
                assert Topic.objects.filter(pk=topic.pk).exists()

        assert _queries_on("replica", lambda: in_fresh_context(write_and_read)) == 0
        assert _queries_on("default", lambda: in_fresh_context(write_and_read_again)) > 0

    def write_and_read_again():
        Topic.objects.create(name="Anxiety", slug="anxiety")
        return list(Topic.objects.all())  # pinned after the write: read from default

    @pytest.mark.django_db(transaction=True, databases=["default", "replica"])
    def test_with_replica_anonymous_pages_read_the_replica_and_signed_in_ones_the_primary(client):
        anonymous = _queries_on("replica", lambda: client.get("/"))
        assert anonymous > 0
        client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
        assert _queries_on("replica", lambda: client.get("/?signed-in")) == 0

    @pytest.mark.django_db(transaction=True, databases=["default", "replica"])
    def test_with_replica_healthz_checks_the_replica_too(client):
        assert client.get("/healthz").json()["checks"] == {"database": "ok", "database:replica": "ok", "cache": "ok"}
