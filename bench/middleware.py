"""What each middleware costs the bare view, in process: the stack built up one middleware at a time.

    python bench/middleware.py            # 20,000 requests per stack (a few seconds each)
    python bench/middleware.py -n 5000

Builds Django's WSGI handler with no middleware, then with the first one of
settings.MIDDLEWARE, the first two, and so on (in order, since some need an
earlier one: authentication needs sessions), and times the bare view
(/bench/bare, no database, no template) through each: microseconds per request,
best of three rounds; each middleware's cost is the step it adds. No server and no network, so the
figures are the Python work per request alone. Writes bench/results/middleware.md.
"""

import argparse
import io
import os
import secrets
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
os.environ.update(
    DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", DEBUG="0", BENCH_BARE_VIEW="1",
    SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0",
    CACHE_URL="dummycache://", LOG_LEVEL="ERROR", EMAIL_URL="dummymail://",
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test.utils import override_settings  # noqa: E402


def environ():
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/bench/bare", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
    }


def _start_response(status, headers, exc_info=None):
    if not status.startswith("200"):
        raise SystemExit(f"the bare view answered {status}")


def per_request_us(middleware, count):
    """Microseconds per bare-view request through ``middleware``, best of three rounds."""
    with override_settings(MIDDLEWARE=middleware):
        handler = WSGIHandler()
        for _ in range(200):  # warm imports and caches
            b"".join(handler(environ(), _start_response))
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(count):
                response = handler(environ(), _start_response)
                b"".join(response)
                response.close()
            best = min(best, (time.perf_counter() - started) / count * 1e6)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=20_000, help="requests per round (default 20,000)")
    count = parser.parse_args().n
    full = list(settings.MIDDLEWARE)
    totals = [per_request_us(full[:k], count) for k in range(len(full) + 1)]
    whole = totals[-1]
    rows = [("none (the view and URL resolver alone)", totals[0], None)]
    rows += [(name, totals[k + 1] - totals[k], totals[k + 1]) for k, name in enumerate(full)]
    lines = [
        "# Middleware cost on the bare view",
        "",
        f"`python bench/middleware.py -n {count}`, in process (Django's WSGI handler, no server), "
        f"load average {os.getloadavg()[0]:.1f}. Full stack: **{whole:.1f} µs** per request; "
        f"no middleware: {rows[0][1]:.1f} µs.",
        "",
        "| middleware | cost µs (the step it adds) | stack up to it µs |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {cost:.1f} | {'' if without is None else f'{without:.1f}'} |"
              for name, cost, without in rows[1:]]
    text = "\n".join(lines) + "\n"
    (BENCH / "results" / "middleware.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
