"""The body guard (project/guard.py) in process, over raw ASGI: declared and
streamed oversize bodies, stalled bodies, and its place in the stack."""

import asyncio
import json
import logging
import time

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import SimpleTestCase, TransactionTestCase

from project.asgi import application, django_application
from project.guard import (
    current_request_id,
)
from tests.guard_support import (
    GENERATED_ID,
    LIMIT,
    PROMPT,
    SpyApp,
    answer,
    captured,
    exchange,
    guarded,
    length,
    post_scope,
)
from topics.models import Author, Topic

STALL = 0.3  # seconds, the in-process body timeout


class GuardInProcessTests(SimpleTestCase):
    """RequestGuardMiddleware over raw ASGI, with a 100-byte limit."""

    async def test_declared_oversize_body_is_refused_before_the_app(self):
        """Content-Length over the limit: 413 JSON, the app is never called."""
        spy = SpyApp()
        with captured("project.guard") as log:
            refused = await exchange(
                guarded(spy), post_scope("/spy/", length(LIMIT + 1)), [b"x" * 101]
            )

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.error()["code"], "payload_too_large")
        self.assertIn(f"{LIMIT} bytes", refused.error()["message"])
        self.assertEqual(refused.header(b"connection"), b"close")
        self.assertEqual(int(refused.header(b"content-length")), len(refused.body))
        self.assertEqual(spy.calls, 0)
        # Logged once, as a warning, under the id the client got back.
        self.assertEqual(len(log.records), 1)
        self.assertEqual(log.records[0].levelno, logging.WARNING)
        self.assertIn("(413): /spy/", log.records[0].getMessage())
        self.assertEqual(log.records[0].request_id, refused.request_id)

    async def test_body_of_exactly_the_limit_passes_unchanged(self):
        """A body of max_body_size bytes, declared or chunked, reaches the app whole."""
        body = bytes(range(LIMIT))
        for scope in (post_scope("/spy/", length(LIMIT)), post_scope("/spy/")):
            spy = SpyApp()
            with self.subTest(headers=scope["headers"]):
                passed = await exchange(guarded(spy), scope, [body[:60], body[60:]])

                self.assertEqual(passed.status, 200)
                self.assertEqual(passed.body, body)
                self.assertEqual(spy.calls, 1)
                self.assertEqual(
                    [message.get("body") for message in spy.received],
                    [body[:60], body[60:]],
                )

    async def test_chunked_body_over_the_limit_is_refused(self):
        """No Content-Length, chunks crossing the limit: the app hears a disconnect,
        the client gets 413."""
        spy = SpyApp()
        refused = await exchange(guarded(spy), post_scope(), [b"a" * 60, b"b" * 41])

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.error()["code"], "payload_too_large")
        self.assertEqual(refused.header(b"connection"), b"close")
        self.assertEqual(spy.calls, 1)
        self.assertEqual(
            [message["type"] for message in spy.received],
            ["http.request", "http.disconnect"],
        )
        # The chunk that crossed the limit never reached the app.
        self.assertEqual(spy.received[0]["body"], b"a" * 60)

    async def test_body_longer_than_its_content_length_is_refused(self):
        """A Content-Length that lies, then more bytes than the limit: 413."""
        spy = SpyApp()
        refused = await exchange(
            guarded(spy), post_scope("/spy/", length(10)), [b"x" * 10, b"y" * 200]
        )

        self.assertEqual(refused.status, 413)
        self.assertEqual(spy.received[-1], {"type": "http.disconnect"})

    async def test_chunked_oversize_body_to_django_is_refused(self):
        """Django's own handler, given chunks past the limit, lets the guard answer."""
        refused = await exchange(
            guarded(django_application),
            post_scope("/async/create/", (b"content-type", b"application/json")),
            [b"[" * 50, b"[" * 50, b"[" * 50],
        )

        self.assertEqual(refused.status, 413)
        self.assertEqual(refused.error()["code"], "payload_too_large")
        self.assertTrue(GENERATED_ID.fullmatch(refused.request_id))

    async def test_stalled_body_gets_408_after_the_timeout(self):
        """A body that stops arriving: 408 once body_timeout has passed, not before."""
        app = guarded(django_application, body_timeout=STALL)
        began = time.monotonic()
        communicator = ApplicationCommunicator(
            app, post_scope("/sync/create/", length(LIMIT))
        )
        await communicator.send_input(
            {"type": "http.request", "body": b"{", "more_body": True}
        )
        refused = await answer(communicator)
        waited = time.monotonic() - began

        self.assertEqual(refused.status, 408)
        self.assertEqual(refused.error()["code"], "request_timeout")
        self.assertIn("0.3 s", refused.error()["message"])
        self.assertEqual(refused.header(b"connection"), b"close")
        self.assertTrue(GENERATED_ID.fullmatch(refused.request_id))
        self.assertGreaterEqual(waited, STALL - 0.05)
        self.assertLess(waited, STALL + PROMPT)

    async def test_trickling_body_gets_408_at_the_deadline(self):
        """The timeout counts from the start: a trickle of bytes does not extend it."""
        spy = SpyApp()
        communicator = ApplicationCommunicator(
            guarded(spy, body_timeout=STALL), post_scope("/spy/", length(LIMIT))
        )
        began = time.monotonic()
        # A byte every 50 ms, for up to ten times the timeout.
        while time.monotonic() - began < STALL * 10:
            await communicator.send_input(
                {"type": "http.request", "body": b"x", "more_body": True}
            )
            await asyncio.sleep(0.05)
            if spy.received[-1]["type"] == "http.disconnect":
                break
        refused = await answer(communicator)

        self.assertEqual(refused.status, 408)
        self.assertLess(time.monotonic() - began, STALL * 3)
        self.assertGreater(len(spy.received), 2)  # it did trickle
        self.assertEqual(spy.received[-1], {"type": "http.disconnect"})

    async def test_other_scopes_pass_through(self):
        """A lifespan scope is not the guard's business: the app gets it as is."""
        seen = []

        async def app(scope, receive, send) -> None:
            seen.append((scope["type"], current_request_id()))

        await guarded(app)({"type": "lifespan"}, None, None)

        self.assertEqual(seen, [("lifespan", "-")])


