"""The request id and the body guard (project/guard.py): in process over raw ASGI,
then under a real uvicorn over sockets."""

import asyncio
import json
import logging
import re
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.request import urlopen

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import SimpleTestCase, TransactionTestCase

from project.asgi import application, django_application
from project.guard import (
    RequestGuardMiddleware,
    RequestIdFilter,
    RequestIdMiddleware,
    current_request_id,
)
from tests.asgi import http_scope
from tests.servers import Server, uvicorn_server
from tests.twins import prefixes
from topics.models import Author, Topic

LIMIT = 100  # bytes, for the in-process stacks
STALL = 0.3  # seconds, the in-process body timeout
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


class GuardInProcessTests(SimpleTestCase):
    """RequestGuardMiddleware over raw ASGI, with a 100-byte limit."""

    async def test_declared_oversize_body_is_refused_before_the_app(self):
        """Content-Length over the limit: 413 JSON, the app is never called."""
        spy = SpyApp()
        with captured("project.guard") as log:
            refused = await exchange(
                guarded(spy), post_scope("/spy/", length(LIMIT + 1)), [b"x" * 101]
            )

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.error()["code"], "payload_too_large")
        self.assertIn(f"{LIMIT} bytes", refused.error()["message"])
        self.assertEqual(refused.header(b"connection"), b"close")
        self.assertEqual(int(refused.header(b"content-length")), len(refused.body))
        self.assertEqual(spy.calls, 0)
        # Logged once, as a warning, under the id the client got back.
        self.assertEqual(len(log.records), 1)
        self.assertEqual(log.records[0].levelno, logging.WARNING)
        self.assertIn("(413): /spy/", log.records[0].getMessage())
        self.assertEqual(log.records[0].request_id, refused.request_id)

    async def test_body_of_exactly_the_limit_passes_unchanged(self):
        """A body of max_body_size bytes, declared or chunked, reaches the app whole."""
        body = bytes(range(LIMIT))
        for scope in (post_scope("/spy/", length(LIMIT)), post_scope("/spy/")):
            spy = SpyApp()
            with self.subTest(headers=scope["headers"]):
                passed = await exchange(guarded(spy), scope, [body[:60], body[60:]])

                self.assertEqual(passed.status, 200)
                self.assertEqual(passed.body, body)
                self.assertEqual(spy.calls, 1)
                self.assertEqual(
                    [message.get("body") for message in spy.received],
                    [body[:60], body[60:]],
                )

    async def test_chunked_body_over_the_limit_is_refused(self):
        """No Content-Length, chunks crossing the limit: the app hears a disconnect,
        the client gets 413."""
        spy = SpyApp()
        refused = await exchange(guarded(spy), post_scope(), [b"a" * 60, b"b" * 41])

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.error()["code"], "payload_too_large")
        self.assertEqual(refused.header(b"connection"), b"close")
        self.assertEqual(spy.calls, 1)
        self.assertEqual(
            [message["type"] for message in spy.received],
            ["http.request", "http.disconnect"],
        )
        # The chunk that crossed the limit never reached the app.
        self.assertEqual(spy.received[0]["body"], b"a" * 60)

    async def test_body_longer_than_its_content_length_is_refused(self):
        """A Content-Length that lies, then more bytes than the limit: 413."""
        spy = SpyApp()
        refused = await exchange(
            guarded(spy), post_scope("/spy/", length(10)), [b"x" * 10, b"y" * 200]
        )

        self.assertEqual(refused.status, 413)
        self.assertEqual(spy.received[-1], {"type": "http.disconnect"})

    async def test_chunked_oversize_body_to_django_is_refused(self):
        """Django's own handler, given chunks past the limit, lets the guard answer."""
        refused = await exchange(
            guarded(django_application),
            post_scope("/async/create/", (b"content-type", b"application/json")),
            [b"[" * 50, b"[" * 50, b"[" * 50],
        )

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.error()["code"], "payload_too_large")
        self.assertTrue(GENERATED_ID.fullmatch(refused.request_id))

    async def test_stalled_body_gets_408_after_the_timeout(self):
        """A body that stops arriving: 408 once body_timeout has passed, not before."""
        app = guarded(django_application, body_timeout=STALL)
        began = time.monotonic()
        communicator = ApplicationCommunicator(
            app, post_scope("/sync/create/", length(LIMIT))
        )
        await communicator.send_input(
            {"type": "http.request", "body": b"{", "more_body": True}
        )
        refused = await answer(communicator)
        waited = time.monotonic() - began

        self.assertEqual(refused.status, 408)
        self.assertEqual(refused.error()["code"], "request_timeout")
        self.assertIn("0.3 s", refused.error()["message"])
        self.assertEqual(refused.header(b"connection"), b"close")
        self.assertTrue(GENERATED_ID.fullmatch(refused.request_id))
        self.assertGreaterEqual(waited, STALL - 0.05)
        self.assertLess(waited, STALL + PROMPT)

    async def test_trickling_body_gets_408_at_the_deadline(self):
        """The timeout counts from the start: a trickle of bytes does not extend it."""
        spy = SpyApp()
        communicator = ApplicationCommunicator(
            guarded(spy, body_timeout=STALL), post_scope("/spy/", length(LIMIT))
        )
        began = time.monotonic()
        # A byte every 50 ms, for up to ten times the timeout.
        while time.monotonic() - began < STALL * 10:
            await communicator.send_input(
                {"type": "http.request", "body": b"x", "more_body": True}
            )
            await asyncio.sleep(0.05)
            if spy.received[-1]["type"] == "http.disconnect":
                break
        refused = await answer(communicator)

        self.assertEqual(refused.status, 408)
        self.assertLess(time.monotonic() - began, STALL * 3)
        self.assertGreater(len(spy.received), 2)  # it did trickle
        self.assertEqual(spy.received[-1], {"type": "http.disconnect"})

    async def test_other_scopes_pass_through(self):
        """A lifespan scope is not the guard's business: the app gets it as is."""
        seen = []

        async def app(scope, receive, send) -> None:
            seen.append((scope["type"], current_request_id()))

        await guarded(app)({"type": "lifespan"}, None, None)

        self.assertEqual(seen, [("lifespan", "-")])


