"""Whole-page caching of public pages for anonymous readers, and its invalidation.

Pages are stored in Django's default cache (local memory, or Redis when
REDIS_URL is set), each with the *generation* token of every scope it belongs
to: every list page (home, topics, search, feed, sitemap) shares the "lists"
scope, each article page has its own "article:<slug>" scope. Invalidating a
scope writes a fresh random token, so every page stored with the old one is
never served again (it is replaced or ages out); no key has to be found and
deleted. A token that has been evicted is replaced by a new one, which is
equally safe. PageCacheMiddleware reads a page and its scopes' tokens in one
round trip.

With Redis, each process also keeps the pages it served in its own memory
(``LocalPages``, at most PAGE_CACHE_LOCAL_MIB), together with the tokens they
were current under. Redis tells the process about every token written anywhere
(psychly.cache.KeyWatcher), so a local copy is served only while its tokens are
still the shared ones: a publish on any server makes it stale at once, and a hit
costs no round trip at all.

Where the tokens live decides who sees an invalidation. In a shared cache
(Redis) they sit beside the pages, so a hit costs no query. With the default
local-memory cache, which is one process's own, they live in the database
(``TOKENS_TABLE``, made by migrate), which every process shares: a hit costs one
small query, and a publish from cron or a shell reaches every worker's next
request.

A shared cache that fails never breaks a page: reads and writes are skipped
(``_shared``), the page is rendered from the database, one warning is logged per
outage, and the cache is tried again once a second. An invalidation that could
not reach it is recorded in the database; every process checks for one every
PAGE_CACHE_RECHECK_SECONDS, and at once when the cache answers again, and then
replaces the token of the ``ALL_PAGES`` scope that every page carries, so no page
cached before the missed invalidation is served after it.

A page's key is its path and only the query parameters its view reads, each
with a check of its value (``cached_public_page(params=...)``): tracking
parameters (utm_*, fbclid, ...) and any other unknown one are dropped before the
view runs, so every variant shares the canonical page's one entry. A known
parameter with a value outside its check is rendered and not stored. Pages
larger than PAGE_CACHE_MAX_ENTRY_KIB are not stored.

Only plain anonymous GETs are cached: a request carrying a session or messages
cookie (a signed-in editor with banners, a pending message) always gets a fresh
page, and so does any response that is not a 200 or that sets a cookie. 404s are
never cached, so nothing about a hidden article outlives a request.
"""

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from functools import lru_cache, wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.db import DatabaseError, transaction
from django.dispatch import receiver
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, resolve

from articles.publishing import frontend_cache

logger = logging.getLogger("psychly.cache")

LISTS = "lists"
# With a shared cache, every page is in this scope too: replacing its token makes every cached page stale.
ALL_PAGES = "all"
KEY_PREFIX = "psychly:page"
# The database table of the generation tokens when the page cache is per process (created by migrate).
TOKENS_TABLE = "psychly_page_tokens"
# Set in the database when an invalidation could not reach the shared cache.
MISSED_KEY = f"{KEY_PREFIX}:missed"
# A shared cache that failed is not asked again for this long: one failed attempt a second per process.
RETRY_SECONDS = 1.0
# Highest page number a key may hold; beyond it a page is rendered and not stored.
MAX_PAGE_NUMBER = 1000
UNAVAILABLE = object()


def page_cache_seconds():
    """How long a cached page may live at most (PAGE_CACHE_SECONDS, default ten minutes)."""
    return getattr(settings, "PAGE_CACHE_SECONDS", 600)


def page_cache_local_bytes():
    """How much page HTML each process may keep in its own memory (PAGE_CACHE_LOCAL_MIB, default 32; 0: none)."""
    return int(getattr(settings, "PAGE_CACHE_LOCAL_MIB", 32) * 1024 * 1024)


def page_cache_max_entry_bytes():
    """The largest page stored in the shared cache (PAGE_CACHE_MAX_ENTRY_KIB, default 1024)."""
    return int(getattr(settings, "PAGE_CACHE_MAX_ENTRY_KIB", 1024) * 1024)


def recheck_seconds():
    """How often each process looks in the database for invalidations the shared cache missed."""
    return getattr(settings, "PAGE_CACHE_RECHECK_SECONDS", 2)


