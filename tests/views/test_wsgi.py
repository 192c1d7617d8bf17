"""Async views under Django's WSGI handler, where each runs in an event loop of its
own: streams read whole in that loop, an upstream session per request."""

import json
import logging
from contextlib import AbstractContextManager
from unittest import mock
from urllib.request import urlopen

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View

from project.demo.seeding import seed_topics
from tests.pitfalls.test_loops import EVERY_LINE
from tests.queries import garbage_kept, open_cursors
from tests.servers import Server, gunicorn_wsgi_server, uvicorn_server
from tests.twins import prefixes
from tests.views.exports_support import export_all_topics
from tests.wsgi import wsgi_environ, wsgi_request, wsgi_response
from topics import exportfiles
from topics.exportfiles import CHUNK_ROWS, READ_BYTES
from topics.exports import COLUMNS
from topics.pitfalls.loops import right_primed_stream
from topics.streaming import read_whole_under_wsgi
from topics.upstream import client, params

TOPICS = 3 * CHUNK_ROWS
# Over real sockets: enough rows that a stream cut after any chunk shows.
SERVED_TOPICS = 20_000


class StreamUnderWsgiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=TOPICS)
        cls.file = export_all_topics("wsgi.csv")

    def test_async_stream_sends_every_row(self):
        """The primed async stream, read in the view's loop: every row, as sync."""
        sync = wsgi_request("GET", "/sync/exports/stream/")

        with self.assertLogs("topics.exportfiles", "INFO") as logs:
            response = wsgi_request("GET", "/async/exports/stream/")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.body.splitlines()), TOPICS + 1)
        self.assertEqual(response.body, sync.body)
        self.assertEqual(logs.output[-1].split()[-2], str(TOPICS))

    def test_async_download_sends_the_whole_file(self):
        """The async download of a file of many read chunks: every byte."""
        response = wsgi_request("GET", "/async/exports/files/wsgi.csv/")

        self.assertEqual(response.status_code, 200)
        self.assertGreater(len(self.file), 3 * READ_BYTES)
        self.assertEqual(response.body, self.file)
        self.assertEqual(response.get("Content-Length"), str(len(self.file)))

    def test_a_client_leaving_the_sync_stream_closes_its_cursor(self):
        """The server closes the sync twin's body after one chunk: the query's
        cursor is closed then, in the request's thread, before the connection."""
        environ = wsgi_environ("GET", "/sync/exports/stream/")

        with garbage_kept():
            with wsgi_response(environ) as (status, _, body):
                first = next(iter(body))
            left_open = open_cursors()

        self.assertEqual(status, 200)
        self.assertIs(first.startswith(b"id,slug,title"), True)
        self.assertEqual(left_open, [])

    def test_an_outage_after_the_first_rows_is_a_503_not_a_cut_200(self):
        """The body is read before the status line: a failure mid-table is a 503."""
        down = OperationalError("server closed the connection unexpectedly")
        first_rows = exportfiles.encode_rows([], "csv", COLUMNS)
        encode = mock.patch.object(
            exportfiles, "encode_rows", side_effect=[first_rows, down]
        )

        with encode, self.assertLogs("django.request", logging.WARNING):
            response = wsgi_request("GET", "/async/exports/stream/")

        self.assertEqual(response.status_code, 503)
        self.assertEqual(
            json.loads(response.body)["error"]["code"], "service_unavailable"
        )


@pytest.mark.usefixtures("upstream")
class UpstreamUnderWsgiTests(TestCase):
    def test_a_fan_out_opens_one_session_and_closes_it(self):
        """No lifespan: the request's calls share one session, closed at its end;
        the slower fallback is logged once per process."""
        opened = mock.patch.object(client, "_new_session", wraps=client._new_session)

        with (
            opened as new_session,
            mock.patch.object(client, "_fallback_logged", False),
            self.assertLogs("topics.upstream.client", logging.WARNING) as logs,
        ):
            answers = [wsgi_request("GET", "/async/upstream/fanout/") for _ in "ab"]

        self.assertEqual([answer.status_code for answer in answers], [200, 200])
        self.assertEqual(
            sorted(json.loads(answers[0].body)["sources"]), sorted(params.SOURCES)
        )
        self.assertEqual(new_session.call_count, 2)
        self.assertEqual(
            logs.output, [f"WARNING:topics.upstream.client:{client.FALLBACK}"]
        )
        self.assertEqual(client._sessions, {})
        self.assertEqual(self.upstream.stats()["requests"], 2 * len(params.SOURCES))

    def test_the_ndjson_stream_sends_a_line_per_source(self):
        """The async NDJSON stream, whose calls start in the body: one line each."""
        response = wsgi_request("GET", "/async/upstream/stream/")

        lines = [json.loads(line) for line in response.body.splitlines()]
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            sorted(line["source"] for line in lines), sorted(params.SOURCES)
        )
        self.assertIs(all(line["ok"] for line in lines), True, lines)


class _PrimedLines(View):
    @method_decorator(read_whole_under_wsgi)
    async def get(self, request: HttpRequest) -> StreamingHttpResponse:
        return await right_primed_stream(request)


urlpatterns = [path("class-based/", _PrimedLines.as_view())]


class DecoratorTests(SimpleTestCase):
    def test_a_sync_view_is_returned_as_it_is(self):
        """A sync view needs nothing: WSGI streams its sync iterator."""

        def sync_view(request):
            return HttpResponse()

        self.assertIs(read_whole_under_wsgi(sync_view), sync_view)

    @override_settings(ROOT_URLCONF=__name__)
    def test_method_decorator_on_an_async_handler(self):
        """On a class-based view's async get(), through method_decorator()."""
        response = wsgi_request("GET", "/class-based/")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.body, EVERY_LINE)


class CharsetUnderWsgiTests(TestCase):
    def test_a_charset_that_decodes_no_text_is_set_aside(self):
        """`Content-Type: …; charset=base64` with a query: 200, as under ASGI."""
        headers = {"content_type": "text/plain; charset=base64"}

        for prefix in prefixes("topic_list"):
            with self.subTest(twin=prefix):
                response = wsgi_request("GET", f"/{prefix}/topics/?page=1", **headers)

                self.assertEqual(response.status_code, 200, prefix)


def _download(url: str) -> tuple[int, bytes]:
    with urlopen(url, timeout=120) as response:
        return response.status, response.read()


class EveryRowOverHttpTests(TransactionTestCase):
    """The async streaming export and download, read by a client to the end."""

    def setUp(self):
        seed_topics(count=SERVED_TOPICS)
        self.file = export_all_topics("all.csv")

    def test_gunicorn_sync_workers_send_every_row(self):
        """WSGI, as gunicorn's sync workers serve it: every row, every byte."""
        self.assert_every_row(gunicorn_wsgi_server())

    def test_uvicorn_sends_every_row(self):
        """ASGI, as uvicorn serves it: the same."""
        self.assert_every_row(uvicorn_server())

    def assert_every_row(self, serving: AbstractContextManager[Server]) -> None:
        with serving as server:
            stream = _download(f"{server.url}/async/exports/stream/")
            download = _download(f"{server.url}/async/exports/files/all.csv/")

        self.assertEqual(stream[0], 200)
        self.assertEqual(len(stream[1].splitlines()), SERVED_TOPICS + 1)
        self.assertEqual(stream[1], self.file)
        self.assertEqual(download, (200, self.file))
        self.assertNotIn("Traceback", server.output)
