"""Database faults under load, against real servers: PostgreSQL restarted under
uvicorn, and an overload at twice the pools' capacity under gunicorn.

A fault may cost a client a 503 with Retry-After, never a 500 and never an
acknowledged write; the server's connections stay within its pools.
"""

import asyncio
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from unittest import skipIf

import aiohttp
import psycopg
from django.conf import settings
from django.test import SimpleTestCase, TransactionTestCase
from multidict import CIMultiDict

from tests.factories import make_topic
from tests.pgcluster import Cluster, cluster_unavailable_reason, throwaway_cluster
from tests.servers import (
    Server,
    database_url,
    gunicorn_server,
    requires_postgresql,
    uvicorn_server,
)
from topics.models import Author, Topic

AUTHOR = "Ada Lovelace"
# Django's log message for an unhandled exception, that is for every 500.
UNHANDLED = "Internal Server Error"
# What topics.api logs, with the cause's traceback, for each 503.
SERVICE_UNAVAILABLE = "Service Unavailable ("
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)
# The first line of a log record: the app's format, gunicorn's, uvicorn's.
LOG_RECORD = re.compile(
    r"\d{4}-\d\d-\d\d [\d:,]+ [A-Z]+ |\[[^]]+\] \[\d+\] \[[A-Z]+\] |[A-Z]+: "
)
ACCESS_LOG = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" \d{3}')


