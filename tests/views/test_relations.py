"""The many-to-many writes pair: add, replace, remove; the all-or-nothing rule;
and what awaiting each a*() write on its own does under concurrency."""

import asyncio
import json

import aiohttp
from asgiref.sync import sync_to_async
from django.test import TestCase, TransactionTestCase

from tests.factories import make_topic
from tests.servers import uvicorn_server
from tests.twins import prefixes
from topics.api import INVALID, INVALID_JSON, METHOD_NOT_ALLOWED, NOT_FOUND
from topics.models import Tag, Topic
from topics.services import MAX_TOPIC_TAGS, TOO_MANY_TAGS
from topics.views.relations import INVALID_TAG, TAGS_REQUIRED

# The twins, and the async variant that awaits each related-manager write.


class TopicTagsEditTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="edited", tags=("orm", "django"))
        Tag.objects.create(name="unused")

    async def send(self, prefix: str, method: str, data, slug: str = "edited"):
        body = data if isinstance(data, str) else json.dumps(data)
        return await self.async_client.generic(
            method,
            f"/{prefix}/tags/topics/{slug}/",
            body,
            content_type="application/json",
        )

    async def tag_names(self, slug: str = "edited") -> list[str]:
        topic = await Topic.objects.aget(slug=slug)
        return [
            name
            async for name in topic.tags.order_by("name").values_list("name", flat=True)
        ]

    async def all_tags(self) -> list[str]:
        return [name async for name in Tag.objects.values_list("name", flat=True)]

    async def test_add_creates_the_missing_tags(self):
        """POST adds to what the topic carries; a new name becomes a Tag row."""
        for prefix in prefixes("topic_tags_edit"):
            with self.subTest(twin=prefix):
                response = await self.send(
                    prefix, "POST", {"tags": ["unused", f"new-{prefix}", "orm"]}
                )

                self.assertEqual(response.status_code, 200)
                names = sorted(["django", "orm", "unused", f"new-{prefix}"])
                self.assertEqual(response.json(), {"topic": "edited", "tags": names})
                self.assertEqual(await self.tag_names(), names)
                self.assertIs(
                    await Tag.objects.filter(name=f"new-{prefix}").aexists(), True
                )
                # Back to the starting tags for the next prefix.
                await self.send(prefix, "PUT", {"tags": ["django", "orm"]})

    async def test_replace_remove_and_clear(self):
        """PUT replaces the set, DELETE removes names (ignoring the others), PUT []
        clears; no Tag row is deleted."""
        for prefix in prefixes("topic_tags_edit"):
            with self.subTest(twin=prefix):
                replaced = await self.send(
                    prefix, "PUT", {"tags": ["unused", "django"]}
                )
                removed = await self.send(
                    prefix, "DELETE", {"tags": ["django", "nope", "orm"]}
                )
                after_removal = await self.tag_names()
                cleared = await self.send(prefix, "PUT", {"tags": []})

                self.assertEqual(replaced.json()["tags"], ["django", "unused"])
                self.assertEqual(removed.json()["tags"], ["unused"])
                self.assertEqual(after_removal, ["unused"])
                self.assertEqual(cleared.json(), {"topic": "edited", "tags": []})
                self.assertEqual(await self.tag_names(), [])
                self.assertIs(await Tag.objects.filter(name="nope").aexists(), False)
                self.assertEqual(
                    sorted(await self.all_tags()), ["django", "orm", "unused"]
                )
                await self.send(prefix, "PUT", {"tags": ["django", "orm"]})

    async def test_over_the_limit_nothing_is_written(self):
        """Twenty new names on a topic with two: 400, no new tag, no link. The
        twins' service wrote them, counted, and rolled all of it back; the
        variant counted first and never wrote."""
        names = [f"extra-{number}" for number in range(MAX_TOPIC_TAGS)]
        before = sorted(await self.all_tags())
        for prefix in prefixes("topic_tags_edit"):
            with self.subTest(twin=prefix):
                response = await self.send(prefix, "POST", {"tags": names})

                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"]["code"], INVALID)
                self.assertEqual(
                    response.json()["error"]["fields"], {"tags": [TOO_MANY_TAGS]}
                )
                self.assertEqual(await self.tag_names(), ["django", "orm"])
                self.assertEqual(sorted(await self.all_tags()), before)

    async def test_bad_requests(self):
        """Bad names, a missing list, bad JSON: 400; unknown topic 404; GET 405."""
        too_many = [f"extra-{number}" for number in range(MAX_TOPIC_TAGS + 1)]
        for prefix in prefixes("topic_tags_edit"):
            with self.subTest(twin=prefix):
                bad_name = await self.send(prefix, "POST", {"tags": ["Not A Slug"]})
                missing = await self.send(prefix, "PUT", {})
                not_json = await self.send(prefix, "POST", "{not json")
                unknown = await self.send(
                    prefix, "POST", {"tags": ["orm"]}, slug="nope"
                )
                over = await self.send(prefix, "PUT", {"tags": too_many})
                get = await self.async_client.get(f"/{prefix}/tags/topics/edited/")

                self.assertEqual(bad_name.status_code, 400)
                self.assertEqual(
                    bad_name.json()["error"]["fields"], {"tags": [INVALID_TAG]}
                )
                self.assertEqual(
                    missing.json()["error"]["fields"], {"tags": [TAGS_REQUIRED]}
                )
                self.assertEqual(not_json.status_code, 400)
                self.assertEqual(not_json.json()["error"]["code"], INVALID_JSON)
                self.assertEqual(unknown.status_code, 404)
                self.assertEqual(unknown.json()["error"]["code"], NOT_FOUND)
                self.assertEqual(
                    over.json()["error"]["fields"], {"tags": [TOO_MANY_TAGS]}
                )
                self.assertEqual(get.status_code, 405)
                self.assertEqual(get.json()["error"]["code"], METHOD_NOT_ALLOWED)
                self.assertEqual(get["Allow"], "POST, PUT, DELETE")
                self.assertEqual(await self.tag_names(), ["django", "orm"])

    async def test_concurrent_adds_and_the_rule(self):
        """Two adds at once, each fine alone, too many together: the one-hop twin
        runs them in turn and refuses the second; the variant's awaited writes
        interleave, both pass the check made before writing, and the topic ends
        over the limit."""
        half = MAX_TOPIC_TAGS // 2
        first = [f"first-{number}" for number in range(half)]
        second = [f"second-{number}" for number in range(half)]

        async def both(prefix: str) -> list[int]:
            await self.send(prefix, "PUT", {"tags": ["django", "orm"]})
            responses = await asyncio.gather(
                self.send(prefix, "POST", {"tags": first}),
                self.send(prefix, "POST", {"tags": second}),
            )
            return sorted(response.status_code for response in responses)

        self.assertEqual(await both("async"), [200, 400])
        self.assertEqual(len(await self.tag_names()), 2 + half)

        self.assertEqual(await both("async-native"), [200, 200])
        self.assertEqual(len(await self.tag_names()), 2 + 2 * half)
        self.assertGreater(2 + 2 * half, MAX_TOPIC_TAGS)