def page_number(value):
    """A page number a key may hold: 1 to MAX_PAGE_NUMBER, digits only (``?page=abc`` is no new page)."""
    return value.isascii() and value.isdigit() and 0 < int(value) <= MAX_PAGE_NUMBER


def any_value(value):
    return True


def article_scope(slug):
    return f"article:{slug}"


def _generation_key(scope):
    return f"{KEY_PREFIX}:generation:{scope}"


_token_table = None


def token_table():
    """The generation tokens in the database (Django's DatabaseCache over TOKENS_TABLE): shared by every process."""
    global _token_table
    if _token_table is None:
        _token_table = DatabaseCache(TOKENS_TABLE, {"TIMEOUT": None, "OPTIONS": {"MAX_ENTRIES": 10**9}})
    return _token_table


def create_token_table(using="default", **kwargs):
    """Create TOKENS_TABLE if it is missing (run after every migrate)."""
    from django.core.management.commands.createcachetable import Command

    command = Command()
    command.verbosity = 0
    command.create_table(using, TOKENS_TABLE, dry_run=False)


def tokens_store():
    """Where the generation tokens live: beside the pages in a shared cache, or in the database.

    A local-memory cache is one process's own: tokens kept there would never
    hear of a publish made by another worker, cron or a shell.
    """
    backend = caches["default"]
    return token_table() if isinstance(backend, LocMemCache) else backend


class _Health:
    def __init__(self):
        self.down = False
        self.retry_at = 0.0

    def skipping(self):
        return self.down and time.monotonic() < self.retry_at


def _health(backend):
    return backend.__dict__.setdefault("_psychly_page_cache_health", _Health())


def _shared(operation):
    """``operation()`` on the shared cache, or UNAVAILABLE when it fails (or failed less than RETRY_SECONDS ago).

    Readers are then served from the database. The first failure of an outage
    is logged and forgets this process's page copies (it may miss invalidations
    meanwhile); the first success after it looks for missed invalidations.
    """
    health = _health(caches["default"])
    if health.skipping():
        return UNAVAILABLE
    try:
        result = operation()
    except DatabaseError:
        raise  # a database cache failing is the database failing: nothing can be served without it
    except Exception as error:  # noqa: BLE001 - whatever the cache raises, readers are served without it
        health.retry_at = time.monotonic() + RETRY_SECONDS
        if not health.down:
            health.down = True
            logger.warning("The page cache is unreachable (%s: %s); pages are rendered from the database and "
                           "nothing is cached until it answers again.", type(error).__name__, error)
            _forget_local_copies()
        return UNAVAILABLE
    if health.down:
        health.down = False
        logger.info("The page cache answers again.")
        recheck(force=True)
    return result


def _forget_local_copies():
    if _local_pages:
        _local_pages.clear()


def generations(scopes):
    """The current token of each scope, creating tokens that are missing (one cache round trip when all exist)."""
    store = tokens_store()
    keys = {scope: _generation_key(scope) for scope in scopes}
    found = store.get_many(list(keys.values()))
    tokens = {scope: found.get(key) for scope, key in keys.items()}
    missing = {keys[scope]: uuid.uuid4().hex for scope, token in tokens.items() if token is None}
    if missing:
        store.set_many(missing, timeout=None)
        tokens.update({scope: missing[keys[scope]] for scope in tokens if tokens[scope] is None})
    return [tokens[scope] for scope in scopes]


def invalidate(*scopes):
    """Make every cached page of these scopes stale; if the shared cache cannot be reached, once it can."""
    tokens = {_generation_key(scope): uuid.uuid4().hex for scope in scopes}
    store = tokens_store()
    if store is token_table():
        store.set_many(tokens, timeout=None)
    elif _shared(lambda: (store.set_many(tokens, timeout=None),
                          # Made here if missing, not by the next reader: the watch reports a token a reader
                          # makes as changed, which would drop the copies processes keep, once, for nothing.
                          store.add(_generation_key(ALL_PAGES), uuid.uuid4().hex, timeout=None))) is UNAVAILABLE:
        # The shared cache may still hold these pages, and may answer other processes now or later.
        token_table().set(MISSED_KEY, uuid.uuid4().hex, timeout=None)
        logger.info("Invalidation of %s recorded in the database: every cached page is replaced once the "
                    "page cache answers.", ", ".join(scopes))


