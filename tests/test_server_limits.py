"""Limits the server keeps before Django sees a request (project/serve.py): the
size of a request head, the time to send it, and the time to shut down.

Real servers over raw sockets on loopback: plain uvicorn as `python -m
project.serve` starts it, gunicorn with project/gunicorn.conf.py's uvicorn
workers, and gunicorn's sync workers for WSGI.
"""

import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.test import TransactionTestCase

from tests.servers import (
    Server,
    gunicorn_server,
    gunicorn_wsgi_server,
    uvicorn_server,
)

HEAD_MAX_SIZE = 16 * 1024  # the default REQUEST_HEAD_MAX_SIZE
HEAD_TIMEOUT = 1.0  # seconds; short, so that the tests wait little
PROMPT = 5.0  # seconds: ample for anything on loopback that is not a timeout
# A cookie-heavy but honest request fits; an attacker's megabyte does not.
FITS = "X-Filler: " + "a" * (HEAD_MAX_SIZE // 2)
TOO_LARGE = "X-Filler: " + "a" * (1024 * 1024)


def connect(server: Server) -> socket.socket:
    """A raw TCP connection to the server."""
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=PROMPT)


def head(*headers: str, path: str = "/nothing/") -> bytes:
    """A GET request head: the request line and headers, up to the blank line."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def status_of(sock: socket.socket) -> int:
    """The status of the response being read from `sock`; the rest is left unread."""
    return int(sock.recv(65536).split(b" ", 2)[1])


def send_until_answered(sock: socket.socket, data: bytes) -> None:
    """Send `data` in pieces, stopping early if the server answers or closes."""
    for start in range(0, len(data), 65536):
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return
        try:
            sock.sendall(data[start : start + 65536])
        except OSError:
            return  # closed by the server: its answer, if any, is waiting


def refusal(sock: socket.socket) -> int | str:
    """The server's answer to an unfinished head: a status, "closed" or "open"."""
    sock.settimeout(PROMPT)
    try:
        answer = sock.recv(65536)
    except ConnectionResetError:
        return "closed"  # unread bytes of ours turned the close into a reset
    except TimeoutError:
        return "open"
    return int(answer.split(b" ", 2)[1]) if answer else "closed"


def closed_after(sock: socket.socket, timeout: float) -> float | None:
    """Seconds until the server closed the connection; None if still open then."""
    began = time.monotonic()
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return None
    return time.monotonic() - began


def get_status(url: str) -> int:
    """GET a URL; its status (urlopen raises on 4xx: read it from the error)."""
    try:
        with urlopen(url, timeout=PROMPT) as response:
            return response.status
    except OSError as error:
        return getattr(error, "code", 0)


class Trickle(threading.Thread):
    """Send a header line every 0.1 s, never the blank line, until closed."""

    def __init__(self, sock: socket.socket, start: bytes) -> None:
        super().__init__()
        self.sock = sock
        self.start_bytes = start
        self.lines_sent = 0

    def run(self) -> None:
        try:
            self.sock.sendall(self.start_bytes)
            while self.lines_sent < 10 * (HEAD_TIMEOUT + PROMPT):
                self.sock.sendall(b"X-Slow: 1\r\n")
                self.lines_sent += 1
                time.sleep(0.1)
        except OSError:
            pass  # closed by the server, as it should be


class HeadLimitsMixin:
    """The request-head limits, whichever server runs the app."""

    server: Server

    def test_head_over_the_limit_is_refused_and_others_served(self):
        """A 1 MB header block: 400 and closed, while another client gets its answer."""
        with connect(self.server) as attacker:
            send_until_answered(attacker, head(TOO_LARGE)[:-2])  # never finished

            served = get_status(f"{self.server.url}/nothing/")
            refused = refusal(attacker)

        self.assertEqual(served, 404)
        self.assertIn(refused, (400, "closed"))
        self.assertIsNone(self.server.process.poll())

    def test_a_whole_head_over_the_limit_in_one_read_is_refused(self):
        """h11 measures only an incomplete head: 17 KB to 200 KB sent at once, in
        one read, were answered 200 before the protocol fed it in pieces."""
        for size in (HEAD_MAX_SIZE + 1024, 60 * 1024, 200 * 1024):
            with self.subTest(size=size), connect(self.server) as sock:
                sock.sendall(head("X-Filler: " + "a" * size))

                self.assertIn(refusal(sock), (400, "closed"))

    def test_head_within_the_limit_is_served(self):
        """Half the limit in one header: answered by the app (its JSON 404)."""
        with connect(self.server) as sock:
            sock.sendall(head(FITS))

            self.assertEqual(status_of(sock), 404)

    def test_silent_connection_is_closed(self):
        """A connection that sends nothing is closed after REQUEST_HEAD_TIMEOUT."""
        with connect(self.server) as sock:
            waited = closed_after(sock, HEAD_TIMEOUT + PROMPT)

        self.assertIsNotNone(waited)
        self.assertGreaterEqual(waited, HEAD_TIMEOUT - 0.1)

    def test_trickling_head_is_closed_at_the_deadline(self):
        """A header line every 0.1 s does not extend the deadline."""
        with connect(self.server) as sock:
            trickle = Trickle(sock, b"GET /nothing/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            trickle.start()
            waited = closed_after(sock, HEAD_TIMEOUT + PROMPT)
            trickle.join()

        self.assertIsNotNone(waited)
        self.assertLess(trickle.lines_sent, 10 * (HEAD_TIMEOUT + PROMPT))


class PlainUvicornLimitsTests(HeadLimitsMixin, TransactionTestCase):
    """`python -m project.serve`: one uvicorn process."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = cls.enterClassContext(
            uvicorn_server(REQUEST_HEAD_TIMEOUT=str(HEAD_TIMEOUT))
        )

    def test_next_head_on_a_kept_alive_connection_has_a_deadline_too(self):
        """After a response, a next head that trickles is closed like the first."""
        with connect(self.server) as sock:
            sock.sendall(head())
            self.assertEqual(status_of(sock), 404)
            trickle = Trickle(sock, b"GET /nothing/ HTTP/1.1\r\n")
            trickle.start()
            waited = closed_after(sock, HEAD_TIMEOUT + PROMPT)
            trickle.join()

        self.assertIsNotNone(waited)

    @pytest.mark.usefixtures("upstream")
    def test_a_response_slower_than_the_head_deadline_is_not_cut(self):
        """The deadline stops with the head: a 2 s answer still arrives whole."""
        url = f"{self.server.url}/async/upstream/budget/?delay=2000&budget=5000"

        self.assertEqual(get_status(url), 200)


class GunicornLimitsTests(HeadLimitsMixin, TransactionTestCase):
    """gunicorn with two uvicorn workers (project/gunicorn.conf.py)."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = cls.enterClassContext(
            gunicorn_server(workers=2, REQUEST_HEAD_TIMEOUT=str(HEAD_TIMEOUT))
        )

    def test_no_worker_is_killed_by_a_huge_head(self):
        """Ten 1 MB heads at once: each refused, both workers still the first two."""
        attackers = [connect(self.server) for _ in range(10)]
        try:
            for sock in attackers:
                send_until_answered(sock, head(TOO_LARGE)[:-2])
            refused = {refusal(sock) for sock in attackers}
        finally:
            for sock in attackers:
                sock.close()

        self.assertLessEqual(refused, {400, "closed"})
        self.assertEqual(get_status(f"{self.server.url}/nothing/"), 404)
        self.assertEqual(self.server.log_so_far().count("Booting worker"), 2)


