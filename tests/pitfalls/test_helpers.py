"""Sync code that async code calls: each wrong snippet fails for real, its right
twin works, and the audit reports the wrong ones where they are written."""

import inspect
import threading
import time
from collections.abc import Callable
from pathlib import Path

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import SynchronousOnlyOperation
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.test import (
    AsyncClient,
    Client,
    SimpleTestCase,
    TestCase,
    modify_settings,
    override_settings,
)
from django.urls import path

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.factories import make_topic
from topics.audit.code import scan_file
from topics.models import Topic
from topics.pitfalls import helpers
from topics.pitfalls.helpers import (
    ASYNC_TO_SYNC_IN_LOOP,
    count_author_topics,
    notify,
    right_actor_middleware,
    right_create_topic,
    right_edit_topic,
    right_publish,
    right_topic_changed,
    wrong_actor_middleware,
    wrong_create_topic,
    wrong_edit_topic,
    wrong_publish,
    wrong_topic_changed,
)
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE
from topics.services import SLUG_TAKEN

# Django's form messages for an author and a tag that do not exist.
UNKNOWN_AUTHOR = (
    "Select a valid choice. That choice is not one of the available choices."
)
UNKNOWN_TAG = "Select a valid choice. nope is not one of the available choices."
REQUIRED = "This field is required."
NEW_TOPIC = {
    "title": "Helpers",
    "slug": "helpers",
    "body": "Sync code that async code calls.",
    "author": "Ada Lovelace",
    "tags": ["orm"],
}
HOP_PAUSE = 0.2  # seconds the first sync receiver takes, so that overlap shows


async def show_actor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.actor)


urlpatterns = [path("actor/", show_actor)]


def stack_with(middleware: Callable) -> modify_settings:
    """settings.MIDDLEWARE with this middleware last (after authentication)."""
    return modify_settings(
        MIDDLEWARE={"append": f"{middleware.__module__}.{middleware.__qualname__}"}
    )


async def visitor_and_member(user: AbstractBaseUser) -> tuple[AsyncClient, AsyncClient]:
    """A client without a session cookie, and one logged in as user."""
    member = AsyncClient()
    await member.aforce_login(user)
    return AsyncClient(), member


def line_of(function: Callable, text: str) -> int:
    """The line number, in its file, of the first line of function holding text."""
    lines, first = inspect.getsourcelines(function)
    return first + next(n for n, line in enumerate(lines) if text in line)


@override_settings(ROOT_URLCONF=__name__)
class MiddlewareHelperTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_demo_user()
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def test_a_sync_helper_reads_request_user(self):
        """In an async stack, the sync helper serves a visitor without a session
        cookie and fails for a logged-in user; the auser() twin serves both."""
        with stack_with(wrong_actor_middleware):
            visitor, member = await visitor_and_member(self.user)
            wrong_for_visitor = await visitor.get("/actor/")
            with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
                await member.get("/actor/")
        with stack_with(right_actor_middleware):
            visitor, member = await visitor_and_member(self.user)
            right_answers = [
                (await client.get("/actor/")).content for client in (visitor, member)
            ]

        self.assertEqual(wrong_for_visitor.content, b"anonymous")
        self.assertEqual(right_answers, [b"anonymous", f"user:{self.user.pk}".encode()])

    def test_in_a_sync_stack_both_run_the_sync_helper(self):
        """Under WSGI both take their sync branch, where request.user is fine."""
        for middleware in (wrong_actor_middleware, right_actor_middleware):
            with stack_with(middleware):
                member = Client()
                member.force_login(self.user)

                response = member.get("/actor/")

            self.assertEqual(response.content, f"user:{self.user.pk}".encode())


class BridgeInHelperTests(SimpleTestCase):
    async def test_the_helper_raises_in_async_code(self):
        """Called from async code, notify()'s async_to_sync() raises and sends
        nothing; its async twin sends, and so does notify() in one hop."""
        outbox: list[str] = []

        with self.assertRaisesMessage(RuntimeError, ASYNC_TO_SYNC_IN_LOOP):
            await wrong_topic_changed(outbox, slug="wrong")
        sent_by_wrong = list(outbox)
        await right_topic_changed(outbox, slug="right")
        await sync_to_async(notify)(outbox, slug="in-a-hop")

        self.assertEqual(sent_by_wrong, [])
        self.assertEqual(outbox, ["right changed", "in-a-hop changed"])

    def test_the_helper_works_in_sync_code(self):
        """From sync code (a sync view), the sync helper is the right call."""
        outbox: list[str] = []

        notify(outbox, slug="sync")

        self.assertEqual(outbox, ["sync changed"])


class FormValidationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken", tags=("orm",))

    async def test_validation_queries_once_filled_in(self):
        """Filled in, is_valid() looks up the author and the tags and checks the
        slug from the loop, and fails; empty, it refuses the data without a
        query. Validated and saved in one hop, the form creates or refuses."""
        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await wrong_create_topic(NEW_TOPIC)
        empty = await wrong_create_topic({})
        created = await right_create_topic(NEW_TOPIC)
        refused = await right_create_topic(
            {**NEW_TOPIC, "slug": "taken", "author": "Nobody", "tags": ["nope"]}
        )

        self.assertEqual(
            empty.errors,
            {name: [REQUIRED] for name in ("title", "slug", "body", "author")},
        )
        topic = await Topic.objects.select_related("author").aget(slug="helpers")
        self.assertEqual(created.instance.pk, topic.pk)
        self.assertEqual(topic.author.name, "Ada Lovelace")
        self.assertEqual([tag.name async for tag in topic.tags.all()], ["orm"])
        self.assertEqual(
            refused.errors,
            {"slug": [SLUG_TAKEN], "author": [UNKNOWN_AUTHOR], "tags": [UNKNOWN_TAG]},
        )
        self.assertIsNone(refused.instance.pk)


class FormInstanceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="edited", tags=("orm",))

    async def test_binding_an_instance_lists_its_tags(self):
        """TopicForm(data, instance=topic) queries topic.tags on the loop, before
        any validation; built inside the one hop, the edit is saved."""
        edit = {**NEW_TOPIC, "slug": "edited", "title": "Edited"}

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await wrong_edit_topic("edited", edit)
        form = await right_edit_topic("edited", edit)

        self.assertEqual(form.errors, {})
        topic = await Topic.objects.aget(slug="edited")
        self.assertEqual(topic.title, "Edited")


class SignalTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="first")
        make_topic(slug="second")

    async def test_send_runs_the_receiver_on_the_loop(self):
        """send() runs the querying receiver on the loop, where it fails; asend()
        runs it in a thread and returns its answer."""
        topic = await Topic.objects.aget(slug="first")

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            await wrong_publish(topic)
        responses = await right_publish(topic)

        self.assertEqual(responses, [(count_author_topics, 2)])

    async def test_asend_runs_the_sync_receivers_in_one_hop(self):
        """send() runs sync receivers on the loop, then refuses an async one;
        asend() runs the sync ones together in one thread off the loop, and the
        async one on the loop: alongside them on 5.2, after them on 6.1."""
        signal = Signal()
        calls: list[tuple[str, int]] = []

        def first(sender: object, **kwargs: object) -> None:
            time.sleep(HOP_PAUSE)
            calls.append(("first", threading.get_ident()))

        def second(sender: object, **kwargs: object) -> None:
            calls.append(("second", threading.get_ident()))

        async def on_the_loop(sender: object, **kwargs: object) -> None:
            calls.append(("async", threading.get_ident()))

        for receiver in (first, second, on_the_loop):
            signal.connect(receiver)
        loop = threading.get_ident()

        with self.assertRaisesMessage(RuntimeError, ASYNC_TO_SYNC_IN_LOOP):
            signal.send(sender=None)
        sent = list(calls)
        calls.clear()
        await signal.asend(sender=None)

        self.assertEqual(sent, [("first", loop), ("second", loop)])
        order = [name for name, _ in calls]
        if django.VERSION[0] == 5:
            self.assertEqual(order, ["async", "first", "second"])
        else:
            self.assertEqual(order, ["first", "second", "async"])
        threads = dict(calls)
        self.assertEqual(threads["first"], threads["second"])
        self.assertNotEqual(threads["first"], loop)
        self.assertEqual(threads["async"], loop)


class AuditTests(SimpleTestCase):
    def test_the_audit_reports_each_wrong_snippet_and_no_right_one(self):
        """The code scan finds the four wrong snippets at their lines, and nothing
        in their right twins."""
        findings = scan_file(Path(helpers.__file__), settings.BASE_DIR)

        self.assertEqual(
            [(finding.line, finding.level, finding.code) for finding in findings],
            [
                (
                    line_of(wrong_actor_middleware, "request.actor = actor(request)"),
                    "warning",
                    "code.sync-orm",
                ),
                (
                    line_of(wrong_topic_changed, "notify("),
                    "error",
                    "code.blocking-call",
                ),
                (
                    line_of(wrong_create_topic, "form.is_valid()"),
                    "warning",
                    "code.sync-orm",
                ),
                (
                    line_of(wrong_create_topic, "form.save()"),
                    "warning",
                    "code.sync-orm",
                ),
                (line_of(wrong_publish, ".send("), "warning", "code.blocking-call"),
            ],
        )
        self.assertIn("(actor() → request.user)", findings[0].message)
        self.assertIn("(notify() → async_to_sync(...))", findings[1].message)
