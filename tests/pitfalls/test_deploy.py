"""Transactions, middleware, connections, streaming and test runners: each pitfall's
wrong snippet fails for real, and its right twin works."""

import gc
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from unittest import mock, skipUnless

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import (
    AsyncClient,
    SimpleTestCase,
    TestCase,
    TransactionTestCase,
    override_settings,
)
from django.urls import path

from tests.asgi import http_scope
from tests.factories import make_topic
from tests.queries import hops_counted
from tests.servers import database_url
from topics.models import Topic
from topics.pitfalls.deploy import (
    ADAPTED_MESSAGE,
    ATOMIC_REQUESTS_MESSAGE,
    CHUNK_SECONDS,
    RIGHT_MIDDLEWARE,
    STREAM_CHUNKS,
    SYNC_ITERATOR_WARNING,
    SYNC_ONLY_MESSAGE,
    WRONG_MIDDLEWARE,
    right_atomic,
    right_database_settings,
    right_stream,
    right_thread_count,
    wrong_atomic,
    wrong_database_settings,
    wrong_stream,
    wrong_thread_count,
)

POSTGRESQL_ONLY = (
    "Counts connections in pg_stat_activity: runs on PostgreSQL (DATABASE_URL)."
)
LEFT_OPEN = "was deleted while still open"  # psycopg's ResourceWarning


async def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


urlpatterns = [
    path("hello/", hello),
    path("wrong-thread-count/", wrong_thread_count),
    path("right-thread-count/", right_thread_count),
    path("wrong-stream/", wrong_stream),
    path("right-stream/", right_stream),
]
routed_here = override_settings(ROOT_URLCONF=__name__)


async def serve(app: ASGIHandler, path: str) -> bytes:
    """One GET through Django's ASGI handler, as uvicorn sends it; the body."""
    communicator = ApplicationCommunicator(app, http_scope(path))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    body = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)
    assert start["status"] == 200, (start, body)
    return body["body"]


class AtomicTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="atomic", title="Before")

    async def test_atomic_in_async_code_raises_a_sync_unit_commits(self):
        """atomic() in async code and ATOMIC_REQUESTS raise; one sync hop commits."""
        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await wrong_atomic(slug="atomic", title="Wrong")
        with (
            mock.patch.dict(connection.settings_dict, ATOMIC_REQUESTS=True),
            self.assertRaisesMessage(RuntimeError, ATOMIC_REQUESTS_MESSAGE),
        ):
            await self.async_client.get("/async/topics/")

        await right_atomic(slug="atomic", title="Right")

        topic = await Topic.objects.aget(slug="atomic")
        self.assertEqual(topic.title, "Right")


async def hops_past(middleware: str) -> list[str]:
    """The thread hops that a request to an async view takes past this middleware."""
    with (
        override_settings(MIDDLEWARE=[middleware]),
        routed_here,
        hops_counted() as hops,
    ):
        response = await AsyncClient().get("/hello/")
    assert response.has_header("Server-Timing"), response.headers
    return [hop.__qualname__ for hop in hops]


class MiddlewareTests(SimpleTestCase):
    async def test_sync_only_middleware_costs_a_thread_hop(self):
        """Sync-only middleware: Django logs its adaptation, and each request hops."""
        wrong_stack = override_settings(DEBUG=True, MIDDLEWARE=[WRONG_MIDDLEWARE])
        right_stack = override_settings(DEBUG=True, MIDDLEWARE=[RIGHT_MIDDLEWARE])

        with wrong_stack, self.assertLogs("django.request", "DEBUG") as logs:
            ASGIHandler()
        with right_stack, self.assertNoLogs("django.request", "DEBUG"):
            ASGIHandler()
        wrong_hops = await hops_past(WRONG_MIDDLEWARE)
        right_hops = await hops_past(RIGHT_MIDDLEWARE)

        adapted = ADAPTED_MESSAGE.format(path=WRONG_MIDDLEWARE)
        self.assertEqual(logs.output, [f"DEBUG:django.request:{adapted}"])
        self.assertEqual(len(wrong_hops), len(right_hops) + 1)
        self.assertIn("wrong_middleware.<locals>.middleware", wrong_hops)
        self.assertNotIn("right_middleware.<locals>.middleware", right_hops)


