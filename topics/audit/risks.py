"""Settings that break or slow down an ASGI deployment."""

import os
import re
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import BaseCache
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
    except Exception:  # noqa: BLE001
        return False
    return isinstance(wrapper, type) and issubclass(wrapper, PostgreSQL)


# Where a project says how it is served, and the ASGI servers it may name.
DEPLOY_FILES = (
    "Procfile",
    "Dockerfile*",
    "*compose*.y*ml",
    "gunicorn*.py",
    "Makefile",
    "*.service",
    "*.sh",
)
ASGI_SERVER = re.compile(r"uvicorn|daphne|hypercorn|granian")
WSGI_SERVER = re.compile(
    r"\b(gunicorn|uwsgi|waitress|mod_wsgi|bjoern)\b|wsgi:application"
)
SKIPPED_DIRS = {".git", "node_modules", "site-packages", "__pycache__"}


def _project_files(base: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Files under `base`, two folders deep at most, outside venvs and packages."""
    found = []
    for depth in ("", "*/", "*/*/"):
        for pattern in patterns:
            for path in sorted(base.glob(depth + pattern)):
                parts = set(path.relative_to(base).parts[:-1])
                skipped = parts & SKIPPED_DIRS or any(
                    part.startswith((".venv", "venv", ".tox")) for part in parts
                )
                if path.is_file() and not skipped:
                    found.append(path)
    return found


def _first_line(path: Path, pattern: re.Pattern[str]) -> int | None:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    return next((n for n, line in enumerate(lines, 1) if pattern.search(line)), None)


def asgi_evidence(settings: Any) -> str | None:
    """Where the project shows that it is served by ASGI, or None.

    In order: an ASGI server named where the project says how it is served (a
    Procfile, a Dockerfile, a gunicorn config with a uvicorn worker…); None if
    a WSGI server is named there instead (gunicorn alone, uwsgi…); then
    ASGI_APPLICATION (which Django itself never reads), then an asgi.py that
    calls get_asgi_application(), as `startproject` writes: a project moving to
    async is headed there. Returns "path:line" or the setting's name.
    """
    base = getattr(settings, "BASE_DIR", None)
    root = Path(base).resolve() if base else None
    if root is not None:
        deploy = _project_files(root, DEPLOY_FILES)
        for path in deploy:
            if line := _first_line(path, ASGI_SERVER):
                return f"{path.relative_to(root).as_posix()}:{line}"
        # A WSGI server named where it is served, and no ASGI one: served by
        # WSGI, whatever asgi.py startproject left beside it.
        if any(_first_line(path, WSGI_SERVER) for path in deploy):
            return None
    if getattr(settings, "ASGI_APPLICATION", None):
        return "ASGI_APPLICATION"
    if root is not None:
        for path in _project_files(root, ("asgi.py",)):
            if line := _first_line(path, re.compile(r"get_asgi_application\(")):
                return f"{path.relative_to(root).as_posix()}:{line}"
    return None


def _database_findings(
    alias: str, database: dict[str, Any], *, asgi: str | None, async_views: bool
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
                f"{where}['CONN_MAX_AGE'] is {age!r} under ASGI (seen at {asgi}): "
                "each thread keeps its own connection, and they pile up until the "
                "database refuses more.",
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
                f"{where}['ATOMIC_REQUESTS'] is on and there are async views: Django "
                "refuses "
                "to wrap an async view in a transaction.",
                "Turn it off; wrap each write's unit of work in transaction.atomic() "
                "inside one sync_to_async.",
            )
        )
    pool = database.get("OPTIONS", {}).get("pool")
    # Under WSGI, persistent connections (CONN_MAX_AGE) do a pool's work.
    if asgi and is_postgresql(database) and not pool:
        findings.append(
            Finding(
                "warning",
                "settings.no-pool",
                "settings",
                f"{where}['OPTIONS']",
                f"{where} is PostgreSQL without a pool under ASGI (seen at {asgi}), "
                "where CONN_MAX_AGE must be 0: every request opens a new "
                "connection.",
                "Set OPTIONS['pool'] (Django 5.1+, psycopg 3 with psycopg_pool; "
                "psycopg2 has none) with max_size, timeout and max_waiting.",
            )
        )
    return findings


def _cache_findings(alias: str, cache: dict[str, Any]) -> list[Finding]:
    backend = cache.get("BACKEND", "")
    where = f"CACHES[{alias!r}]"
    try:
        backend_class = import_string(backend)
    except Exception as exc:  # noqa: BLE001 — report, never crash
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
                f"{where}: {backend} has no async API (aget/aset).",
                "Use a backend built on django.core.cache.backends.base.BaseCache.",
            )
        ]
    if backend_class.aget is BaseCache.aget:
        # BaseCache's async API runs the sync one in a thread: Django's own
        # backends and most others (django-redis, say) do not override it.
        return [
            Finding(
                "info",
                "settings.cache-hops",
                "settings",
                where,
                f"{where}: {backend.rsplit('.', 1)[1]}'s async API runs the sync one "
                "in a thread: each await cache.aget() is a hop.",
                "Cache whole results, not many small keys per request.",
            )
        ]
    return []


def audit_settings(
    settings: Any, *, async_views: bool, server: str | None = None
) -> list[Finding]:
    """Database, cache and environment settings that matter under ASGI.

    `server` is "asgi" or "wsgi" when the caller knows; None: asgi_evidence().
    """
    if server is None:
        asgi = asgi_evidence(settings)
    else:
        asgi = "--server asgi" if server == "asgi" else None
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
