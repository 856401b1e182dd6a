"""Site-wide views that belong to no app: the health check and the benchmark's baseline."""

import logging
import uuid

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("psychly.health")


def _database_answers(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _cache_answers():
    if isinstance(caches["default"], DummyCache):
        return "disabled"  # configured to cache nothing (CACHE_URL=dummycache://): nothing to fail
    # A unique key per check, so two servers probing one Redis never read each other's value.
    key = f"psychly:healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        return cache.get(key) == "ok"
    finally:
        cache.delete(key)


def _probe(check):
    """'ok', or the kind of failure (the exception's class name: enough to act on, no connection details)."""
    try:
        answer = check()
        return answer if isinstance(answer, str) else "ok" if answer else "wrong answer"
    except Exception as error:  # noqa: BLE001 - any failure is an unhealthy dependency, reported by name
        logger.warning("Health check failed: %s", error, exc_info=True)
        return f"failed: {type(error).__name__}"


def _page_copies():
    """Whether this process may serve the pages it keeps: Redis must be reporting invalidations to it."""
    from articles.publishing.cache import local_pages

    local = local_pages()
    if local is None:
        return None
    return "ok" if local.sync() is not None else "off: invalidations are not reaching this process (see the log)"


@never_cache
@require_GET
def healthz(request):
    """200 and {"status": "ok", ...} when every database and the cache answer; 503 naming a database that failed.

    A cache that fails is reported as "down: ..." under "degraded", with 200:
    readers are still served, from the database (articles.publishing.cache). With Redis,
    "page_copies" also says whether this process serves the pages it keeps in
    memory; when it does not, pages still come from Redis, so that is
    reported but is not a failure.
    """
    checks = {}
    for alias in connections:
        checks["database" if alias == "default" else f"database:{alias}"] = _probe(
            lambda alias=alias: _database_answers(alias)
        )
    cache_check = _probe(_cache_answers)
    checks["cache"] = (cache_check if cache_check in ("ok", "disabled")
                       else "down: " + cache_check.removeprefix("failed: "))
    failed = sorted(name for name, result in checks.items() if result not in ("ok", "disabled") and name != "cache")
    degraded = ["cache"] if checks["cache"].startswith("down: ") else []
    copies = _page_copies()
    if copies is not None:
        checks["page_copies"] = copies
    body = {"status": "unavailable" if failed else "degraded" if degraded else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    if degraded:
        body["degraded"] = degraded
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
def bare(request):
    """The benchmark's baseline: the same project and middleware, no database, no template."""
    return HttpResponse(b"ok\n", content_type="text/plain")