def backends_on_this_database() -> set[int]:
    """The server processes, one per open connection, on this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@skipUnless(connection.vendor == "postgresql", POSTGRESQL_ONLY)
class PersistentConnectionTests(TransactionTestCase):
    requests = 6

    async def serve_with(self, database_settings) -> tuple[int, int]:
        """Serve requests with these settings: (connections added, left open)."""
        backends = sync_to_async(backends_on_this_database)
        before = await backends()  # opens ours before the settings change
        with (
            mock.patch.dict(
                connection.settings_dict, database_settings(connection.settings_dict)
            ),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            app = ASGIHandler()
            # A forgotten connection sits in a reference cycle until the cyclic
            # GC next runs, whenever that is: off here, so that the count is exact.
            gc.disable()
            try:
                for _ in range(self.requests):
                    await serve(app, "/sync/topics/")
                added = len(await backends() - before)
            finally:
                gc.enable()
                gc.collect()  # closes them, each with a ResourceWarning
        return added, sum(LEFT_OPEN in str(warning.message) for warning in caught)

    async def test_persistent_connections_pile_up(self):
        """CONN_MAX_AGE=60: each request's thread leaves its connection open."""
        wrong = await self.serve_with(wrong_database_settings)
        right = await self.serve_with(right_database_settings)

        self.assertEqual(wrong, (self.requests, self.requests))
        self.assertEqual(right, (0, 0))


class ThreadConnectionTests(TransactionTestCase):
    def setUp(self):
        make_topic(slug="counted")
        self.opened = []
        connection_created.connect(self.opened_one)
        self.addCleanup(connection_created.disconnect, self.opened_one)
        self.addCleanup(self.close_opened)

    def opened_one(self, sender, connection, **kwargs):
        self.opened.append(connection)

    def close_opened(self):
        """Close, from this thread, what the worker threads left open."""
        for wrapper in self.opened:
            wrapper.inc_thread_sharing()
            try:
                wrapper.close()
            finally:
                wrapper.dec_thread_sharing()

    async def open_after(self, app: ASGIHandler, path: str) -> tuple[bytes, list]:
        """Serve one request: its body, and which connections it opened are open."""
        already = len(self.opened)
        body = await serve(app, path)
        return body, [
            wrapper.connection is not None for wrapper in self.opened[already:]
        ]

    async def test_to_thread_leaves_its_connection_open(self):
        """to_thread's connection outlives the request; sync_to_async's is closed."""
        app = ASGIHandler()

        with routed_here:
            wrong = await self.open_after(app, "/wrong-thread-count/")
            right = await self.open_after(app, "/right-thread-count/")

        self.assertEqual(wrong, (b'{"topics": 1}', [True]))
        self.assertEqual(right, (b'{"topics": 1}', [False]))


async def chunks_timed(response: StreamingHttpResponse) -> tuple[float, list[bytes]]:
    """Seconds until the first chunk arrives, and every chunk."""
    started = time.perf_counter()
    chunks = []
    async for chunk in response:
        if not chunks:
            first = time.perf_counter() - started
        chunks.append(chunk)
    return first, chunks


