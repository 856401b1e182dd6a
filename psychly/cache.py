"""Django's Redis cache backend, keeping one Redis client per connection pool.

Django's client builds a new ``redis.Redis`` object on every cache call. The
object holds no state of its own beyond its pool, so one per pool serves every
call; on a cached page, building it was a measurable share of the request.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient  # Django sets its own client class in __init__
