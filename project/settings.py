"""Settings for the reference app: one module, every value from the environment."""

import os
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Generated state (SQLite files, exports, bench results) lives here, git-ignored.
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


def env_float(name: str, default: float) -> float:
    """Read a number from the environment."""
    value = os.environ.get(name)
    return default if value is None or value == "" else float(value)


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


# Demo only: DEBUG is on unless the environment says otherwise, so that
# `make run` shows Django's error pages. Production sets DEBUG=0.
DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    # Demo only: a fixed key for local runs; never used with DEBUG off.
    SECRET_KEY = "django-insecure-local-demo-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "taggit",
    # Background tasks: the database backend's results table and `db_worker`;
    # on Django 5.2 the django-tasks backport of django.tasks too (its checks).
    *(["django_tasks"] if django.VERSION < (6, 0) else []),
    "django_tasks_db",
    "topics",
    # The demo harness and the benchmark: tools around the patterns, not patterns.
    "project.demo",
    "project",
    "project.bench",
    # `manage.py async_audit`: an app of its own, which any project can add.
    "topics.audit",
]

# Django's seven defaults, hop-free (topics.hopfree: the same hooks, run on the
# event loop where they do no I/O; 13 thread hops fewer per async request), and
# one of ours.
MIDDLEWARE = [
    "topics.hopfree.SecurityMiddleware",
    "topics.hopfree.SessionMiddleware",
    "topics.hopfree.CommonMiddleware",
    "topics.hopfree.CsrfViewMiddleware",
    "topics.hopfree.AuthenticationMiddleware",
    "topics.hopfree.MessageMiddleware",
    "topics.hopfree.XFrameOptionsMiddleware",
    # Ours: a view's database outage answers 503 + Retry-After, not 500.
    "topics.middleware.DatabaseUnavailableMiddleware",
    # Demo only: the fake upstream's knobs (?delay=, ?broken=...) on the upstream
    # pairs' URLs go to the fake beside the views, which never see them.
    "project.demo.scenario.ScenarioMiddleware",
]

# Django's deploy checks look for its middleware by dotted path; the drop-ins'
# check_deploy (registered in topics/apps.py) runs them as if they were Django's.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "project.urls"
# An API URL without its slash is a 404, not a redirect: a client following a
# 301 would repeat a POST as a GET and lose the write (and with DEBUG on,
# CommonMiddleware raises for such a POST: a 500).
APPEND_SLASH = False
LOGIN_REDIRECT_URL = "/"
# LogoutView renders registration/logged_out.html without it; this app has no
# such page, so a logout would be a TemplateDoesNotExist, a 500.
LOGOUT_REDIRECT_URL = "/"
# API clients get a JSON 403, not Django's HTML page, when CSRF fails.
CSRF_FAILURE_VIEW = "topics.api.csrf_failure"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

# Async context managers entered at ASGI lifespan startup, exited at shutdown.
ASGI_LIFESPAN = [
    "project.lifespan.database_pools",
    "topics.upstream.params.upstream_session",
    "topics.exports.abandoned_temporaries_removed",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The page layout's tag menu: a lazy QuerySet, as real apps have.
                "topics.context_processors.layout",
            ],
        },
    },
]


