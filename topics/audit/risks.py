"""Settings that break or slow down an ASGI deployment."""

import os
from typing import Any

from django.utils.module_loading import import_string

from topics.audit.findings import Finding

POSTGRESQL = "django.db.backends.postgresql"


def is_postgresql(database: dict[str, Any]) -> bool:
    """Whether the backend is Django's PostgreSQL one, or a subclass of it under
    an ENGINE of its own; read from its DatabaseWrapper class, never connecting."""
    engine = database.get("ENGINE", "")
    if engine == POSTGRESQL:
        return True
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQL

        wrapper = import_string(f"{engine}.base.DatabaseWrapper")
    except Exception:
        return False
    return isinstance(wrapper, type) and issubclass(wrapper, PostgreSQL)


def _database_findings(
    alias: str, database: dict[str, Any], *, asgi: bool, async_views: bool
) -> list[Finding]:
    findings = []
    where = f"DATABASES[{alias!r}]"
    age = database.get("CONN_MAX_AGE", 0)
    if asgi and age != 0:
        findings.append(
            Finding(
                "error",
                "settings.conn-max-age",
                "settings",
                f"{where}['CONN_MAX_AGE']",
                f"CONN_MAX_AGE is {age!r} under ASGI: each thread keeps its own "
                "connection, and they pile up (pitfall 11).",
                "Set CONN_MAX_AGE = 0 and reuse connections through the pool.",
            )
        )
    if database.get("ATOMIC_REQUESTS") and async_views:
        findings.append(
            Finding(
                "error",
                "settings.atomic-requests",
                "settings",
                f"{where}['ATOMIC_REQUESTS']",
                "ATOMIC_REQUESTS is on and there are async views: Django refuses "
                "to wrap an async view in a transaction.",
                "Turn it off; wrap each write's unit of work in transaction.atomic() "
                "inside one sync_to_async.",
            )
        )
    pool = database.get("OPTIONS", {}).get("pool")
    if is_postgresql(database) and not pool:
        findings.append(
            Finding(
                "warning",
                "settings.no-pool",
                "settings",
                f"{where}['OPTIONS']",
                "PostgreSQL without a pool: with CONN_MAX_AGE = 0, as ASGI needs, "
                "every request opens a new connection.",
                "Set OPTIONS['pool'] (Django 5.1+, psycopg_pool) with max_size, "
                "timeout and max_waiting.",
            )
        )
    return findings


def _cache_findings(alias: str, cache: dict[str, Any]) -> list[Finding]:
    backend = cache.get("BACKEND", "")
    where = f"CACHES[{alias!r}]"
    try:
        backend_class = import_string(backend)
    except Exception as exc:  # report, never crash
        return [
            Finding(
                "warning",
                "import.cache",
                "import",
                where,
                f"Cannot import {backend}: {exc!r}.",
            )
        ]
    if not hasattr(backend_class, "aget"):
        return [
            Finding(
                "error",
                "settings.sync-cache",
                "settings",
                where,
                f"{backend} has no async API (aget/aset).",
                "Use a backend built on django.core.cache.backends.base.BaseCache.",
            )
        ]
    if backend.startswith("django.core.cache.backends."):
        return [
            Finding(
                "info",
                "settings.cache-hops",
                "settings",
                where,
                f"{backend.rsplit('.', 1)[1]}'s async API runs the sync one in a "
                "thread: each await cache.aget() is a hop.",
                "Cache whole results, not many small keys per request.",
            )
        ]
    return []


def audit_settings(settings: Any, *, async_views: bool) -> list[Finding]:
    """Database, cache and environment settings that matter under ASGI."""
    asgi = bool(getattr(settings, "ASGI_APPLICATION", None))
    findings: list[Finding] = []
    for alias, database in settings.DATABASES.items():
        findings += _database_findings(
            alias, database, asgi=asgi, async_views=async_views
        )
    for alias, cache in getattr(settings, "CACHES", {}).items():
        findings += _cache_findings(alias, cache)
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        findings.append(
            Finding(
                "error",
                "settings.allow-async-unsafe",
                "settings",
                "DJANGO_ALLOW_ASYNC_UNSAFE",
                "DJANGO_ALLOW_ASYNC_UNSAFE is set: SynchronousOnlyOperation no longer "
                "stops sync ORM calls on the event loop, which then block it.",
                "Unset it outside notebooks and shells; fix the calls it hid.",
            )
        )
    return findings
