"""The ORM pairs: what each twin answers, and the queries it costs."""

from unittest import skipIf

from asgiref.sync import sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.test import TestCase

from tests.factories import make_topic
from tests.queries import asql_of
from tests.twins import prefixes
from topics.api import INVALID_PARAMETER, NOT_FOUND
from topics.compat import FETCH_RAISE
from topics.models import Topic
from topics.params import PAGE_MAX, PER_PAGE_MAX
from topics.payloads import topic_payload
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE


class TopicListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        for number in range(1, 8):
            make_topic(slug=f"t-{number}", tags=("django",) if number % 2 else ())

    async def test_list_pages_newest_first_with_has_next(self):
        """Page 2 of 3-per-page holds the 4th to 6th newest topics."""
        for prefix in prefixes("topic_list"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/topics/", {"page": 2, "per_page": 3}
                )

                self.assertEqual(response.status_code, 200, prefix)
                data = response.json()
                slugs = [row["slug"] for row in data["results"]]
                self.assertEqual(slugs, ["t-4", "t-3", "t-2"], prefix)
                self.assertIs(data["has_next"], True)
                self.assertEqual(
                    set(data["results"][0]),
                    {"id", "slug", "title", "created", "author_name"},
                )

    async def test_list_last_page_has_no_next(self):
        """The page holding the oldest topic says has_next: false."""
        for prefix in prefixes("topic_list"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/topics/", {"page": 3, "per_page": 3}
                )

                data = response.json()
                self.assertEqual([row["slug"] for row in data["results"]], ["t-1"])
                self.assertIs(data["has_next"], False, prefix)

    async def test_list_filters_by_tag(self):
        """?tag= keeps only the topics carrying that tag."""
        for prefix in prefixes("topic_list"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/topics/", {"tag": "django"}
                )

                slugs = [row["slug"] for row in response.json()["results"]]
                self.assertEqual(slugs, ["t-7", "t-5", "t-3", "t-1"], prefix)

    async def test_list_malformed_parameters_are_400_json_naming_them(self):
        """Malformed page, per_page or tag → 400 with the parameter named."""
        cases = [
            ("page", "0"),
            ("page", "abc"),
            ("page", ""),
            ("page", "-1"),
            ("page", "+1"),
            ("page", "\u0661"),  # an Arabic-Indic digit, which int() accepts
            ("page", str(PAGE_MAX + 1)),
            ("page", "9" * 5000),
            ("per_page", str(PER_PAGE_MAX + 1)),
            ("per_page", "2.5"),
            ("tag", "Not A Slug"),
            ("tag", "x" * 51),
        ]
        for prefix in prefixes("topic_list"):
            with self.subTest(twin=prefix):
                for name, value in cases:
                    response = await self.async_client.get(
                        f"/{prefix}/topics/", {name: value}
                    )

                    self.assertEqual(response.status_code, 400, (prefix, name, value))
                    error = response.json()["error"]
                    self.assertEqual(error["code"], INVALID_PARAMETER)
                    self.assertEqual(error["parameter"], name)
                    self.assertIs(error["message"].startswith(f"{name}: "), True)

    def test_sync_list_is_one_query(self):
        """Rows, author names and has_next come from a single query."""
        with self.assertNumQueries(1):
            response = self.client.get("/sync/topics/", {"per_page": 5})

        self.assertEqual(len(response.json()["results"]), 5)


class TopicDetailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.topic = make_topic(
            slug="async-views", title="Async views", tags=("orm", "django")
        )

    async def test_detail_has_author_and_sorted_tags(self):
        """The detail carries the author and the tag names in order."""
        for prefix in prefixes("topic_detail"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/topics/async-views/")

                self.assertEqual(response.status_code, 200)
                data = response.json()
                self.assertEqual(data["title"], "Async views")
                self.assertEqual(
                    data["author"],
                    {
                        "id": self.topic.author_id,
                        "name": "Ada Lovelace",
                        "topics_count": 1,
                    },
                )
                self.assertEqual(data["tags"], ["django", "orm"])

    async def test_detail_unknown_slug_is_404_json(self):
        """An unknown slug answers 404 with the not_found error code."""
        for prefix in prefixes("topic_detail"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/topics/no-such-topic/"
                )

                self.assertEqual(response.status_code, 404)
                self.assertEqual(response["Content-Type"], "application/json")
                self.assertEqual(response.json()["error"]["code"], NOT_FOUND)

    async def test_detail_malformed_slug_is_404(self):
        """A path that is not a slug matches no route: 404, not 500."""
        for prefix in prefixes("topic_detail"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/topics/not a slug!/")

                self.assertEqual(response.status_code, 404)

    def test_sync_detail_is_two_queries(self):
        """The topic with its author, then its tags: no N+1."""
        with self.assertNumQueries(2):
            self.client.get("/sync/topics/async-views/")

    async def test_payload_of_a_lazily_loaded_topic_fails_in_async_code(self):
        """Without for_detail(), serializing touches the database from the loop."""
        topic = await Topic.objects.aget(slug="async-views")

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            topic_payload(topic)

    async def test_payload_of_a_for_detail_topic_needs_no_query(self):
        """for_detail() loads everything the payload reads before the await returns."""
        topic = await Topic.objects.for_detail().aget(slug="async-views")

        payload = topic_payload(topic)

        self.assertEqual(payload["tags"], ["django", "orm"])
        self.assertEqual(payload["author"]["name"], "Ada Lovelace")

    @skipIf(FETCH_RAISE is None, "fetch modes are new in Django 6.1")
    async def test_for_detail_makes_a_forgotten_relation_raise(self):
        """Django 6.1: with FETCH_RAISE, a relation left unloaded fails loudly."""
        from django.core.exceptions import FieldFetchBlocked

        topic = (
            await Topic.objects.for_detail()
            .select_related(None)
            .aget(slug="async-views")
        )

        with self.assertRaisesMessage(
            FieldFetchBlocked, "Fetching of Topic.author blocked."
        ):
            topic_payload(topic)

    @skipIf(FETCH_RAISE is None, "fetch modes are new in Django 6.1")
    def test_for_detail_makes_a_forgotten_relation_raise_in_sync_code(self):
        """The same guard holds in the sync twin, where a lazy load would not fail."""
        from django.core.exceptions import FieldFetchBlocked

        topic = Topic.objects.for_detail().select_related(None).get(slug="async-views")

        with self.assertRaisesMessage(
            FieldFetchBlocked, "Fetching of Topic.author blocked."
        ):
            topic_payload(topic)

    async def test_async_detail_runs_the_sync_queries(self):
        """aget_object_or_404 runs the two queries get_object_or_404 runs."""
        sql = {
            prefix: await asql_of(
                lambda p=prefix: self.async_client.get(f"/{p}/topics/async-views/")
            )
            for prefix in prefixes("topic_detail")
        }

        self.assertEqual(len(sql["sync"]), 2)
        for prefix, queries in sql.items():
            with self.subTest(twin=prefix):
                self.assertEqual(queries, sql["sync"])

    async def test_one_hop_list_returns_plain_dicts(self):
        """sync_to_async(list) evaluates the QuerySet in the thread: dicts come back."""
        rows = await sync_to_async(list)(Topic.objects.listing())

        self.assertIsInstance(rows, list)
        self.assertEqual(type(rows[0]), dict)
