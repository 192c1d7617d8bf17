"""Upstream calls: one aiohttp session per event loop for the async twins (per
process under uvicorn), one requests.Session for the sync twins; both raise the
same UpstreamError."""

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from topics.api import ApiError
from topics.httperrors import (
    BAD_JSON,
    CONNECTION,
    CONNECTION_FAILED,
    NOT_JSON,
    STATUS,
    TIMEOUT,
)

logger = logging.getLogger(__name__)

# The sources a client may name; their URLs are built here, from settings.
SOURCES = ("profile", "orders", "recommendations")
REPLICAS = (1, 2)

# The codes of topics.httperrors, and one more: this client caps the body.
TOO_LARGE = "upstream_too_large"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
# Bytes read from the socket at a time, so a body is never read whole.
CHUNK_SIZE = 64 * 1024

Json = dict[str, Any]


class UpstreamError(ApiError):
    """An upstream call that failed; a view that lets it through answers 502."""

    status = 502

    def __init__(
        self, code: str, reason: str, *, source: str = "", http_status: int = 0
    ) -> None:
        details = {"source": source} if source else {}
        super().__init__(code, f"{source}: {reason}" if source else reason, **details)
        self.reason = reason
        self.source = source
        self.http_status = http_status

    def entry(self) -> Json:
        """The error as a per-source entry: {"code", "message"}."""
        return {"code": self.code, "message": self.reason}

    @property
    def retryable(self) -> bool:
        """Worth another try: no answer, or a server error."""
        return self.code in {TIMEOUT, CONNECTION} or self.http_status >= 500


def source_url(name: str, *, replica: int | None = None) -> str:
    """The URL of a named source, on the configured upstream only."""
    if name not in SOURCES:
        raise ValueError(f"Unknown source {name!r}.")
    if replica is None:
        return f"{settings.UPSTREAM_URL}/sources/{name}"
    return f"{settings.UPSTREAM_URL}/replicas/{int(replica)}/sources/{name}"


def item_url(number: int) -> str:
    """The URL of item `number` on the configured upstream."""
    return f"{settings.UPSTREAM_URL}/sources/item-{int(number)}"


def _status_error(status: int, source: str) -> UpstreamError:
    return UpstreamError(STATUS, f"HTTP {status}", source=source, http_status=status)


def timeout_error(seconds: float, source: str = "") -> UpstreamError:
    """No answer in time; also what an expired asyncio.timeout() becomes."""
    return UpstreamError(
        TIMEOUT, f"No answer within {seconds * 1000:.0f} ms.", source=source
    )


def _connection_error(source: str) -> UpstreamError:
    return UpstreamError(CONNECTION, CONNECTION_FAILED, source=source)


def _bad_json_error(source: str) -> UpstreamError:
    return UpstreamError(BAD_JSON, NOT_JSON, source=source)


def _check_size(size: int | None, source: str) -> None:
    """Raise upstream_too_large when `size` bytes pass UPSTREAM_MAX_BYTES."""
    if size is not None and size > (limit := settings.UPSTREAM_MAX_BYTES):
        message = f"The answer is over {limit} bytes."
        raise UpstreamError(TOO_LARGE, message, source=source)


# Async twins ---------------------------------------------------------------

FALLBACK = (
    "No process-wide ClientSession in this event loop: opening one for the calls "
    "in flight and closing it after them, which is slower. Under WSGI each async "
    "view runs in a loop of its own, so this is the best it can do; under ASGI, "
    "open http_session() at startup (Django's handler has no lifespan: see "
    "project/lifespan.py)."
)


@dataclass
class _LoopSession:
    session: aiohttp.ClientSession
    users: int = 0


# An aiohttp session belongs to the event loop it was opened in: one per loop.
# Under uvicorn that is the process's one, held by the lifespan; under WSGI
# each async view runs in a loop of its own, so it lives for that request.
_sessions: dict[asyncio.AbstractEventLoop, _LoopSession] = {}
_fallback_logged = False


def _new_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=settings.UPSTREAM_CONNECTIONS,
        limit_per_host=settings.UPSTREAM_CONNECTIONS,
    )
    timeout = aiohttp.ClientTimeout(total=settings.UPSTREAM_TIMEOUT)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


@asynccontextmanager
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    """This event loop's ClientSession, open for as long as the block runs.

    The first block in a loop opens it and the last one to leave closes it, so
    calls that overlap share its connections. Follows aiohttp's advice of one
    session per application, per event loop: "Client Quickstart", aiohttp docs.
    """
    loop = asyncio.get_running_loop()
    if (entry := _sessions.get(loop)) is None:
        entry = _sessions[loop] = _LoopSession(_new_session())
    entry.users += 1
    try:
        yield entry.session
    finally:
        entry.users -= 1
        if entry.users == 0:
            if _sessions.get(loop) is entry:
                del _sessions[loop]
            await entry.session.close()


@asynccontextmanager
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    """ASGI lifespan context: the process's one ClientSession, closed at shutdown."""
    # One session pools connections for every request; a session per request
    # pays a TCP handshake per call and leaks sockets when one is not closed.
    async with client_session() as session:
        try:
            yield session
        finally:
            # Closed at shutdown even if calls are still in flight: they fail.
            _sessions.pop(asyncio.get_running_loop(), None)
            await session.close()


@asynccontextmanager
async def _call_session() -> AsyncIterator[aiohttp.ClientSession]:
    """The loop's session for one call; without a lifespan, opened for it (and
    for the calls that overlap it: a fan-out shares one)."""
    global _fallback_logged
    if not _fallback_logged and asyncio.get_running_loop() not in _sessions:
        _fallback_logged = True
        logger.warning(FALLBACK)
    async with client_session() as session:
        yield session


