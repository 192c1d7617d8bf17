"""Exports: atomic files, validated names, a full disk, streamed downloads."""

import asyncio
import contextlib
import csv
import functools
import io
import json
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.test import TestCase, TransactionTestCase

from tests.asgi import http_scope
from tests.factories import make_topic
from tests.queries import garbage_kept, open_cursors
from tests.twins import prefixes
from topics import exports
from topics.exports import CHUNK_ROWS, NAME_IS_A_FOLDER, READ_BYTES, export_root
from topics.models import NEWEST_FIRST, Topic
from topics.seeding import seed_topics

SYNC_ITERATOR_WARNING = (
    "StreamingHttpResponse must consume synchronous iterators in order to serve "
    "them asynchronously. Use an asynchronous iterator instead."
)


def leftovers() -> list[str]:
    """Temporary files still in the export folder."""
    return [path.name for path in export_root().iterdir() if path.name.endswith(".tmp")]


async def body_of(response) -> bytes:
    return b"".join([part async for part in response])


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
    temporary = exports.temporary_path(path)
    temporary.write_bytes(content)
    os.replace(temporary, path)


def open_files(path: Path) -> int:
    """How many of this process's file descriptors are open on path."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd) == os.fspath(path)
    return count


class ExportCreateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=40)

    async def post(self, prefix: str, **query):
        url = f"/{prefix}/exports/?" + "&".join(f"{k}={v}" for k, v in query.items())
        return await self.async_client.post(url)

    async def test_export_writes_every_row_and_reports_it(self):
        """CSV and JSON Lines: the file holds the rows the response counts."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for fmt in ("csv", "jsonl"):
                    response = await self.post(prefix, name=f"all-{prefix}", format=fmt)

                    self.assertEqual(response.status_code, 201)
                    data = response.json()
                    path = Path(settings.EXPORT_ROOT) / data["id"]
                    content = path.read_bytes()
                    self.assertEqual((data["rows"], data["bytes"]), (40, len(content)))
                    if fmt == "csv":
                        rows = list(csv.DictReader(io.StringIO(content.decode())))
                    else:
                        rows = [json.loads(line) for line in content.splitlines()]
                    self.assertEqual(len(rows), 40)
                    self.assertEqual(rows[0]["slug"], "topic-40")
        self.assertEqual(leftovers(), [])

    async def test_every_writer_writes_the_same_bytes(self):
        """open(), aiofiles and the pipeline write identical files."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                await self.post(
                    prefix, name=f"same-{prefix}", format="csv", tag="django"
                )

        files = {
            (export_root() / f"same-{w}.csv").read_bytes()
            for w in prefixes("export_create")
        }
        self.assertEqual(len(files), 1)

    async def test_cancelled_export_leaves_no_file(self):
        """Cancelled mid-write (the client left): no temporary, no final file."""
        task = asyncio.create_task(
            exports.awrite_export(
                Topic.objects.listing(), fmt="csv", export_id="cancelled.csv"
            )
        )
        async with asyncio.timeout(5):
            while not leftovers():  # noqa: ASYNC110 -- waits for the writer's file
                await asyncio.sleep(0)

        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task

        self.assertEqual(leftovers(), [])
        self.assertIs((export_root() / "cancelled.csv").exists(), False)

    async def test_names_that_could_escape_are_400(self):
        """Dot segments, absolute paths, NUL, a leading dot: 400, nothing written."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for name in ("..%2Fx", "%2Fetc%2Fpasswd", "a%00b", ".hidden", "a.b"):
                    response = await self.post(prefix, name=name)

                    self.assertEqual(response.status_code, 400, (prefix, name))
                    self.assertEqual(response.json()["error"]["parameter"], "name")
        self.assertEqual(leftovers(), [])

    async def test_a_symlink_out_of_the_folder_is_refused(self):
        """A name whose file is a symlink elsewhere: 400, and the target untouched."""
        target = Path(settings.EXPORT_ROOT).parent / "outside.csv"
        target.write_text("keep me")
        link = export_root() / "evil.csv"
        link.symlink_to(target)
        try:
            for prefix in prefixes("export_download"):
                with self.subTest(twin=prefix):
                    created = await self.post(prefix, name="evil", format="csv")
                    downloaded = await self.async_client.get(
                        f"/{prefix}/exports/files/evil.csv/"
                    )

                    self.assertEqual(created.status_code, 400)
                    self.assertEqual(downloaded.status_code, 400)
            self.assertEqual(target.read_text(), "keep me")
        finally:
            link.unlink()

    async def test_full_disk_is_507_and_keeps_the_previous_export(self):
        """ENOSPC (from /dev/full): 507 JSON, no temporary file, old file intact."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                await self.post(prefix, name=f"full-{prefix}", format="csv")
                final = export_root() / f"full-{prefix}.csv"
                before = final.read_bytes()
                full = export_root() / f".full-{prefix}.tmp"
                full.symlink_to("/dev/full")

                with mock.patch.object(exports, "temporary_path", return_value=full):
                    response = await self.post(
                        prefix, name=f"full-{prefix}", format="csv"
                    )

                self.assertEqual(response.status_code, 507, prefix)
                self.assertEqual(
                    response.json()["error"]["code"], "insufficient_storage"
                )
                self.assertIs(full.exists() or full.is_symlink(), False)
                self.assertEqual(final.read_bytes(), before)

    async def test_a_name_taken_by_a_folder_is_409(self):
        """An export named like a folder in the export folder: 409 JSON, no
        temporary left, the folder untouched; its download is a 404."""
        folder = export_root() / "folder.csv"
        folder.mkdir()
        self.addCleanup(folder.rmdir)
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                response = await self.post(prefix, name="folder", format="csv")

                self.assertEqual(response.status_code, 409, prefix)
                self.assertEqual(response.json()["error"]["code"], "conflict")
                self.assertEqual(response.json()["error"]["message"], NAME_IS_A_FOLDER)
        for prefix in prefixes("export_download"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/exports/files/folder.csv/"
                )

                self.assertEqual(response.status_code, 404, prefix)
        self.assertIs(folder.is_dir(), True)
        self.assertEqual(leftovers(), [])

    async def test_concurrent_exports_of_one_name_never_interleave(self):
        """Six exports to one name at once: one whole file, no temporary left."""
        responses = await asyncio.gather(
            *(
                self.post(prefix, name="raced", format="csv")
                for prefix in prefixes("export_create") * 2
            )
        )

        self.assertEqual({response.status_code for response in responses}, {201})
        content = (export_root() / "raced.csv").read_text()
        self.assertEqual(content.count("id,slug,title"), 1)
        self.assertEqual(len(content.splitlines()), 41)
        self.assertEqual(leftovers(), [])

    async def test_unknown_format_or_filter_is_400_naming_it(self):
        """?format= and the search filters are validated before any write."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for query, name in (
                    ({"format": "xml"}, "format"),
                    ({"tag": "A B"}, "tag"),
                ):
                    response = await self.post(prefix, **query)

                    self.assertEqual(response.json()["error"]["parameter"], name)

    def test_command_uses_the_same_export_code(self):
        """manage.py export_topics writes what the views write."""
        out = io.StringIO()

        call_command(
            "export_topics", format="jsonl", name="cmd", verbosity=0, stdout=out
        )

        self.assertIn("Wrote 40 rows", out.getvalue())
        lines = (export_root() / "cmd.jsonl").read_text().splitlines()
        self.assertEqual(len(lines), 40)
        with self.assertRaisesMessage(
            CommandError, "format: must be one of: csv, jsonl."
        ):
            call_command("export_topics", format="xml", verbosity=0)


class DownloadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=3 * READ_BYTES // 120)  # a file of several read chunks
        exports.write_export(Topic.objects.listing(), fmt="csv", export_id="big.csv")
        cls.expected = (export_root() / "big.csv").read_bytes()

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
            task = asyncio.ensure_future(exports.aopen_export("big.csv"))
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


class StreamTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=3 * CHUNK_ROWS)

    async def test_stream_matches_the_file_export(self):
        """The streamed CSV is byte for byte the file the export writes."""
        streamed = await body_of(await self.async_client.get("/async/exports/stream/"))
        await self.async_client.post("/async/exports/?name=compare&format=csv")

        self.assertEqual(streamed, (export_root() / "compare.csv").read_bytes())

    async def test_sync_stream_is_buffered_whole_with_a_warning(self):
        """The sync generator cannot stream under ASGI: Django warns, reads it all."""
        response = await self.async_client.get("/sync/exports/stream/")

        with self.assertWarnsMessage(Warning, SYNC_ITERATOR_WARNING):
            content = await body_of(response)

        self.assertEqual(len(content.splitlines()), 3 * CHUNK_ROWS + 1)

    async def test_a_later_chunk_waits_out_a_busy_pool_instead_of_cutting_the_200(self):
        """The connection goes back to the pool between chunks, so a later chunk
        must get one again: when the pool is exhausted (here: its next two tries
        fail as PoolTimeout does), it waits its turn; the 200 is never cut."""
        real_execute = CursorWrapper.execute
        for prefix in prefixes("export_stream"):
            with self.subTest(twin=prefix):
                failures = iter([True, True])  # the two tries after the first page

                def execute(cursor, sql, params=None, *, failures=failures):
                    later_page = "topics_topic" in sql and '"created" <' in sql
                    if later_page and next(failures, False):
                        raise OperationalError(
                            "couldn't get a connection after 0.50 sec"
                        )
                    return real_execute(cursor, sql, params)

                with mock.patch.object(CursorWrapper, "execute", execute):
                    response = await self.async_client.get(f"/{prefix}/exports/stream/")
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # the sync twin's buffering
                        content = await body_of(response)

                self.assertEqual(response.status_code, 200)
                self.assertEqual(next(failures, "spent"), "spent", prefix)
                self.assertEqual(len(content.splitlines()), 3 * CHUNK_ROWS + 1, prefix)

    async def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(self):
        """A title like =HYPERLINK(…) runs as a formula when the CSV is opened in a
        spreadsheet (an attacker's trial): each twin writes it after a "'"; the
        JSON Lines export keeps it as it is."""
        title = '=HYPERLINK("http://evil.example","click")'
        await sync_to_async(make_topic)(slug="formula", title=title)
        for prefix in prefixes("export_stream"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/exports/stream/?q=HYPERLINK"
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the sync twin's buffering
                    streamed = await body_of(response)
                [row] = list(csv.DictReader(io.StringIO(streamed.decode())))
                self.assertEqual(row["title"], f"'{title}", prefix)
        lines = await body_of(
            await self.async_client.get(
                "/async/exports/stream/?q=HYPERLINK&format=jsonl"
            )
        )
        self.assertEqual(json.loads(lines)["title"], title)

    async def test_an_ordering_other_than_newest_is_400_not_500(self):
        """Exports take the search's filters, but are read by key newest first:
        ?ordering=oldest or title failed in _page(), a 500 (an attacker's trial)."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                for ordering in ("oldest", "title"):
                    response = await self.async_client.post(
                        f"/{prefix}/exports/?name=ordered&ordering={ordering}"
                    )
                    self.assertEqual(response.status_code, 400, prefix)
                    self.assertEqual(response.json()["error"]["parameter"], "ordering")
        for prefix in prefixes("export_stream"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/exports/stream/?ordering=title"
                )
                self.assertEqual(response.status_code, 400, prefix)
        response = await self.async_client.get("/async/exports/stream/?ordering=newest")
        self.assertEqual(response.status_code, 200)

    async def test_rows_without_older_than_fail_at_the_first_page(self):
        """Read by key from a QuerySet that cannot: refused before the first chunk
        (so before a stream's 200), not at the second (a 200 cut after 2,000 rows,
        which a newcomer's copy met)."""
        rows = QuerySet(Topic).order_by(*NEWEST_FIRST).values("id", "created")

        with self.assertRaisesMessage(TypeError, "older_than()"):
            next(exports.chunks(rows))
        with self.assertRaisesMessage(TypeError, "older_than()"):
            await anext(exports.achunks(rows))


class StreamDisconnectTests(TransactionTestCase):
    """Through Django's real ASGI handler, which reads on a thread of its own."""

    def setUp(self):
        seed_topics(count=3 * CHUNK_ROWS)

    async def leave_after_the_first_rows(self) -> tuple[dict, dict, dict]:
        """The stream's start, header and first rows; then http.disconnect."""
        from project.asgi import django_application

        app = ApplicationCommunicator(
            django_application, http_scope("/async/exports/stream/")
        )
        await app.send_input({"type": "http.request", "body": b""})
        start = await app.receive_output(timeout=10)
        header = await app.receive_output(timeout=10)
        rows = await app.receive_output(timeout=10)
        await app.send_input({"type": "http.disconnect"})
        await app.wait(timeout=10)
        return start, header, rows

    async def leave_while_a_chunk_is_sent(self) -> list[dict]:
        """Through Django's ASGI handler, as uvicorn drives it when the client
        stops reading: a send that never returns, then http.disconnect."""
        from project.asgi import django_application

        inbox: asyncio.Queue[dict] = asyncio.Queue()
        await inbox.put({"type": "http.request", "body": b""})
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)
            if len(sent) == 3:  # the start, the header, the first rows
                await inbox.put({"type": "http.disconnect"})
                await asyncio.Event().wait()  # the socket's buffer is full

        scope = http_scope("/async/exports/stream/")
        await asyncio.wait_for(django_application(scope, inbox.get, send), 10)
        return sent

    async def test_client_leaving_stops_the_database_read(self):
        """http.disconnect after the first rows: the read stops mid-table."""
        with self.assertLogs("topics.exports", "INFO") as logs:
            start, header, rows = await self.leave_after_the_first_rows()

        self.assertEqual(start["status"], 200)
        self.assertTrue(header["body"].startswith(b"id,slug,title"))
        first_row = rows["body"].split(b"\n", 1)[0]
        self.assertIn(b",topic-%d," % (3 * CHUNK_ROWS), first_row)
        sent = [int(line.split()[-2]) for line in logs.output]
        self.assertEqual(len(sent), 1)
        self.assertLess(sent[0], 3 * CHUNK_ROWS)

    async def test_client_leaving_closes_the_cursor_then_and_there(self):
        """Stopped mid-table, the query's cursor is closed by the stream, on the
        connection's thread, not left to the garbage collector: aiterator() left
        it in a reference cycle, closed later on a closed or lent-out connection."""
        with garbage_kept(), self.assertLogs("topics.exports", "INFO"):
            await self.leave_after_the_first_rows()
            left_open = open_cursors()

        self.assertEqual(left_open, [])

    async def test_client_leaving_while_a_chunk_is_sent_leaves_no_cursor(self):
        """Cancelled in send(), not in the stream: Django drops the stream without
        closing it, and the connection after it; no cursor was open between
        chunks for the garbage collector to close on a closed connection."""
        with garbage_kept():
            sent = await self.leave_while_a_chunk_is_sent()
            left_open = open_cursors()

        self.assertEqual(sent[0]["status"], 200)
        self.assertEqual(left_open, [])
