"""Upstream calls, each helper with its twin: requests for the sync views, one
aiohttp session per event loop for the async ones; both raise UpstreamError.

Copy this module as it is: it needs Django, aiohttp, requests and the standard
library, and reads no setting: pass limits as arguments, from your settings if
you like, where you call it.
"""

import asyncio
import contextvars
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import aiohttp
import requests
from django.http import JsonResponse
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

logger = logging.getLogger(__name__)

Json = dict[str, Any]

# The failures' codes, as topics.httperrors names them (each module stands
# alone; tests/test_upstream_lifecycle.py checks they agree), and one more:
# this client caps the body.
CONNECTION = "upstream_connection"
TIMEOUT = "upstream_timeout"
STATUS = "upstream_status"
BAD_JSON = "upstream_bad_json"
TOO_LARGE = "upstream_too_large"
CONNECTION_FAILED = "The connection failed or broke."
NOT_JSON = "The answer is not valid JSON."
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
# Seconds a call may take, all included, unless the caller says otherwise.
DEFAULT_TIMEOUT = 5.0
# Bytes of one answer read at most: a huge or endless body cannot fill memory.
DEFAULT_MAX_BYTES = 1024 * 1024
# Connections one aiohttp session opens: aiohttp's default of 100 would queue
# a 5-call fan-out at 21 concurrent requests.
DEFAULT_CONNECTIONS = 500
# Bytes read from the socket at a time, so a body is never read whole.
CHUNK_SIZE = 64 * 1024

# Headers every call made in this context sends along, such as a request id
# that a middleware propagates from the request being served: both sessions
# below add them, whichever helper makes the call.
propagated_headers: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "propagated_headers", default=MappingProxyType({})
)


# Errors ----------------------------------------------------------------------


class UpstreamError(Exception):
    """An upstream call that failed: `code` is CONNECTION, TIMEOUT, STATUS,
    BAD_JSON or TOO_LARGE; `http_status`, the upstream's status, else 0."""

    def __init__(
        self, code: str, reason: str, *, source: str = "", http_status: int = 0
    ) -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.code = code
        self.reason = reason
        self.source = source
        self.http_status = http_status


def error_response(error: UpstreamError) -> JsonResponse:
    """The answer to a client whose request failed upstream: 504 (Gateway
    Timeout) for a timeout, else 502, with {"error": {"code", "message", "source"}}."""
    details = {"source": error.source} if error.source else {}
    body = {"code": error.code, "message": str(error), **details}
    return JsonResponse({"error": body}, status=504 if error.code == TIMEOUT else 502)


def _timeout_error(seconds: float, source: str) -> UpstreamError:
    return UpstreamError(
        TIMEOUT, f"No answer within {seconds * 1000:.0f} ms.", source=source
    )


def _status_error(status: int, source: str) -> UpstreamError:
    return UpstreamError(STATUS, f"HTTP {status}", source=source, http_status=status)


def _check_size(size: int | None, max_bytes: int, source: str) -> None:
    if size is not None and size > max_bytes:
        message = f"The answer is over {max_bytes} bytes."
        raise UpstreamError(TOO_LARGE, message, source=source)


# Sessions --------------------------------------------------------------------

_requests_session: requests.Session | None = None
_requests_lock = threading.Lock()


class _PropagatingAdapter(HTTPAdapter):
    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        request.headers.update(propagated_headers.get())


