"""Settings for Psychly Editorial.

Every value a deployment changes comes from the environment or a ``.env`` file
beside ``manage.py`` (see ``.env.example``). There is one settings module; tests
configure it through environment variables as well.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from psychly.client_ip import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("PSYCHLY_READ_DOT_ENV", default=True) and (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# A key Django itself generates for new projects, or anything short and
# repetitive, is as good as none once DEBUG is off: sessions and password reset
# tokens are signed with it.
_INSECURE_KEY_PREFIX = "django-insecure"


def _secret_key_problem(key):
    if not key:
        return "SECRET_KEY is not set"
    if key.startswith(_INSECURE_KEY_PREFIX):
        return "SECRET_KEY starts with 'django-insecure', so it was never meant for production"
    if len(key) < 50 or len(set(key)) < 5:
        return "SECRET_KEY is weak: use at least 50 characters with at least 5 distinct ones"
    return None


SECRET_KEY = env.str("SECRET_KEY", default="")
_key_problem = _secret_key_problem(SECRET_KEY)
if _key_problem and not DEBUG:
    raise ImproperlyConfigured(
        f"{_key_problem}. With DEBUG off Psychly refuses to start without a strong key. "
        'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))" '
        "and put it in the environment or in .env (see .env.example)."
    )
if not SECRET_KEY:
    # DEBUG is on: a throwaway key keeps a development checkout usable.
    SECRET_KEY = "development-only-key-never-used-with-debug-off-0123456789abcdef"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "axes",
    # Background work (django.tasks' backport) and its database queue, whose results the admin lists.
    "django_tasks",
    "django_tasks_db",
    # Security logging (psychly/auth_logging.py): sign-ins, failures, refusals.
    "psychly.apps.PsychlyConfig",
    "references",
    "articles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything validates the Host header, since load balancers probe /healthz by IP address; and
    # a NUL in a search (public, admin, autocomplete) is an error in PostgreSQL, so it is refused with 400 first.
    "psychly.middleware.FrontDoorMiddleware",
    # Before everything that reads sessions or cookies: a cached public page needs none of it.
    "articles.publishing.cache.PageCacheMiddleware",
    # django-csp's, with the site's policy built once (psychly/middleware.py).
    "psychly.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, building the message storage only for requests that use it (psychly/middleware.py).
    "psychly.middleware.MessageMiddleware",
    # Every request's Crossref calls share one time budget, well under the worker's timeout.
    "references.crossref.RequestBudgetMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "psychly.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "psychly.wsgi.application"
ASGI_APPLICATION = "psychly.asgi.application"

# SQLite beside manage.py unless DATABASE_URL says otherwise; postgres:// URLs go through psycopg 3, with
# Django's PostgreSQL backend as psychly/postgresql extends it.
POSTGRESQL_ENGINE = "psychly.postgresql"


def _database(url_variable, default=None):
    database = env.db_url(url_variable, default=default)
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = POSTGRESQL_ENGINE
    return database


DATABASES = {
    "default": _database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection is checked before each request reuses it, so a database restart costs a reconnect, not a 500.
# On PostgreSQL the check asks the server only when the connection is not quiet (psychly/postgresql).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (gunicorn workers, cron) write one file: each transaction takes the write lock when
    # it begins and waits up to SQLITE_TIMEOUT seconds for it, instead of failing with "database is locked"
    # when it first writes; WAL lets readers carry on meanwhile. Options given in DATABASE_URL win.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("SQLITE_TIMEOUT", default=20.0),
        "init_command": "PRAGMA journal_mode=WAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }

# A PostgreSQL read replica, off unless DATABASE_REPLICA_URL is set: anonymous
# reads go there, writes, transactions and signed-in requests to the primary
# (psychly/db_router.py). In tests the replica mirrors the default database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = _database("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["psychly.db_router.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(0, "psychly.db_router.PinSignedInToPrimaryMiddleware")

# PostgreSQL: parameters bound by the server, and a statement a connection has run PREPARE_THRESHOLD (5) times
# prepared, so PostgreSQL plans it once per connection instead of on every request: planning costs a public
# page's queries more than running them. DATABASE_SERVER_SIDE_BINDING=0 turns both off, for a pooler that
# cannot carry prepared statements (PgBouncer in transaction mode before 1.21, or without
# max_prepared_statements). Options given in DATABASE_URL win.
if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
    for _settings in DATABASES.values():
        if _settings["ENGINE"] == POSTGRESQL_ENGINE:
            _settings["OPTIONS"] = {"server_side_binding": True,
                                    "prepare_threshold": env.int("DATABASE_PREPARE_THRESHOLD", default=5),
                                    **_settings.get("OPTIONS", {})}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Local memory unless CACHE_URL or REDIS_URL names a shared cache.
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            # Django's built-in Redis backend, reusing its Redis client (psychly/cache.py).
            "BACKEND": "psychly.cache.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            # A Redis that hangs or cannot be reached costs a request this long at most, not a worker timeout:
            # the page is then rendered from the database (articles.publishing.cache).
            "OPTIONS": {"socket_connect_timeout": env.float("REDIS_TIMEOUT_SECONDS", default=1.0),
                        "socket_timeout": env.float("REDIS_TIMEOUT_SECONDS", default=1.0)},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds an SMTP connect, read or write may take, so a silent mail server never holds a request or command.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Psychly Editorial <editorial@localhost>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed names with far-future caching need `collectstatic`; a
# development checkout serves the files as they are.
_STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
# Without the manifest (development, tests), WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = not _STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Secure by default: with DEBUG off, `manage.py check --deploy` is clean. Behind
# a proxy that terminates TLS, set BEHIND_TLS_PROXY=1 so Django trusts its
# X-Forwarded-Proto header; SECURE_SSL_REDIRECT=0 and SECURE_COOKIES=0 exist
# only for plain-HTTP serving on 127.0.0.1 (benchmarks, local checks).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe app servers over plain HTTP; a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): scripts only from this site, never inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out for AXES_COOLOFF_HOURS.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Lockouts and the security log name the client, not the proxy in front of it (psychly/client_ip.py):
# X-Forwarded-For is read only from a peer in TRUSTED_PROXIES (addresses or CIDR blocks). Behind
# BEHIND_TLS_PROXY that defaults to loopback and the private ranges, where load balancers sit.
_PRIVATE_NETWORKS = ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
TRUSTED_PROXIES = env.list(
    "TRUSTED_PROXIES", default=_PRIVATE_NETWORKS if env.bool("BEHIND_TLS_PROXY", default=False) else []
)
parse_networks(TRUSTED_PROXIES)  # a mistyped entry stops start-up with its name, rather than trusting nothing
AXES_CLIENT_IP_CALLABLE = "psychly.client_ip.client_ip"

LOGIN_URL = "admin:login"

# Mounts the bare view bench/run.py measures against (/bench/bare); off in production.
BENCH_BARE_VIEW = env.bool("BENCH_BARE_VIEW", default=False)

# Refused CSRF checks are logged on "psychly.auth" like every other refusal.
CSRF_FAILURE_VIEW = "psychly.auth_logging.csrf_failure"

# Crossref: the endpoint can be a mirror, a caching proxy or a local recorded
# server; the contact address puts requests in Crossref's polite pool.
CROSSREF_API_URL = env.str("CROSSREF_API_URL", default="https://api.crossref.org")
CROSSREF_MAILTO = env.str("CROSSREF_MAILTO", default="")
CROSSREF_TIMEOUT = env.float("CROSSREF_TIMEOUT", default=10.0)
CROSSREF_MAX_RETRIES = env.int("CROSSREF_MAX_RETRIES", default=3)
# The whole answer of one call, however slowly it trickles in, and its largest size. Real work answers
# are 3-40 KB; a work with thousands of authors and references stays well under 2 MB.
CROSSREF_DEADLINE = env.float("CROSSREF_DEADLINE", default=10.0)
CROSSREF_MAX_BYTES = env.int("CROSSREF_MAX_BYTES", default=2 * 1024 * 1024)
# Every Crossref call of one web request (retries and waits included) within this many seconds, well
# under gunicorn's 30 s worker timeout (GUNICORN_TIMEOUT); commands get CROSSREF_COMMAND_BUDGET per DOI.
CROSSREF_REQUEST_BUDGET = env.float("CROSSREF_REQUEST_BUDGET", default=15.0)
CROSSREF_COMMAND_BUDGET = env.float("CROSSREF_COMMAND_BUDGET", default=60.0)

# Claims whose only support is animal, in-vitro or case-report evidence: a warning on the review page,
# or with this on, a publish-gate blocker (weak_evidence_only).
WEAK_EVIDENCE_BLOCKS = env.bool("WEAK_EVIDENCE_BLOCKS", default=False)

# Retraction watch (references.watch): the first sweep looks this many days back; a page of 1,000 notices
# must arrive within the timeout and the cap; a running sweep silent this long is taken over.
RETRACTION_SWEEP_FIRST_DAYS = env.int("RETRACTION_SWEEP_FIRST_DAYS", default=7)
RETRACTION_SWEEP_TIMEOUT = env.float("RETRACTION_SWEEP_TIMEOUT", default=60.0)
RETRACTION_SWEEP_MAX_BYTES = env.int("RETRACTION_SWEEP_MAX_BYTES", default=32 * 1024 * 1024)
RETRACTION_SWEEP_STALE_MINUTES = env.int("RETRACTION_SWEEP_STALE_MINUTES", default=30)
# refresh_references without DOIs re-fetches at most this many references a run, oldest first, and reports
# how many were last checked more than REFRESH_WITHIN_DAYS ago.
REFRESH_BUDGET_PER_RUN = env.int("REFRESH_BUDGET_PER_RUN", default=500)
REFRESH_WITHIN_DAYS = env.int("REFRESH_WITHIN_DAYS", default=30)

# Background work: refreshes, the sweep, scheduled publishing and mail run as tasks. The default queue is
# this database (`manage.py db_worker` runs them, `make run` needs nothing more); at scale another backend of
# Django's task framework (README, "Running at scale"). With TASKS_IN_BACKGROUND off, the admin and the
# workflow do the work in the request, as the commands do.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
TASKS_IN_BACKGROUND = env.bool("TASKS_IN_BACKGROUND", default=True)
# A task whose authority (Crossref, NCBI, the mail server) is unavailable is tried at most this many times,
# waiting TASKS_RETRY_SECONDS, then twice that, and so on, between tries.
TASKS_MAX_ATTEMPTS = env.int("TASKS_MAX_ATTEMPTS", default=4)
TASKS_RETRY_SECONDS = env.int("TASKS_RETRY_SECONDS", default=60)

# PubMed (NCBI E-utilities), the second authority: the endpoint can point at a local recorded server;
# an API key raises NCBI's limit from 3 to 10 requests a second; tool and email identify us to NCBI.
NCBI_API_URL = env.str("NCBI_API_URL", default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils")
NCBI_API_KEY = env.str("NCBI_API_KEY", default="")
NCBI_EMAIL = env.str("NCBI_EMAIL", default="")
NCBI_TOOL = env.str("NCBI_TOOL", default="psychly-editorial")
# Seconds for one PubMed call, retries of 429/5xx answers included.
NCBI_TIMEOUT = env.float("NCBI_TIMEOUT", default=15.0)

# How long a public page may stay in the cache; publishing makes it stale at once anyway.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# With Redis, each process also keeps the pages it served in memory, up to this many MiB (0: none);
# Redis reports every invalidation to every process, so a kept page is never served stale.
PAGE_CACHE_LOCAL_MIB = env.float("PAGE_CACHE_LOCAL_MIB", default=32)
# The memory bound `make serve` gives a Redis cache that has none (manage.py bound_cache_memory).
REDIS_MAXMEMORY = env.str("REDIS_MAXMEMORY", default="256mb")
# Pages larger than this are not stored in the shared cache (Redis's own memory is bounded by its maxmemory).
PAGE_CACHE_MAX_ENTRY_KIB = env.float("PAGE_CACHE_MAX_ENTRY_KIB", default=1024)
# How often each process looks in the database for an invalidation that could not reach Redis.
PAGE_CACHE_RECHECK_SECONDS = env.float("PAGE_CACHE_RECHECK_SECONDS", default=2.0)

# The HTTP caches in front of the site (articles/publishing/frontend_cache.py; README, "Production serving").
# Browsers keep a public page FRONTEND_CACHE_MAX_AGE seconds; shared caches (Varnish, a CDN) FRONTEND_CACHE_S_MAXAGE,
# because every change purges the pages it alters from the caches configured here.
FRONTEND_CACHE_MAX_AGE = env.int("FRONTEND_CACHE_MAX_AGE", default=60)
FRONTEND_CACHE_S_MAXAGE = env.int("FRONTEND_CACHE_S_MAXAGE", default=86400)
# Varnish servers to purge (their listening URLs), comma-separated: http://10.0.0.5:6081,http://10.0.0.6:6081
FRONTEND_CACHE_VARNISH_URLS = env.list("FRONTEND_CACHE_VARNISH_URLS", default=[])
CLOUDFLARE_ZONE_ID = env.str("CLOUDFLARE_ZONE_ID", default="")
CLOUDFLARE_API_TOKEN = env.str("CLOUDFLARE_API_TOKEN", default="")
CLOUDFLARE_API_URL = env.str("CLOUDFLARE_API_URL", default="https://api.cloudflare.com/client/v4")
CLOUDFRONT_DISTRIBUTION_ID = env.str("CLOUDFRONT_DISTRIBUTION_ID", default="")
# Only to point boto3 at another endpoint (tests); AWS credentials come from the environment as boto3 reads them.
CLOUDFRONT_ENDPOINT_URL = env.str("CLOUDFRONT_ENDPOINT_URL", default="")

SITE_NAME = env.str("SITE_NAME", default="Psychly")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Parsing limits (bench/README.md): parsing is linear, these only refuse what no article is, with a
# message naming the setting. One paste box: characters and claims. A sentence pysbd must read whole.
PASTE_MAX_CHARS = env.int("PASTE_MAX_CHARS", default=100_000)
PASTE_MAX_CLAIMS = env.int("PASTE_MAX_CLAIMS", default=1_000)
PARSE_MAX_SENTENCE_CHARS = env.int("PARSE_MAX_SENTENCE_CHARS", default=5_000)
# One import (a file or the admin's paste): claims. pysbd's cost is per sentence as well as per character.
IMPORT_MAX_CLAIMS = env.int("IMPORT_MAX_CLAIMS", default=20_000)
# Admin search: longer queries are refused with a message (each word becomes a LIKE over several columns).
ADMIN_SEARCH_MAX_CHARS = env.int("ADMIN_SEARCH_MAX_CHARS", default=200)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {"psychly": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
