"""The upstream session's life, a client that leaves, and requests that try to
reach anything but the configured upstream."""

import asyncio
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from urllib.request import urlopen

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import SimpleTestCase

from tests.asgi import http_scope
from tests.servers import Server, gunicorn_server, uvicorn_server
from tests.twins import urls
from topics.upstream import client
from topics.upstream.client import client_session, http_session
from topics.upstream.params import source_url, upstream_session


async def eventually(condition) -> None:
    """Wait until condition() holds; TimeoutError after five seconds."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 -- polls another process
            await asyncio.sleep(0.02)


class SessionTests(SimpleTestCase):
    async def test_one_session_sized_for_fan_out(self):
        """The lifespan's session has the configured connection limit, and no
        timeout of its own: each call has one."""
        async with upstream_session() as session:
            async with client_session() as inner:
                self.assertIs(inner, session)
            self.assertIs(session.closed, False)
            self.assertEqual(session.connector.limit, settings.UPSTREAM_CONNECTIONS)
            self.assertGreater(session.connector.limit, 100)
            self.assertIsNone(session.timeout.total)

        self.assertIs(session.closed, True)

    async def test_without_the_lifespan_overlapping_blocks_share_one_session(self):
        """No lifespan: the first block opens the loop's session, the last closes it."""
        async with client_session() as first:
            async with client_session() as second:
                self.assertIs(second, first)
            self.assertIs(first.closed, False)

        self.assertIs(first.closed, True)
        self.assertEqual(client._sessions, {})
        async with client_session() as later:
            self.assertIsNot(later, first)

    def test_the_client_names_failures_as_httperrors_does(self):
        """Each module stands alone, so each defines the codes: they agree."""
        from topics import httperrors

        for name in ("CONNECTION", "TIMEOUT", "STATUS", "BAD_JSON", "NOT_JSON"):
            with self.subTest(name=name):
                self.assertEqual(getattr(client, name), getattr(httperrors, name))
        self.assertEqual(client.CONNECTION_FAILED, httperrors.CONNECTION_FAILED)

    def test_the_edge_imports_without_the_thread_setting(self):
        """Importing the upstream edge starts nothing and reads no setting: it
        imports in a project that has none of UPSTREAM_THREADS and the rest."""
        code = (
            "import django; from django.conf import settings; "
            "settings.configure(); django.setup(); "
            "import topics.upstream.params, threading; "
            "print(threading.active_count())"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        self.assertEqual(result.stdout.strip(), "1")

    def test_source_urls_come_from_settings_only(self):
        """A name outside the allowed sources never becomes a URL."""
        self.assertEqual(
            source_url("orders"), f"{settings.UPSTREAM_URL}/sources/orders"
        )
        for name in ("http://127.0.0.2/", "orders/../x", "orders@127.0.0.2"):
            with self.assertRaises(ValueError):
                source_url(name)


@pytest.mark.usefixtures("upstream")
class ClientDisconnectTests(SimpleTestCase):
    async def test_leaving_client_cancels_the_upstream_calls(self):
        """http.disconnect mid-request: the calls are cancelled, no task lives on."""
        from project.asgi import django_application

        before = asyncio.all_tasks()
        async with http_session():
            app = ApplicationCommunicator(
                django_application, http_scope("/async/upstream/fanout/", b"delay=5000")
            )
            await app.send_input({"type": "http.request", "body": b""})
            await eventually(lambda: self.upstream.stats()["in_flight"] == 3)

            await app.send_input({"type": "http.disconnect"})
            await app.wait(timeout=5)
        await eventually(lambda: self.upstream.stats()["cancelled"] == 3)

        self.assertEqual(self.upstream.stats()["completed"], 0)
        self.assertEqual(asyncio.all_tasks() - before, set())


def _get(url: str) -> tuple[int, bytes]:
    with urlopen(url, timeout=20) as response:
        return response.status, response.read()


@pytest.mark.usefixtures("upstream")
class GracefulShutdownTests(SimpleTestCase):
    def test_sigterm_lets_calls_in_flight_finish_then_closes_the_session(self):
        """uvicorn drains the request, then the lifespan closes the session cleanly."""
        self.assert_graceful(uvicorn_server())

    def test_gunicorn_workers_drain_too(self):
        """The same under gunicorn: the master relays SIGTERM to each uvicorn worker."""
        self.assert_graceful(gunicorn_server(workers=2))

    def assert_graceful(self, serving: AbstractContextManager[Server]) -> None:
        with serving as server, ThreadPoolExecutor(1) as pool:
            answer = pool.submit(
                _get, f"{server.url}/async/upstream/fanout/?delay=1500"
            )
            deadline = time.monotonic() + 10
            while (
                self.upstream.stats()["in_flight"] < 3 and time.monotonic() < deadline
            ):
                time.sleep(0.02)

            server.process.send_signal(signal.SIGTERM)
            status, _ = answer.result(timeout=20)
            server.process.wait(timeout=20)

        self.assertEqual(status, 200)
        self.assertIn("Application shutdown complete.", server.output)
        self.assertNotIn("Unclosed", server.output)
        self.assertNotIn("Traceback", server.output)


CRAFTED = [
    "http://127.0.0.2:8001/",
    "profile@127.0.0.2",
    "profile/../../_reset",
    "%2e%2e",
    "profile%2F..%2F..%2F_stats",
    "//127.0.0.2",
    "profile,orders?host=127.0.0.2",
]


@pytest.mark.usefixtures("upstream")
class NoSsrfTests(SimpleTestCase):
    async def test_crafted_sources_are_refused_before_any_call(self):
        """Hosts, userinfo, dot segments, encoded slashes: 400, and nothing sent."""
        async with http_session():
            for pair_name in ("upstream_fanout", "upstream_partial", "upstream_stream"):
                for url in urls(pair_name):
                    with self.subTest(twin=url):
                        for value in CRAFTED:
                            response = await self.async_client.get(
                                url, {"sources": value}
                            )

                            self.assertEqual(response.status_code, 400, value)

        self.assertEqual(self.upstream.stats()["requests"], 0)
        self.assertEqual(self.canary.stats()["requests"], 0)

    async def test_a_redirect_elsewhere_is_not_followed(self):
        """The upstream's 302 to another host is an error entry, never a request."""
        async with http_session():
            for url in urls("upstream_partial"):
                with self.subTest(twin=url):
                    response = await self.async_client.get(
                        url, {"broken": "orders:redirect"}
                    )

                    error = response.json()["sources"]["orders"]["error"]
                    self.assertEqual(error["message"], "HTTP 302")

        self.assertEqual(self.canary.stats()["requests"], 0)

    @pytest.fixture(autouse=True)
    def _canary(self, canary):
        self.canary = canary
