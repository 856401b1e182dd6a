"""Site-wide middleware: the front door (health probes, unusable query strings), django-csp's middleware
with the policy it builds on every response built once, and Django's messages middleware building its
storage only for requests that use it."""

import functools
import re
import urllib.parse

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponseBadRequest
from django.utils.functional import SimpleLazyObject, empty

# C0 controls and DEL, but tab, newline and carriage return, which a pasted search may carry. PostgreSQL
# refuses NUL in text outright (an error, so a 500), and no URL this site serves takes any of them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FrontDoorMiddleware:
    """What every request meets first: load balancers' health probes answered, unusable query strings refused.

    ``/healthz`` is answered whatever the Host header says. Load balancers probe
    each app server by its address (``Host: 10.0.0.5``), which is not, and should
    not be, in ALLOWED_HOSTS. Host validation happens when later middleware first
    asks for the host, so the probe is answered before any does; every other URL
    is still refused for an unknown host.

    A query string carrying a control character such as NUL is refused with 400
    and the parameter's name. Query parameters reach SQL through searches
    (public, admin changelists, admin autocomplete) and filters; refusing them
    here covers every one.

    One middleware for both: each layer of middleware costs every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            from psychly.views import healthz

            return healthz(request)
        # Most requests carry no query string, and one without a control character, even percent-encoded,
        # needs no parsing here.
        query = request.META.get("QUERY_STRING", "")
        if query and _CONTROL_CHARACTERS.search(urllib.parse.unquote(query)):
            refused = _refusal(request)
            if refused is not None:
                return refused
        return self.get_response(request)


def _refusal(request):
    for name, values in request.GET.lists():
        for text in (name, *values):
            found = _CONTROL_CHARACTERS.search(text)
            if found:
                return HttpResponseBadRequest(
                    f"The query parameter {name!r} contains a control character "
                    f"(U+{ord(found.group()):04X}), which no page accepts. Remove it and try again.\n",
                    content_type="text/plain; charset=utf-8",
                )
    return None


# What a view or decorator may set on a response to change its policy (django-csp's decorators).
_POLICY_OVERRIDES = frozenset({"_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro",
                               "_csp_replace_ro"})


@functools.cache
def site_policies():
    """The site's policy headers, built once from the settings: (header, value, exemption, excluded paths)."""
    policies = []
    for header, report_only, exempt, setting in (
        (HEADER, False, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
        (HEADER_REPORT_ONLY, True, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
    ):
        value = build_policy(report_only=report_only)
        if value:
            prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
            policies.append((header, value, exempt, prefixes))
    return tuple(policies)


@receiver(setting_changed)
def _forget_site_policies(setting, **kwargs):
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        site_policies.cache_clear()


_NONCE_AFTER_RESPONSE = CheckableLazyObject(LibraryCSPMiddleware._csp_nonce_post_response)


class CSPMiddleware(LibraryCSPMiddleware):
    """django-csp's middleware, with the site-wide policy built once instead of on every response.

    Building the header from the settings is most of what the library's middleware costs a request.
    A response whose view used a nonce or a CSP decorator gets the library's own per-response policy.
    """

    def __call__(self, request):
        # MiddlewareMixin's __call__ without its per-request checks; the same order of hooks.
        if self.async_mode:
            return self.__acall__(request)
        response = self.process_request(request) or self.get_response(request)
        return self.process_response(request, response)

    def process_response(self, request, response):
        # The decorators set their attribute on the response itself.
        if getattr(request, "_csp_nonce", None) is not None or not _POLICY_OVERRIDES.isdisjoint(vars(response)):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (500, 404):
            return response  # as the library does: Django's debug pages keep their inline styles
        for header, value, exempt, prefixes in site_policies():
            if header not in response and getattr(response, exempt, False) is False and not (
                prefixes and request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As the library does: a nonce asked for after the header is written is an error, not a silent gap.
        # Never evaluated to a value (it raises), so one object serves every request.
        request.csp_nonce = _NONCE_AFTER_RESPONSE
        return response



class _LazyMessageStorage(SimpleLazyObject):
    """The request's message storage, built when first used (its own class, so the middleware can tell it)."""


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's messages middleware, building the request's storage only when something uses it.

    Django's builds a cookie storage and a session storage for every request
    and asks them to save at the end, though most requests (every public page,
    every API call) neither add nor read a message. Here the storage is built on
    first use (adding a message, a template listing them), and a request that
    never used it has nothing to save, so the response is left as it is.
    """

    def process_request(self, request):
        request._messages = _LazyMessageStorage(functools.partial(default_storage, request))

    def process_response(self, request, response):
        storage = getattr(request, "_messages", None)
        # type(), not isinstance(): a lazy object reports its wrapped object's class, building it to do so.
        if type(storage) is _LazyMessageStorage and storage._wrapped is empty:
            return response
        return super().process_response(request, response)
