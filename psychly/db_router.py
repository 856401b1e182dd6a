"""Reads from a PostgreSQL replica, everything else from the primary (only when DATABASE_REPLICA_URL is set).

A replica lags its primary by a little, so the router sends a read there only
when nobody can notice the lag:

- writes always go to ``default``; so does every read inside a transaction
  (the workflow reads and locks rows it is about to change);
- after a write, the rest of that request (or command) reads from ``default``,
  so a view reads what it has just written;
- a request from someone signed in (it carries the session cookie) reads from
  ``default`` throughout: editors and reviewers see their own edits at once,
  and a fresh sign-in is never lost to lag. Anonymous readers, the traffic
  that matters for scale, read from the replica;
- migrations run on ``default`` only; the replica follows by replication.
"""

from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_pinned = ContextVar("psychly_pinned_to_primary", default=False)


def pin_to_primary():
    """Send every read from here on (this request, or this command) to the primary."""
    _pinned.set(True)


def pinned_to_primary():
    return _pinned.get()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if _pinned.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        pin_to_primary()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class PinSignedInToPrimaryMiddleware:
    """Pins requests carrying a session cookie to the primary, and unpins every request when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _pinned.set(settings.SESSION_COOKIE_NAME in request.COOKIES)
        try:
            return self.get_response(request)
        finally:
            _pinned.reset(token)
