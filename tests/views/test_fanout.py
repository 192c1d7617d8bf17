"""The fan-out pairs against the real fake upstream: concurrency, budgets, failures.

Time bounds are generous (twice what the behaviour needs) and still fail when
the calls run one after another, or when a failure waits for the slowest call.
"""

import asyncio
import gc
import json
import time

import pytest
from django.test import SimpleTestCase, override_settings

from tests.servers import FakeUpstream
from tests.twins import prefixes, urls
from topics.upstream.client import http_session

DELAY = 300  # ms per upstream call


async def _settle(upstream: FakeUpstream, cancelled: int) -> None:
    """Give the fake upstream time to notice closed connections: until it has
    counted `cancelled` of them, or 5 s (a loaded machine needs more than 0.2 s)."""
    await asyncio.sleep(0.2)
    for _ in range(48):
        if upstream.stats()["cancelled"] >= cancelled:
            return
        await asyncio.sleep(0.1)


@pytest.mark.usefixtures("upstream")
class FanoutTests(SimpleTestCase):
    async def timed_get(self, url: str, **query):
        started = time.monotonic()
        async with http_session():
            response = await self.async_client.get(url, query)
        return response, time.monotonic() - started

    async def test_sync_twin_calls_one_after_another(self):
        """Three 300 ms calls take at least 900 ms in the sync twin."""
        response, elapsed = await self.timed_get("/sync/upstream/fanout/", delay=DELAY)

        self.assertEqual(response.status_code, 200)
        self.assertGreaterEqual(elapsed, 3 * DELAY / 1000)

    async def test_concurrent_twins_take_about_one_call(self):
        """Threads, TaskGroup and gather: under twice one call's latency."""
        # Every fan-out twin but the sync one, which is sequential by design.
        for prefix in prefixes("upstream_fanout"):
            if prefix == "sync":
                continue
            with self.subTest(twin=prefix):
                response, elapsed = await self.timed_get(
                    f"/{prefix}/upstream/fanout/", delay=DELAY
                )

                self.assertEqual(response.status_code, 200, prefix)
                self.assertEqual(len(response.json()["sources"]), 3)
                self.assertLess(elapsed, 2 * DELAY / 1000, prefix)
        self.assertEqual(self.upstream.stats()["peak_in_flight"], 3)

    async def test_taskgroup_cancels_the_rest_at_the_first_failure(self):
        """orders fails fast: 502 at once, and the slow call is cancelled."""
        response, elapsed = await self.timed_get(
            "/async/upstream/fanout/",
            delay=50,
            broken="orders:500,recommendations:slow",
        )
        await _settle(self.upstream, 1)

        self.assertEqual(response.status_code, 502)
        self.assertEqual(response.json()["error"]["source"], "orders")
        self.assertLess(elapsed, 1.0)
        self.assertEqual(self.upstream.stats()["cancelled"], 1)

    async def test_gather_waits_for_every_call_after_a_failure(self):
        """gather(return_exceptions=True) answers only when the slow call is done."""
        response, elapsed = await self.timed_get(
            "/async-gather/upstream/fanout/",
            delay=50,
            broken="orders:500,recommendations:slow",
        )

        self.assertEqual(response.status_code, 502)
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertEqual(self.upstream.stats()["cancelled"], 0)

    async def test_budget_answers_504_within_the_budget(self):
        """A 200 ms budget over 1 s calls: 504 after about 200 ms, in both twins."""
        for prefix in prefixes("upstream_budget"):
            with self.subTest(twin=prefix):
                response, elapsed = await self.timed_get(
                    f"/{prefix}/upstream/budget/", delay=1000, budget=200
                )

                self.assertEqual(response.status_code, 504, prefix)
                self.assertEqual(response.json()["error"]["code"], "upstream_timeout")
                self.assertGreaterEqual(elapsed, 0.19, prefix)
                self.assertLess(elapsed, 0.6, prefix)

    async def test_budget_cancels_the_calls_still_running(self):
        """When asyncio.timeout() fires, the three calls in flight are cancelled."""
        await self.timed_get("/async/upstream/budget/", delay=1000, budget=200)
        await _settle(self.upstream, 3)

        self.assertEqual(self.upstream.stats()["cancelled"], 3)

    async def test_partial_failure_leaves_no_task_running(self):
        """A slow source times out as an entry; nothing of the request runs on."""
        before = asyncio.all_tasks()
        response, _ = await self.timed_get(
            "/async/upstream/partial/", delay=20, broken="recommendations:slow"
        )
        await _settle(self.upstream, 1)

        entry = response.json()["sources"]["recommendations"]
        self.assertEqual(entry["error"]["code"], "upstream_timeout")
        self.assertEqual(asyncio.all_tasks() - before, set())
        self.assertEqual(self.upstream.stats()["cancelled"], 1)

    async def test_malformed_upstream_json_is_an_entry_or_502_never_500(self):
        """Bad JSON from a source: an error entry, or 502 in the strict fan-out."""
        for url in urls("upstream_partial"):
            with self.subTest(twin=url):
                partial, _ = await self.timed_get(url, delay=0, broken="orders:badjson")

                error = partial.json()["sources"]["orders"]["error"]
                self.assertEqual(error["code"], "upstream_bad_json")
        for url in urls("upstream_fanout"):
            with self.subTest(twin=url):
                strict, _ = await self.timed_get(url, delay=0, broken="orders:badjson")

                self.assertEqual(strict.status_code, 502)
                self.assertEqual(strict.json()["error"]["source"], "orders")

    async def test_bounded_keeps_at_most_limit_in_flight(self):
        """12 items with limit=3: the upstream never sees more than 3 at once."""
        response, elapsed = await self.timed_get(
            "/async/upstream/bounded/", n=12, limit=3, delay=100
        )

        self.assertEqual(len(response.json()["items"]), 12)
        self.assertEqual(self.upstream.stats()["peak_in_flight"], 3)
        # Four waves of 100 ms: more than one wave, far less than twelve.
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 1.2)

    @override_settings(UPSTREAM_DEADLINE=0.5)
    async def test_bounded_answers_504_at_the_deadline(self):
        """n=12, limit=1, 4.9 s calls would take a minute: 504 at the deadline."""
        for prefix in prefixes("upstream_bounded"):
            with self.subTest(twin=prefix):
                response, elapsed = await self.timed_get(
                    f"/{prefix}/upstream/bounded/", n=12, limit=1, delay=4900
                )

                self.assertEqual(response.status_code, 504, prefix)
                self.assertEqual(response.json()["error"]["code"], "upstream_timeout")
                self.assertGreaterEqual(elapsed, 0.45, prefix)
                self.assertLess(elapsed, 3.0, prefix)  # one call alone is 4.9 s

    @override_settings(UPSTREAM_DEADLINE=0.5)
    async def test_bounded_deadline_cancels_the_calls_in_flight(self):
        """At the deadline the async twin cancels what runs; no call is left."""
        before = asyncio.all_tasks()
        await self.timed_get("/async/upstream/bounded/", n=12, limit=3, delay=4900)
        await _settle(self.upstream, 3)

        stats = self.upstream.stats()
        self.assertEqual((stats["requests"], stats["cancelled"]), (3, 3))
        self.assertEqual(asyncio.all_tasks() - before, set())

    async def test_bad_parameters_are_400_naming_them(self):
        """Unknown sources, counts out of range, non-numbers."""
        cases = [
            ("upstream_fanout", {"sources": "profile,profile"}, "sources"),
            ("upstream_fanout", {"broken": "orders:melt"}, "broken"),
            ("upstream_bounded", {"n": "101"}, "n"),
            ("upstream_bounded", {"limit": "0"}, "limit"),
            ("upstream_budget", {"budget": "1.5"}, "budget"),
            ("upstream_cached", {"source": "../admin"}, "source"),
        ]
        for pair_name, query, name in cases:
            for url in urls(pair_name):
                with self.subTest(twin=url, parameter=name):
                    response, _ = await self.timed_get(url, **query)

                    self.assertEqual(response.status_code, 400, (url, query))
                    self.assertEqual(response.json()["error"]["parameter"], name)
        self.assertEqual(self.upstream.stats()["requests"], 0)