@dataclass(frozen=True)
class Answer:
    """One response as the client saw it, and when (time.monotonic())."""

    phase: str
    method: str
    path: str
    status: int  # 0: no response (the connection broke, or the client timed out)
    headers: CIMultiDict
    body: object  # the decoded JSON, or the text when it is not JSON
    slug: str | None
    sent: float
    done: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.done - self.sent

    @property
    def outcome(self) -> str:
        """2xx, 503 or other: the three outcomes the counts report."""
        return "2xx" if self.ok else "503" if self.status == 503 else "other"


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    phase: Callable[[], str],
    slug: str | None = None,
    **kwargs,
) -> Answer:
    """Send one request; record its answer, tagged with the phase it ended in."""
    sent = time.monotonic()
    try:
        async with session.request(method, path, **kwargs) as response:
            raw = await response.read()
            status, headers = response.status, CIMultiDict(response.headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        # Recorded, not raised: the assertions show it beside the other answers.
        status, headers, raw = 0, CIMultiDict(), repr(exc).encode()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")
    done = time.monotonic()
    return Answer(phase(), method, path, status, headers, body, slug, sent, done)


async def csrf_headers(session: aiohttp.ClientSession) -> dict[str, str]:
    """The CSRF cookie from the login page, to send back as header and cookie."""
    async with session.get("/accounts/login/") as login_page:
        csrf = login_page.cookies["csrftoken"].value
    return {"X-CSRFToken": csrf, "Cookie": f"csrftoken={csrf}"}


def tally(answers: list[Answer], phases: tuple[str, ...]) -> dict[str, dict]:
    """Per phase, how many answers had each outcome."""
    counts = {phase: dict.fromkeys(("2xx", "503", "other"), 0) for phase in phases}
    for answer in answers:
        counts[answer.phase][answer.outcome] += 1
    return counts


def malformed_503s(answers: list[Answer]) -> list[Answer]:
    """The 503s without Retry-After or without the service_unavailable error."""
    retry_after = str(settings.DATABASE_RETRY_AFTER)
    return [
        answer
        for answer in answers
        if answer.status == 503
        and not (
            answer.headers.get("Retry-After") == retry_after
            and isinstance(answer.body, dict)
            and answer.body.get("error", {}).get("code") == "service_unavailable"
        )
    ]


def shown(answers: list[Answer], limit: int = 5) -> list[tuple]:
    """A few answers, compactly, for an assertion message."""
    return [(a.phase, a.method, a.path, a.status, a.body) for a in answers[:limit]]


def unexpected_tracebacks(log: str) -> list[str]:
    """The log records with a traceback, other than those of the 503s."""
    record, found = "", []
    for line in log.splitlines():
        if LOG_RECORD.match(line) and not ACCESS_LOG.search(line):
            record = line
        elif (
            line.startswith("Traceback (most recent call last)")
            and SERVICE_UNAVAILABLE not in record
            and record not in found
        ):
            found.append(record)
    return found


def logged_503s(log: str, cause: str) -> int:
    """How many 503s the server logged with this cause."""
    return sum(
        SERVICE_UNAVAILABLE in line and cause in line for line in log.splitlines()
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- PostgreSQL restarted during load ---------------------------------------

RESTART_PHASES = ("before", "outage", "recovery", "after")
RESTART_CLIENTS = 4
BEFORE_SECONDS = 2
OUTAGE_SECONDS = 3
AFTER_SECONDS = 3
# A request waits this long for a pooled connection before its 503.
RESTART_POOL_TIMEOUT = 1
# Requests already waiting on the pool when the first one succeeds may still
# time out: twice the pool timeout covers them.
RECOVERY_GRACE = 2 * RESTART_POOL_TIMEOUT
# psycopg_pool retries a failed connection with exponential backoff (1 s, 2 s,
# 4 s, … from the outage's start): back after a few seconds, not at once.
RECOVERY_LIMIT = 20
# Long enough for that backoff to reach 8 s, then 16 s, with psycopg_pool's
# default reconnect_timeout (300 s): the app answered 503 for up to 10.6 s
# after a 30 s outage had ended.
LONG_OUTAGE_SECONDS = 18
# With DATABASE_POOL_RECONNECT_TIMEOUT (5 s) the pool gives up its attempt and
# the next request connects at once: back within a pause of 2-4 s, plus the
# requests already waiting on the pool.
LONG_OUTAGE_RECOVERY = 4 + RESTART_POOL_TIMEOUT


class RestartLoad:
    """Steady traffic from a few clients: list reads and creates, on both twins."""

    def __init__(self, session: aiohttp.ClientSession, csrf: dict[str, str]) -> None:
        self.session = session
        self.csrf = csrf
        self.phase = "before"
        self.answers: list[Answer] = []
        self.numbers = itertools.count(1)
        self.running = True
        self.restarted: float | None = None  # when PostgreSQL was back up
        self.first_success: Answer | None = None  # the first one sent after that
        self.recovered = asyncio.Event()

    async def send(self, number: int) -> Answer:
        """The number picks the request: a read or a create, sync or async twin."""
        prefix = ("sync", "async")[number % 2]
        if number % 4 < 2:
            return await fetch(
                self.session, "GET", f"/{prefix}/topics/", phase=lambda: self.phase
            )
        slug = f"restart-{number}"
        return await fetch(
            self.session,
            "POST",
            f"/{prefix}/create/",
            phase=lambda: self.phase,
            slug=slug,
            json={"title": slug, "slug": slug, "body": "b", "author": AUTHOR},
            headers=self.csrf,
        )

    async def client(self) -> None:
        while self.running:
            answer = await self.send(next(self.numbers))
            self.answers.append(answer)
            if (
                answer.ok
                and self.restarted is not None
                and answer.sent >= self.restarted
                and not self.recovered.is_set()
            ):
                self.first_success = answer
                self.recovered.set()
            # Steady traffic, not a flood: the outage, not the load, is tested.
            await asyncio.sleep(0.01)


def migrate(cluster: Cluster) -> None:
    """Create the app's tables in the cluster, and the author the creates name."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": cluster.url},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"migrate failed:\n{result.stdout}{result.stderr}")
    with cluster.connect() as conn:
        conn.execute(
            f"INSERT INTO {Author._meta.db_table} (name) VALUES (%s)", [AUTHOR]
        )


def stored_topics(cluster: Cluster) -> dict[str, int]:
    """The topics the load created, as {slug: id}, read from the cluster itself."""
    with cluster.connect() as conn:
        rows = conn.execute(
            f"SELECT slug, id FROM {Topic._meta.db_table} WHERE slug LIKE 'restart-%'"
        ).fetchall()
    return dict(rows)


@requires_postgresql
@skipIf(cluster_unavailable_reason(), cluster_unavailable_reason())
class RestartTests(SimpleTestCase):
    """Its own throwaway cluster: the shared server is never stopped."""

    def restart(self, outage: float) -> tuple[RestartLoad, Server, dict[str, int]]:
        """Serve under load, stop the cluster for `outage` seconds, start it again."""
        started = time.monotonic()
        with throwaway_cluster() as cluster:
            migrate(cluster)
            with uvicorn_server(
                DATABASE_URL=cluster.url,
                DATABASE_POOL_TIMEOUT=str(RESTART_POOL_TIMEOUT),
            ) as server:
                load = asyncio.run(self.drive(server.url, cluster, outage))
            stored = stored_topics(cluster)
        recovery = load.first_success.done - load.restarted
        print(
            f"\nrestart after {outage} s: {len(load.answers)} requests,"
            f" {time.monotonic() - started:.1f} s; first success {recovery:.2f} s"
            f" after PostgreSQL was back; {tally(load.answers, RESTART_PHASES)}"
        )
        return load, server, stored

    def test_restart_under_load_503s_then_recovers_and_keeps_writes(self) -> None:
        """PostgreSQL restarted under load: 503s while down, then 2xx, no write lost."""
        load, server, stored = self.restart(OUTAGE_SECONDS)
        answers = load.answers
        counts = tally(answers, RESTART_PHASES)

        others = [a for a in answers if a.status not in (200, 201, 503)]
        self.assertEqual(shown(others), [])
        self.assertEqual(counts["before"]["503"], 0)
        self.assertGreater(counts["before"]["2xx"], 0)
        # The outage path was taken, and answered as it should be.
        self.assertGreater(counts["outage"]["503"], 0, counts)
        self.assertEqual(shown(malformed_503s(answers)), [])
        self.assertTrue(all("X-Request-ID" in answer.headers for answer in answers))
        # Back for good: after the grace, nothing but 2xx.
        self.assertEqual(
            shown([a for a in answers if a.phase == "after" and not a.ok]), []
        )
        self.assertGreater(counts["after"]["2xx"], 10, counts)
        # Every acknowledged write survived the restart, under its id.
        created = {a.slug: a.body["id"] for a in answers if a.status == 201}
        self.assertTrue(created)
        self.assertEqual({slug: stored.get(slug) for slug in created}, created)
        self.assertNotIn(UNHANDLED, server.output)
        self.assertEqual(unexpected_tracebacks(server.output), [])

    def test_after_a_long_outage_the_pool_reconnects_within_seconds(self) -> None:
        """The pool's reconnect backoff must not keep answering 503 long after the
        database is back (DATABASE_POOL_RECONNECT_TIMEOUT)."""
        load, server, _ = self.restart(LONG_OUTAGE_SECONDS)

        recovery = load.first_success.done - load.restarted
        self.assertLess(recovery, LONG_OUTAGE_RECOVERY)
        self.assertEqual(
            shown([a for a in load.answers if a.status not in (200, 201, 503)]), []
        )
        self.assertNotIn(UNHANDLED, server.output)

    async def drive(self, url: str, cluster: Cluster, outage: float) -> RestartLoad:
        """Load before, during and after the outage; return what it recorded."""
        jar = aiohttp.DummyCookieJar()  # the one cookie needed is sent by hand
        async with aiohttp.ClientSession(
            url, cookie_jar=jar, timeout=REQUEST_TIMEOUT
        ) as session:
            load = RestartLoad(session, await csrf_headers(session))
            async with asyncio.TaskGroup() as clients:
                for _ in range(RESTART_CLIENTS):
                    clients.create_task(load.client())
                try:
                    await self.stage_outage(load, cluster, outage)
                finally:
                    load.running = False
        return load

    async def stage_outage(
        self, load: RestartLoad, cluster: Cluster, outage: float
    ) -> None:
        """Stop the cluster for a while, start it, and load it until well after."""
        await asyncio.sleep(BEFORE_SECONDS)
        # Set first: a request in flight when the server stops may end in a 503.
        load.phase = "outage"
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(outage)
        await asyncio.to_thread(cluster.start)
        load.restarted = time.monotonic()
        load.phase = "recovery"
        try:
            await asyncio.wait_for(load.recovered.wait(), RECOVERY_LIMIT)
        except TimeoutError:
            self.fail(f"No success within {RECOVERY_LIMIT} s of the restart.")
        await asyncio.sleep(load.first_success.done + RECOVERY_GRACE - time.monotonic())
        load.phase = "after"
        await asyncio.sleep(AFTER_SECONDS)


# --- Overload at twice the capacity, under gunicorn --------------------------

WORKERS = 2
POOL_MAX_SIZE = 3
POOL_MAX_WAITING = 3
POOL_TIMEOUT = 1
# Requests that can hold or wait for a connection at once, over all workers.
CAPACITY = WORKERS * (POOL_MAX_SIZE + POOL_MAX_WAITING)
CLIENTS = 2 * CAPACITY
OVERLOAD_SECONDS = 5
APPLICATION_NAME = "asyncref-overload"
# JSON, HTML and streamed answers: each must turn an overload into a 503.
OVERLOAD_PATHS = (
    *("/sync/topics/", "/async/topics/", "/sync/stats/", "/async/stats/"),
    *("/sync/html/topics/", "/async/html/topics/"),
    *("/sync/exports/stream/", "/async/exports/stream/"),
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
        self.assertTrue(all("X-Request-ID" in answer.headers for answer in answers))
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
