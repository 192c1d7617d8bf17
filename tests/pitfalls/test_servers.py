"""Under a real uvicorn: a request's thread waiting on itself hangs the request
and the server's shutdown; the sync cache API makes requests take turns."""

import asyncio
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import urlopen

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.test import SimpleTestCase, TransactionTestCase

from tests.factories import make_topic
from tests.servers import Server, modules_on_path, uvicorn_server
from topics.audit.code import scan_source
from topics.pitfalls import servers
from topics.pitfalls.servers import GREETING_KEY

# uvicorn logs it once its socket listens ("Application startup complete"
# comes before the bind: a request sent then may be refused).
STARTED = "Uvicorn running on"
MODULES = {
    "pitfall_urls": """\
from django.urls import path

from topics.pitfalls import servers

urlpatterns = [
    path(f"{name}/", getattr(servers, name))
    for name in (
        "wrong_slug_pipeline",
        "right_slug_pipeline",
        "wrong_greeting",
        "right_greeting",
    )
]
""",
    "pitfall_settings": """\
from project.settings import *  # noqa: F403

ROOT_URLCONF = "pitfall_urls"
""",
}
# The Redis the tests may use: REDIS_URL's, or a local one (database 6, which
# the other tests leave alone).
REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/6"
CACHE_DELAY = 0.05  # seconds the slow cache holds each reply
CONCURRENT_REQUESTS = 8


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    """GET the URL: the status and the body, whatever the status."""
    try:
        with urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except HTTPError as error:
        with error:
            return error.code, error.read()


def wait_for_log(server: Server, text: str, timeout: float = 20) -> None:
    """Wait until the server has logged `text`."""
    deadline = time.monotonic() + timeout
    while text not in server.log_so_far():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged:\n{server.log_so_far()}")
        time.sleep(0.1)


class ServerTestCase(TransactionTestCase):
    def setUp(self):
        self.modules = self.enterContext(modules_on_path(MODULES))

    def serve(self, **kwargs) -> Server:
        """A uvicorn serving the pitfalls' views; yields before it listens."""
        return self.enterContext(
            uvicorn_server(
                DJANGO_SETTINGS_MODULE="pitfall_settings",
                listening=False,
                **self.modules,
                **kwargs,
            )
        )


class ThreadSensitiveWaitTests(ServerTestCase):
    def test_the_request_and_the_server_hang(self):
        """The wrong pipeline never answers; after SIGTERM plain uvicorn waits for
        it for good, and a graceful timeout only abandons its thread."""
        make_topic(slug="ada")
        make_topic(slug="grace")
        plain = self.serve(plain=True)  # uvicorn's default: no graceful timeout
        bounded = self.serve(GRACEFUL_SHUTDOWN_TIMEOUT="1")
        for server in (plain, bounded):
            wait_for_log(server, STARTED)

        right = get(f"{plain.url}/right_slug_pipeline/")
        with ThreadPoolExecutor(2) as pool:
            waits = [
                pool.submit(get, f"{server.url}/wrong_slug_pipeline/", timeout=1.5)
                for server in (plain, bounded)
            ]
        for server in (plain, bounded):
            server.process.send_signal(signal.SIGTERM)
        # A server with nothing to wait for stops within a second: give it three.
        with self.assertRaises(subprocess.TimeoutExpired):
            plain.process.wait(timeout=3)
        plain.process.kill()
        plain.process.wait()
        bounded.process.wait(timeout=10)  # 1 s of grace, then the shutdown

        self.assertEqual(right, (200, b"ada\ngrace\n"))
        for wait in waits:
            self.assertIsInstance(wait.exception(), TimeoutError)
        self.assertIn(
            "Waiting for background tasks to complete. (CTRL+C to force quit)",
            plain.log_so_far(),
        )
        self.assertNotIn("Finished server process", plain.log_so_far())
        self.assertIn(
            "Cancel 1 running task(s), timeout graceful shutdown exceeded",
            bounded.log_so_far(),
        )
        # uvicorn exits by raising the SIGTERM it caught, once it has shut down.
        self.assertEqual(bounded.process.returncode, -signal.SIGTERM)


