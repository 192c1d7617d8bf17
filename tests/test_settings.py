"""Settings from the environment: the database and cache rules ASGI needs."""

from django.conf import settings
from django.core.cache import cache, caches
from django.test import SimpleTestCase

from project.settings import database_settings


class DatabaseSettingsTests(SimpleTestCase):
    def test_postgresql_uses_the_pool_and_no_persistent_connections(self):
        """A postgres:// URL → CONN_MAX_AGE 0, health checks, Django's psycopg pool."""
        database = database_settings("postgres://app@db.example:5432/app")

        self.assertEqual(database["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual(database["CONN_MAX_AGE"], 0)
        self.assertIs(database["CONN_HEALTH_CHECKS"], True)
        self.assertEqual(
            set(database["OPTIONS"]["pool"]),
            {"min_size", "max_size", "max_waiting", "timeout"},
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