class GuardWiringTests(TransactionTestCase):
    """project.asgi.application: the settings' limits, in front of real views."""

    async def test_body_within_limits_reaches_the_view_unchanged(self):
        """A JSON body sent in three chunks creates the topic it describes: 201."""
        await Author.objects.acreate(name="Ada Lovelace")
        token = "a" * 32  # a CSRF secret, as cookie and header: raw ASGI checks it
        topic = {
            "title": "Guarded: ünïcode survives",
            "slug": "guarded",
            "body": "x" * 1000,
            "author": "Ada Lovelace",
        }
        body = json.dumps(topic, ensure_ascii=False).encode()
        scope = post_scope(
            "/async/create/",
            (b"content-type", b"application/json"),
            length(len(body)),
            (b"cookie", f"csrftoken={token}".encode()),
            (b"x-csrftoken", token.encode()),
            (b"x-request-id", b"wired-1"),
        )

        created = await exchange(
            application, scope, [body[:7], body[7:500], body[500:]]
        )

        self.assertEqual(created.status, 201, created.body)
        self.assertEqual(json.loads(created.body)["title"], topic["title"])
        self.assertEqual(created.request_id, "wired-1")
        saved = await Topic.objects.aget(slug="guarded")
        self.assertEqual(saved.body, topic["body"])

    async def test_settings_limit_refuses_a_larger_body(self):
        """REQUEST_BODY_MAX_SIZE + 1 declared: 413 from the wired stack."""
        too_big = settings.REQUEST_BODY_MAX_SIZE + 1
        refused = await exchange(
            application, post_scope("/async/create/", length(too_big)), [b""]
        )

        self.assertEqual(refused.status, 413)
        self.assertIn(str(settings.REQUEST_BODY_MAX_SIZE), refused.error()["message"])


