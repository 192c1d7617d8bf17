"""ORM pitfalls: each wrong snippet fails as the catalogue says; its twin works."""

from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connection
from django.test import AsyncClient, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.factories import make_topic
from topics.compat import FETCH_PEERS, FETCH_RAISE
from topics.models import Author, Topic
from topics.pagination import AsyncPaginator
from topics.pitfalls import orm
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE

# Django's messages for an AsyncPage read before aget_object_list().
ASYNC_PAGE_LEN_MESSAGE = (
    "AsyncPage.aget_object_list() must be awaited before calling len()."
)
ASYNC_PAGE_INDEX_MESSAGE = (
    "AsyncPage.aget_object_list() must be awaited before using indexing."
)
TITLES = ["Async views", "Sync views"]
BODY = "Await the ORM, or load what you read."

# Debugging templates note which tag raised (template_debug). DEBUG=True would
# too, but its error page then reads request.user in a thread of its own.
DEBUG_TEMPLATES = [
    {**engine, "OPTIONS": {**engine["OPTIONS"], "debug": True}}
    for engine in settings.TEMPLATES
]


def sync_only_errors(calls: dict[str, Callable[[], object]]) -> dict[str, str]:
    """The message of each call that raised SynchronousOnlyOperation, by name."""
    # A loop, not subTest(): a failing subtest in an async test trips
    # pytest-timeout, which may only set its alarm from the main thread.
    errors = {}
    for name, call in calls.items():
        try:
            call()
        except SynchronousOnlyOperation as error:
            errors[name] = str(error)
    return errors


# The view snippets, served by this module as the URLconf of the tests below.
urlpatterns = [
    path("wrong/render/", orm.wrong_render_lazy),
    path("right/render/", orm.right_render_lazy),
    path("wrong/user/", orm.wrong_user_in_async_view),
    path("right/user/", orm.right_user_in_async_view),
]


class QueryInAsyncCodeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(
            slug="async-views", title="Async views", body=BODY, tags=("orm", "django")
        )
        make_topic(slug="sync-views", title="Sync views")

    async def test_sync_orm_calls_fail_in_async_code(self):
        """Iterating, get(), count(), save(), bool(), len() and repr() all query
        from the event loop and fail; `async for` and the a* methods work."""
        topics = Topic.objects.order_by("title")
        topic = await topics.afirst()
        sync_calls = {
            "list()": lambda: list(topics),
            "get()": lambda: topics.get(slug="async-views"),
            "count()": lambda: topics.count(),
            "save()": lambda: topic.save(),
            "bool()": lambda: bool(topics),
            "len()": lambda: len(topics),
            "repr()": lambda: repr(topics),
        }

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await orm.wrong_sync_orm_call()
        self.assertEqual(
            sync_only_errors(sync_calls), dict.fromkeys(sync_calls, SYNC_ONLY_MESSAGE)
        )

        self.assertEqual(await orm.right_sync_orm_call(), TITLES)
        self.assertEqual((await topics.aget(slug="async-views")).title, TITLES[0])
        self.assertEqual(await topics.acount(), 2)
        self.assertIs(await topics.aexists(), True)
        await topic.asave()

    async def test_lazy_results_of_sync_to_async_fail_later(self):
        """A QuerySet returned by sync_to_async queries where it is iterated, and
        instances query where a relation is read; values() rows are plain data."""
        instances = await sync_to_async(lambda: list(Topic.objects.order_by("title")))()

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await orm.wrong_rows_from_a_thread()
        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            _ = instances[0].author

        rows = await orm.right_rows_from_a_thread()
        self.assertEqual(
            rows,
            [{"title": title, "author__name": "Ada Lovelace"} for title in TITLES],
        )

    async def test_lazy_relations_and_deferred_fields_fail(self):
        """A forward, reverse or many-to-many relation not loaded, or a deferred
        field, queries when read in async code; loaded up front, none does."""
        topic = await Topic.objects.only("title", "author").aget(slug="async-views")
        author = await Author.objects.aget(name="Ada Lovelace")
        lazy_reads = {
            "forward foreign key": lambda: topic.author,
            "reverse foreign key": lambda: list(author.topics.all()),
            "many-to-many": lambda: list(topic.tags.all()),
            "deferred field": lambda: topic.body,
        }

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await orm.wrong_topic_card("async-views")
        self.assertEqual(
            sync_only_errors(lazy_reads), dict.fromkeys(lazy_reads, SYNC_ONLY_MESSAGE)
        )

        card = await orm.right_topic_card("async-views")
        self.assertEqual(
            card,
            {
                "title": "Async views",
                "author": "Ada Lovelace",
                "author_topics": ["async-views", "sync-views"],
                "tags": ["django", "orm"],
                "body": BODY,
            },
        )
        if FETCH_RAISE is not None:
            # Django 6.1: the fetch mode refuses before any query, sync or async.
            from django.core.exceptions import FieldFetchBlocked

            blocked = await (
                Topic.objects.fetch_mode(FETCH_RAISE)
                .only("title", "author")
                .aget(slug="async-views")
            )
            for field in ("author", "body"):
                with self.assertRaisesMessage(
                    FieldFetchBlocked, f"Fetching of Topic.{field} blocked."
                ):
                    getattr(blocked, field)
        if FETCH_PEERS is not None:
            # Django 6.1: FETCH_PEERS still queries, so not in async code...
            peers = Topic.objects.fetch_mode(FETCH_PEERS).order_by("slug")
            first = await peers.afirst()
            with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
                first.author  # noqa: B018

            # ...but in one sync unit, one query loads every peer's author.
            def authors() -> tuple[list[str], int]:
                topics = list(peers)
                with CaptureQueriesContext(connection) as queries:
                    names = [topic.author.name for topic in topics]
                return names, len(queries)

            names, queries = await sync_to_async(authors)()
            self.assertEqual((len(names), queries), (2, 1))

    async def test_sync_paginator_fails_in_async_code(self):
        """Paginator.page() counts the rows from the event loop and fails; an
        AsyncPage (Django >= 6.0) is no sequence until aget_object_list()."""
        rows = Topic.objects.order_by("title").values_list("title", flat=True)

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await orm.wrong_paginate(rows, 1)

        self.assertEqual(await orm.right_paginate(rows, 1), TITLES)
        if AsyncPaginator is not None:
            page = await AsyncPaginator(rows, 1).apage(2)
            with self.assertRaisesMessage(TypeError, ASYNC_PAGE_LEN_MESSAGE):
                len(page)
            with self.assertRaisesMessage(TypeError, ASYNC_PAGE_INDEX_MESSAGE):
                page[0]
            await page.aget_object_list()
            self.assertEqual((len(page), page[0]), (1, TITLES[1]))


