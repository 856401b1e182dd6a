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

Only plain anonymous GETs are cached: a request carrying a session or messages
cookie (a signed-in editor with banners, a pending message) always gets a fresh
page, and so does any response that is not a 200 or that sets a cookie. 404s are
never cached, so nothing about a hidden article outlives a request.
"""

import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve

LISTS = "lists"
KEY_PREFIX = "psychly:page"


def page_cache_seconds():
    """How long a cached page may live at most (PAGE_CACHE_SECONDS, default ten minutes)."""
    return getattr(settings, "PAGE_CACHE_SECONDS", 600)


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


def serve_cached(request, scopes, respond):
    """The stored page for ``request`` if it is current in every scope; else ``respond()``, stored for next time.

    One cache round trip on a hit: the page and the current tokens of its scopes
    are read together, and the page is current only if it was stored under
    exactly those tokens. The tokens are read before the page is rendered, so a
    page rendered from rows that an invalidation made stale meanwhile is stored
    under tokens that are already old, and never served.
    """
    key = _path_key(request)
    generation_keys = [_generation_key(scope) for scope in scopes]
    found = cache.get_many([key, *generation_keys])
    tokens = [found.get(k) for k in generation_keys]
    stored = found.get(key)
    if stored is not None and None not in tokens and stored[0] == tokens:
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
                cache.set(key, (tokens, rendered.content, dict(rendered.items())), page_cache_seconds())

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
