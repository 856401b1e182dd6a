"""Site-wide middleware that must act before the rest: load balancers' health probes and unusable query strings."""

import re

from django.http import HttpResponseBadRequest

# C0 controls and DEL, but tab, newline and carriage return, which a pasted search may carry. PostgreSQL
# refuses NUL in text outright (an error, so a 500), and no URL this site serves takes any of them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class HealthzMiddleware:
    """Answer ``/healthz`` whatever the Host header says.

    Load balancers probe each app server by its address (``Host: 10.0.0.5``),
    which is not, and should not be, in ALLOWED_HOSTS. Host validation happens
    when later middleware first asks for the host, so this one answers the probe
    before any does; every other URL is still refused for an unknown host.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            from psychly.views import healthz

            return healthz(request)
        return self.get_response(request)


class RefuseControlCharactersMiddleware:
    """Refuse, with 400 and the parameter's name, a query string carrying a control character such as NUL.

    Query parameters reach SQL through searches (public, admin changelists,
    admin autocomplete) and filters; refusing them here covers every one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            for text in (name, *values):
                found = _CONTROL_CHARACTERS.search(text)
                if found:
                    return HttpResponseBadRequest(
                        f"The query parameter {name!r} contains a control character "
                        f"(U+{ord(found.group()):04X}), which no page accepts. Remove it and try again.\n",
                        content_type="text/plain; charset=utf-8",
                    )
        return self.get_response(request)
