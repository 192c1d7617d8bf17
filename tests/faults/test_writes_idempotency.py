"""Idempotency keys: a replay is the first answer byte for byte, and keys expire."""

import json
from datetime import timedelta

from django.test import TestCase, override_settings
from django.utils import timezone

from tests.factories import make_topic
from tests.twins import prefixes
from tests.views.test_writes import new_topic
from topics.models import IdempotencyKey, Topic

MAX_AGE = 60


class ReplayAndExpiryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken", tags=("orm", "django"))

    async def create(self, prefix: str, data: dict, key: str):
        return await self.async_client.post(
            f"/{prefix}/create/",
            json.dumps(data),
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    async def age(self, key: str, seconds: int) -> None:
        await IdempotencyKey.objects.filter(key=key).aupdate(
            created=timezone.now() - timedelta(seconds=seconds)
        )

    async def test_a_replay_is_byte_identical_to_the_first_answer(self):
        """jsonb reorders an object's keys on PostgreSQL; the stored text is sent."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                data = new_topic(f"bytes-{prefix}")

                first = await self.create(prefix, data, key=f"bytes-{prefix}")
                replay = await self.create(prefix, data, key=f"bytes-{prefix}")

                self.assertEqual((first.status_code, replay.status_code), (201, 201))
                self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
                self.assertEqual(replay.content, first.content)
                self.assertEqual(replay["Content-Type"], first["Content-Type"])

    @override_settings(IDEMPOTENCY_KEY_MAX_AGE=MAX_AGE)
    async def test_an_expired_key_is_not_replayed_and_may_be_used_again(self):
        """Within the age the key replays; past it, a new request takes the key."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                key = f"old-{prefix}"
                await self.create(prefix, new_topic(f"first-{prefix}"), key=key)
                await self.age(key, MAX_AGE - 10)
                within = await self.create(
                    prefix, new_topic(f"first-{prefix}"), key=key
                )
                await self.age(key, MAX_AGE + 1)

                reused = await self.create(
                    prefix, new_topic(f"second-{prefix}"), key=key
                )
                replay = await self.create(
                    prefix, new_topic(f"second-{prefix}"), key=key
                )

                self.assertEqual(within.headers["Idempotent-Replayed"], "true")
                self.assertEqual(reused.status_code, 201, reused.content)
                self.assertNotIn("Idempotent-Replayed", reused.headers)
                self.assertEqual(reused.json()["slug"], f"second-{prefix}")
                self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
                self.assertEqual(replay.content, reused.content)
                self.assertEqual(
                    await IdempotencyKey.objects.filter(key=key).acount(), 1
                )
                self.assertEqual(
                    await Topic.objects.filter(slug__endswith=f"-{prefix}").acount(), 2
                )