def database_settings(url: str) -> dict:
    """Build the default database from a URL, with the settings ASGI needs."""
    # CONN_MAX_AGE must stay 0 under ASGI: each request may run on another
    # thread, so persistent connections pile up. The pool reuses them instead.
    database = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Per process: the server opens at most max_size * workers connections.
        # A request waits at most `timeout` seconds for one, and at most
        # `max_waiting` requests wait; beyond that they fail at once. Both
        # failures answer 503 with Retry-After (topics.api), never a pile-up.
        database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            "max_waiting": env_int("DATABASE_POOL_MAX_WAITING", 100),
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 5),
            # psycopg_pool retries a lost connection with a doubling pause (1, 2,
            # 4, 8, 16 s…) for this long, then gives up; the next request then
            # connects at once. Its default, 300 s, lets the pause grow so that
            # the app answers 503 for up to 16 s more once the server is back.
            "reconnect_timeout": env_float("DATABASE_POOL_RECONNECT_TIMEOUT", 5),
        }
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("OPTIONS", {}).update(
            {
                # WAL lets readers run beside the single writer; IMMEDIATE takes
                # the write lock at BEGIN instead of failing halfway through.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
        # A file, not memory, so a uvicorn started by the tests sees the data;
        # one per test process, so that two test runs never share it.
        database["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    return database


DATABASES = {
    "default": database_settings(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    )
}

# Seconds a client is told to wait (Retry-After) when the database is down or
# every pooled connection is busy.
DATABASE_RETRY_AFTER = env_int("DATABASE_RETRY_AFTER", 5)

# Seconds an Idempotency-Key is honoured: a client retries within minutes;
# older keys are not replayed, and `manage.py purge` deletes them.
IDEMPOTENCY_KEY_MAX_AGE = env_int("IDEMPOTENCY_KEY_MAX_AGE", 24 * 60 * 60)

# Tasks run in a worker process (`manage.py db_worker`, which `make run` starts),
# not in the request: Django's default backend would run them inline.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Seconds to wait for Redis: redis-py waits forever by default, and
            # a cache that does not answer must cost little more than a miss.
            "OPTIONS": {
                "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.5),
                "socket_timeout": env_float("REDIS_TIMEOUT", 0.5),
            },
        }
    }
else:
    # Demo only: a per-process cache; several workers need REDIS_URL.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The request guard in front of Django (project.guard): a larger body is
# refused with 413 before Django reads it; a body that has not fully arrived
# after REQUEST_BODY_TIMEOUT seconds is refused with 408.
REQUEST_BODY_MAX_SIZE = env_int("REQUEST_BODY_MAX_SIZE", 1024 * 1024)
REQUEST_BODY_TIMEOUT = env_float("REQUEST_BODY_TIMEOUT", 10)
# A client that reads nothing of a response for RESPONSE_SEND_TIMEOUT seconds
# is dropped: it would hold the response's memory, file or stream (nginx's
# send_timeout is 60 s).
RESPONSE_SEND_TIMEOUT = env_float("RESPONSE_SEND_TIMEOUT", 30)
# The request head, before the guard sees a request (project.serve): a larger
# head is refused with 400 (16 KiB is h11's default, nginx's is 32 KiB); a
# connection whose head has not fully arrived after REQUEST_HEAD_TIMEOUT
# seconds (silent, or trickling headers) is closed.
REQUEST_HEAD_MAX_SIZE = env_int("REQUEST_HEAD_MAX_SIZE", 16 * 1024)
REQUEST_HEAD_TIMEOUT = env_float("REQUEST_HEAD_TIMEOUT", 10)
# Plain uvicorn (python -m project.serve): after SIGTERM, requests in flight
# get this many seconds, then are cancelled; without it a stream read slowly
# keeps the process alive forever. gunicorn uses its graceful_timeout.
GRACEFUL_SHUTDOWN_TIMEOUT = env_int("GRACEFUL_SHUTDOWN_TIMEOUT", 25)
# Django's own cap must not be lower, or it would answer first with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(REQUEST_BODY_MAX_SIZE, 2_621_440)


def smtp_settings(*, host: str, port: int, timeout: float) -> dict:
    """The settings that send email through the SMTP server at host:port.

    On 6.1 one MAILERS["default"] entry; on 5.2 EMAIL_BACKEND, EMAIL_HOST,
    EMAIL_PORT and EMAIL_TIMEOUT (seconds per socket operation: without it a
    mail server that stops answering holds the sender forever).
    Source: Django 6.1's MAILERS setting (django.core.mail.handler); EMAIL_TIMEOUT.
    """
    backend = "django.core.mail.backends.smtp.EmailBackend"
    if django.VERSION >= (6, 1):
        options = {"host": host, "port": port, "timeout": timeout}
        return {"MAILERS": {"default": {"BACKEND": backend, "OPTIONS": options}}}
    return {
        "EMAIL_BACKEND": backend,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "EMAIL_TIMEOUT": timeout,
    }


# Email goes to the SMTP server at EMAIL_HOST:EMAIL_PORT (tests swap in Django's
# locmem backend). Django 6.1 reads MAILERS and deprecates the EMAIL_* settings
# (RemovedInDjango2028Warning); 5.2 has no MAILERS.
globals().update(
    smtp_settings(
        host=os.environ.get("EMAIL_HOST", "localhost"),
        port=env_int("EMAIL_PORT", 25),
        timeout=env_float("EMAIL_TIMEOUT", 10),
    )
)

# `manage.py async_audit` skips these files (globs on the paths it prints, from
# the project's root): the pitfall catalogue's wrong snippets are wrong on purpose.
ASYNC_AUDIT_EXCLUDE = ["topics/pitfalls/*"]

# Where the export pairs write their files; generated, git-ignored.
EXPORT_ROOT = Path(os.environ.get("EXPORT_ROOT", VAR_DIR / "exports"))
# Any client with a CSRF cookie can export: past either cap an export is a 507
# until `manage.py purge` (or a deletion) makes room. Checked before writing,
# so exports running at once can overshoot by what they write.
EXPORT_MAX_FILES = env_int("EXPORT_MAX_FILES", 1000)
EXPORT_MAX_BYTES = env_int("EXPORT_MAX_BYTES", 1024**3)
# Seconds an export is kept by `manage.py purge`.
EXPORT_MAX_AGE = env_int("EXPORT_MAX_AGE", 7 * 24 * 60 * 60)
# Seconds after its last write that a temporary export file is deemed abandoned
# (its writer was killed) and removed at startup and by purge; a live writer
# writes every chunk, so it is never this idle.
EXPORT_TEMPORARY_MAX_AGE = env_int("EXPORT_TEMPORARY_MAX_AGE", 60 * 60)

# The upstream service the HTTP pairs call (`manage.py runupstream` serves a
# fake one). Its address comes from here only, never from a request.
UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8001").rstrip("/")
# Seconds one call of the streamed and bounded pairs may take; the other pairs
# keep the client's default (5 s) or a bound of their own. (An answer's size is
# capped by the client's max_bytes: 1 MiB by default.)
UPSTREAM_TIMEOUT = float(os.environ.get("UPSTREAM_TIMEOUT", "5"))
# Seconds a view that makes many upstream calls in turn (bounded) may spend on
# them all: UPSTREAM_TIMEOUT bounds one call, not a hundred; past it, 504.
UPSTREAM_DEADLINE = env_float("UPSTREAM_DEADLINE", 10)
# Connections the process's one aiohttp session may open: aiohttp's default of
# 100 would queue a 5-call fan-out at 21 concurrent requests.
UPSTREAM_CONNECTIONS = env_int("UPSTREAM_CONNECTIONS", 500)
# Threads the thread-pool sync variants share.
UPSTREAM_THREADS = env_int("UPSTREAM_THREADS", 32)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# HTTPS hardening follows DEBUG; each one can be turned off from the
# environment (for example behind a proxy that already redirects).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)

# disable_existing_loggers=False keeps uvicorn's own loggers alive.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every record carries the id of the request it belongs to ("-" outside
    # one), the id the client gets back in the X-Request-ID header.
    "filters": {"request_id": {"()": "project.guard.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
        # With DEBUG on, Django logs each middleware it adapts to the handler's
        # mode ("Asynchronous handler adapted for middleware …": a thread hop per
        # request) at startup, at level DEBUG: its only DEBUG records here.
        "django.request": {
            "level": os.environ.get("DJANGO_REQUEST_LOG_LEVEL", "DEBUG")
        },
    },
}