@contextmanager
def slow_proxy(target: str, delay: float) -> Iterator[int]:
    """A TCP proxy to `target` ("host:port") that holds each reply `delay`
    seconds, served from a thread; yields its port."""
    started = threading.Event()
    state: dict = {}

    async def pump(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        try:
            while data := await reader.read(65536):
                await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = target.split(":")
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                host, int(port)
            )
        except OSError:
            writer.close()
            raise
        await asyncio.gather(
            pump(reader, upstream_writer, 0),
            pump(upstream_reader, writer, delay),
            return_exceptions=True,
        )

    async def serve() -> None:
        relays: set[asyncio.Task] = set()

        def accepted(reader, writer) -> None:
            task = asyncio.ensure_future(relay(reader, writer))
            relays.add(task)
            task.add_done_callback(relays.discard)

        server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        state["port"] = server.sockets[0].getsockname()[1]
        state["loop"], state["stop"] = asyncio.get_running_loop(), asyncio.Event()
        started.set()
        await state["stop"].wait()
        for task in list(relays):
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        server.close()
        await server.wait_closed()

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    started.wait(timeout=10)
    try:
        yield state["port"]
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(timeout=10)


def get_all(
    url: str, requests: int = CONCURRENT_REQUESTS
) -> tuple[float, list[tuple[int, dict]]]:
    """GET the URL that many times at once: seconds until the last answer, and
    the answers."""
    started = time.monotonic()
    with ThreadPoolExecutor(requests) as pool:
        answers = list(pool.map(get, [url] * requests))
    seconds = time.monotonic() - started
    return seconds, [(status, json.loads(body)) for status, body in answers]


class SyncCacheTests(ServerTestCase):
    def setUp(self):
        super().setUp()
        redis = RedisCache(REDIS_URL, {})
        redis.set(GREETING_KEY, "Hello")
        self.addCleanup(redis.delete, GREETING_KEY)

    def test_sync_cache_calls_take_turns_on_the_loop(self):
        """cache.get() blocks the loop: requests wait in turn; aget() overlaps."""
        address = urlsplit(REDIS_URL)
        port = self.enterContext(slow_proxy(address.netloc, CACHE_DELAY))
        server = self.serve(REDIS_URL=f"redis://127.0.0.1:{port}{address.path}")
        wait_for_log(server, STARTED)
        get(f"{server.url}/wrong_greeting/")  # imports the URLconf
        # What one request costs alone: under ASGI each request has a cache
        # backend, so a connection, of its own: a few round trips to Redis.
        alone, _ = get_all(f"{server.url}/wrong_greeting/", requests=1)

        wrong_seconds, wrong = get_all(f"{server.url}/wrong_greeting/")
        right_seconds, right = get_all(f"{server.url}/right_greeting/")

        hello = (200, {"greeting": "Hello"})
        self.assertEqual(wrong, [hello] * CONCURRENT_REQUESTS)
        self.assertEqual(right, [hello] * CONCURRENT_REQUESTS)
        self.assertGreaterEqual(alone, CACHE_DELAY)
        # Each blocking get() holds the loop for at least one delayed reply:
        # taken in turn, the eight cannot take less than eight delays.
        self.assertGreaterEqual(wrong_seconds, CONCURRENT_REQUESTS * CACHE_DELAY)
        # Half of "one after another" parts the two (measured: 0.84-0.98 of it
        # in turn, 1.1-1.4 requests' time overlapped), wide of a one-off
        # slow `alone` on a busy machine.
        in_turn = CONCURRENT_REQUESTS * alone
        self.assertGreater(wrong_seconds, in_turn / 2)
        self.assertLess(right_seconds, in_turn / 2)


class ServerPitfallAuditTests(SimpleTestCase):
    def test_the_audit_reports_the_sync_cache_call(self):
        """The code scan sees cache.get() in wrong_greeting(), not aget()."""
        source = Path(servers.__file__).read_text()

        findings = scan_source(source, "topics/pitfalls/servers.py")

        sync_cache = [f for f in findings if f.code == "code.sync-cache"]
        self.assertEqual([f.level for f in sync_cache], ["warning"])
        self.assertIn("in async def wrong_greeting()", sync_cache[0].message)
