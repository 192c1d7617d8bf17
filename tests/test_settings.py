"""Settings from the environment: the database and cache rules ASGI needs."""

import logging
import re
import subprocess
import sys
import textwrap
import threading
from io import StringIO
from unittest import mock

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.handlers.asgi import ASGIHandler
from django.db.utils import ConnectionHandler
from django.test import SimpleTestCase, override_settings
from django.utils.module_loading import import_string

from project import checks
from project.settings import database_settings
from topics.pitfalls.deploy import ADAPTED_MESSAGE, WRONG_MIDDLEWARE


class DatabaseSettingsTests(SimpleTestCase):
    def test_postgresql_uses_the_pool_and_no_persistent_connections(self):
        """A postgres:// URL → CONN_MAX_AGE 0, health checks, Django's psycopg pool."""
        database = database_settings("postgres://app@db.example:5432/app")

        self.assertEqual(database["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual(database["CONN_MAX_AGE"], 0)
        self.assertIs(database["CONN_HEALTH_CHECKS"], True)
        self.assertEqual(
            set(database["OPTIONS"]["pool"]),
            {"min_size", "max_size", "max_waiting", "timeout", "reconnect_timeout"},
        )

    def test_sqlite_waits_for_the_write_lock_instead_of_failing(self):
        """SQLite runs in WAL mode and takes the write lock at BEGIN."""
        database = database_settings("sqlite:////tmp/example.sqlite3")

        self.assertEqual(database["OPTIONS"]["transaction_mode"], "IMMEDIATE")
        self.assertIn("journal_mode=WAL", database["OPTIONS"]["init_command"])
        self.assertNotIn("pool", database["OPTIONS"])

    def test_logging_keeps_uvicorn_loggers(self):
        """Configuring Django's logging does not silence uvicorn's loggers."""
        self.assertIs(settings.LOGGING["disable_existing_loggers"], False)


class CacheTests(SimpleTestCase):
    def test_configured_cache_round_trips(self):
        """The cache in use (Redis when REDIS_URL is set) stores and returns a value."""
        backend = "RedisCache" if settings.REDIS_URL else "LocMemCache"
        cache.set("settings-test", {"answer": 42}, timeout=30)

        self.assertEqual(cache.get("settings-test"), {"answer": 42})
        self.assertEqual(type(caches["default"]).__name__, backend)
        cache.delete("settings-test")


class AsgiConnectionCheckTests(SimpleTestCase):
    def run_check(self, database: dict) -> list[str]:
        handler = ConnectionHandler({"default": database})
        with mock.patch.object(checks, "connections", handler):
            return [message.id for message in checks.check_asgi_connections()]

    def test_persistent_connections_under_asgi_are_an_error(self):
        """CONN_MAX_AGE 60 or None with ASGI_APPLICATION set → project.E001."""
        for age in (60, None):
            ids = self.run_check(
                {**database_settings("sqlite:///x"), "CONN_MAX_AGE": age}
            )

            self.assertEqual(ids, ["project.E001"], age)

    def test_postgresql_without_a_pool_is_a_warning(self):
        """PostgreSQL without OPTIONS["pool"] → project.W001; with it, nothing."""
        pooled = database_settings("postgres://app@db.example:5432/app")
        unpooled = {**pooled, "OPTIONS": {}}

        self.assertEqual(self.run_check(pooled), [])
        self.assertEqual(self.run_check(unpooled), ["project.W001"])

    def test_this_project_passes(self):
        """The project's own settings raise neither."""
        self.assertEqual(checks.check_asgi_connections(), [])


class AdaptedMiddlewareLogTests(SimpleTestCase):
    def test_the_project_logging_prints_the_adapted_middleware(self):
        """Django's "Asynchronous handler adapted…" line is a DEBUG record on
        django.request: the project's LOGGING prints it; a logger at INFO drops it."""
        console = next(h for h in logging.getLogger().handlers if h.name == "console")
        request_logger = logging.getLogger("django.request")
        printed = StringIO()
        previous = console.setStream(printed)
        try:
            with override_settings(DEBUG=True, MIDDLEWARE=[WRONG_MIDDLEWARE]):
                ASGIHandler()
                shown = printed.getvalue()
                level = request_logger.level
                request_logger.setLevel(logging.INFO)
                try:
                    ASGIHandler()
                finally:
                    request_logger.setLevel(level)
        finally:
            console.setStream(previous)

        adapted = ADAPTED_MESSAGE.format(path=WRONG_MIDDLEWARE)
        self.assertIn(f" DEBUG django.request [-] {adapted}\n", shown)
        self.assertEqual(printed.getvalue(), shown)  # nothing more at INFO

    def test_the_guides_logging_shows_it_in_a_fresh_project(self):
        """The guide's LOGGING, in a project that had none (Django's defaults
        underneath), prints the adapted-middleware line once, and a 4xx warning
        once, by Django's own handler, as before."""
        guide = (settings.BASE_DIR / "docs" / "guide.md").read_text()
        block = re.search(
            r"```python\n(\s*LOGGING_ADAPTED_MIDDLEWARE = .*?)```", guide, re.S
        )
        logging_config = textwrap.dedent(block[1])

        run = subprocess.run(
            [sys.executable, "-c", FRESH_PROJECT, logging_config],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

        lines = run.stderr.splitlines()
        adapted = "Asynchronous handler adapted for middleware __main__.sync_only."
        self.assertEqual(lines.count(adapted), 1, run.stderr)
        self.assertEqual(lines.count("Not Found: /nowhere/"), 1, run.stderr)


# A startproject-like process: Django's default logging, then the guide's
# LOGGING (argv[1]) on top, as django.setup() applies a project's; one
# sync-only middleware.
FRESH_PROJECT = """
import logging, sys
import django
from django.conf import settings

def sync_only(get_response):
    return lambda request: get_response(request)

namespace = {}  # the recipe needs no import in the settings
exec(sys.argv[1], namespace)
settings.configure(
    DEBUG=True,
    MIDDLEWARE=["__main__.sync_only"],
    LOGGING=namespace["LOGGING_ADAPTED_MIDDLEWARE"],
)
django.setup()
from django.core.handlers.asgi import ASGIHandler
ASGIHandler()
logging.getLogger("django.request").warning("Not Found: /nowhere/")
"""


# Every cache backend Django ships, on 5.2 and 6.1.
BUILT_IN_CACHES = [
    "django.core.cache.backends.db.DatabaseCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.redis.RedisCache",
]


class ThreadRecordingCache(LocMemCache):
    """LocMemCache that notes the thread each sync get() runs on."""

    threads: list[int]

    def get(self, key, default=None, version=None):
        self.threads.append(threading.get_ident())
        return super().get(key, default, version)


class AsyncCacheApiTests(SimpleTestCase):
    def test_no_built_in_backend_has_its_own_async_methods(self):
        """aget(), aset() … are BaseCache's in every built-in backend: the sync
        call in a thread (docs/versions.md says so)."""
        async_methods = [
            name
            for name in dir(BaseCache)
            if name.startswith("a") and iscoroutinefunction(getattr(BaseCache, name))
        ]
        self.assertIn("aget", async_methods)
        self.assertIn("aset", async_methods)
        for path in BUILT_IN_CACHES:
            backend = import_string(path)
            for name in async_methods:
                with self.subTest(backend=path, method=name):
                    self.assertIs(getattr(backend, name), getattr(BaseCache, name))

    async def test_aget_runs_the_sync_get_off_the_loop(self):
        """BaseCache.aget() calls get() in another thread than the event loop's."""
        cache = ThreadRecordingCache("async-cache-api", {})
        cache.threads = []

        self.assertIsNone(await cache.aget("missing"))

        self.assertEqual(len(cache.threads), 1)
        self.assertNotEqual(cache.threads[0], threading.get_ident())