class StreamingTests(SimpleTestCase):
    async def test_sync_iterator_is_read_whole_first(self):
        """A sync generator: Django warns, and sends nothing until it is exhausted."""
        with routed_here:
            wrong = await self.async_client.get("/wrong-stream/")
            right = await self.async_client.get("/right-stream/")

        with self.assertWarnsMessage(Warning, SYNC_ITERATOR_WARNING):
            wrong_first, wrong_chunks = await chunks_timed(wrong)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            right_first, right_chunks = await chunks_timed(right)

        whole = STREAM_CHUNKS * CHUNK_SECONDS  # what making every chunk takes
        self.assertGreaterEqual(wrong_first, whole)
        self.assertLess(right_first, whole / 2)
        self.assertEqual(caught, [])
        self.assertEqual(wrong_chunks, right_chunks)
        self.assertEqual(len(right_chunks), STREAM_CHUNKS)


# Pitfall 20 runs pytest in a subprocess, on modules written to a temporary
# folder: the tests of wrong_async_tests(), then those of right_async_tests().
CHILD_FILES = {
    "pytest.ini": """\
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
""",
    "child_settings.py": """\
from project.settings import *  # noqa: F403

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # Fail in 1 s, not 20, when a write waits for the test's own lock.
    DATABASES["default"]["OPTIONS"]["timeout"] = 1  # noqa: F405
""",
    "conftest.py": """\
import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connections


@pytest.fixture(scope="session", autouse=True)
def close_the_executor_connection(django_db_setup):
    yield
    # pytest-asyncio's tests left a connection open in asgiref's executor
    # thread: close it there, or the test database cannot be dropped.
    asyncio.run(sync_to_async(connections.close_all)())
""",
    "test_right.py": """\
from topics.pitfalls.deploy import right_async_tests

TopicTests = right_async_tests()
""",
    "test_wrong.py": """\
from topics.pitfalls.deploy import wrong_async_tests

test_creates_a_topic, test_starts_with_no_topic = wrong_async_tests()
""",
}


RIGHT_OUTCOMES = {
    "test_right.py::TopicTests::test_creates_a_topic": "PASSED",
    "test_right.py::TopicTests::test_starts_with_no_topic": "PASSED",
}
WRONG_OUTCOMES = {
    # The row is committed on the executor thread's connection: the next
    # test sees it.
    "postgresql": {
        "test_wrong.py::test_creates_a_topic": "PASSED",
        "test_wrong.py::test_starts_with_no_topic": "FAILED - AssertionError",
    },
    # That connection waits for the write lock the test's transaction holds.
    "sqlite": {
        "test_wrong.py::test_creates_a_topic": (
            "FAILED - django.db.utils.OperationalError: database is locked"
        ),
        "test_wrong.py::test_starts_with_no_topic": "PASSED",
    },
}
# "PASSED test_x.py::test_y" or "FAILED test_x.py::test_y - Error: message"
SUMMARY_LINE = re.compile(r"^(PASSED|FAILED) (\S+)( - .*)?$", re.M)


PYTEST = [
    sys.executable,
    "-W",
    "error",
    "-m",
    "pytest",
    "-rA",
    "-p",
    "no:cacheprovider",
]


def run_pytest(files: dict[str, str], *args: str) -> str:
    """Write the files to a temporary folder, run pytest there; its output."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text)
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "child_settings",
            "PYTHONPATH": os.pathsep.join([folder, str(settings.BASE_DIR)]),
            # Its test database is made from ours: test_test_..., or a new file.
            "DATABASE_URL": database_url(),
            "COLUMNS": "200",  # whole messages in the summary lines
        }
        result = subprocess.run(
            [*PYTEST, *args],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=100,
        )
    return result.stdout + result.stderr


class PytestAsyncioTests(SimpleTestCase):
    def test_writes_escape_the_test_transaction(self):
        """pytest-asyncio + django_db: the write misses the test's transaction."""
        output = run_pytest(CHILD_FILES, "test_right.py", "test_wrong.py")

        outcomes = {
            test: outcome + detail
            for outcome, test, detail in SUMMARY_LINE.findall(output)
        }
        wrong = WRONG_OUTCOMES[connection.vendor]
        self.assertEqual(outcomes, {**RIGHT_OUTCOMES, **wrong}, output)
