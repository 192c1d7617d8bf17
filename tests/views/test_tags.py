"""The many-to-many pairs: each row's tags in the same order from both twins,
taggit's refusal of an ordered Prefetch, and the queries each twin costs."""

import warnings

import django
from django.db.models import Prefetch
from django.test import TestCase
from taggit.models import Tag as TaggitTag

from project.demo.seeding import DEMO_BOOKMARKS, seed_bookmarks, seed_topics, topic_slug
from tests.queries import asql_of, hops_counted
from tests.twins import prefixes
from topics.api import INVALID_PARAMETER
from topics.models import Bookmark, Topic
from topics.payloads import bookmark_row, tagged_topic_row
from topics.pitfalls.m2m import TAGGIT_REFUSAL

TOPICS = 6
# Django 6.1 deprecates the compiler method taggit 6.1.0's join calls.
QUOTE_NAME_WARNING = (
    "SQLCompiler.quote_name_unless_alias() is deprecated. Use .quote_name() instead."
)


def bookmark_rows(*, tag: str | None = None) -> list[dict]:
    """The demo bookmarks as the pair lists them: newest first, tags by name."""
    return [
        {
            "url": url,
            "title": title,
            "topic": topic_slug(number) if number else None,
            "tags": sorted(tags),
        }
        for url, title, number, tags in reversed(DEMO_BOOKMARKS)
        if tag is None or tag in tags
    ]


class TopicTagsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=TOPICS)
        # Read apart from the pair's queries: each topic's tag names, sorted.
        cls.rows = {
            topic.slug: {
                "slug": topic.slug,
                "title": topic.title,
                "tags": sorted(topic.tags.values_list("name", flat=True)),
            }
            for topic in Topic.objects.all()
        }

    async def test_both_twins_list_each_topics_tags_by_name(self):
        """Newest first, every topic with all its tags, in name order, alike."""
        expected = [self.rows[topic_slug(n)] for n in range(TOPICS, 2, -1)]

        for prefix in prefixes("topic_tags"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/tags/topics/", {"per_page": 4}
                )

                self.assertEqual(response.status_code, 200, prefix)
                data = response.json()
                self.assertEqual(data["results"], expected, prefix)
                self.assertIs(data["has_next"], True)
        self.assertIs(any(len(row["tags"]) > 1 for row in expected), True)

    async def test_a_tag_filters_topics_but_not_their_tags(self):
        """?tag= keeps the topics carrying it; each still lists all its tags."""
        expected = [
            row
            for _slug, row in sorted(self.rows.items(), reverse=True)
            if "redis" in row["tags"]
        ]

        for prefix in prefixes("topic_tags"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/tags/topics/", {"tag": "redis"}
                )

                self.assertEqual(response.json()["results"], expected, prefix)
        self.assertEqual(len(expected), 2)
        self.assertEqual(expected[1]["tags"], ["gunicorn", "redis", "streaming"])

    def test_the_prefetch_orders_by_name_in_its_own_sql(self):
        """The tags query carries ORDER BY name: no database picks the order."""
        with self.assertNumQueries(2) as captured:
            self.client.get("/sync/tags/topics/")

        tags_query = captured.captured_queries[1]["sql"]
        self.assertIn('FROM "topics_tag"', tags_query)
        self.assertRegex(tags_query, r'ORDER BY "topics_tag"\."name" ASC$')

    async def test_the_async_twin_takes_no_more_queries(self):
        """`async for` runs the page and the prefetch: the sync twin's two queries."""
        sql = {
            prefix: await asql_of(
                lambda p=prefix: self.async_client.get(f"/{p}/tags/topics/")
            )
            for prefix in prefixes("topic_tags")
        }

        self.assertEqual(len(sql["sync"]), 2)
        for prefix, queries in sql.items():
            with self.subTest(twin=prefix):
                self.assertEqual(queries, sql["sync"])

    async def test_async_for_runs_the_page_and_its_prefetch_in_one_hop(self):
        """Django evaluates the QuerySet, prefetch included, in one sync_to_async."""
        with hops_counted() as hops:
            topics = [topic async for topic in Topic.objects.tag_listing()]

        self.assertEqual(len(hops), 1)
        self.assertEqual(len(topics), TOPICS)
        self.assertEqual(
            [tagged_topic_row(topic) for topic in topics],
            [self.rows[topic_slug(n)] for n in range(TOPICS, 0, -1)],
        )

    async def test_malformed_parameters_are_400_json_naming_them(self):
        """A tag that is no slug, or page 0: 400 invalid_parameter, from both."""
        for prefix in prefixes("topic_tags"):
            with self.subTest(twin=prefix):
                for query, name in (
                    ({"tag": "Not A Slug"}, "tag"),
                    ({"page": 0}, "page"),
                ):
                    response = await self.async_client.get(
                        f"/{prefix}/tags/topics/", query
                    )

                    self.assertEqual(response.status_code, 400, (prefix, query))
                    self.assertEqual(response["Content-Type"], "application/json")
                    error = response.json()["error"]
                    self.assertEqual(error["code"], INVALID_PARAMETER)
                    self.assertEqual(error["parameter"], name)


class BookmarkListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=3)
        seed_bookmarks()

    async def test_both_twins_list_each_bookmarks_tags_by_name(self):
        """Newest first, each bookmark with its topic and its tags by name, alike,
        though the tags were added in another order."""
        for prefix in prefixes("bookmark_list"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/bookmarks/")

                self.assertEqual(response.status_code, 200, prefix)
                self.assertEqual(response.json()["results"], bookmark_rows(), prefix)
        self.assertNotEqual(
            [tags for *_, tags in DEMO_BOOKMARKS],
            [sorted(tags) for *_, tags in DEMO_BOOKMARKS],
        )

    async def test_a_tag_slug_filters_bookmarks_but_not_their_tags(self):
        """?tag= keeps the bookmarks carrying it, each with all its tags; a tag
        nobody uses lists nothing."""
        for prefix in prefixes("bookmark_list"):
            with self.subTest(twin=prefix):
                asyncio = await self.async_client.get(
                    f"/{prefix}/bookmarks/", {"tag": "asyncio"}
                )
                unused = await self.async_client.get(
                    f"/{prefix}/bookmarks/", {"tag": "no-such-tag"}
                )

                self.assertEqual(
                    asyncio.json()["results"], bookmark_rows(tag="asyncio")
                )
                self.assertEqual(len(bookmark_rows(tag="asyncio")), 2)
                self.assertEqual(unused.json()["results"], [])

    def test_sync_twin_is_two_queries_filtered_or_not(self):
        """The page with its topics, then every row's tags: no query per row."""
        for query in ({}, {"tag": "django"}):
            with self.subTest(query=query), self.assertNumQueries(2):
                self.client.get("/sync/bookmarks/", query)

    async def test_the_async_twin_takes_no_more_queries(self):
        """`async for` runs taggit's prefetch in the same hop: the same queries."""
        for query in ({}, {"tag": "django"}):
            sql = {
                prefix: await asql_of(
                    lambda p=prefix, q=query: self.async_client.get(
                        f"/{p}/bookmarks/", q
                    )
                )
                for prefix in prefixes("bookmark_list")
            }

            self.assertEqual(len(sql["sync"]), 2, query)
            for prefix, queries in sql.items():
                with self.subTest(twin=prefix, query=query):
                    self.assertEqual(queries, sql["sync"])

    async def test_async_for_runs_taggits_prefetch_in_the_same_hop(self):
        """taggit's prefetch, like Django's, runs inside the one sync_to_async."""
        with hops_counted() as hops:
            bookmarks = [bookmark async for bookmark in Bookmark.objects.listing()]

        self.assertEqual(len(hops), 1)
        self.assertEqual([bookmark_row(b) for b in bookmarks], bookmark_rows())

    def test_taggit_refuses_an_ordered_prefetch(self):
        """Why the pair sorts in Python: Prefetch(queryset=...) raises, sync too."""
        ordered = Prefetch("tags", queryset=TaggitTag.objects.order_by("name"))

        with self.assertRaises(ValueError) as raised:
            list(Bookmark.objects.prefetch_related(ordered))

        self.assertEqual(str(raised.exception), TAGGIT_REFUSAL)

    def test_tagged_filters_without_taggits_deprecated_join(self):
        """filter(tags__slug=) warns on Django 6.1, not 5.2; tagged()'s subquery
        finds the same bookmarks and warns on neither."""
        by_join = Bookmark.objects.filter(tags__slug="django").order_by("id")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            joined = list(by_join.values_list("title", flat=True))
            subquery = list(
                Bookmark.objects.tagged("django")
                .order_by("id")
                .values_list("title", flat=True)
            )

        messages = {str(warning.message) for warning in caught}
        expected = {QUOTE_NAME_WARNING} if django.VERSION >= (6, 1) else set()
        self.assertEqual(messages, expected)
        self.assertEqual(subquery, joined)
        self.assertEqual(len(subquery), 3)

    async def test_malformed_parameters_are_400_json_naming_them(self):
        """A tag that is no slug, or a per_page that is no number: 400, from both."""
        for prefix in prefixes("bookmark_list"):
            with self.subTest(twin=prefix):
                for query, name in (
                    ({"tag": "Not A Slug"}, "tag"),
                    ({"per_page": "lots"}, "per_page"),
                ):
                    response = await self.async_client.get(
                        f"/{prefix}/bookmarks/", query
                    )

                    self.assertEqual(response.status_code, 400, (prefix, query))
                    self.assertEqual(response["Content-Type"], "application/json")
                    error = response.json()["error"]
                    self.assertEqual(error["code"], INVALID_PARAMETER)
                    self.assertEqual(error["parameter"], name)
