"""Export downloads: the async twin streams, the sync one is buffered with a
warning; a re-export mid-download never mixes two files; a client that leaves
closes the file; unknown and malformed ids."""

import asyncio
import contextlib
import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from django.test import TestCase

from project.demo.seeding import seed_topics
from tests.asgi import http_scope
from tests.twins import prefixes
from tests.views.exports_support import (
    SYNC_ITERATOR_WARNING,
    body_of,
    export_all_topics,
    export_root,
)
from topics import exportfiles
from topics.exportfiles import READ_BYTES

# path -> what happens the next time the path is opened, in the opening thread.
_BEFORE_OPEN: dict[str, Callable[[], None]] = {}


def _run_before_open(event: str, args: tuple) -> None:
    armed = event == "open" and _BEFORE_OPEN
    if armed and isinstance(args[0], str | os.PathLike):
        action = _BEFORE_OPEN.pop(os.fspath(args[0]), None)
        if action is not None:
            action()


# An audit hook sees every open(), aiofiles' and FileResponse's alike; hooks
# cannot be removed, so this one does nothing until a test arms it.
sys.addaudithook(_run_before_open)


@contextlib.contextmanager
def before_open(path: Path, action: Callable[[], None]) -> Iterator[None]:
    """Run action when path is next opened, just before it is."""
    _BEFORE_OPEN[os.fspath(path)] = action
    try:
        yield
    finally:
        _BEFORE_OPEN.pop(os.fspath(path), None)


def reexport(path: Path, content: bytes) -> None:
    """What a re-export does: a whole new file, renamed over the name."""
    temporary = exportfiles.temporary_path(path)
    temporary.write_bytes(content)
    os.replace(temporary, path)


def open_files(path: Path) -> int:
    """How many of this process's file descriptors are open on path."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd) == os.fspath(path)
    return count


class DownloadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=3 * READ_BYTES // 120)  # a file of several read chunks
        cls.expected = export_all_topics("big.csv")

    async def test_async_download_streams_chunks_without_the_warning(self):
        """FileChunks is an async iterator: no buffering, no Django warning."""
        response = await self.async_client.get("/async/exports/files/big.csv/")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = [part async for part in response]

        self.assertEqual(caught, [])
        self.assertGreater(len(parts), 1)
        self.assertEqual(b"".join(parts), self.expected)
        self.assertEqual(response["Content-Length"], str(len(self.expected)))
        self.assertIn('attachment; filename="big.csv"', response["Content-Disposition"])

    async def test_sync_download_is_buffered_whole_with_a_warning(self):
        """The sync twin's FileResponse: under ASGI Django warns and reads it all."""
        response = await self.async_client.get("/sync/exports/files/big.csv/")

        with self.assertWarnsMessage(Warning, SYNC_ITERATOR_WARNING):
            content = await body_of(response)

        self.assertEqual(content, self.expected)

    async def test_a_reexport_during_a_download_never_mixes_two_files(self):
        """A re-export lands just before the view opens the file: the response is
        one whole version, and Content-Length is its size."""
        path = export_root() / "big.csv"
        smaller = self.expected[: self.expected.index(b"\n", READ_BYTES) + 1]
        self.addCleanup(path.write_bytes, self.expected)
        for prefix in prefixes("export_download"):
            with self.subTest(twin=prefix):
                path.write_bytes(self.expected)

                # The race's timing, forced: the re-export lands as the view opens.
                with before_open(path, functools.partial(reexport, path, smaller)):
                    response = await self.async_client.get(
                        f"/{prefix}/exports/files/big.csv/"
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # the sync twin's, tested above
                        content = await body_of(response)

                self.assertEqual(response.status_code, 200, prefix)
                self.assertEqual(response["Content-Length"], str(len(content)), prefix)
                self.assertIn(content, (self.expected, smaller), prefix)

    async def leave_after(self, messages: int) -> tuple[int, int]:
        """Download big.csv through Django's ASGI handler; the client stops reading
        after `messages` messages, then leaves. Files open on it then, and after."""
        from project.asgi import django_application

        path = (export_root() / "big.csv").resolve()
        inbox: asyncio.Queue[dict] = asyncio.Queue()
        await inbox.put({"type": "http.request", "body": b""})
        sent, open_then = [], []

        async def send(message: dict) -> None:
            sent.append(message)
            if len(sent) == messages:
                open_then.append(open_files(path))
                await inbox.put({"type": "http.disconnect"})
                await asyncio.Event().wait()  # the client reads nothing more

        scope = http_scope("/async/exports/files/big.csv/")
        await asyncio.wait_for(django_application(scope, inbox.get, send), 10)
        return open_then[0], open_files(path)

    async def test_a_client_leaving_closes_the_file(self):
        """Gone after the headers, or after the first piece: the file is closed."""
        for messages in (1, 2):
            open_then, open_after = await self.leave_after(messages)

            self.assertEqual((open_then, open_after), (1, 0), messages)

    async def test_a_download_cancelled_while_opening_closes_the_file(self):
        """Cancelled while its thread opens the file: the file opened is closed."""
        path = (export_root() / "big.csv").resolve()
        opening, release = threading.Event(), threading.Event()

        def hold() -> None:
            opening.set()
            release.wait(10)

        with before_open(path, hold):
            task = asyncio.ensure_future(
                exportfiles.aopen_export(export_root(), "big.csv")
            )
            await asyncio.to_thread(opening.wait, 10)
            task.cancel()
            await asyncio.sleep(0.1)  # the cancellation reaches the view's await
            release.set()
            with self.assertRaises(asyncio.CancelledError):
                await task

        self.assertEqual(open_files(path), 0)

    async def test_unknown_id_is_404_and_malformed_is_400(self):
        """A well-formed id with no file: 404 JSON; a malformed one: 400 JSON."""
        for prefix in prefixes("export_download"):
            with self.subTest(twin=prefix):
                missing = await self.async_client.get(
                    f"/{prefix}/exports/files/nope.csv/"
                )
                malformed = await self.async_client.get(
                    f"/{prefix}/exports/files/x.exe/"
                )

                self.assertEqual(missing.status_code, 404)
                self.assertEqual(missing.json()["error"]["code"], "not_found")
                self.assertEqual(malformed.status_code, 400)
