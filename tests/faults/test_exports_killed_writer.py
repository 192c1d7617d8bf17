"""A worker killed mid-export leaves its temporary file; the next start removes
it, but not the temporary of a writer that is still writing."""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.test import TransactionTestCase

from project.demo.seeding import seed_topics
from tests.faults.test_disconnect import csrf_token, eventually, raw_request
from tests.servers import uvicorn_server
from tests.views.exports_support import export_root, leftovers

EXPORT_ROWS = 30_000
# Seconds idle after which the restarted server deems a temporary abandoned.
TEMPORARY_MAX_AGE = 2


@contextmanager
def live_writer(path: Path) -> Iterator[None]:
    """A writer that appends to its temporary every 0.1 s, as a live one does."""
    stop = threading.Event()

    def write() -> None:
        with path.open("ab") as file:
            while not stop.wait(0.1):
                file.write(b"x")
                file.flush()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class KilledWriterTests(TransactionTestCase):
    def setUp(self):
        seed_topics(count=EXPORT_ROWS)

    def test_a_restart_removes_what_a_killed_writer_left_and_only_that(self):
        """SIGKILL mid-export leaves a temporary; a restart removes it once idle
        for EXPORT_TEMPORARY_MAX_AGE, and keeps another writer's live one."""
        with uvicorn_server() as server:
            token = csrf_token(server)
            client = raw_request(
                server,
                "POST",
                "/sync/exports/?name=killed&format=jsonl",
                b"",
                Cookie=f"csrftoken={token}",
                X_CSRFToken=token,
            )
            eventually(lambda: bool(leftovers()))
            server.process.kill()
            server.process.wait()
            client.close()
        abandoned = leftovers()
        live = export_root() / f".live.csv.{'c' * 32}.tmp"
        time.sleep(TEMPORARY_MAX_AGE + 0.5)

        with (
            live_writer(live),
            uvicorn_server(
                EXPORT_TEMPORARY_MAX_AGE=str(TEMPORARY_MAX_AGE)
            ) as restarted,
        ):
            remaining = leftovers()
        os.remove(live)

        self.assertEqual(len(abandoned), 1)
        self.assertEqual(remaining, [live.name])
        self.assertIn(f"Removed {abandoned[0]}", restarted.output)
