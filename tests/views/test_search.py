"""topic_search: filters, ordering and (Async)Paginator pages, alike in both twins."""

from django.test import TestCase

from tests.factories import make_topic
from tests.queries import asql_of, sql_of
from tests.twins import prefixes
from topics.api import INVALID_PARAMETER, NOT_FOUND
from topics.pagination import AsyncPaginator


class TopicSearchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ada = make_topic(slug="a", title="Async ORM", author_name="Ada").author
        make_topic(slug="b", title="Blocking calls", tags=("django",))
        make_topic(slug="c", title="Connection pools", tags=("django",), body="async")
        make_topic(slug="d", title="Django signals", author_name="Ada")

    async def get(self, prefix: str, **query) -> dict:
        response = await self.async_client.get(f"/{prefix}/search/", query)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    async def test_text_matches_title_or_body(self):
        """?q= finds the text in the title or the body, case-insensitively."""
        for prefix in prefixes("topic_search"):
            with self.subTest(twin=prefix):
                data = await self.get(prefix, q="ASYNC")

                self.assertEqual([row["slug"] for row in data["results"]], ["c", "a"])
                self.assertEqual(data["count"], 2)

    async def test_filters_combine(self):
        """?tag= and ?author= narrow the same query."""
        for prefix in prefixes("topic_search"):
            with self.subTest(twin=prefix):
                by_author = await self.get(prefix, author=self.ada.id, ordering="title")
                tagged = await self.get(prefix, tag="django", q="pools")

                self.assertEqual(
                    [row["slug"] for row in by_author["results"]], ["a", "d"]
                )
                self.assertEqual([row["slug"] for row in tagged["results"]], ["c"])

    async def test_pages_carry_totals(self):
        """A page says its number, the page count, the row count and has_next."""
        for prefix in prefixes("topic_search"):
            with self.subTest(twin=prefix):
                first = await self.get(prefix, per_page=3, ordering="oldest")
                last = await self.get(prefix, per_page=3, ordering="oldest", page=2)

                self.assertEqual(
                    [row["slug"] for row in first["results"]], ["a", "b", "c"]
                )
                self.assertEqual(
                    {
                        key: first[key]
                        for key in ("page", "num_pages", "count", "has_next")
                    },
                    {"page": 1, "num_pages": 2, "count": 4, "has_next": True},
                )
                self.assertEqual([row["slug"] for row in last["results"]], ["d"])
                self.assertIs(last["has_next"], False)

    async def test_page_past_the_last_is_404_json(self):
        """A page number beyond the last page is not_found, naming the page count."""
        for prefix in prefixes("topic_search"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/search/", {"page": 3}
                )

                self.assertEqual(response.status_code, 404)
                self.assertEqual(
                    response.json()["error"],
                    {
                        "code": NOT_FOUND,
                        "message": "Page 3 does not exist: there are 1 pages.",
                    },
                )

    async def test_malformed_parameters_are_400(self):
        """Bad ordering, author, page or over-long text → 400 naming the parameter."""
        cases = {"ordering": "random", "author": "abc", "page": "1.5", "q": "x" * 101}
        for prefix in prefixes("topic_search"):
            with self.subTest(twin=prefix):
                for name, value in cases.items():
                    response = await self.async_client.get(
                        f"/{prefix}/search/", {name: value}
                    )

                    self.assertEqual(response.status_code, 400, (prefix, name))
                    self.assertEqual(
                        response.json()["error"]["code"], INVALID_PARAMETER
                    )
                    self.assertEqual(response.json()["error"]["parameter"], name)

    def test_sync_search_is_a_count_and_a_page(self):
        """Paginator runs two queries: COUNT(*), then the page's rows."""
        queries = sql_of(lambda: self.client.get("/sync/search/", {"q": "async"}))

        self.assertEqual(len(queries), 2)
        self.assertIn("COUNT(*)", queries[0])

    async def test_async_search_runs_the_same_queries(self):
        """AsyncPaginator (or the 5.2 fallback) runs the sync twin's two queries."""
        sql = {
            prefix: await asql_of(
                lambda p=prefix: self.async_client.get(f"/{p}/search/")
            )
            for prefix in prefixes("topic_search")
        }

        self.assertEqual(len(sql["sync"]), 2)
        for prefix, queries in sql.items():
            with self.subTest(twin=prefix):
                self.assertEqual(queries, sql["sync"])

    def test_async_paginator_is_used_where_django_has_it(self):
        """Django 6.0+ ships AsyncPaginator; 5.2 takes the one-hop fallback."""
        import django

        self.assertIs(AsyncPaginator is not None, django.VERSION >= (6, 0))