class RequestIdTests(SimpleTestCase):
    """RequestIdMiddleware: the header, the logs, and which ids are kept."""

    async def send(self, *headers: tuple[bytes, bytes]) -> tuple[Answer, SpyApp]:
        spy = SpyApp()
        scope = http_scope("/spy/")
        scope["headers"] = [*scope["headers"], *headers]
        return await exchange(guarded(spy), scope, [b""]), spy

    async def test_new_id_per_request(self):
        """Without an incoming id, each response gets a new uuid4 hex."""
        first, spy = await self.send()
        second, _ = await self.send()

        self.assertTrue(GENERATED_ID.fullmatch(first.request_id))
        self.assertTrue(GENERATED_ID.fullmatch(second.request_id))
        self.assertNotEqual(first.request_id, second.request_id)
        # The app saw the same id the client got.
        self.assertEqual(spy.seen_ids, [first.request_id])

    async def test_safe_incoming_id_is_kept(self):
        """A plain id from a client or a proxy is echoed back as is."""
        for incoming in (b"abc.DEF_123-x", b"7", b"a" * 64):
            with self.subTest(incoming=incoming):
                answered, spy = await self.send((b"x-request-id", incoming))

                self.assertEqual(answered.request_id, incoming.decode())
                self.assertEqual(spy.seen_ids, [incoming.decode()])

    async def test_unsafe_incoming_id_is_replaced(self):
        """An id that could forge log lines, or is too long, is replaced."""
        unsafe = (
            b"abc\ndef",
            b"abc\r\n[forged] line",
            b"a" * 65,
            b"",
            b"two words",
            b"caf\xc3\xa9",
            b"a/b",
        )
        for incoming in unsafe:
            with self.subTest(incoming=incoming):
                answered, _ = await self.send((b"x-request-id", incoming))

                self.assertTrue(GENERATED_ID.fullmatch(answered.request_id))

    async def test_refusals_carry_the_id(self):
        """A 413 and a 408 carry the id too: the incoming one, or a new one."""
        too_big = await exchange(
            guarded(SpyApp()),
            post_scope("/spy/", length(LIMIT + 1), (b"x-request-id", b"big-1")),
        )
        stalled = ApplicationCommunicator(
            guarded(SpyApp(), body_timeout=0.05), post_scope("/spy/", length(LIMIT))
        )
        await stalled.send_input({"type": "http.request", "more_body": True})
        timed_out = await answer(stalled)

        self.assertEqual((too_big.status, too_big.request_id), (413, "big-1"))
        self.assertEqual(timed_out.status, 408)
        self.assertTrue(GENERATED_ID.fullmatch(timed_out.request_id))

    async def test_log_records_carry_the_id_inside_the_request_only(self):
        """RequestIdFilter: the request's id on its records, "-" outside one."""
        with captured(SPY_LOGGER) as log:
            answered, _ = await self.send((b"x-request-id", b"logged-1"))
            logging.getLogger(SPY_LOGGER).info("after the request")

        self.assertEqual(
            [(record.getMessage(), record.request_id) for record in log.records],
            [
                ("on the event loop", "logged-1"),
                ("in a thread", "logged-1"),
                ("after the request", "-"),
            ],
        )
        self.assertEqual(answered.request_id, "logged-1")
        self.assertEqual(current_request_id(), "-")

    async def test_concurrent_requests_keep_their_own_ids(self):
        """Five requests at once on one loop: each log record has its own id."""
        with captured(SPY_LOGGER) as log:
            answers = await asyncio.gather(
                *(self.send((b"x-request-id", f"req-{n}".encode())) for n in range(5))
            )

        self.assertEqual(
            [answered.request_id for answered, _ in answers],
            [f"req-{n}" for n in range(5)],
        )
        by_id = Counter(record.request_id for record in log.records)
        self.assertEqual(by_id, {f"req-{n}": 2 for n in range(5)})


# Over real sockets --------------------------------------------------------

SERVER_LIMIT = 64 * 1024
SERVER_TIMEOUT = 2.0  # seconds; long enough to serve others while it runs


@dataclass
class Raw:
    """An HTTP response read from a raw socket, and how the connection ended."""

    status: int
    headers: dict[str, str]
    body: bytes
    ended_by: str  # "eof", "reset" or "open"

    def json(self) -> dict[str, Any]:
        """The body, parsed."""
        return json.loads(self.body)


def read_response(sock: socket.socket, timeout: float) -> Raw:
    """Read one response, then wait for the server to end the connection."""
    sock.settimeout(timeout)
    data = b""
    ended_by = "open"
    try:
        while chunk := sock.recv(65536):
            data += chunk
        ended_by = "eof"
    except ConnectionResetError:
        ended_by = "reset"
    except TimeoutError:
        ended_by = "open"
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Raw(int(status_line.split()[1]), headers, body, ended_by)


def request_head(server: Server, method: str, path: str, *headers: str) -> bytes:
    """The request line and headers, up to the blank line."""
    host = server.url.removeprefix("http://")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *headers, "", ""]
    return "\r\n".join(lines).encode()


def connect(server: Server) -> socket.socket:
    """A raw TCP connection to the server."""
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=PROMPT)


def send_until_answered(sock: socket.socket, body: Iterator[bytes]) -> int:
    """Send body pieces until the server answers; return the bytes sent."""
    sock.setblocking(False)
    sent = 0
    pending = b""
    deadline = time.monotonic() + PROMPT
    try:
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            if readable:
                break
            if writable:
                pending = pending or next(body, b"")
                if not pending:
                    continue
                count = sock.send(pending)
                sent += count
                pending = pending[count:]
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped listening: its answer is waiting to be read
    finally:
        sock.setblocking(True)
    return sent


