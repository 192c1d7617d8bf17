"""Hedged requests, the cache in front of a call, retries with backoff."""

import asyncio
import socket
import time
from contextlib import suppress

import pytest
from django.core.cache import cache
from django.test import SimpleTestCase, override_settings

from tests.servers import free_port
from tests.twins import prefixes, urls
from topics.upstream.client import http_session

HEDGE = {"primary_delay": 400, "backup_delay": 20, "hedge_after": 50}


class UpstreamTestCase(SimpleTestCase):
    """A test case whose requests run with the upstream session open."""

    async def get(self, url: str, **query):
        async with http_session():
            return await self.async_client.get(url, query)


@pytest.mark.usefixtures("upstream")
class HedgedTests(UpstreamTestCase):
    async def test_slow_primary_loses_to_the_backup(self):
        """Both twins answer with the backup, well before the primary would."""
        for prefix in prefixes("upstream_hedged"):
            with self.subTest(twin=prefix):
                started = time.monotonic()
                response = await self.get(f"/{prefix}/upstream/hedged/", **HEDGE)
                elapsed = time.monotonic() - started

                self.assertEqual(response.json()["answer"]["replica"], 2, prefix)
                self.assertLess(elapsed, 0.3, prefix)

    async def test_fast_primary_never_asks_the_backup(self):
        """Under hedge_after the primary answers alone: one request upstream."""
        for prefix in prefixes("upstream_hedged"):
            with self.subTest(twin=prefix):
                self.upstream.reset()
                response = await self.get(
                    f"/{prefix}/upstream/hedged/", primary_delay=10, hedge_after=300
                )

                self.assertEqual(response.json()["answer"]["replica"], 1)
                self.assertEqual(self.upstream.stats()["requests"], 1)

    async def test_async_twin_cancels_the_loser(self):
        """The primary's call is cancelled once the backup has answered."""
        await self.get("/async/upstream/hedged/", **HEDGE)
        await asyncio.sleep(0.2)

        self.assertEqual(self.upstream.stats()["cancelled"], 1)

    async def test_sync_twin_cannot_cancel_the_loser(self):
        """In a thread, the primary's call runs to its end after the answer."""
        await self.get("/sync/upstream/hedged/", **HEDGE)
        await asyncio.sleep(0.6)

        stats = self.upstream.stats()
        self.assertEqual((stats["cancelled"], stats["completed"]), (0, 2))


@pytest.mark.usefixtures("upstream")
class CachedTests(SimpleTestCase):
    def setUp(self):
        # delete, not clear(): with Redis, clear() would empty the whole database.
        cache.delete("upstream:orders")

    async def test_second_call_is_a_hit_that_skips_the_upstream(self):
        """A miss fetches and stores; then every twin answers from the cache."""
        twin_urls = urls("upstream_cached")
        async with http_session():
            miss = await self.async_client.get(twin_urls[-1], {"source": "orders"})
            self.assertEqual(miss["X-Cache"], "miss")
            for url in twin_urls:
                with self.subTest(twin=url):
                    hit = await self.async_client.get(url, {"source": "orders"})

                    self.assertEqual(hit["X-Cache"], "hit")
                    self.assertEqual(hit.json(), miss.json())
        self.assertEqual(self.upstream.stats()["requests"], 1)


def _redis_at(port: int) -> dict:
    """A Redis cache at a loopback port, with the timeouts of project/settings.py."""
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    backend = "django.core.cache.backends.redis.RedisCache"
    location = f"redis://127.0.0.1:{port}/0"
    return {"default": {"BACKEND": backend, "LOCATION": location, "OPTIONS": options}}


@pytest.mark.usefixtures("upstream")
class CacheDownTests(UpstreamTestCase):
    async def assert_both_twins_answer_from_the_upstream(self, port: int) -> None:
        twins = prefixes("upstream_cached")
        for prefix in twins:
            with self.subTest(twin=prefix):
                with (
                    override_settings(CACHES=_redis_at(port)),
                    self.assertLogs("topics.views.resilience", "WARNING") as logs,
                ):
                    started = time.monotonic()
                    response = await self.get(f"/{prefix}/upstream/cached/", delay=0)
                    elapsed = time.monotonic() - started

                self.assertEqual(response.status_code, 200, prefix)
                self.assertEqual(response["X-Cache"], "miss")
                self.assertEqual(response.json()["data"]["source"], "profile")
                self.assertLess(elapsed, 2.0, prefix)
                self.assertIn("The cache failed", logs.output[0])
        self.assertEqual(self.upstream.stats()["requests"], len(twins))

    async def test_refused_cache_is_a_miss(self):
        """Nothing listens where Redis should be: 200 from the upstream."""
        await self.assert_both_twins_answer_from_the_upstream(free_port())

    async def test_silent_cache_is_a_miss_without_a_store(self):
        """Redis accepts but never answers: 200 after the socket timeout, and no
        second connection to try a store."""
        with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:
            port = silent.getsockname()[1]
            await self.assert_both_twins_answer_from_the_upstream(port)

            silent.setblocking(False)
            connections = []
            with suppress(BlockingIOError):
                while True:
                    connections.append(silent.accept()[0])
        for connection in connections:
            connection.close()
        # One per twin: a get, no set.
        self.assertEqual(len(connections), len(prefixes("upstream_cached")))


@pytest.mark.usefixtures("upstream")
class RetryTests(UpstreamTestCase):
    async def test_get_is_retried_with_backoff_until_it_succeeds(self):
        """Two failures, then success: three GETs, 50 + 100 ms of backoff."""
        for prefix in prefixes("upstream_retry"):
            with self.subTest(twin=prefix):
                self.upstream.reset()
                started = time.monotonic()
                response = await self.get(f"/{prefix}/upstream/retry/", fail_times=2)
                elapsed = time.monotonic() - started

                self.assertEqual(response.json()["attempts"], 3, prefix)
                self.assertEqual(self.upstream.stats()["GET orders"], 3)
                self.assertGreaterEqual(elapsed, 0.15)

    async def test_get_gives_up_after_three_attempts(self):
        """Three failures: 502 that says so, and no fourth attempt."""
        for prefix in prefixes("upstream_retry"):
            with self.subTest(twin=prefix):
                self.upstream.reset()
                response = await self.get(f"/{prefix}/upstream/retry/", fail_times=3)

                self.assertEqual(response.status_code, 502)
                self.assertEqual(
                    response.json()["error"]["message"],
                    "orders: HTTP 503 (after 3 attempts)",
                )
                self.assertEqual(self.upstream.stats()["GET orders"], 3)

    async def test_post_is_never_retried(self):
        """A POST that failed may have taken effect: one attempt only."""
        for prefix in prefixes("upstream_retry"):
            with self.subTest(twin=prefix):
                self.upstream.reset()
                response = await self.get(
                    f"/{prefix}/upstream/retry/", fail_times=1, method="POST"
                )

                self.assertEqual(response.status_code, 502)
                self.assertEqual(self.upstream.stats()["POST orders"], 1)