# The clock and the time of the next look for missed invalidations (tests move the clock).
_recheck_clock = time.monotonic
_recheck_due = 0.0
# How many times this process replaced the ALL_PAGES token; a read that spans a replacement is not trusted.
_rechecks_applied = 0


def recheck(force=False):
    """Replace the ALL_PAGES token if the database records an invalidation the shared cache missed.

    At most every PAGE_CACHE_RECHECK_SECONDS (one query), or at once when
    ``force``d. The record stays; the token is set to its value, so each record
    is applied once per token, and again only if the token was lost (harmless).
    """
    global _recheck_due, _rechecks_applied
    now = _recheck_clock()
    if not force and now < _recheck_due:
        return
    _recheck_due = now + recheck_seconds()
    marker = token_table().get(MISSED_KEY)
    if marker is None:
        return
    backend = caches["default"]
    key = _generation_key(ALL_PAGES)
    current = _shared(lambda: backend.get(key))
    if current is UNAVAILABLE or current == marker:
        return
    if _shared(lambda: backend.set(key, marker, timeout=None)) is not UNAVAILABLE:
        _rechecks_applied += 1
        _forget_local_copies()
        logger.info("Pages cached before an invalidation the page cache missed are no longer served.")


def invalidate_article(slug):
    """An article's page and every list it may appear in."""
    invalidate(article_scope(slug), LISTS)


def invalidate_article_on_commit(slug):
    """Invalidate now and again once the transaction commits.

    Now, so code later in the same transaction (or a test that never commits)
    reads fresh pages; on commit, because a reader who rendered the page between
    the two still saw the old rows and may have cached them under the new token.
    """
    invalidate_article(slug)
    transaction.on_commit(lambda: invalidate_article(slug))


def is_cacheable_request(request):
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _is_cacheable_response(response):
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
    )


def _path_key(request, params):
    """The key of the request's page and whether it may be stored: its path and the parameters its view reads.

    Parameters the view does not read are removed from the request (the view
    renders the canonical page, so it may be stored under the canonical key);
    a parameter the view reads whose value fails its check (``?page=abc``, a
    repeated ``q``) makes a page that is rendered and not stored.
    """
    kept, storable, dropped = [], True, False
    for name, values in request.GET.lists():
        check = params.get(name)
        if check is None:
            dropped = True
        elif len(values) == 1 and check(values[0]):
            kept.append((name, values[0]))
        else:
            storable = False
    query = urlencode(sorted(kept))
    if dropped and storable:
        request.GET = QueryDict(query)
        request.META["QUERY_STRING"] = query
    path = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()
    return f"{KEY_PREFIX}:{path}", storable


class LocalPages:
    """Pages kept in this process's memory, served only while their generation tokens are the shared ones.

    ``tokens`` holds the tokens this process knows to be current, by cache key.
    A token is learnt from the shared cache and forgotten as soon as the
    KeyWatcher reports its key written (by any process, or evicted, or flushed);
    a page is current while every token it was stored under is still known.
    The epoch counts what the watcher reported, so that a token read from the
    shared cache before a report, and remembered after it, is not kept.
    Least recently served pages go first when the pages outgrow ``max_bytes``.
    """

    def __init__(self, watcher, max_bytes):
        self._watcher = watcher
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._pages = OrderedDict()  # path key -> (token keys, tokens, content, headers, expires at)
        self._tokens = {}
        self._bytes = 0
        self._epoch = 0

    def clear(self):
        """Forget every page and token (the shared cache failed: invalidations may be missed)."""
        with self._lock:
            self._pages.clear()
            self._tokens.clear()
            self._bytes = 0
            self._epoch += 1

    def sync(self):
        """Forget what changed elsewhere; the epoch to pass to remember(), or None while nothing may be trusted."""
        with self._lock:
            changed = self._watcher.changed()
            # The watcher comes from the cache backend (psychly.cache); it names its own "everything".
            if changed is None or changed == self._watcher.EVERYTHING:
                self._pages.clear()
                self._tokens.clear()
                self._bytes = 0
                self._epoch += 1
                return None if changed is None else self._epoch
            if changed:
                for key in changed:
                    self._tokens.pop(key, None)
                self._epoch += 1
            return self._epoch

    def get(self, key, token_keys):
        """The (content, headers) of the page stored under ``key`` if it is still current, else None."""
        with self._lock:
            page = self._pages.get(key)
            if page is None or page[0] != token_keys or page[4] <= time.monotonic():
                return None
            if any(self._tokens.get(token_key) != token for token_key, token in zip(token_keys, page[1])):
                return None
            self._pages.move_to_end(key)
            return page[2], page[3]

    def remember(self, epoch, key, token_keys, tokens, content=None, headers=None):
        """Learn that ``tokens`` were current when ``epoch`` was, and keep the page if one is given."""
        with self._lock:
            if epoch != self._epoch:
                return  # the watcher reported changes since the tokens were read: they may be old
            self._tokens.update(zip(token_keys, tokens))
            if content is None or len(content) > self.max_bytes or page_cache_seconds() <= 0:
                return
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old[2])
            self._pages[key] = (token_keys, tuple(tokens), content, headers,
                                time.monotonic() + page_cache_seconds())
            self._bytes += len(content)
            while self._bytes > self.max_bytes:
                self._bytes -= len(self._pages.popitem(last=False)[1][2])

    def close(self):
        self._watcher.stop()


