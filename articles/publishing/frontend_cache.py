"""The HTTP caches in front of the site (Varnish, a CDN): what public responses tell them, and purging them.

Public pages are cacheable by shared caches for ``FRONTEND_CACHE_S_MAXAGE`` seconds (a day by default), because
every change that alters a page purges it at once: each response names its surrogate keys (the article, every
source it cites, the listing pages), and the events that change pages purge those keys on commit. Backends, in
the spirit of Wagtail's frontend cache, are configured from the environment:

- Varnish (``FRONTEND_CACHE_VARNISH_URLS``): a ``PURGE`` request with an ``xkey-purge`` header, served by
  varnish-modules' xkey (``psychly/varnish/psychly.vcl``);
- Cloudflare (``CLOUDFLARE_ZONE_ID``, ``CLOUDFLARE_API_TOKEN``): purge by cache tags;
- CloudFront (``CLOUDFRONT_DISTRIBUTION_ID``): an invalidation of the pages' paths (boto3; AWS credentials from
  the environment as boto3 reads them).

A purge that fails is logged and never fails the change that caused it: the page then lives until its
``s-maxage`` runs out, as it would without a purge.
"""

import hashlib
import logging
import uuid

import requests
from django.conf import settings
from django_tasks import task

from references.tasks import TaskFailed
from django.db import transaction
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, parse_http_date_safe

logger = logging.getLogger("psychly.frontend_cache")

# Every public page carries this key: purging it empties the shared caches of the site's pages.
ALL_PAGES_KEY = "pages"
LISTS_KEY = "lists"
# Cloudflare takes at most 30 tags per purge call; CloudFront at most 3,000 paths per invalidation.
CLOUDFLARE_TAGS_PER_CALL = 30
CLOUDFRONT_PATHS_PER_CALL = 3000
PURGE_TIMEOUT = (2, 5)
KEY_HEADERS = ("xkey", "Surrogate-Key", "Cache-Tag")


def article_key(article_id):
    return f"a{article_id}"


def reference_key(reference_id):
    return f"r{reference_id}"


def s_maxage():
    return settings.FRONTEND_CACHE_S_MAXAGE


# -- response headers ------------------------------------------------------------

def tag(response, keys):
    """Name the surrogate keys of a public response (the page cache stores them with it)."""
    value = " ".join(dict.fromkeys([*keys, ALL_PAGES_KEY]))
    for header in KEY_HEADERS:
        # Cloudflare separates tags with commas, Varnish's xkey and Fastly's Surrogate-Key with spaces.
        response[header] = value.replace(" ", ",") if header == "Cache-Tag" else value
    return response


def make_public(response):
    """Headers for a public page rendered now: cacheable by shared caches, with validators for 304s."""
    if response.status_code != 200 or response.streaming:
        return response
    patch_cache_control(response, public=True, max_age=settings.FRONTEND_CACHE_MAX_AGE, s_maxage=s_maxage())
    if getattr(response, "is_rendered", True):
        _add_validators(response)
    else:
        response.add_post_render_callback(_add_validators)
    return response


def _add_validators(response):
    if not response.has_header("ETag"):
        response["ETag"] = '"%s"' % hashlib.blake2b(response.content, digest_size=16).hexdigest()
    if not response.has_header("Last-Modified"):
        response["Last-Modified"] = http_date()


def make_private(response):
    """A page for a signed-in person: no cache may keep it."""
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    for header in KEY_HEADERS:
        if header in response:
            del response[header]
    return response