class ConcurrentTagEditTests(TransactionTestCase):
    """Over real HTTP, against uvicorn: one thread and one connection per request,
    where the test client would run them all on one connection."""

    def setUp(self):
        self.server = self.enterContext(uvicorn_server())

    async def test_concurrent_adds_keep_the_rule_and_write_nothing_refused(self):
        """Ten adds of three new tags at once to a topic with two: six fit under
        the limit of 20 and are 200, four are 400, and the tags of those four
        were never created (their rollback took them)."""
        per_request, requests = 3, 10
        fits = (MAX_TOPIC_TAGS - 2) // per_request
        # Not the native variant: it checks before writing, so racing adds can
        # both pass (test_concurrent_adds_and_the_rule pins that).
        for prefix in prefixes("topic_tags_edit", variants=False):
            with self.subTest(twin=prefix):
                await sync_to_async(make_topic)(slug=f"raced-{prefix}", tags=("a", "b"))
                bodies = [
                    {"tags": [f"{prefix}-{n}-{k}" for k in range(per_request)]}
                    for n in range(requests)
                ]
                statuses = await self.post_all(
                    f"/{prefix}/tags/topics/raced-{prefix}/", bodies
                )

                self.assertEqual(
                    sorted(statuses), [200] * fits + [400] * (requests - fits)
                )
                names = await self.tag_names(f"raced-{prefix}")
                self.assertEqual(len(names), 2 + fits * per_request)
                created = Tag.objects.filter(name__startswith=f"{prefix}-")
                self.assertEqual(
                    sorted(
                        [name async for name in created.values_list("name", flat=True)]
                    ),
                    sorted(name for name in names if name.startswith(f"{prefix}-")),
                )
        self.assertNotIn("Traceback", self.server.log_so_far())

    async def post_all(self, path: str, bodies: list[dict]) -> list[int]:
        """POST the bodies at once, with a CSRF token; return the statuses."""
        jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(self.server.url, cookie_jar=jar) as http:
            async with http.get("/accounts/login/") as login_page:
                csrf = login_page.cookies["csrftoken"].value
            token = {"X-CSRFToken": csrf, "Cookie": f"csrftoken={csrf}"}

            async def post(body: dict) -> int:
                async with http.post(path, json=body, headers=token) as response:
                    return response.status

            return await asyncio.gather(*(post(body) for body in bodies))

    async def tag_names(self, slug: str) -> list[str]:
        topic = await Topic.objects.aget(slug=slug)
        return [name async for name in topic.tags.values_list("name", flat=True)]
