"""A create carrying 50,000 tag names: refused before any query names them."""

import json

from django.conf import settings
from django.test import TestCase

from tests.factories import make_topic
from tests.queries import asql_of
from tests.twins import prefixes
from tests.views.test_writes import new_topic
from topics.api import INVALID
from topics.forms import MAX_TAGS, TOO_MANY_CHOICES
from topics.models import Topic

ATTACK_TAGS = 50_000


class TooManyTagsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken", tags=("orm", "django"))

    async def test_50000_tag_names_are_400_and_never_queried(self):
        """Each distinct name used to cost a queryset and a place in one IN query."""
        names = [f"attack-tag-{number}" for number in range(ATTACK_TAGS)]
        body = json.dumps(new_topic("attack", tags=names))
        self.assertLess(len(body), settings.REQUEST_BODY_MAX_SIZE)

        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                responses = []

                async def create(prefix=prefix, responses=responses):
                    responses.append(
                        await self.async_client.post(
                            f"/{prefix}/create/", body, content_type="application/json"
                        )
                    )

                queries = await asql_of(create)

                self.assertEqual(responses[0].status_code, 400, prefix)
                self.assertEqual([sql for sql in queries if "attack-tag-" in sql], [])
                error = responses[0].json()["error"]
                self.assertEqual(error["code"], INVALID)
                too_many = TOO_MANY_CHOICES % {"limit": MAX_TAGS, "count": ATTACK_TAGS}
                self.assertEqual(error["fields"], {"tags": [too_many]})
        self.assertIs(await Topic.objects.filter(slug="attack").aexists(), False)
