"""The ASGI lifespan wrapper: the protocol in process, then under a real uvicorn."""

import asyncio
import os
import signal
import time
from contextlib import asynccontextmanager
from unittest import skipUnless
from urllib.request import urlopen

from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase

from project.lifespan import LifespanMiddleware
from tests.servers import uvicorn_server

UNSUPPORTED = "ASGI 'lifespan' protocol appears unsupported."


class Recorder:
    """Lifespan contexts that record what happens to them, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def context(self, name: str, *, fail_on: str = ""):
        @asynccontextmanager
        async def lifespan_context():
            if fail_on == "enter":
                raise RuntimeError(f"{name} cannot start")
            self.events.append(f"enter {name}")
            yield
            self.events.append(f"exit {name}")
            if fail_on == "exit":
                raise RuntimeError(f"{name} cannot stop")

        return lifespan_context


async def run_lifespan(app: LifespanMiddleware) -> list[dict]:
    """Drive the lifespan protocol as a server does; return what the app sent."""
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            await inbox.put({"type": "lifespan.shutdown"})

    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait_for(app({"type": "lifespan"}, inbox.get, send), timeout=5)
    return sent


async def django_app(scope, receive, send) -> None:
    raise AssertionError("The lifespan scope must not reach Django.")


class LifespanProtocolTests(SimpleTestCase):
    async def test_contexts_enter_in_order_and_exit_in_reverse(self):
        """Startup enters every context; shutdown exits them last-in, first-out."""
        recorder = Recorder()
        app = LifespanMiddleware(
            django_app, [recorder.context("a"), recorder.context("b")]
        )

        sent = await run_lifespan(app)

        self.assertEqual(
            [message["type"] for message in sent],
            ["lifespan.startup.complete", "lifespan.shutdown.complete"],
        )
        self.assertEqual(recorder.events, ["enter a", "enter b", "exit b", "exit a"])

    async def test_failed_startup_reports_and_exits_what_started(self):
        """A context that fails to start → startup.failed; earlier ones are exited."""
        recorder = Recorder()
        app = LifespanMiddleware(
            django_app, [recorder.context("a"), recorder.context("b", fail_on="enter")]
        )

        with self.assertLogs("project.lifespan", "ERROR"):
            sent = await run_lifespan(app)

        self.assertEqual(sent[0]["type"], "lifespan.startup.failed")
        self.assertIn("b cannot start", sent[0]["message"])
        self.assertEqual(recorder.events, ["enter a", "exit a"])

    async def test_failed_shutdown_reports(self):
        """A context that fails to exit → shutdown.failed with its message."""
        recorder = Recorder()
        app = LifespanMiddleware(django_app, [recorder.context("a", fail_on="exit")])

        with self.assertLogs("project.lifespan", "ERROR"):
            sent = await run_lifespan(app)

        self.assertEqual(sent[-1]["type"], "lifespan.shutdown.failed")
        self.assertIn("a cannot stop", sent[-1]["message"])

    async def test_http_scopes_go_to_django(self):
        """Every scope but lifespan is passed to the wrapped application."""
        seen = []

        async def app(scope, receive, send):
            seen.append(scope["type"])

        await LifespanMiddleware(app, [])({"type": "http"}, None, None)

        self.assertEqual(seen, ["http"])

    def test_settings_contexts_are_imported_by_dotted_path(self):
        """ASGI_LIFESPAN entries are dotted paths to async context managers."""
        from project.lifespan import database_pools

        app = LifespanMiddleware(django_app, ["project.lifespan.database_pools"])

        self.assertEqual(app.contexts, [database_pools])


class LifespanUnderUvicornTests(TransactionTestCase):
    def test_uvicorn_runs_startup_and_shutdown(self):
        """uvicorn completes both lifespan phases and never says "unsupported"."""
        with uvicorn_server() as server, urlopen(server.url + "/", timeout=10) as page:
            self.assertEqual(page.status, 200)

        # uvicorn re-raises SIGTERM once it has shut down gracefully.
        self.assertIn(server.process.returncode, (0, -signal.SIGTERM), server.output)
        self.assertIn("Application startup complete.", server.output)
        self.assertIn("Application shutdown complete.", server.output)
        self.assertNotIn(UNSUPPORTED, server.output)
        self.assertNotIn("Traceback", server.output)
        self.assertNotIn("Warning:", server.output)


def _server_connections(application_name: str) -> int:
    """The server's connections to PostgreSQL, told apart by their application_name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )
        return cursor.fetchone()[0]


@skipUnless(
    connection.vendor == "postgresql",
    "Counts the pool's connections in pg_stat_activity: runs on PostgreSQL.",
)
class PoolAtStartupTests(TransactionTestCase):
    def test_the_pool_is_open_and_filled_before_the_first_request(self):
        """After startup, before any request, the pool holds min_size connections;
        after shutdown, none. Django creates the pool closed: reading conn.pool
        alone (what the lifespan did before) connected nothing."""
        # libpq reads PGAPPNAME: every connection of that server carries it.
        name = f"lifespan-pool-{os.getpid()}"
        with uvicorn_server(PGAPPNAME=name, DATABASE_POOL_MIN_SIZE="3"):
            at_startup = _server_connections(name)
        deadline = time.monotonic() + 10
        while (after := _server_connections(name)) and time.monotonic() < deadline:
            time.sleep(0.1)  # a backend leaves pg_stat_activity once it has exited

        self.assertEqual(at_startup, 3)
        self.assertEqual(after, 0)
