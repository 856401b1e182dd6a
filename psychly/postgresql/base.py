"""Django's PostgreSQL backend, with a health check that costs no round trip while a connection is quiet.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request first uses it by running
``SELECT 1``: one more round trip on every request, whatever the request needs. A server that ends a
session (a restart, a failover, an administrator's ``pg_terminate_backend``, an idle timeout) says so on the
socket, with a termination message or by closing it, so a connection the server has sent nothing since
its last answer is as good as ``SELECT 1`` would find it. Only when something has arrived, or the
connection is not idle, does the check ask the server, as Django's does.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool and self._is_quiet()):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _is_quiet(self):
        """Idle, open, and nothing from the server waiting on the socket."""
        connection = self.connection
        if connection.closed or connection.info.transaction_status != TransactionStatus.IDLE:
            return False
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