async def afetch_json(
    url: str, *, params: dict | None = None, method: str = "GET", source: str = ""
) -> Json:
    """See fetch_json(); for a shorter deadline, wrap it in asyncio.timeout()."""
    seconds = settings.UPSTREAM_TIMEOUT
    try:
        async with (
            _call_session() as session,
            session.request(
                method,
                url,
                params=params,
                allow_redirects=False,  # a redirect could lead to another host
            ) as response,
        ):
            if response.status != 200:
                raise _status_error(response.status, source)
            _check_size(response.content_length, source)
            body = bytearray()
            # A chunked or endless body has no length to check: count it.
            async for chunk in response.content.iter_chunked(CHUNK_SIZE):
                body += chunk
                _check_size(len(body), source)
        return json.loads(body)
    except TimeoutError:
        raise timeout_error(seconds, source) from None
    except aiohttp.ClientError:
        raise _connection_error(source) from None
    except ValueError:
        raise _bad_json_error(source) from None


async def afetch_with_retries(
    url: str, *, method: str = "GET", params: dict | None = None, source: str = ""
) -> Json:
    """See fetch_with_retries()."""
    for attempt, pause in enumerate(BACKOFF, start=1):
        try:
            return await afetch_json(url, method=method, params=params, source=source)
        except UpstreamError as error:
            if pause is None or method not in IDEMPOTENT or not error.retryable:
                raise _after(error, attempt) from None
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")


# Sync twins ----------------------------------------------------------------

_requests_session: requests.Session | None = None
_requests_lock = threading.Lock()
# The thread-pool variants' workers, shared by every request of the process.
EXECUTOR = ThreadPoolExecutor(
    max_workers=settings.UPSTREAM_THREADS, thread_name_prefix="upstream"
)


def requests_session() -> requests.Session:
    """The process's one requests.Session, its pool sized for the thread pool."""
    # Shared by every thread: urllib3's pool is thread-safe, and these calls
    # change no session state (no cookies, no auth).
    global _requests_session
    with _requests_lock:
        if _requests_session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_maxsize=settings.UPSTREAM_THREADS)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _requests_session = session
    return _requests_session


def fetch_json(
    url: str,
    *,
    params: dict | None = None,
    method: str = "GET",
    timeout: float | None = None,
    source: str = "",
) -> Json:
    """Call the upstream and decode its JSON: a dict. Raise UpstreamError on
    any failure: upstream_status, upstream_timeout (after `timeout` seconds,
    UPSTREAM_TIMEOUT by default), upstream_connection, upstream_bad_json, or
    upstream_too_large past UPSTREAM_MAX_BYTES."""
    seconds = timeout or settings.UPSTREAM_TIMEOUT
    try:
        with requests_session().request(
            method,
            url,
            params=params,
            allow_redirects=False,
            timeout=seconds,
            stream=True,  # the body is read below, in chunks
        ) as response:
            if response.status_code != 200:
                raise _status_error(response.status_code, source)
            _check_size(response.raw.length_remaining, source)  # Content-Length
            body = bytearray()
            # A chunked or endless body has no length to check: count it.
            for chunk in response.iter_content(CHUNK_SIZE):
                body += chunk
                _check_size(len(body), source)
        return json.loads(body)
    except requests.Timeout:
        raise timeout_error(seconds, source) from None
    except requests.ConnectionError as error:
        # Past the headers, requests wraps a read timeout in a ConnectionError:
        # a timeout all the same, as afetch_json() says (topics.httperrors).
        if error.args and isinstance(error.args[0], ReadTimeoutError):
            raise timeout_error(seconds, source) from None
        raise _connection_error(source) from None
    except requests.RequestException:  # before ValueError: InvalidURL is both
        raise _connection_error(source) from None
    except ValueError:
        raise _bad_json_error(source) from None


# Pauses before the 2nd and 3rd attempts; None: no attempt left.
BACKOFF = (0.05, 0.1, None)


def _after(error: UpstreamError, attempts: int) -> UpstreamError:
    if attempts == 1:
        return error
    return UpstreamError(
        error.code,
        f"{error.reason} (after {attempts} attempts)",
        source=error.source,
        http_status=error.http_status,
    )


def fetch_with_retries(
    url: str, *, method: str = "GET", params: dict | None = None, source: str = ""
) -> Json:
    """Retry an idempotent call that timed out, broke or got a 5xx; never a POST."""
    for attempt, pause in enumerate(BACKOFF, start=1):
        try:
            return fetch_json(url, method=method, params=params, source=source)
        except UpstreamError as error:
            if pause is None or method not in IDEMPOTENT or not error.retryable:
                raise _after(error, attempt) from None
        time.sleep(pause)
    raise AssertionError("unreachable")


async def gather_all(calls: dict[str, Awaitable[Json]]) -> dict[str, Json]:
    """Await the calls together. At the first failure the TaskGroup cancels the
    rest; of the calls that failed, the first in `calls` order is raised."""
    tasks: dict[str, asyncio.Task] = {}
    try:
        async with asyncio.TaskGroup() as group:
            for name, call in calls.items():
                tasks[name] = group.create_task(call)
    except ExceptionGroup as failed:
        if failed.split(UpstreamError)[1] is not None:
            raise  # not an upstream failure: a bug, let it be a 500
        raise next(
            task.exception()
            for task in tasks.values()
            if not task.cancelled() and task.exception() is not None
        ) from None
    return {name: task.result() for name, task in tasks.items()}