class ControlSocketTests(TransactionTestCase):
    def test_gunicorn_opens_no_shared_control_socket(self):
        """gunicorn 25+ opens $XDG_RUNTIME_DIR/gunicorn.ctl (or ~/.gunicorn/…) for
        every server of a user: a second one took over the first's, and deleted
        it on stopping. The config opens one only at a path it is given."""
        with tempfile.TemporaryDirectory() as home:
            own = Path(home, "own.ctl")
            with gunicorn_server(workers=1, HOME=home, XDG_RUNTIME_DIR=home):
                shared = sorted(Path(home).rglob("*.ctl"))
            with gunicorn_server(
                workers=1,
                HOME=home,
                XDG_RUNTIME_DIR=home,
                GUNICORN_CONTROL_SOCKET=str(own),
            ):
                opened = own.is_socket()

        self.assertEqual(shared, [])
        self.assertIs(opened, True)


class WsgiLimitsTests(TransactionTestCase):
    """gunicorn's sync workers enforce their own limits on a request head."""

    def test_huge_header_is_refused(self):
        """limit_request_field_size (8190 bytes by default) is in force."""
        with gunicorn_wsgi_server() as server, connect(server) as sock:
            sock.sendall(head(FITS))

            self.assertIn(status_of(sock), (400, 431))


GRACE = 2  # seconds the server gives requests in flight after SIGTERM
# Lines at 5, 10 and 15 s, the session's total timeout raised to let it run.
SLOW_STREAM = "/async/upstream/stream/?delay=0&stagger=5000"
SLOW_STREAM_ENV = {"UPSTREAM_TIMEOUT": "60"}


@pytest.mark.usefixtures("upstream")
class ShutdownTests(TransactionTestCase):
    """SIGTERM while a client holds a 15 s stream: the server exits sooner."""

    def test_uvicorn_exits_after_its_graceful_timeout(self):
        """GRACEFUL_SHUTDOWN_TIMEOUT: the stream is cancelled, the lifespan ends."""
        serving = uvicorn_server(
            GRACEFUL_SHUTDOWN_TIMEOUT=str(GRACE), **SLOW_STREAM_ENV
        )

        stopped_after, output = self.stop_during_stream(serving)

        self.assertLess(stopped_after, GRACE + PROMPT)
        self.assertIn("Application shutdown complete.", output)
        self.assertNotIn("Unclosed", output)

    def test_gunicorn_workers_shut_down_before_they_are_killed(self):
        """uvicorn cancels 5 s before gunicorn's graceful_timeout: each worker's
        lifespan shutdown runs, instead of a SIGKILL."""
        serving = gunicorn_server(
            workers=2, GUNICORN_GRACEFUL_TIMEOUT=str(GRACE + 5), **SLOW_STREAM_ENV
        )

        stopped_after, output = self.stop_during_stream(serving)

        self.assertLess(stopped_after, GRACE + 5)
        self.assertEqual(output.count("Application shutdown complete."), 2)
        self.assertNotIn("SIGKILL", output)
        self.assertNotIn("Unclosed", output)

    def stop_during_stream(
        self, serving: AbstractContextManager[Server]
    ) -> tuple[float, str]:
        """SIGTERM once the stream has started; seconds to exit, and the log."""
        with serving as server, connect(server) as sock:
            sock.sendall(head(path=SLOW_STREAM))
            self.assertEqual(status_of(sock), 200)

            began = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=GRACE + 3 * PROMPT)
            stopped_after = time.monotonic() - began
        return stopped_after, server.output
