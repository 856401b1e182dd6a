"""Give the shared Redis cache a memory bound and an eviction policy when it has none (`make serve` runs this).

A page cache keyed by URL grows with whatever URLs crawlers invent; an unbounded Redis then grows until the
machine swaps. Redis bounds itself only when told to (`maxmemory`, with `allkeys-lru` so the least recently
read pages go first), and a fresh Redis is unbounded. A Redis that already has a bound is left as its
operator set it; a managed Redis that refuses CONFIG is reported, not fought.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

POLICY = "allkeys-lru"


class Command(BaseCommand):
    help = "Set maxmemory (REDIS_MAXMEMORY) and allkeys-lru on the Redis cache if it has no memory bound."

    def handle(self, *args, **options):
        cache = settings.CACHES["default"]
        location = cache.get("LOCATION") or ""
        if isinstance(location, (list, tuple)):
            location = location[0] if location else ""
        if not str(location).startswith(("redis://", "rediss://", "unix://")):
            self.stdout.write(
                "Cache: not Redis; pages kept per process are bounded by PAGE_CACHE_LOCAL_MIB "
                f"({settings.PAGE_CACHE_LOCAL_MIB} MiB)."
            )
            return
        import redis

        client = redis.Redis.from_url(str(location), socket_connect_timeout=2, socket_timeout=2)
        try:
            current = int(client.config_get("maxmemory").get("maxmemory", 0))
            policy = client.config_get("maxmemory-policy").get("maxmemory-policy", "")
            if current:
                self.stdout.write(f"Redis cache already bounded at {current:,} bytes (policy {policy}); left as is.")
                if policy == "noeviction":
                    self.stderr.write(
                        "Warning: policy noeviction makes a full Redis refuse writes; pages are then served "
                        "uncached. allkeys-lru is what a page cache wants."
                    )
                return
            client.config_set("maxmemory", settings.REDIS_MAXMEMORY)
            client.config_set("maxmemory-policy", POLICY)
        except redis.exceptions.ResponseError as exc:
            self.stderr.write(
                f"Warning: this Redis refuses CONFIG ({exc}); set its memory bound and {POLICY} with its operator."
            )
            return
        except redis.exceptions.RedisError as exc:
            self.stderr.write(f"Warning: Redis unreachable ({exc.__class__.__name__}); pages are served uncached "
                              "until it answers, and its bound is not set.")
            return
        self.stdout.write(f"Redis cache bounded at {settings.REDIS_MAXMEMORY} with {POLICY}.")
