"""What the guard's test modules share: a spy app, a log capture, request scopes."""

import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator

from project.guard import (
    RequestGuardMiddleware,
    RequestIdFilter,
    RequestIdMiddleware,
    current_request_id,
)
from tests.asgi import http_scope

LIMIT = 100  # bytes, for the in-process stacks


# Generous: a machine under load is slow, but never this slow.
PROMPT = 5.0
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
SPY_LOGGER = "tests.test_guard.spy"


@dataclass
class Answer:
    """What an ASGI app sent back for one request."""

    status: int
    headers: dict[bytes, list[bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes:
        """The one value of a header that must appear exactly once."""
        values = self.headers.get(name, [])
        assert len(values) == 1, f"{name!r}: {values}"
        return values[0]

    @property
    def request_id(self) -> str:
        """The X-Request-ID the client got back."""
        return self.header(b"x-request-id").decode()

    def error(self) -> dict[str, Any]:
        """The {"error": {...}} object of a JSON error answer."""
        assert self.header(b"content-type") == b"application/json"
        return json.loads(self.body)["error"]


class SpyApp:
    """A stand-in for Django: reads the whole body, logs, answers 200 with it."""

    def __init__(self) -> None:
        self.calls = 0
        self.received: list[dict[str, Any]] = []
        self.seen_ids: list[str] = []

    async def __call__(self, scope: dict, receive, send) -> None:
        self.calls += 1
        self.seen_ids.append(current_request_id())
        logger = logging.getLogger(SPY_LOGGER)
        logger.info("on the event loop")
        # Contextvars follow the request into the thread of a sync_to_async call.
        await sync_to_async(logger.info)("in a thread")
        body = b""
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] == "http.disconnect":
                return  # as Django does: no answer to a client that left
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class Capture(logging.Handler):
    """Keep the records of one logger, passed through RequestIdFilter."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured(name: str) -> Iterator[Capture]:
    """Capture what logger `name` emits at INFO and above, while in the block."""
    logger = logging.getLogger(name)
    handler = Capture()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def guarded(app, *, body_timeout: float = PROMPT) -> RequestIdMiddleware:
    """The stack of project/asgi.py around `app`, with a small body limit."""
    return RequestIdMiddleware(
        RequestGuardMiddleware(app, max_body_size=LIMIT, body_timeout=body_timeout)
    )


def post_scope(path: str = "/spy/", *headers: tuple[bytes, bytes]) -> dict:
    """A POST scope with extra headers."""
    scope = http_scope(path)
    return {**scope, "method": "POST", "headers": [*scope["headers"], *headers]}


def length(size: int) -> tuple[bytes, bytes]:
    """A Content-Length header."""
    return (b"content-length", str(size).encode())


async def exchange(app, scope: dict, chunks: Sequence[bytes] = ()) -> Answer:
    """Send the body in chunks (the last one closes it, unless told otherwise)."""
    communicator = ApplicationCommunicator(app, scope)
    for number, chunk in enumerate(chunks, start=1):
        more = number < len(chunks)
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": more}
        )
    return await answer(communicator)


async def answer(communicator: ApplicationCommunicator) -> Answer:
    """Read the response; the app must then finish."""
    start = await communicator.receive_output(timeout=PROMPT)
    assert start["type"] == "http.response.start", start
    body = b""
    while True:
        message = await communicator.receive_output(timeout=PROMPT)
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await communicator.wait(timeout=PROMPT)
    headers: dict[bytes, list[bytes]] = {}
    for name, value in start["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return Answer(start["status"], headers, body)
