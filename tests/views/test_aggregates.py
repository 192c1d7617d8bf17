"""topic_stats and topic_overview: several queries per request, and how many hops."""

from django.test import TestCase

from tests.factories import make_topic
from tests.queries import asql_of, hops_counted, sql_of
from tests.twins import prefixes


class TopicStatsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="a", tags=("django", "orm"), author_name="Ada")
        make_topic(slug="b", tags=("django",), author_name="Grace")
        make_topic(slug="c", author_name="Grace")

    async def test_stats_count_topics_authors_and_tags(self):
        """Totals, authors and topics per tag (most used first), in both twins."""
        for prefix in prefixes("topic_stats"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/stats/")

                data = response.json()
                self.assertEqual(data["topics"], 3)
                self.assertEqual(data["authors"], 2)
                self.assertEqual(
                    data["tags"],
                    [
                        {"name": "django", "topics_count": 2},
                        {"name": "orm", "topics_count": 1},
                    ],
                )
                self.assertLessEqual(data["first_created"], data["last_created"])

    async def test_both_twins_run_the_same_three_queries(self):
        """aaggregate(), acount() and async for run what the sync calls run."""
        sql = {
            prefix: await asql_of(
                lambda p=prefix: self.async_client.get(f"/{p}/stats/")
            )
            for prefix in prefixes("topic_stats")
        }

        self.assertEqual(len(sql["sync"]), 3)
        for prefix, queries in sql.items():
            with self.subTest(twin=prefix):
                self.assertEqual(queries, sql["sync"])


class TopicOverviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="hub", tags=("django", "orm"), author_name="Ada")
        make_topic(slug="same-author", author_name="Ada")
        make_topic(slug="shares-two-tags", tags=("django", "orm"), author_name="Grace")
        make_topic(slug="shares-nothing", tags=("redis",), author_name="Grace")

    async def test_overview_gathers_the_neighbourhood(self):
        """Same author's and same tags' other topics; a topic sharing two tags once."""
        for prefix in prefixes("topic_overview"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/topics/hub/overview/"
                )

                data = response.json()
                self.assertEqual(data["tags"], ["django", "orm"])
                self.assertEqual(data["author_topics_count"], 2)
                self.assertEqual(
                    [row["slug"] for row in data["same_author"]], ["same-author"]
                )
                self.assertEqual(
                    [row["slug"] for row in data["related"]], ["shares-two-tags"]
                )

    def test_sync_overview_is_five_queries(self):
        """The topic, its tags, the author's topics, related topics, a count."""
        queries = sql_of(lambda: self.client.get("/sync/topics/hub/overview/"))

        self.assertEqual(len(queries), 5)

    async def test_one_hop_and_many_hops_run_the_same_queries(self):
        """Batching the hops changes the thread hops, not the SQL."""
        sql = {
            prefix: await asql_of(
                lambda prefix=prefix: self.async_client.get(
                    f"/{prefix}/topics/hub/overview/"
                )
            )
            for prefix in prefixes("topic_overview")
        }

        for prefix, queries in sql.items():
            with self.subTest(twin=prefix):
                self.assertEqual(queries, sql["sync"])

    async def test_many_awaited_queries_take_four_more_hops(self):
        """Five awaited queries are five hops; one sync function is one."""
        with hops_counted() as one_function:
            await self.async_client.get("/async/topics/hub/overview/")
        with hops_counted() as each_awaited:
            await self.async_client.get("/async-hops/topics/hub/overview/")

        self.assertEqual(len(each_awaited) - len(one_function), 4)