@override_settings(ROOT_URLCONF=__name__)
class RequestInAsyncViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="async-views", title="Async views")
        seed_demo_user()
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    @override_settings(TEMPLATES=DEBUG_TEMPLATES)
    async def test_template_lazy_values_fail_in_async_view(self):
        """From an async view, the template queries at a QuerySet for everyone,
        and at `user` for a logged-in user; a list and auser() render."""
        member = AsyncClient()
        await member.aforce_login(self.user)

        with self.assertRaisesMessage(
            SynchronousOnlyOperation, SYNC_ONLY_MESSAGE
        ) as at_visitor:
            await self.async_client.get("/wrong/render/")
        with self.assertRaisesMessage(
            SynchronousOnlyOperation, SYNC_ONLY_MESSAGE
        ) as at_member:
            await member.get("/wrong/render/")
        for_visitor = await self.async_client.get("/right/render/")
        for_member = await member.get("/right/render/")

        self.assertEqual(
            at_visitor.exception.template_debug["during"], "{% for topic in topics %}"
        )
        self.assertEqual(
            at_member.exception.template_debug["during"],
            "{% if user.is_authenticated %}",
        )
        self.assertContains(for_visitor, "Hello, visitor.")
        self.assertContains(for_member, "Signed in as demo.")
        self.assertContains(for_member, "<li>Async views</li>")

    async def test_user_and_session_fail_with_a_session_cookie(self):
        """Without a session cookie, request.user and request.session need no
        query; with one (session data, or logged in) they query from the loop
        and fail; auser() and session.aget() work in all three cases."""
        with_data = AsyncClient()
        session = await with_data.asession()
        await session.aset("theme", "dark")
        await session.asave()
        member = AsyncClient()
        await member.aforce_login(self.user)

        visitor = await self.async_client.get("/wrong/user/")
        for client in (with_data, member):
            with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
                await client.get("/wrong/user/")
        answers = [
            (await client.get("/right/user/")).content
            for client in (self.async_client, with_data, member)
        ]

        self.assertEqual(visitor.content, b"visitor, theme light")
        self.assertEqual(
            answers,
            [b"visitor, theme light", b"visitor, theme dark", b"demo, theme light"],
        )
