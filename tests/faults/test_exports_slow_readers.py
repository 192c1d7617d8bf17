"""Clients that read an export stream slowly, against uvicorn on PostgreSQL: they
hold no pooled database connection while they read, so other requests are served.

Raw sockets with a small receive buffer, that read the status line and no more.
"""

import socket
import time
from urllib.error import HTTPError
from urllib.request import urlopen

from django.test import TransactionTestCase

from project.demo.seeding import seed_topics
from tests.servers import Server, requires_postgresql, uvicorn_server
from tests.twins import prefixes

# More rows than loopback buffers hold (about 36,000 here): the stream blocks.
STREAM_ROWS = 60_000
POOL_MAX_SIZE = 2
POOL_TIMEOUT = 5
# Twice the pool: before the fix, two of them held every connection.
SLOW_READERS = 2 * POOL_MAX_SIZE


def slow_reader(server: Server, target: str) -> socket.socket:
    """Ask for target; read its status line, then nothing: the socket fills."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(3 * POOL_TIMEOUT)
    sock.connect((host, int(port)))
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def status_of(sock: socket.socket) -> int:
    return int(sock.recv(12).split()[1])


def get(url: str) -> int:
    try:
        with urlopen(url, timeout=3 * POOL_TIMEOUT) as response:
            return response.status
    except HTTPError as error:
        return error.code


@requires_postgresql
class SlowStreamReaderTests(TransactionTestCase):
    def setUp(self):
        seed_topics(count=STREAM_ROWS)
        self.server = self.enterContext(
            uvicorn_server(
                DATABASE_POOL_MIN_SIZE="1",
                DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
                DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT),
            )
        )

    def test_slow_stream_readers_leave_the_pool_to_other_requests(self):
        """Twice as many stalled streams as pooled connections: each stream still
        starts, and a database-backed request is 200, not a 503 after the pool's
        timeout."""
        for prefix in prefixes("export_stream"):
            with self.subTest(twin=prefix):
                readers = [
                    slow_reader(self.server, f"/{prefix}/exports/stream/")
                    for _ in range(SLOW_READERS)
                ]
                try:
                    statuses = [status_of(sock) for sock in readers]
                    started = time.monotonic()
                    status = get(f"{self.server.url}/{prefix}/topics/")
                    waited = time.monotonic() - started
                finally:
                    for sock in readers:
                        sock.close()

                self.assertEqual(statuses, [200] * SLOW_READERS, prefix)
                self.assertEqual(status, 200, prefix)
                self.assertLess(waited, POOL_TIMEOUT, prefix)
        self.assertNotIn("Traceback", self.server.log_so_far())
