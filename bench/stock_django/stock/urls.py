"""The one URL of the stock project: the bare view."""

from django.http import HttpResponse
from django.urls import path


def bare(request):
    """Two bytes, as Psychly's bare view returns (plus its newline)."""
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [path("bench/bare", bare)]
