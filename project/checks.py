"""The project's own system checks: its database settings under ASGI."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections

from topics.audit.risks import asgi_evidence, is_postgresql


@register(Tags.database, deploy=False)
def check_asgi_connections(app_configs=None, **kwargs):
    """Under ASGI, CONN_MAX_AGE must be 0; PostgreSQL should use Django's pool."""
    # ASGI as the audit sees it: a server named in a Procfile, a Dockerfile or a
    # gunicorn config, ASGI_APPLICATION (which Django never reads), an asgi.py.
    if asgi_evidence(settings) is None:
        return []
    errors = []
    for alias in connections:
        database = connections.settings[alias]
        if database.get("CONN_MAX_AGE", 0) != 0:
            errors.append(
                Error(
                    f"DATABASES[{alias!r}]['CONN_MAX_AGE'] is "
                    f"{database['CONN_MAX_AGE']!r} under ASGI.",
                    hint="Set CONN_MAX_AGE = 0: each request's sync code may run on "
                    "a new thread, and every thread would keep a connection open. "
                    "Reuse connections with the pool instead.",
                    id="project.E001",
                )
            )
        if is_postgresql(database) and not database.get("OPTIONS", {}).get("pool"):
            errors.append(
                Warning(
                    f"DATABASES[{alias!r}] is PostgreSQL without a pool.",
                    hint="Set OPTIONS['pool'] (Django 5.1+ with psycopg_pool), or "
                    "every request opens a new connection.",
                    id="project.W001",
                )
            )
    return errors
