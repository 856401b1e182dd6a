"""Settings for Psychly Editorial.

Every value a deployment changes comes from the environment or a ``.env`` file
beside ``manage.py`` (see ``.env.example``). There is one settings module; tests
configure it through environment variables as well.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

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
    "django.contrib.postgres",
    "references",
    "articles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# SQLite beside manage.py unless DATABASE_URL says otherwise; postgres:// URLs
# go through psycopg 3 (django.db.backends.postgresql picks it up).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Local memory unless CACHE_URL or REDIS_URL names a shared cache.
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
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

LOGIN_URL = "admin:login"

# Crossref: the endpoint can be a mirror, a caching proxy or a local recorded
# server; the contact address puts requests in Crossref's polite pool.
CROSSREF_API_URL = env.str("CROSSREF_API_URL", default="https://api.crossref.org")
CROSSREF_MAILTO = env.str("CROSSREF_MAILTO", default="")
CROSSREF_TIMEOUT = env.float("CROSSREF_TIMEOUT", default=10.0)
CROSSREF_MAX_RETRIES = env.int("CROSSREF_MAX_RETRIES", default=3)

SITE_NAME = env.str("SITE_NAME", default="Psychly")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {"psychly": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
