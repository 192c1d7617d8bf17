"""The many-to-many writes pair: add, replace, remove; the all-or-nothing rule;
and what awaiting each a*() write on its own does under concurrency."""

import asyncio
import json

from django.test import TestCase

from tests.factories import make_topic
from topics.api import INVALID, INVALID_JSON, METHOD_NOT_ALLOWED, NOT_FOUND
from topics.models import Tag, Topic
from topics.services import MAX_TOPIC_TAGS, TOO_MANY_TAGS
from topics.views.relations import INVALID_TAG, TAGS_REQUIRED

# The twins, and the async variant that awaits each related-manager write.
PREFIXES = ("sync", "async", "async-native")


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
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                response = await self.send(
                    prefix, "POST", {"tags": ["unused", f"new-{prefix}", "orm"]}
                )

                self.assertEqual(response.status_code, 200)
                names = sorted(["django", "orm", "unused", f"new-{prefix}"])
                self.assertEqual(response.json(), {"topic": "edited", "tags": names})
                self.assertEqual(await self.tag_names(), names)
                self.assertTrue(
                    await Tag.objects.filter(name=f"new-{prefix}").aexists()
                )
                # Back to the starting tags for the next prefix.
                await self.send(prefix, "PUT", {"tags": ["django", "orm"]})

    async def test_replace_remove_and_clear(self):
        """PUT replaces the set, DELETE removes names (ignoring the others), PUT []
        clears; no Tag row is deleted."""
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
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
                self.assertFalse(await Tag.objects.filter(name="nope").aexists())
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
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
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
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
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
