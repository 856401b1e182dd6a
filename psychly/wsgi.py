"""WSGI entry point (gunicorn psychly.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psychly.settings")

application = get_wsgi_application()


def _warm():
    """Import the URL configuration and build the resolver's indexes once, here.

    Gunicorn loads this module in its master process (``preload_app``), so every worker it forks, and
    every replacement after ``max_requests``, starts with them instead of paying for them (the views'
    imports included) on its first request. No database connection is opened.
    """
    from django.urls import get_resolver, reverse

    get_resolver().url_patterns  # noqa: B018 - the property imports every URL module
    reverse("articles:home")  # builds the reverse and namespace indexes


_warm()