_local_pages = None
_local_pages_lock = threading.Lock()


def local_pages():
    """This process's LocalPages, or None when the cache cannot report changes (not Redis) or it is turned off."""
    global _local_pages
    if _local_pages is None:
        with _local_pages_lock:
            if _local_pages is None:
                backend = caches["default"]
                max_bytes = page_cache_local_bytes()
                if not hasattr(backend, "key_watcher") or max_bytes <= 0:
                    _local_pages = False
                else:
                    _local_pages = LocalPages(backend.key_watcher(_generation_key("")), max_bytes)
    return _local_pages or None


@receiver(setting_changed)
def _forget_local_pages(setting, **kwargs):
    global _local_pages
    if setting in ("CACHES", "PAGE_CACHE_LOCAL_MIB", "PAGE_CACHE_SECONDS"):
        if _local_pages:
            _local_pages.close()
        _local_pages = None


def serve_cached(request, scopes, respond, params=None):
    """The stored page for ``request`` if it is current in every scope; else ``respond()``, stored for next time.

    No round trip when this process holds the page and its tokens are still
    current (LocalPages); otherwise one: the page and the current tokens of its
    scopes are read together (with tokens in the database, one query and a read
    of this process's memory), and the page is current only if it was stored
    under exactly those tokens. The tokens are read before the page is
    rendered, so a page rendered from rows that an invalidation made stale
    meanwhile is stored under tokens that are already old, and never served.
    While the shared cache fails, pages are rendered and nothing is stored.
    """
    key, storable = _path_key(request, params or {})
    backend = caches["default"]
    if isinstance(backend, DummyCache) or _health(backend).skipping():
        return respond()  # configured to cache nothing, or the cache failed a moment ago
    store = tokens_store()
    shared = store is backend
    if shared:
        recheck()
        # Tokens in the database are written with the rows they describe: none can be missed there.
        scopes = [*scopes, ALL_PAGES]
    generation_keys = [_generation_key(scope) for scope in scopes]
    local = local_pages()
    epoch = local.sync() if local else None
    if epoch is not None:
        token_keys = tuple(backend.make_key(k) for k in generation_keys)
        page = local.get(key, token_keys)
        if page is not None:
            return HttpResponse(page[0], headers=page[1])
    applied = _rechecks_applied
    if shared:
        found = _shared(lambda: backend.get_many([key, *generation_keys]))
        if found is UNAVAILABLE or applied != _rechecks_applied:
            return respond()  # down, or it just answered again and what was read may predate a missed change
        stored = found.get(key)
    else:
        found = store.get_many(generation_keys)
        stored = backend.get(key)
    tokens = [found.get(k) for k in generation_keys]
    if stored is not None and None not in tokens and stored[0] == tokens:
        if epoch is not None:
            local.remember(epoch, key, token_keys, tokens, stored[1], stored[2])
        return HttpResponse(stored[1], headers=stored[2])
    if not storable:
        return respond()
    missing = {k: uuid.uuid4().hex for k, token in zip(generation_keys, tokens) if token is None}
    if missing:
        if shared and _shared(lambda: store.set_many(missing, timeout=None)) is UNAVAILABLE:
            return respond()
        if not shared:
            store.set_many(missing, timeout=None)
        tokens = [token or missing[k] for k, token in zip(generation_keys, tokens)]
    response = respond()
    if request.method == "GET":

        def store_page(rendered):
            if _is_cacheable_response(rendered) and len(rendered.content) <= page_cache_max_entry_bytes():
                # Every header, including those the inner middleware added (CSP, X-Frame-Options).
                headers = dict(rendered.items())
                _shared(lambda: backend.set(key, (tokens, rendered.content, headers), page_cache_seconds()))
                if epoch is not None:
                    local.remember(epoch, key, token_keys, tokens, rendered.content, headers)

        if getattr(response, "is_rendered", True):
            store_page(response)
        else:
            response.add_post_render_callback(store_page)
    return response


