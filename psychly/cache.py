"""Django's Redis cache backend, with one Redis client per pool and a way to learn which keys others wrote.

Django's client builds a new ``redis.Redis`` object on every cache call. The
object holds no state of its own beyond its pool, so one per pool serves every
call; on a cached page, building it was a measurable share of the request.

``RedisCache.key_watcher(prefix)`` gives this process a ``KeyWatcher``: Redis's
server-assisted client-side caching (``CLIENT TRACKING ... BCAST PREFIX``, Redis
6 and later) pushes the name of every key under the prefix that any client
writes, expires, evicts or flushes. A process that keeps copies of such keys in
its own memory asks the watcher, before trusting them, which ones changed; the
answer costs a non-blocking poll of a socket, not a round trip.
"""

import logging
import os
import time

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger("psychly.cache")

# What KeyWatcher.changed() answers when anything may have changed: a flush, or a (re)started watch.
EVERYTHING = "everything"


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class KeyWatcher:
    """Which keys under ``prefix`` were written since the last call to ``changed()``, by anyone.

    The watch is one RESP3 connection of this process's own with key tracking in
    broadcast mode: Redis queues an "invalidate" push on it for every key under
    the prefix that changes, and a null one on a flush. ``changed()`` reads what
    is queued without waiting. A lost connection means pushes may have been
    missed, so ``changed()`` answers None (trust nothing) until a new watch is
    running, and then EVERYTHING once, since what happened in between is unknown.
    """

    RETRY_SECONDS = 1.0
    # What changed() answers when any key may have changed; users compare with it through the watcher.
    EVERYTHING = EVERYTHING

    def __init__(self, connection_class, connection_kwargs, prefix):
        self._connection_class = connection_class
        self._connection_kwargs = connection_kwargs
        self.prefix = prefix
        self._connection = None
        self._pid = os.getpid()
        self._retry_at = 0.0
        self._failing = False

    def changed(self):
        """A set of the keys written since the last call; EVERYTHING; or None while there is no watch."""
        if self._pid != os.getpid():
            # A forked worker: the parent's socket is not ours to read.
            self._connection, self._pid = None, os.getpid()
        if self._connection is None:
            return EVERYTHING if self._start() else None
        changed = set()
        try:
            while self._connection.can_read(timeout=0):
                keys = self._connection.read_response(push_request=True)
                if keys is None:
                    changed = EVERYTHING
                elif changed is not EVERYTHING:
                    changed.update(key.decode() for key in keys)
        except (RedisError, OSError) as error:
            self.stop()
            self._failed("lost", error)
            return None
        return changed

    def _start(self):
        if time.monotonic() < self._retry_at:
            return False
        connection = self._connection_class(**{**self._connection_kwargs, "protocol": 3})
        try:
            connection.connect()
            # The push's payload: the keys, or None for a flush.
            connection._parser.set_invalidation_push_handler(lambda push: push[1])
            connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix)
            connection.read_response()
        except (RedisError, OSError) as error:
            connection.disconnect()
            self._failed("could not start", error)
            return False
        if self._failing:
            logger.warning("The watch of cache keys %s* runs again.", self.prefix)
        self._connection, self._failing = connection, False
        return True

    def _failed(self, what, error):
        self._retry_at = time.monotonic() + self.RETRY_SECONDS
        if not self._failing:  # once per outage, not once a second
            logger.warning("The watch of cache keys %s* %s (%s: %s); copies kept in memory are not used "
                           "until it runs again.", self.prefix, what, type(error).__name__, error)
        self._failing = True

    def stop(self):
        if self._connection is not None:
            self._connection.disconnect()
            self._connection = None


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient  # Django sets its own client class in __init__

    def key_watcher(self, key_prefix):
        """A new KeyWatcher of the cache keys starting with ``key_prefix`` (as passed to get and set)."""
        pool = self._cache._get_connection_pool(write=True)  # the primary, where every write lands first
        # Where and how to connect (host, TLS, credentials), without the pool's shared machinery.
        kwargs = {name: value for name, value in pool.connection_kwargs.items() if name not in _POOL_SHARED}
        return KeyWatcher(pool.connection_class, kwargs, self.make_key(key_prefix))


_POOL_SHARED = {"maint_notifications_pool_handler", "himport_registry"}
