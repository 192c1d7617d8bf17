"""Concurrent writes over real HTTP, against uvicorn: nothing lost, nothing doubled.

These run against the real server (one thread per request, each with its own
database connection) because the test client serialises a test's queries on
one connection, which would hide every race.
"""

import asyncio

import aiohttp
from django.test import TransactionTestCase

from tests.factories import make_topic
from tests.servers import uvicorn_server
from tests.twins import prefixes
from topics.models import Topic

REQUESTS = 15
CREATES = 200


class ConcurrentWriteTests(TransactionTestCase):
    def setUp(self):
        make_topic(slug="contended", title="Start")
        # Retry-After 1 s: the clients below honour it.
        self.server = self.enterContext(uvicorn_server(DATABASE_RETRY_AFTER="1"))

    async def send_at_once(self, method: str, path: str, bodies: list[dict]) -> list:
        """Send the requests together, with a CSRF token; return (status, JSON)."""
        jar = aiohttp.DummyCookieJar()  # the one cookie needed is sent by hand
        async with aiohttp.ClientSession(self.server.url, cookie_jar=jar) as session:
            async with session.get("/accounts/login/") as login_page:
                csrf = login_page.cookies["csrftoken"].value
            token = {"X-CSRFToken": csrf, "Cookie": f"csrftoken={csrf}"}

            async def send(body: dict) -> tuple[int, dict]:
                async with session.request(method, path, json=body, headers=token) as r:
                    return r.status, await r.json()

            return await asyncio.gather(*(send(body) for body in bodies))

    async def test_concurrent_updates_lose_no_revision(self):
        """N updates at once through each twin → the revision grows by exactly N."""
        expected_revision = 1
        for prefix in prefixes("topic_update"):
            with self.subTest(twin=prefix):
                answers = await self.send_at_once(
                    "PATCH",
                    f"/{prefix}/topics/contended/edit/",
                    [{"title": f"{prefix} {number}"} for number in range(REQUESTS)],
                )

                self.assertEqual([status for status, _ in answers], [200] * REQUESTS)
                revisions = sorted(body["revision"] for _, body in answers)
                self.assertEqual(
                    revisions,
                    list(
                        range(expected_revision + 1, expected_revision + REQUESTS + 1)
                    ),
                )
                expected_revision += REQUESTS
        topic = await Topic.objects.aget(slug="contended")
        self.assertEqual(topic.revision, 1 + REQUESTS * len(prefixes("topic_update")))

    async def test_concurrent_creates_of_one_slug_make_one_topic(self):
        """The same slug created N times at once → one 201, the rest 400, no 500."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                slug = f"raced-{prefix}"
                body = {
                    "title": "Race",
                    "slug": slug,
                    "body": "b",
                    "author": "Ada Lovelace",
                }

                answers = await self.send_at_once(
                    "POST", f"/{prefix}/create/", [body] * REQUESTS
                )

                statuses = sorted(status for status, _ in answers)
                self.assertEqual(statuses, [201] + [400] * (REQUESTS - 1), prefix)
                errors = [
                    body["error"]["fields"] for status, body in answers if status == 400
                ]
                self.assertIs(
                    all(list(fields) == ["slug"] for fields in errors), True, errors
                )
                self.assertEqual(await Topic.objects.filter(slug=slug).acount(), 1)
        self.assertNotIn("Traceback", self.server.log_so_far())

    async def test_200_concurrent_creates_make_exactly_200_rows(self):
        """200 creates at once, both twins, 503s retried with their keys: 200 rows."""
        jar = aiohttp.DummyCookieJar()
        retries = []
        async with aiohttp.ClientSession(self.server.url, cookie_jar=jar) as session:
            async with session.get("/accounts/login/") as login_page:
                csrf = login_page.cookies["csrftoken"].value

            async def create(number: int) -> int:
                prefix = prefixes("topic_create")[number % 2]
                headers = {
                    "X-CSRFToken": csrf,
                    "Cookie": f"csrftoken={csrf}",
                    "Idempotency-Key": f"bulk-{number}",
                }
                body = {
                    "title": f"Bulk {number}",
                    "slug": f"bulk-{number}",
                    "body": "b",
                    "author": "Ada Lovelace",
                }
                while True:
                    async with session.post(
                        f"/{prefix}/create/", json=body, headers=headers
                    ) as response:
                        # Past the pool's bound on waiting requests: come back later.
                        if response.status != 503:
                            return response.status
                        retries.append(number)
                        await asyncio.sleep(int(response.headers["Retry-After"]))

            statuses = await asyncio.gather(*(create(n) for n in range(CREATES)))

        self.assertEqual(statuses, [201] * CREATES)
        self.assertEqual(
            await Topic.objects.filter(slug__startswith="bulk-").acount(), CREATES
        )
        self.assertNotIn("Internal Server Error", self.server.log_so_far())
        print(f"200 creates: {len(retries)} answers were 503, retried")
