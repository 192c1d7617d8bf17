"""PostgreSQL restarted under load, served by uvicorn: 503s with Retry-After
while it is down, then 2xx again within seconds, and no acknowledged write lost.
"""

import asyncio
import itertools
import os
import subprocess
import sys
import time
from unittest import skipIf

import aiohttp
from django.conf import settings
from django.test import SimpleTestCase

from tests.faults.outage_support import (
    REQUEST_TIMEOUT,
    UNHANDLED,
    Answer,
    fetch,
    malformed_503s,
    shown,
    unexpected_tracebacks,
)
from tests.pgcluster import Cluster, cluster_unavailable_reason, throwaway_cluster
from tests.servers import Server, requires_postgresql, uvicorn_server
from tests.twins import urls
from topics.models import Author, Topic

AUTHOR = "Ada Lovelace"


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


# Every twin of the list and of the create takes its share of the load.
READS = urls("topic_list")
CREATES = urls("topic_create")


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
        """The number picks the request: a read or a create, and which twin."""
        if number % 2:
            path = READS[number // 2 % len(READS)]
            return await fetch(self.session, "GET", path, phase=lambda: self.phase)
        slug = f"restart-{number}"
        return await fetch(
            self.session,
            "POST",
            CREATES[number // 2 % len(CREATES)],
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
        self.assertIs(all("X-Request-ID" in answer.headers for answer in answers), True)
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
