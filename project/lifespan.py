"""ASGI lifespan: Django's handler rejects the lifespan scope, so answer it here."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from django.db import connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

LifespanContext = Callable[[], AbstractAsyncContextManager[Any]]
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class LifespanMiddleware:
    """Enter the given async context managers at startup and exit them at shutdown."""

    def __init__(
        self, app: Callable, contexts: Iterable[str | LifespanContext]
    ) -> None:
        self.app = app
        self.contexts = [
            import_string(context) if isinstance(context, str) else context
            for context in contexts
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """Speak the lifespan protocol: startup, wait for shutdown, then clean up."""
        await receive()  # {"type": "lifespan.startup"}
        stack = AsyncExitStack()
        try:
            for context in self.contexts:
                await stack.enter_async_context(context())
        except Exception as exc:
            logger.exception("ASGI lifespan startup failed")
            await stack.aclose()
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            return
        await send({"type": "lifespan.startup.complete"})

        await receive()  # {"type": "lifespan.shutdown"}
        try:
            await stack.aclose()
        except Exception as exc:
            logger.exception("ASGI lifespan shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})


def _pooled_connections() -> list:
    return [
        conn for conn in connections.all() if conn.settings_dict["OPTIONS"].get("pool")
    ]


def _open_pools() -> None:
    pooled = _pooled_connections()
    if pooled:
        # Only a pooled PostgreSQL database needs psycopg_pool installed.
        from psycopg_pool import PoolTimeout
    for conn in pooled:
        # Django builds the pool closed (open=False) and opens it at the first
        # query, so merely reading conn.pool connects nothing: open it, then
        # wait for its min_size connections, so the first request finds them.
        conn.pool.open()
        try:
            conn.pool.wait(timeout=conn.pool.timeout)
        except PoolTimeout:
            # The database is down or slow: serve anyway (its requests answer
            # 503); the open pool keeps connecting in the background.
            logger.warning(
                "Database %r: the pool has not connected after %s s; it keeps trying.",
                conn.alias,
                conn.pool.timeout,
            )


def _close_pools() -> None:
    for conn in _pooled_connections():
        conn.close_pool()


@asynccontextmanager
async def database_pools() -> AsyncIterator[None]:
    """Open PostgreSQL connection pools at startup and close them at shutdown.

    Each pool is open and holds its `min_size` connections before the server
    accepts a request; if the database does not answer within the pool's
    `timeout` (seconds), startup goes on with a warning and the pool keeps
    connecting. Follows Django's "Connection pool" docs (5.1+), which leave
    opening the pool to the first connection request.
    """
    # Both calls block (the pool starts and joins worker threads): off the loop.
    await asyncio.to_thread(_open_pools)
    try:
        yield
    finally:
        await asyncio.to_thread(_close_pools)