@pytest.mark.usefixtures("upstream")
class StreamTests(SimpleTestCase):
    async def test_lines_leave_as_their_sources_answer(self):
        """The first line arrives while the last source is still working."""
        async with http_session():
            response = await self.async_client.get(
                "/async/upstream/stream/", {"delay": 0, "stagger": 400}
            )
            started = time.monotonic()
            arrivals = []
            async for chunk in response:
                arrivals.append((time.monotonic() - started, json.loads(chunk)))

        sources = [line["source"] for _, line in arrivals]
        self.assertEqual(sources, ["profile", "orders", "recommendations"])
        self.assertLess(arrivals[0][0], arrivals[-1][0] - 0.4)  # 0.8 s apart

    async def test_client_leaving_cancels_the_calls_still_running(self):
        """A stream dropped after one line cancels the two calls in flight, while
        the session stays open: the generator's finally does it."""
        before = asyncio.all_tasks()
        async with http_session():
            response = await self.async_client.get(
                "/async/upstream/stream/", {"delay": 0, "stagger": 500}
            )
            lines = aiter(response.streaming_content)
            first = await anext(lines)
            # As Django's handler does when the client leaves: it closes its own
            # iterator and drops the response; asyncio then closes _alines().
            await lines.aclose()
            del response, lines
            gc.collect()  # the test client's response sits in reference cycles
            await _settle(self.upstream, 2)
            # Counted before the session closes, which would break the calls too.
            cancelled = self.upstream.stats()["cancelled"]

        self.assertEqual(json.loads(first)["source"], "profile")
        self.assertEqual(cancelled, 2)
        self.assertEqual(asyncio.all_tasks() - before, set())
