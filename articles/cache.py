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

Only plain anonymous GETs are cached: a request carrying a session or messages
cookie (a signed-in editor with banners, a pending message) always gets a fresh
page, and so does any response that is not a 200 or that sets a cookie. 404s are
never cached, so nothing about a hidden article outlives a request.
"""

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.urls import Resolver404, resolve

from psychly.cache import EVERYTHING

LISTS = "lists"
KEY_PREFIX = "psychly:page"


def page_cache_seconds():
    """How long a cached page may live at most (PAGE_CACHE_SECONDS, default ten minutes)."""
    return getattr(settings, "PAGE_CACHE_SECONDS", 600)


def page_cache_local_bytes():
    """How much page HTML each process may keep in its own memory (PAGE_CACHE_LOCAL_MIB, default 32; 0: none)."""
    return int(getattr(settings, "PAGE_CACHE_LOCAL_MIB", 32) * 1024 * 1024)


def article_scope(slug):
    return f"article:{slug}"


def _generation_key(scope):
    return f"{KEY_PREFIX}:generation:{scope}"


def generations(scopes):
    """The current token of each scope, creating tokens that are missing (one cache round trip when all exist)."""
    keys = {scope: _generation_key(scope) for scope in scopes}
    found = cache.get_many(list(keys.values()))
    tokens = {scope: found.get(key) for scope, key in keys.items()}
    missing = {keys[scope]: uuid.uuid4().hex for scope, token in tokens.items() if token is None}
    if missing:
        cache.set_many(missing, timeout=None)
        tokens.update({scope: missing[keys[scope]] for scope in tokens if tokens[scope] is None})
    return [tokens[scope] for scope in scopes]


def invalidate(*scopes):
    """Make every cached page of these scopes stale."""
    cache.set_many({_generation_key(scope): uuid.uuid4().hex for scope in scopes}, timeout=None)


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


def _path_key(request):
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"{KEY_PREFIX}:{path}"


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

    def sync(self):
        """Forget what changed elsewhere; the epoch to pass to remember(), or None while nothing may be trusted."""
        with self._lock:
            changed = self._watcher.changed()
            if changed is None or changed == EVERYTHING:
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


def serve_cached(request, scopes, respond):
    """The stored page for ``request`` if it is current in every scope; else ``respond()``, stored for next time.

    No round trip when this process holds the page and its tokens are still
    current (LocalPages); otherwise one: the page and the current tokens of its
    scopes are read together, and the page is current only if it was stored under
    exactly those tokens. The tokens are read before the page is rendered, so a
    page rendered from rows that an invalidation made stale meanwhile is stored
    under tokens that are already old, and never served.
    """
    key = _path_key(request)
    generation_keys = [_generation_key(scope) for scope in scopes]
    local = local_pages()
    epoch = local.sync() if local else None
    if epoch is not None:
        token_keys = tuple(cache.make_key(k) for k in generation_keys)
        page = local.get(key, token_keys)
        if page is not None:
            return HttpResponse(page[0], headers=page[1])
    found = cache.get_many([key, *generation_keys])
    tokens = [found.get(k) for k in generation_keys]
    stored = found.get(key)
    if stored is not None and None not in tokens and stored[0] == tokens:
        if epoch is not None:
            local.remember(epoch, key, token_keys, tokens, stored[1], stored[2])
        return HttpResponse(stored[1], headers=stored[2])
    missing = {k: uuid.uuid4().hex for k, token in zip(generation_keys, tokens) if token is None}
    if missing:
        cache.set_many(missing, timeout=None)
        tokens = [token or missing[k] for k, token in zip(generation_keys, tokens)]
    response = respond()
    if request.method == "GET":

        def store(rendered):
            if _is_cacheable_response(rendered):
                # Every header, including those the inner middleware added (CSP, X-Frame-Options).
                headers = dict(rendered.items())
                cache.set(key, (tokens, rendered.content, headers), page_cache_seconds())
                if epoch is not None:
                    local.remember(epoch, key, token_keys, tokens, rendered.content, headers)

        if getattr(response, "is_rendered", True):
            store(response)
        else:
            response.add_post_render_callback(store)
    return response


def cached_public_page(scopes):
    """Mark a public view as cached; ``scopes(request, **kwargs)`` names the scopes that invalidate its pages.

    PageCacheMiddleware serves and stores these pages before the rest of the
    middleware runs; called any other way, the view caches its own pages.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if getattr(request, "page_cache_checked", False) or not is_cacheable_request(request):
                return view(request, *args, **kwargs)
            return serve_cached(request, scopes(request, **kwargs), lambda: view(request, *args, **kwargs))

        wrapper.page_cache_scopes = scopes
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
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        scopes = getattr(match.func, "page_cache_scopes", None)
        if scopes is None:
            return self.get_response(request)
        # As CommonMiddleware would: a request for a host not in ALLOWED_HOSTS is refused, not served.
        request.get_host()
        request.page_cache_checked = True
        return serve_cached(request, scopes(request, *match.args, **match.kwargs),
                            lambda: self.get_response(request))


def lists_scope(request, **kwargs):
    return [LISTS]


def article_scopes(request, slug, **kwargs):
    return [article_scope(slug)]
