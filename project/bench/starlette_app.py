"""The bare Starlette fan-out: what you would switch to instead of Django.

The same calls as topics.views.fanout.aupstream_fanout — every source of
?sources= after ?delay= ms, awaited together in a TaskGroup on the process's
one aiohttp session — and the same {"sources": {name: data}} answer, with no
ORM, middleware or settings. Serve it with
`uvicorn project.bench.starlette_app:app` (env UPSTREAM_URL).
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SOURCES = ("profile", "orders", "recommendations")
UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8001")
# The Django app's defaults (UPSTREAM_CONNECTIONS, UPSTREAM_TIMEOUT).
CONNECTIONS = int(os.environ.get("UPSTREAM_CONNECTIONS", "500"))
TIMEOUT = float(os.environ.get("UPSTREAM_TIMEOUT", "5"))


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    """One ClientSession for the process, closed at shutdown."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS, limit_per_host=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield {"session": session}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status=status)


async def _fetch(session: aiohttp.ClientSession, name: str, delay: int) -> Any:
    url = f"{UPSTREAM_URL}/sources/{name}"
    async with session.get(url, params={"delay": delay}) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


async def fanout(request: Request) -> JSONResponse:
    """Call every source together; 502 if one fails."""
    names = tuple(request.query_params.get("sources", ",".join(SOURCES)).split(","))
    if not set(names) <= set(SOURCES) or len(set(names)) != len(names):
        return _error(400, "invalid_parameter", "sources: unknown or repeated name.")
    try:
        delay = int(request.query_params.get("delay", "100"))
    except ValueError:
        return _error(400, "invalid_parameter", "delay: must be an integer.")
    session: aiohttp.ClientSession = request.state.session
    failed = False
    try:
        async with asyncio.TaskGroup() as group:
            tasks = {
                name: group.create_task(_fetch(session, name, delay)) for name in names
            }
    except* (aiohttp.ClientError, TimeoutError, ValueError):
        # `return` is not allowed in except*; the TaskGroup cancelled the rest.
        failed = True
    if failed:
        return _error(502, "upstream_error", "An upstream call failed.")
    return JSONResponse({"sources": {name: tasks[name].result() for name in names}})


async def ping(request: Request) -> JSONResponse:
    """The trivial view, for the per-request overhead."""
    return JSONResponse({"ok": True})


app = Starlette(
    routes=[Route("/fanout/", fanout), Route("/ping/", ping)], lifespan=lifespan
)