def cached_public_page(scopes, params=None):
    """Mark a public view as cached; ``scopes(request, **kwargs)`` names the scopes that invalidate its pages.

    ``params`` maps each query parameter the view reads to a check of its value
    (``page_number``, ``any_value``); every other parameter is ignored.

    PageCacheMiddleware serves and stores these pages before the rest of the
    middleware runs; called any other way, the view caches its own pages.
    """

    def decorator(view):
        def respond(request, *args, **kwargs):
            # Headers for the caches in front of the site, given before the page cache stores the response.
            if not is_cacheable_request(request):
                return frontend_cache.make_private(view(request, *args, **kwargs))
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.has_header("xkey"):
                frontend_cache.tag(response, [frontend_cache.LISTS_KEY])
            return frontend_cache.make_public(response)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if getattr(request, "page_cache_checked", False) or not is_cacheable_request(request):
                return respond(request, *args, **kwargs)
            response = serve_cached(request, scopes(request, **kwargs), lambda: respond(request, *args, **kwargs),
                                    params)
            return frontend_cache.answer_conditionally(request, response)

        wrapper.page_cache_scopes = scopes
        wrapper.page_cache_params = params or {}
        return wrapper

    return decorator


class PageCacheMiddleware:
    """Serve cached public pages near the top of the middleware stack (after SecurityMiddleware and WhiteNoise).

    A hit skips sessions, CSRF, authentication and URL dispatch: the stored
    response already carries every header the inner middleware gave it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_cacheable_request(request):
            return self.get_response(request)
        route = cached_page_route(request.path_info)
        if route is None:
            return self.get_response(request)
        scopes, params, args, kwargs = route
        # As CommonMiddleware would: a request for a host not in ALLOWED_HOSTS is refused, not served.
        request.get_host()
        request.page_cache_checked = True
        response = serve_cached(request, scopes(request, *args, **kwargs), lambda: self.get_response(request), params)
        return frontend_cache.answer_conditionally(request, response)


ROUTES_KEPT = 4096
# Longer paths are resolved each time: no cached public page has one, and they would fill the memory.
ROUTE_PATH_KEPT = 256


def cached_page_route(path_info):
    """(scopes, params, args, kwargs) of the cached public view at ``path_info``, or None for any other path.

    Resolving a path costs a sizeable part of a small request, and the URL configuration does not change
    while a process runs: each path is resolved once (the last ROUTES_KEPT paths are kept).
    """
    if len(path_info) > ROUTE_PATH_KEPT:
        return _page_route.__wrapped__(path_info, settings.ROOT_URLCONF)
    return _page_route(path_info, settings.ROOT_URLCONF)


@lru_cache(maxsize=ROUTES_KEPT)
def _page_route(path_info, urlconf):
    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        return None
    scopes = getattr(match.func, "page_cache_scopes", None)
    if scopes is None:
        return None
    return scopes, match.func.page_cache_params, match.args, match.kwargs


@receiver(setting_changed)
def _forget_routes(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _page_route.cache_clear()


def lists_scope(request, **kwargs):
    return [LISTS]


def article_scopes(request, slug, **kwargs):
    return [article_scope(slug)]