def get(url: str) -> tuple[int, float]:
    """GET a URL; its status and how long it took."""
    began = time.monotonic()
    with urlopen(url, timeout=PROMPT * 2) as response:
        response.read()
        return response.status, time.monotonic() - began


class Trickler(threading.Thread):
    """Send a byte of the body every 0.1 s until the server answers, then read it."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.stop = threading.Event()
        self.bytes_sent = 0
        self.answer: Raw | None = None
        self.answered_after = 0.0

    def run(self) -> None:
        began = time.monotonic()
        while not self.stop.is_set() and self.bytes_sent < 100:
            readable, _, _ = select.select([self.sock], [], [], 0.1)
            if readable:
                break
            self.sock.sendall(b" ")
            self.bytes_sent += 1
        self.answer = read_response(self.sock, PROMPT)
        self.answered_after = time.monotonic() - began


class GuardServerTests(TransactionTestCase):
    """The guard under uvicorn: huge bodies, slow bodies, and everyone else."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = cls.enterClassContext(
            uvicorn_server(
                REQUEST_BODY_MAX_SIZE=str(SERVER_LIMIT),
                REQUEST_BODY_TIMEOUT=str(SERVER_TIMEOUT),
            )
        )

    def assert_healthy(self) -> None:
        """The server still serves, and has logged no error."""
        self.assertIsNone(self.server.process.poll())
        self.assertEqual(get(f"{self.server.url}/async/topics/")[0], 200)
        self.assertNotIn("Traceback", self.server.log_so_far())
        self.assertNotIn(" ERROR ", self.server.log_so_far())

    def test_huge_declared_body_is_refused_at_once(self):
        """Content-Length 50 MB, body on its way: 413 long before any timeout, then
        uvicorn closes the connection; the server carries on."""
        megabyte = b"x" * (1024 * 1024)
        with connect(self.server) as sock:
            began = time.monotonic()
            sock.sendall(
                request_head(
                    self.server,
                    "POST",
                    "/async/create/",
                    "Content-Type: application/json",
                    f"Content-Length: {50 * 1024 * 1024}",
                    "X-Request-ID: huge-1",
                )
            )
            sent = send_until_answered(sock, iter([megabyte] * 50))
            refused = read_response(sock, PROMPT)
            waited = time.monotonic() - began

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.json()["error"]["code"], "payload_too_large")
        self.assertEqual(int(refused.headers["content-length"]), len(refused.body))
        self.assertEqual(refused.headers["connection"], "close")
        self.assertEqual(refused.headers["x-request-id"], "huge-1")
        self.assertIn(refused.ended_by, ("eof", "reset"))
        self.assertLess(sent, 50 * len(megabyte))
        self.assertLess(waited, SERVER_TIMEOUT)
        self.assert_healthy()

    def test_declared_size_alone_is_refused(self):
        """The headers alone say too much: 413 before a byte of the body is sent
        (a guard that waited for the body would answer 408 after the timeout)."""
        with connect(self.server) as sock:
            sock.sendall(
                request_head(
                    self.server,
                    "POST",
                    "/sync/create/",
                    "Content-Type: application/json",
                    f"Content-Length: {SERVER_LIMIT + 1}",
                )
            )
            readable, _, _ = select.select([sock], [], [], SERVER_TIMEOUT / 2)
            refused = read_response(sock, PROMPT)

        self.assertEqual(readable, [sock])
        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.json()["error"]["code"], "payload_too_large")
        # Nothing left unread on the server's side: a clean close, not a reset.
        self.assertEqual(refused.ended_by, "eof")

    def test_chunked_body_over_the_limit_is_refused(self):
        """Transfer-Encoding: chunked past REQUEST_BODY_MAX_SIZE: 413, then closed."""
        piece = b"[" * 16384
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        with connect(self.server) as sock:
            sock.sendall(
                request_head(
                    self.server,
                    "POST",
                    "/sync/create/",
                    "Content-Type: application/json",
                    "Transfer-Encoding: chunked",
                )
            )
            send_until_answered(sock, iter([chunk] * 64))
            refused = read_response(sock, PROMPT)

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.json()["error"]["code"], "payload_too_large")
        self.assertEqual(refused.headers["connection"], "close")
        self.assertIn(refused.ended_by, ("eof", "reset"))
        self.assert_healthy()

    def test_slow_bodies_get_408_and_do_not_hold_up_others(self):
        """Stalled and trickling bodies get 408 after REQUEST_BODY_TIMEOUT; while
        they wait, 20 other requests are served at once."""
        head = request_head(
            self.server,
            "POST",
            "/async/create/",
            "Content-Type: application/json",
            "Content-Length: 100",
        )
        # Warm: the first requests of a process import views and connect.
        get(f"{self.server.url}/async/stats/")
        get(f"{self.server.url}/sync/topics/")
        with (
            connect(self.server) as silent,
            connect(self.server) as partial,
            connect(self.server) as trickling,
        ):
            began = time.monotonic()
            silent.sendall(head)  # then not a byte of the body
            partial.sendall(head + b'{"title": ')
            trickling.sendall(head)
            trickler = Trickler(trickling)
            trickler.start()
            try:
                with ThreadPoolExecutor(max_workers=20) as pool:
                    urls = [f"{self.server.url}/async/stats/"] * 10
                    urls += [f"{self.server.url}/sync/topics/"] * 10
                    served = list(pool.map(get, urls))
                served_after = time.monotonic() - began
                # None of the slow clients has had an answer yet.
                waiting, _, _ = select.select([silent, partial, trickling], [], [], 0)
                answers = [read_response(sock, PROMPT) for sock in (silent, partial)]
                answered_after = time.monotonic() - began
            finally:
                trickler.join(timeout=PROMPT * 2)
                trickler.stop.set()
                trickler.join()

        self.assertEqual([status for status, _ in served], [200] * 20)
        self.assertLess(served_after, SERVER_TIMEOUT)
        self.assertEqual(waiting, [])
        for refused in [*answers, trickler.answer]:
            self.assertEqual(refused.status, 408)
            self.assertEqual(refused.json()["error"]["code"], "request_timeout")
            self.assertEqual(refused.headers["connection"], "close")
            self.assertTrue(GENERATED_ID.fullmatch(refused.headers["x-request-id"]))
        # uvicorn closes the connection after the 408: a clean close when it had
        # read everything sent; the trickler's last byte may cross the close and
        # be answered with a reset instead.
        self.assertEqual([refused.ended_by for refused in answers], ["eof", "eof"])
        self.assertIn(trickler.answer.ended_by, ("eof", "reset"))
        self.assertGreaterEqual(answered_after, SERVER_TIMEOUT - 0.05)
        self.assertLess(answered_after, SERVER_TIMEOUT + PROMPT)
        # A byte every 0.1 s until the answer: the trickle did not extend the timeout.
        self.assertGreaterEqual(trickler.bytes_sent, 5)
        self.assertLess(trickler.answered_after, SERVER_TIMEOUT + PROMPT)
        self.assert_healthy()


