"""The streamed export: the file export's rows, a busy pool waited out, CSV cells a
spreadsheet would run quoted, rows read by key; a client that leaves stops the
reads and leaves no cursor."""

import asyncio
import csv
import io
import json
import warnings
from unittest import mock

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import TestCase, TransactionTestCase

from project.demo.seeding import seed_topics
from tests.asgi import http_scope
from tests.factories import make_topic
from tests.queries import garbage_kept, open_cursors
from tests.twins import prefixes
from tests.views.exports_support import SYNC_ITERATOR_WARNING, body_of, export_root
from topics.exportfiles import CHUNK_ROWS


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
        with self.assertLogs("topics.exportfiles", "INFO") as logs:
            start, header, rows = await self.leave_after_the_first_rows()

        self.assertEqual(start["status"], 200)
        self.assertIs(header["body"].startswith(b"id,slug,title"), True)
        first_row = rows["body"].split(b"\n", 1)[0]
        self.assertIn(b",topic-%d," % (3 * CHUNK_ROWS), first_row)
        sent = [int(line.split()[-2]) for line in logs.output]
        self.assertEqual(len(sent), 1)
        self.assertLess(sent[0], 3 * CHUNK_ROWS)

    async def test_client_leaving_closes_the_cursor_then_and_there(self):
        """Stopped mid-table, the query's cursor is closed by the stream, on the
        connection's thread, not left to the garbage collector: aiterator() left
        it in a reference cycle, closed later on a closed or lent-out connection."""
        with garbage_kept(), self.assertLogs("topics.exportfiles", "INFO"):
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
