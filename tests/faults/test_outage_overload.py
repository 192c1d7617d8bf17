"""An overload at twice the database pools' capacity, served by gunicorn: each
request gets a 200 or a quick 503, and the server's connections stay within
pool size x workers.
"""

import asyncio
import itertools
import statistics
import time
from collections import Counter

import aiohttp
import psycopg
from django.test import TransactionTestCase

from tests.factories import make_topic
from tests.faults.outage_support import (
    REQUEST_TIMEOUT,
    UNHANDLED,
    Answer,
    fetch,
    logged_503s,
    malformed_503s,
    shown,
    unexpected_tracebacks,
)
from tests.servers import database_url, gunicorn_server, requires_postgresql
from tests.twins import urls


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


WORKERS = 2
POOL_MAX_SIZE = 3
POOL_MAX_WAITING = 3
POOL_TIMEOUT = 1
# Requests that can hold or wait for a connection at once, over all workers.
CAPACITY = WORKERS * (POOL_MAX_SIZE + POOL_MAX_WAITING)
CLIENTS = 2 * CAPACITY
OVERLOAD_SECONDS = 5
APPLICATION_NAME = "asyncref-overload"
# JSON, HTML and streamed answers, from every twin of each pair: each must
# turn an overload into a 503.
OVERLOAD_PATHS = (
    *urls("topic_list"),
    *urls("topic_stats"),
    *urls("topic_page"),
    *urls("export_stream"),
)
# Queueing is bounded: a request waits for a connection at most the pool
# timeout; the margin covers busy event loops sharing two cores with PostgreSQL.
SLOWEST_ANSWER = POOL_TIMEOUT + 4
FULL_QUEUE = "requests waiting"  # psycopg_pool.TooManyRequests' message
POOL_TIMED_OUT = "couldn't get a connection"  # psycopg_pool.PoolTimeout's


class OverloadLoad:
    """Clients that each send the next request as soon as the last is answered."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.answers: list[Answer] = []
        self.numbers = itertools.count()
        self.running = True
        self.connections: list[int] = []  # the server's, sampled every 50 ms

    async def client(self) -> None:
        while self.running:
            path = OVERLOAD_PATHS[next(self.numbers) % len(OVERLOAD_PATHS)]
            answer = await fetch(self.session, "GET", path, phase=lambda: "overload")
            self.answers.append(answer)

    async def sample_connections(self, conninfo: str) -> None:
        """Count the server's connections in pg_stat_activity, on a connection
        of our own (it has another application_name)."""
        async with await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True
        ) as conn:
            while self.running:
                cursor = await conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [APPLICATION_NAME],
                )
                (count,) = await cursor.fetchone()
                self.connections.append(count)
                await asyncio.sleep(0.05)


@requires_postgresql
class OverloadTests(TransactionTestCase):
    def setUp(self) -> None:
        for number in range(20):
            make_topic(slug=f"overload-{number}", tags=("django", f"tag-{number % 5}"))

    def test_twice_the_capacity_answers_200_or_a_quick_503(self) -> None:
        """Twice the capacity: 200 or a quick 503; connections <= pool x workers."""
        started = time.monotonic()
        with gunicorn_server(
            workers=WORKERS,
            DATABASE_URL=f"{database_url()}?application_name={APPLICATION_NAME}",
            DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
            DATABASE_POOL_MAX_WAITING=str(POOL_MAX_WAITING),
            DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT),
        ) as server:
            load = asyncio.run(self.overload(server.url))
        answers = load.answers
        statuses = Counter(answer.status for answer in answers)
        latencies = [answer.latency for answer in answers]
        latencies_503 = [a.latency for a in answers if a.status == 503] or [0.0]
        print(
            f"\noverload: {len(answers)} requests from {CLIENTS} clients,"
            f" {time.monotonic() - started:.1f} s; statuses {dict(statuses)}"
            f" (503s: {logged_503s(server.output, FULL_QUEUE)} full queue,"
            f" {logged_503s(server.output, POOL_TIMED_OUT)} pool timeout);"
            f" connections max {max(load.connections)}, {len(load.connections)}"
            f" samples; latency p50 {statistics.median(latencies):.3f} s,"
            f" p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s;"
            f" 503 p50 {statistics.median(latencies_503):.3f} s,"
            f" max {max(latencies_503):.3f} s"
        )

        others = [a for a in answers if a.status not in (200, 503)]
        self.assertEqual(shown(others), [])
        self.assertGreater(statuses[200], 0)
        # The overload path was taken, and answered as it should be.
        self.assertGreater(statuses[503], 0, "no 503: the load is not an overload")
        self.assertEqual(shown(malformed_503s(answers)), [])
        self.assertIs(all("X-Request-ID" in answer.headers for answer in answers), True)
        slow = [a for a in answers if a.latency > SLOWEST_ANSWER]
        self.assertEqual([(a.path, a.status, a.latency) for a in slow], [])
        self.assertGreater(max(load.connections), 0)
        self.assertLessEqual(max(load.connections), POOL_MAX_SIZE * WORKERS)
        self.assertNotIn(UNHANDLED, server.output)
        self.assertEqual(unexpected_tracebacks(server.output), [])

    async def overload(self, url: str) -> OverloadLoad:
        """CLIENTS clients for OVERLOAD_SECONDS, and the connection sampler."""
        # One connection per client: aiohttp's limit must not queue them here.
        connector = aiohttp.TCPConnector(limit=CLIENTS)
        async with aiohttp.ClientSession(
            url, connector=connector, timeout=REQUEST_TIMEOUT
        ) as session:
            load = OverloadLoad(session)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(load.sample_connections(database_url()))
                for _ in range(CLIENTS):
                    tasks.create_task(load.client())
                await asyncio.sleep(OVERLOAD_SECONDS)
                load.running = False
        return load