SEND_TIMEOUT = 1.0  # seconds, the server's RESPONSE_SEND_TIMEOUT here
STALLED_FILE = 32 * 1024 * 1024  # bytes: far more than the sockets' buffers hold


def download(server: Server, path: str, *, stall: float, pause: float) -> int:
    """GET `path` on a 4 KiB receive buffer, read nothing for `stall` seconds,
    then read on, pausing `pause` seconds per read; the bytes received in all."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sock.settimeout(PROMPT)
        time.sleep(stall)
        received = 0
        try:
            while chunk := sock.recv(65536):
                received += len(chunk)
                time.sleep(pause)
        except (ConnectionResetError, TimeoutError):
            pass
    return received


class SendTimeoutTests(TransactionTestCase):
    """A client that stops reading a response is dropped after RESPONSE_SEND_TIMEOUT:
    it held the response's memory, its file or its stream for as long as it liked
    (an attacker's trial: 300 stalled downloads, 600 file descriptors)."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        root = settings.EXPORT_ROOT
        root.mkdir(parents=True, exist_ok=True)
        (root / "stalled.csv").write_bytes(b"x" * STALLED_FILE)
        (root / "steady.csv").write_bytes(b"y" * 1024 * 1024)
        cls.server = cls.enterClassContext(
            uvicorn_server(RESPONSE_SEND_TIMEOUT=str(SEND_TIMEOUT))
        )

    def test_a_client_that_reads_nothing_is_dropped(self):
        for prefix in prefixes("export_download"):
            with self.subTest(twin=prefix):
                path = f"/{prefix}/exports/files/stalled.csv/"

                received = download(self.server, path, stall=3 * SEND_TIMEOUT, pause=0)

                self.assertLess(received, STALLED_FILE, prefix)
        log = self.server.log_so_far()
        self.assertEqual(log.count("The client read nothing for 1 s: dropped"), 2)
        self.assertNotIn("Traceback", log)

    def test_a_slow_client_that_keeps_reading_gets_everything(self):
        """A read every 2 ms: each send completes long before the timeout."""
        path = "/async/exports/files/steady.csv/"
        received = download(self.server, path, stall=0, pause=0.002)

        self.assertGreater(received, 1024 * 1024)  # the headers and the whole file
