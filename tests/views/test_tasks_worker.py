"""A real worker: `manage.py db_worker` in a process of its own, on the test
database, runs the exports the endpoints enqueue; SIGTERM stops it cleanly."""

import asyncio
import csv
import io
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.test import TransactionTestCase

from tests.factories import make_topic
from tests.servers import MANAGE, SHUTDOWN_TIMEOUT, _app_environment
from tests.views.exports_support import export_root

# Generous: the worker starts Django (about a second), then looks every 0.1 s.
WORKER_WAIT = 30  # seconds
POLL_PAUSE = 0.05  # seconds
WORKER = [
    *(*MANAGE, "db_worker", "--interval", "0.1"),
    *("--no-startup-delay", "--no-reload", "--worker-id", "tests"),
]
FINISHED = ("SUCCESSFUL", "FAILED")


@contextmanager
def db_worker() -> Iterator[list[str]]:
    """Run the worker until the block ends; then SIGTERM it, and fail unless it
    exits with status 0. Yields its log lines, filled in once it has stopped."""
    log_lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "worker.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                WORKER,
                cwd=settings.BASE_DIR,
                env={**os.environ, **_app_environment({})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            yield log_lines
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
            log_lines.extend(log_path.read_text().splitlines())
            if code != 0:
                raise AssertionError(f"db_worker exited {code}:\n{log_lines}")


def wait_until_finished(get_status: Callable[[], dict]) -> dict:
    """Poll the status until SUCCESSFUL or FAILED, for WORKER_WAIT seconds."""
    deadline = time.monotonic() + WORKER_WAIT
    while (status := get_status())["status"] not in FINISHED:
        if time.monotonic() > deadline:
            raise AssertionError(f"Not finished after {WORKER_WAIT} s: {status}")
        time.sleep(POLL_PAUSE)
    return status


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


class WorkerTests(TransactionTestCase):
    """The test client's requests commit (no test transaction around them), so
    the worker process sees each queued task, and the app the worker's results."""

    def setUp(self):
        make_topic(slug="older", title="Older")
        make_topic(slug="newer", title="Newer")

    def test_the_worker_runs_an_export_enqueued_by_the_sync_view(self):
        """POST, poll until SUCCESSFUL, download: the file has every row."""
        with db_worker() as log:
            response = self.client.post("/sync/exports/tasks/?name=worker-sync")
            status_url = response.json()["status_url"]
            status = wait_until_finished(lambda: self.client.get(status_url).json())
            download = self.client.get(status["result"]["download_url"])

        self.assertEqual(response.status_code, 202)
        self.assertEqual(status["status"], "SUCCESSFUL")
        self.assertEqual(status["result"]["rows"], 2)
        self.assertEqual(
            [row[1:3] for row in csv_rows(b"".join(download))],
            [["slug", "title"], ["newer", "Newer"], ["older", "Older"]],
        )
        self.assertIn(
            f"Task id={response.json()['id']} path=topics.tasks.export_topics "
            "state=SUCCESSFUL",
            "\n".join(log),
        )

    async def test_the_worker_runs_an_export_enqueued_by_the_async_view(self):
        """See the sync test; aenqueue(), then aget_result() while it runs."""

        async def status() -> dict:
            return (await self.async_client.get(status_url)).json()

        with db_worker():
            response = await self.async_client.post(
                "/async/exports/tasks/?name=worker-async&format=jsonl"
            )
            status_url = response.json()["status_url"]
            deadline = time.monotonic() + WORKER_WAIT
            while (finished := await status())["status"] not in FINISHED:
                self.assertLess(time.monotonic(), deadline, finished)
                await asyncio.sleep(POLL_PAUSE)
            download = await self.async_client.get(finished["result"]["download_url"])
            body = b"".join([chunk async for chunk in download])

        self.assertEqual(status_url, f"/async/tasks/{response.json()['id']}/")
        self.assertEqual(finished["status"], "SUCCESSFUL")
        self.assertEqual(body.count(b"\n"), 2)
        self.assertEqual(finished["result"]["bytes"], len(body))

    def test_a_failing_export_is_failed_and_the_worker_goes_on(self):
        """A folder has the export's name: the task FAILED (200, not 500), and
        the next task still runs."""
        folder = export_root() / "worker-taken.csv"
        folder.mkdir()
        self.addCleanup(folder.rmdir)

        with db_worker():
            failing = self.client.post("/sync/exports/tasks/?name=worker-taken")
            after = self.client.post("/sync/exports/tasks/?name=worker-after")
            failed = wait_until_finished(
                lambda: self.client.get(failing.json()["status_url"]).json()
            )
            succeeded = wait_until_finished(
                lambda: self.client.get(after.json()["status_url"]).json()
            )

        self.assertEqual(failed["status"], "FAILED")
        self.assertEqual(failed["exception"], "topics.api.Conflict")
        self.assertEqual(succeeded["status"], "SUCCESSFUL")
