"""The guard behind real servers, over sockets: huge and trickled bodies, other
clients served meanwhile, and responses a client never reads."""

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.request import urlopen

from django.conf import settings
from django.test import TransactionTestCase

from tests.guard_support import GENERATED_ID, PROMPT
from tests.servers import Server, uvicorn_server
from tests.twins import prefixes

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