def requests_session(*, pool_size: int = 32) -> requests.Session:
    """The process's one requests.Session; `pool_size` connections per host,
    the thread pool's size (the first call's value holds)."""
    # Shared by every thread: urllib3's pool is thread-safe, and these calls
    # change no session state (no cookies, no auth).
    global _requests_session
    with _requests_lock:
        if _requests_session is None:
            session = requests.Session()
            adapter = _PropagatingAdapter(pool_maxsize=pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _requests_session = session
    return _requests_session


# Under WSGI each async view runs in a loop of its own: this is the best it can do.
FALLBACK = (
    "No ClientSession open in this event loop: one opened for the calls in "
    "flight, which is slower. Under ASGI, open http_session() at startup."
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


async def _propagate(
    session: aiohttp.ClientSession, context: Any, call: aiohttp.TraceRequestStartParams
) -> None:
    call.headers.update(propagated_headers.get())


def _new_session(connections: int = DEFAULT_CONNECTIONS) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(_propagate)
    return aiohttp.ClientSession(
        connector=connector,
        # No session-wide timeout: each call has its own (afetch_json's `timeout`).
        timeout=aiohttp.ClientTimeout(),
        trace_configs=[tracing],
    )


@asynccontextmanager
async def client_session(
    *, connections: int = DEFAULT_CONNECTIONS
) -> AsyncIterator[aiohttp.ClientSession]:
    """This event loop's ClientSession, open for as long as the block runs.

    Without http_session(), the first block in a loop opens it, with
    `connections` at most (and logs FALLBACK, once), and the last one to leave
    closes it, so calls that overlap share its connections. Follows aiohttp's
    advice of one session per application, per event loop: "Client
    Quickstart", aiohttp docs.
    """
    global _fallback_logged
    loop = asyncio.get_running_loop()
    if (entry := _sessions.get(loop)) is None:
        entry = _sessions[loop] = _LoopSession(_new_session(connections))
        if not _fallback_logged:
            _fallback_logged = True
            logger.warning(FALLBACK)
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
async def http_session(
    *, connections: int = DEFAULT_CONNECTIONS
) -> AsyncIterator[aiohttp.ClientSession]:
    """ASGI lifespan context: the process's one ClientSession, closed at shutdown."""
    # One session pools connections for every request; a session per request
    # pays a TCP handshake per call and leaks sockets when one is not closed.
    loop = asyncio.get_running_loop()
    entry = _sessions[loop] = _LoopSession(_new_session(connections), users=1)
    try:
        yield entry.session
    finally:
        # Closed at shutdown even if calls are still in flight: they fail.
        _sessions.pop(loop, None)
        await entry.session.close()


class ContextThreadPool(ThreadPoolExecutor):
    """A ThreadPoolExecutor whose calls run in a copy of the caller's context,
    as asyncio.to_thread()'s do: propagated_headers follow a call into its thread."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


# fetch_json ------------------------------------------------------------------


def fetch_json(
    url: str,
    *,
    params: dict | None = None,
    method: str = "GET",
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    source: str = "",
) -> Json:
    """Call the upstream and decode its JSON: a dict. Raise UpstreamError on
    any failure: upstream_status, upstream_timeout (after `timeout` seconds),
    upstream_connection, upstream_bad_json, or upstream_too_large past
    `max_bytes`; `source` names the call in the error."""
    try:
        with requests_session().request(
            method,
            url,
            params=params,
            allow_redirects=False,  # a redirect could lead to another host
            timeout=timeout,
            stream=True,  # the body is read below, in chunks
        ) as response:
            if response.status_code != 200:
                raise _status_error(response.status_code, source)
            # Content-Length first; a chunked or endless body is counted.
            _check_size(response.raw.length_remaining, max_bytes, source)
            body = bytearray()
            for chunk in response.iter_content(CHUNK_SIZE):
                body += chunk
                _check_size(len(body), max_bytes, source)
        return json.loads(body)
    except requests.Timeout:
        raise _timeout_error(timeout, source) from None
    except requests.ConnectionError as error:
        # Past the headers, requests wraps a read timeout in a ConnectionError:
        # a timeout all the same, as afetch_json() says (topics.httperrors).
        if error.args and isinstance(error.args[0], ReadTimeoutError):
            raise _timeout_error(timeout, source) from None
        raise UpstreamError(CONNECTION, CONNECTION_FAILED, source=source) from None
    except requests.RequestException:  # before ValueError: InvalidURL is both
        raise UpstreamError(CONNECTION, CONNECTION_FAILED, source=source) from None
    except ValueError:
        raise UpstreamError(BAD_JSON, NOT_JSON, source=source) from None


async def afetch_json(
    url: str,
    *,
    params: dict | None = None,
    method: str = "GET",
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (a deadline, as in fetch_json)
    max_bytes: int = DEFAULT_MAX_BYTES,
    source: str = "",
) -> Json:
    """See fetch_json()."""
    try:
        async with (
            asyncio.timeout(timeout),
            client_session() as session,
            session.request(
                method,
                url,
                params=params,
                allow_redirects=False,
            ) as response,
        ):
            if response.status != 200:
                raise _status_error(response.status, source)
            _check_size(response.content_length, max_bytes, source)
            body = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK_SIZE):
                body += chunk
                _check_size(len(body), max_bytes, source)
        return json.loads(body)
    except TimeoutError:
        raise _timeout_error(timeout, source) from None
    except aiohttp.ClientError:
        raise UpstreamError(CONNECTION, CONNECTION_FAILED, source=source) from None
    except ValueError:
        raise UpstreamError(BAD_JSON, NOT_JSON, source=source) from None


# fetch_with_retries ----------------------------------------------------------

# Pauses before the 2nd and 3rd attempts; None: no attempt left.
BACKOFF = (0.05, 0.1, None)


def _give_up(error: UpstreamError, method: str, pause: float | None) -> bool:
    # Worth another try: an idempotent call that got no answer, or a 5xx.
    retryable = error.code in {TIMEOUT, CONNECTION} or error.http_status >= 500
    return pause is None or method not in IDEMPOTENT or not retryable


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
    """fetch_json(), retried with backoff (BACKOFF, seconds) when an idempotent
    call timed out, broke or got a 5xx; never a POST. Raise the last
    UpstreamError, its message counting the attempts."""
    for attempt, pause in enumerate(BACKOFF, start=1):
        try:
            return fetch_json(url, method=method, params=params, source=source)
        except UpstreamError as error:
            if _give_up(error, method, pause):
                raise _after(error, attempt) from None
        time.sleep(pause)
    raise AssertionError("unreachable")


async def afetch_with_retries(
    url: str, *, method: str = "GET", params: dict | None = None, source: str = ""
) -> Json:
    """See fetch_with_retries()."""
    for attempt, pause in enumerate(BACKOFF, start=1):
        try:
            return await afetch_json(url, method=method, params=params, source=source)
        except UpstreamError as error:
            if _give_up(error, method, pause):
                raise _after(error, attempt) from None
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")


# The first answer ------------------------------------------------------------


def first_success(done: Collection[Any], *, last: bool) -> Any | None:
    """Of finished calls (Futures or Tasks), the first that succeeded; if none
    did and `last` (nothing else is running), one that failed, whose result()
    raises; else None: wait for the next."""
    for call in done:
        if call.exception() is None:
            return call
    return next(iter(done)) if last else None


# gather_all ------------------------------------------------------------------


async def gather_all(calls: dict[str, Awaitable[Json]]) -> dict[str, Json]:
    """Await the calls together: {name: result}. At the first failure the
    TaskGroup cancels the rest; of the calls that failed, the first in `calls`
    order is raised (an UpstreamError; any other exception is a bug, raised
    as the TaskGroup's ExceptionGroup)."""
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