class GuardWiringTests(TransactionTestCase):
    """project.asgi.application: the settings' limits, in front of real views."""

    async def test_body_within_limits_reaches_the_view_unchanged(self):
        """A JSON body sent in three chunks creates the topic it describes: 201."""
        await Author.objects.acreate(name="Ada Lovelace")
        token = "a" * 32  # a CSRF secret, as cookie and header: raw ASGI checks it
        topic = {
            "title": "Guarded: ünïcode survives",
            "slug": "guarded",
            "body": "x" * 1000,
            "author": "Ada Lovelace",
        }
        body = json.dumps(topic, ensure_ascii=False).encode()
        scope = post_scope(
            "/async/create/",
            (b"content-type", b"application/json"),
            length(len(body)),
            (b"cookie", f"csrftoken={token}".encode()),
            (b"x-csrftoken", token.encode()),
            (b"x-request-id", b"wired-1"),
        )

        created = await exchange(
            application, scope, [body[:7], body[7:500], body[500:]]
        )

        self.assertEqual(created.status, 201, created.body)
        self.assertEqual(json.loads(created.body)["title"], topic["title"])
        self.assertEqual(created.request_id, "wired-1")
        saved = await Topic.objects.aget(slug="guarded")
        self.assertEqual(saved.body, topic["body"])

    async def test_settings_limit_refuses_a_larger_body(self):
        """REQUEST_BODY_MAX_SIZE + 1 declared: 413 from the wired stack."""
        too_big = settings.REQUEST_BODY_MAX_SIZE + 1
        refused = await exchange(
            application, post_scope("/async/create/", length(too_big)), [b""]
        )

        self.assertEqual(refused.status, 413)
        self.assertIn(str(settings.REQUEST_BODY_MAX_SIZE), refused.error()["message"])