def answer_conditionally(request, response):
    """304 Not Modified when the request's validators match the public page about to be sent."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or "public" not in response.get(
        "Cache-Control", ""
    ):
        return response
    last_modified = response.get("Last-Modified")
    return get_conditional_response(
        request, etag=response.get("ETag"), last_modified=parse_http_date_safe(last_modified) if last_modified else None,
        response=response,
    )


# -- purging ----------------------------------------------------------------------

class VarnishBackend:
    name = "Varnish"

    def __init__(self, urls):
        self.urls = [url.rstrip("/") for url in urls]

    def purge(self, keys, paths):
        for url in self.urls:
            response = requests.request("PURGE", url + "/", headers={"xkey-purge": " ".join(keys)},
                                        timeout=PURGE_TIMEOUT)
            response.raise_for_status()


class CloudflareBackend:
    name = "Cloudflare"

    def __init__(self, zone_id, token, api_url):
        self.endpoint = f"{api_url.rstrip('/')}/zones/{zone_id}/purge_cache"
        self.token = token

    def purge(self, keys, paths):
        for start in range(0, len(keys), CLOUDFLARE_TAGS_PER_CALL):
            response = requests.post(
                self.endpoint, json={"tags": keys[start:start + CLOUDFLARE_TAGS_PER_CALL]},
                headers={"Authorization": f"Bearer {self.token}"}, timeout=PURGE_TIMEOUT,
            )
            response.raise_for_status()
            if not response.json().get("success"):
                raise RuntimeError(f"Cloudflare refused the purge: {response.text[:300]}")


class CloudFrontBackend:
    name = "CloudFront"

    def __init__(self, distribution_id, endpoint_url=None):
        self.distribution_id = distribution_id
        self.endpoint_url = endpoint_url or None

    def purge(self, keys, paths):
        import boto3  # only deployments behind CloudFront pay for loading it

        client = boto3.client("cloudfront", endpoint_url=self.endpoint_url, region_name="us-east-1")
        for start in range(0, len(paths), CLOUDFRONT_PATHS_PER_CALL):
            batch = paths[start:start + CLOUDFRONT_PATHS_PER_CALL]
            client.create_invalidation(DistributionId=self.distribution_id, InvalidationBatch={
                "Paths": {"Quantity": len(batch), "Items": batch}, "CallerReference": uuid.uuid4().hex,
            })


def backends():
    """The configured frontend caches (none by default: nothing is purged)."""
    found = []
    if settings.FRONTEND_CACHE_VARNISH_URLS:
        found.append(VarnishBackend(settings.FRONTEND_CACHE_VARNISH_URLS))
    if settings.CLOUDFLARE_ZONE_ID and settings.CLOUDFLARE_API_TOKEN:
        found.append(CloudflareBackend(settings.CLOUDFLARE_ZONE_ID, settings.CLOUDFLARE_API_TOKEN,
                                       settings.CLOUDFLARE_API_URL))
    if settings.CLOUDFRONT_DISTRIBUTION_ID:
        found.append(CloudFrontBackend(settings.CLOUDFRONT_DISTRIBUTION_ID, settings.CLOUDFRONT_ENDPOINT_URL))
    return found


def purge_now(keys, paths):
    """Purge ``keys`` (Varnish, Cloudflare) and ``paths`` (CloudFront) from every frontend cache; the failures."""
    keys, paths = sorted(set(keys)), sorted(set(paths))
    failures = []
    for backend in backends():
        try:
            backend.purge(keys, paths)
        except Exception as error:  # any backend's failure is logged; the others still purge
            failures.append(f"{backend.name}: {error.__class__.__name__}: {error}")
            logger.warning("Purging %s from %s failed: %s", " ".join(keys), backend.name, error)
    return failures


@task()
def purge_frontend_cache(keys, paths):
    """Purge ``keys`` and ``paths`` from every frontend cache, as a background task; fails if any cache refused."""
    failures = purge_now(keys, paths)
    if failures:
        raise TaskFailed("; ".join(failures))
    return f"Purged {len(keys)} key(s) and {len(paths)} path(s)."


def purge_on_commit(*, keys, paths):
    """Purge these keys and paths once the transaction commits (at once outside one), through the task queue."""
    if not backends():
        return
    keys, paths = sorted(set(keys)), sorted(set(paths))
    transaction.on_commit(lambda: _send(keys, paths))


def _send(keys, paths):
    if settings.TASKS_IN_BACKGROUND:
        purge_frontend_cache.enqueue(keys, paths)
    else:
        purge_now(keys, paths)


def purge_article(article, *, lists):
    """``article``'s page changed (and with ``lists``, the listing pages too)."""
    keys, paths = [article_key(article.pk)], [article.get_absolute_url()]
    if lists:
        keys.append(LISTS_KEY)
        paths += ["/", "/topics/*", "/search/*", "/feed/*", "/sitemap.xml"]
    purge_on_commit(keys=keys, paths=paths)
