"""psychly.postgresql: the per-request health check asks the server only when the connection is not quiet."""

import time

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql",
                       reason="the PostgreSQL backend is tested in the PostgreSQL pass"),
]


@pytest.fixture
def checked_connection():
    """The default connection as a request finds it: kept, with health checks on and not yet checked."""
    connection = connections["default"]
    connection.ensure_connection()
    connection.health_check_enabled = True
    connection.health_check_done = False
    yield connection
    connection.health_check_enabled = settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]


def test_a_quiet_connection_passes_without_a_round_trip(checked_connection, monkeypatch):
    calls = []
    monkeypatch.setattr(type(checked_connection), "is_usable", lambda self: calls.append("SELECT 1") or True)
    kept = checked_connection.connection
    checked_connection.close_if_health_check_failed()
    assert calls == [] and checked_connection.health_check_done
    assert checked_connection.connection is kept


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(checked_connection):
    kept = checked_connection.connection
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    checked_connection.health_check_done = False
    # Another session ends this one, as a restart or an administrator would.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while checked_connection._is_quiet() and time.monotonic() < deadline:
        time.sleep(0.05)  # the termination message is on its way
    assert not checked_connection._is_quiet(), "the server's termination shows on the socket"
    with CaptureQueriesContext(checked_connection) as captured:
        with checked_connection.cursor() as cursor:
            cursor.execute("SELECT 1 + 1")
            assert cursor.fetchone() == (2,)
    assert checked_connection.connection is not kept, "the ended connection was replaced"
    assert [query["sql"] for query in captured.captured_queries] == ["SELECT 1 + 1"]


def test_a_connection_inside_a_transaction_is_never_called_quiet(checked_connection):
    with checked_connection.cursor() as cursor:
        checked_connection.set_autocommit(False)
        try:
            cursor.execute("SELECT 1")
            assert not checked_connection._is_quiet()
        finally:
            checked_connection.rollback()
            checked_connection.set_autocommit(True)
    assert checked_connection._is_quiet()
