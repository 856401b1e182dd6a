"""Gunicorn settings for serving Psychly: `gunicorn -c psychly/gunicorn.conf.py psychly.wsgi`.

`make serve` uses this file on 127.0.0.1; a deployment sets GUNICORN_BIND (for
example 0.0.0.0:8000 behind its load balancer) and WEB_CONCURRENCY. Every
Django setting still comes from the environment or .env (psychly/settings.py).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"

# Sync workers: pages are short CPU-bound renders or cache hits, so one request
# per process is the simplest model that uses every core. Gunicorn's usual
# starting point is 2 x cores + 1; the benchmark pins 2 to match its baseline.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30

# Importing Django once in the master lets workers share its memory and start fast.
# Django opens no database connection at import, so none is shared across the fork.
preload_app = True

# A worker is replaced after this many requests (with jitter so they don't all
# restart together), which bounds any slow growth in memory. A worker serves
# thousands of requests a second from cache, and each replacement costs its first
# requests (a new process, new connections), so the bound is generous.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10

# Errors to stderr; the access log is off unless asked for (a load balancer usually
# keeps one, and writing a line per request costs throughput).
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# X-Forwarded-* headers are trusted only from these addresses (the load balancer).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

proc_name = "psychly"
