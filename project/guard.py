"""Pure ASGI middleware in front of Django: a request id, and a guard on bodies.

Pure ASGI, not Django middleware: they run on the event loop before Django
reads the body, and cost no thread hop (a MiddlewareMixin class in an async
stack costs two per request).
"""

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
# An id from the client or a proxy is kept only if it is this plain: it goes
# into every log line of the request.
_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
# Contextvars follow the request into sync_to_async threads and tasks.
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served, or "-" outside one."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Give every log record the current request's id, as %(request_id)s."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class RequestIdMiddleware:
    """Tag each request with an id: in the logs and the X-Request-ID header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        if incoming is not None and _SAFE_ID.fullmatch(incoming):
            request_id = incoming.decode()
        else:
            request_id = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = (REQUEST_ID_HEADER, request_id.encode())
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    # The server has already refused a malformed one; be safe anyway.
    return int(raw) if raw is not None and raw.isdigit() else None


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    """Answer {"error": {"code", "message"}} and close the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is never read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _receive_unless(receive: Receive, stalled: asyncio.Event) -> Message:
    """The next message, or http.disconnect as soon as `stalled` is set."""
    receiving = asyncio.ensure_future(receive())
    stalling = asyncio.ensure_future(stalled.wait())
    try:
        await asyncio.wait({receiving, stalling}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (receiving, stalling):
            waiter.cancel()
    if receiving.done() and not receiving.cancelled():
        return receiving.result()
    return {"type": "http.disconnect"}


class RequestGuardMiddleware:
    """Refuse bodies over max_body_size (413) or slower than body_timeout (408);
    drop a client that reads nothing of the response for send_timeout seconds."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_size: int,
        body_timeout: float,
        send_timeout: float | None = None,
    ):
        self.app = app
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_size:
            # Refused before a byte of the body is read.
            await self._refuse(scope, send, 413)
            return

        deadline = asyncio.get_running_loop().time() + self.body_timeout
        received = 0
        body_done = False
        refusal: int | None = None
        response_started = False

        stalled = asyncio.Event()

        async def guarded_receive() -> Message:
            nonlocal received, body_done, refusal
            if body_done:
                if self.send_timeout is None:
                    return await receive()  # http.disconnect, while Django listens
                # Django listens here for http.disconnect; a stalled reader is one.
                return await _receive_unless(receive, stalled)
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                refusal = 408
            else:
                if message["type"] != "http.request":
                    return message
                received += len(message.get("body", b""))
                if received <= self.max_body_size:
                    body_done = not message.get("more_body", False)
                    return message
                refusal = 413  # chunked, or a Content-Length that lied
            # Django drops a request whose client has left, without answering;
            # the refusal is sent below instead.
            return {"type": "http.disconnect"}

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            response_started = True
            if self.send_timeout is None or message["type"] != "http.response.body":
                await send(message)
                return
            # The server's send waits while the client reads nothing (its socket
            # buffers are full): that client holds the response's memory, file
            # or generator for as long as it likes. Past send_timeout it is gone.
            try:
                async with asyncio.timeout(self.send_timeout):
                    await send(message)
            except TimeoutError:
                logger.warning(
                    "The client read nothing for %g s: dropped (%s).",
                    self.send_timeout,
                    scope["path"],
                )
                stalled.set()
                # Django, told of the disconnect, cancels this wait, closes the
                # response, and returns; the server then closes the connection.
                await asyncio.Event().wait()

        await self.app(scope, guarded_receive, tracked_send)
        if refusal is not None and not response_started:
            await self._refuse(scope, send, refusal)

    async def _refuse(self, scope: Scope, send: Send, status: int) -> None:
        if status == 413:
            code, message = (
                "payload_too_large",
                f"The request body is larger than {self.max_body_size} bytes.",
            )
        else:
            code, message = (
                "request_timeout",
                f"The request body did not arrive within {self.body_timeout:g} s.",
            )
        logger.warning("%s (%d): %s", message, status, scope["path"])
        await send_error(send, status, code, message)
