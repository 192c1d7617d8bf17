"""Every finding code the audit reports, with a one-line description.

SARIF rules are written from it, and select/ignore prefixes are checked
against it, so that a typo in a configuration is told rather than silently
matching nothing.
"""

CODES: dict[str, str] = {
    "code.blocking-call": "A blocking call (sleep, sync HTTP, file, subprocess) "
    "inside an async def.",
    "code.sync-orm": "A sync ORM query inside an async def.",
    "code.not-awaited": "A coroutine that is never awaited.",
    "code.dropped-task": "A task created and not kept: the loop holds it weakly.",
    "code.unparsable": "A file the code scan could not read or parse.",
    "middleware.sync-only": "A sync-only middleware: every request holds a thread.",
    "middleware.mixin-hops": "A MiddlewareMixin-based middleware: thread hops per "
    "request in async mode.",
    "middleware.hops": "The thread hops the whole middleware stack costs.",
    "middleware.not-used": "A middleware that raises MiddlewareNotUsed.",
    "middleware.hopfree-available": "Django's default middleware in async mode: "
    "the hops per request topics.hopfree's drop-ins save.",
    "urls.sync-views": "Sync views: under ASGI each holds a thread while it runs.",
    "urls.mixed-handlers": "A class-based view mixing async and sync handlers.",
    "urls.sync-decorator": "An async view wrapped by a sync-only decorator.",
    "settings.conn-max-age": "Persistent connections (CONN_MAX_AGE) under ASGI.",
    "settings.atomic-requests": "ATOMIC_REQUESTS with async views.",
    "settings.no-pool": "PostgreSQL without a connection pool under ASGI.",
    "settings.sync-cache": "A cache backend with no async API.",
    "settings.cache-hops": "A cache whose async API runs in a thread.",
    "settings.allow-async-unsafe": "DJANGO_ALLOW_ASYNC_UNSAFE is set.",
    "import.middleware": "A middleware that cannot be imported.",
    "import.urls": "A URLconf that cannot be loaded.",
    "import.cache": "A cache backend that cannot be imported.",
    "config.unused-exclude": "An exclude glob that matched nothing.",
    "code.sync-iterator": "A sync iterator streamed from async code: under ASGI "
    "Django reads it whole, in a thread, before sending.",
    "code.sync-dispatch": "A class-based view with async handlers behind a sync "
    "dispatch() that reads request.user or the response.",
    "code.sync-decorator": "An async view wrapped by a sync-only decorator of the "
    "same module.",
    "code.thread-deadlock": "A blocking wait inside the thread-sensitive "
    "executor, which the work it waits for may need.",
    "code.startup-query": "A query at import time or in AppConfig.ready().",
    "code.sync-cache": "The sync cache API (cache.get, set...) inside an async def.",
}


def matches(code: str, prefix: str) -> bool:
    """True when `prefix` names `code` or its family: "middleware" matches
    "middleware.hops"; "code.sync" does not match "code.sync-orm"; "" matches
    every code."""
    prefix = prefix.rstrip(".")
    return not prefix or code == prefix or code.startswith(f"{prefix}.")


def known_prefix(prefix: str) -> bool:
    """True when `prefix` matches at least one code of CODES."""
    return any(matches(code, prefix) for code in CODES)
