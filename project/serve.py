"""How the app is served: uvicorn, with limits on the request head and on shutdown.

    python -m project.serve [uvicorn options]          # one process
    gunicorn -c project/gunicorn.conf.py project.asgi:application

uvicorn's default parser, httptools, accepts a request head of any size, and no
uvicorn parser closes a connection whose head never completes: its keep-alive
timer runs only between requests, and stops at the first byte. So both servers
use the H11Protocol below, and a graceful shutdown that ends.
"""

import asyncio
import os
import sys
from typing import Any

import h11
import uvicorn
import uvicorn_worker
from django.conf import settings
from uvicorn.protocols.http import h11_impl

APPLICATION = "project.asgi:application"
PROTOCOL = "project.serve:H11Protocol"


class H11Protocol(h11_impl.H11Protocol):
    """uvicorn's h11 protocol, with the request head bounded in size and time.

    A head over REQUEST_HEAD_MAX_SIZE bytes is answered 400 by h11. A connection
    is closed when no complete head has arrived REQUEST_HEAD_TIMEOUT seconds
    after it opened or after its previous response.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # loads the app, so settings are ready
        self.conn = h11.Connection(
            h11.SERVER, max_incomplete_event_size=settings.REQUEST_HEAD_MAX_SIZE
        )
        self.head_deadline: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        # h11 measures a head only while it is incomplete: one that arrives
        # whole in a single read (asyncio reads up to 256 KiB) would pass. So
        # while a head is awaited, hand h11 at most one byte past the limit
        # beyond what it holds: a longer head is then incomplete at the limit,
        # and h11 refuses it (400) like one that trickles in.
        limit = settings.REQUEST_HEAD_MAX_SIZE + 1
        while self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            room = limit - len(self.conn.trailing_data[0])
            if len(data) <= room:
                break  # the common case: handed over whole, uncopied
            super().data_received(data[:room])
            data = data[room:]
        if not self.transport.is_closing():
            super().data_received(data)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting_for_head()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        # h11 is IDLE until a whole request head has arrived, also between
        # keep-alive requests; the deadline runs from the start of that wait.
        if self.conn.their_state is h11.IDLE:
            self._wait_for_head()
        else:
            self._stop_waiting_for_head()

    def _wait_for_head(self) -> None:
        if self.head_deadline is None and not self.transport.is_closing():
            self.head_deadline = self.loop.call_later(
                settings.REQUEST_HEAD_TIMEOUT, self.transport.close
            )

    def _stop_waiting_for_head(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None


class UvicornWorker(uvicorn_worker.UvicornWorker):
    """gunicorn's uvicorn worker, serving with H11Protocol."""

    CONFIG_KWARGS = {"loop": "auto", "http": PROTOCOL}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # gunicorn kills a worker graceful_timeout seconds after SIGTERM;
        # cancelling requests a little earlier lets the lifespan shutdown run.
        self.config.timeout_graceful_shutdown = max(self.cfg.graceful_timeout - 5, 1)


def main(argv: list[str]) -> None:
    """Run uvicorn's command line with this project's protocol and shutdown timeout.

    `argv` are uvicorn options (--host, --port, --reload, ...); an option given
    there wins over the same one set here.
    """
    options = [APPLICATION, "--http", PROTOCOL]
    options += ["--timeout-graceful-shutdown", str(settings.GRACEFUL_SHUTDOWN_TIMEOUT)]
    uvicorn.main(options + argv)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    main(sys.argv[1:])
