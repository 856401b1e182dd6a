"""Whole-page caching of public pages for anonymous readers, and its invalidation.

Pages are stored in Django's default cache (local memory, or Redis when
REDIS_URL is set) under keys that carry a *generation* token per scope: every
list page (home, topics, search, feed, sitemap) shares the "lists" scope, each
article page has its own "article:<slug>" scope. Invalidating a scope writes a
fresh random token, so every key built from the old one is never read again
(and ages out); no key has to be found and deleted. A token that has been
evicted is replaced by a new one, which is equally safe.

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

LISTS = "lists"
KEY_PREFIX = "psychly:page"
# Kept from the response a cached page is rebuilt from.
KEPT_HEADERS = ("Content-Type", "Content-Language", "Last-Modified")


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


def page_key(request, scopes):
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"{KEY_PREFIX}:{':'.join(generations(scopes))}:{path}"


def cached_public_page(scopes):
    """Decorate a public view; ``scopes(request, **kwargs)`` names the scopes that invalidate its pages."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not is_cacheable_request(request):
                return view(request, *args, **kwargs)
            key = page_key(request, scopes(request, **kwargs))
            stored = cache.get(key)
            if stored is not None:
                content, headers = stored
                response = HttpResponse(content)
                for name, value in headers.items():
                    response[name] = value
                return response
            response = view(request, *args, **kwargs)
            if request.method == "GET":

                def store(rendered):
                    if _is_cacheable_response(rendered):
                        headers = {name: rendered[name] for name in KEPT_HEADERS if rendered.has_header(name)}
                        cache.set(key, (rendered.content, headers), page_cache_seconds())

                if getattr(response, "is_rendered", True):
                    store(response)
                else:
                    response.add_post_render_callback(store)
            return response

        return wrapper

    return decorator


def lists_scope(request, **kwargs):
    return [LISTS]


def article_scopes(request, slug, **kwargs):
    return [article_scope(slug)]
