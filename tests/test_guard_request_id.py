"""The request id: taken from the client when it is safe, generated otherwise, on
every response and log record."""

import asyncio
import logging
from collections import Counter

from asgiref.testing import ApplicationCommunicator
from django.test import SimpleTestCase

from project.guard import (
    current_request_id,
)
from tests.asgi import http_scope
from tests.guard_support import (
    GENERATED_ID,
    LIMIT,
    SPY_LOGGER,
    Answer,
    SpyApp,
    answer,
    captured,
    exchange,
    guarded,
    length,
    post_scope,
)


class RequestIdTests(SimpleTestCase):
    """RequestIdMiddleware: the header, the logs, and which ids are kept."""

    async def send(self, *headers: tuple[bytes, bytes]) -> tuple[Answer, SpyApp]:
        spy = SpyApp()
        scope = http_scope("/spy/")
        scope["headers"] = [*scope["headers"], *headers]
        return await exchange(guarded(spy), scope, [b""]), spy

    async def test_new_id_per_request(self):
        """Without an incoming id, each response gets a new uuid4 hex."""
        first, spy = await self.send()
        second, _ = await self.send()

        self.assertTrue(GENERATED_ID.fullmatch(first.request_id))
        self.assertTrue(GENERATED_ID.fullmatch(second.request_id))
        self.assertNotEqual(first.request_id, second.request_id)
        # The app saw the same id the client got.
        self.assertEqual(spy.seen_ids, [first.request_id])

    async def test_safe_incoming_id_is_kept(self):
        """A plain id from a client or a proxy is echoed back as is."""
        for incoming in (b"abc.DEF_123-x", b"7", b"a" * 64):
            with self.subTest(incoming=incoming):
                answered, spy = await self.send((b"x-request-id", incoming))

                self.assertEqual(answered.request_id, incoming.decode())
                self.assertEqual(spy.seen_ids, [incoming.decode()])

    async def test_unsafe_incoming_id_is_replaced(self):
        """An id that could forge log lines, or is too long, is replaced."""
        unsafe = (
            b"abc\ndef",
            b"abc\r\n[forged] line",
            b"a" * 65,
            b"",
            b"two words",
            b"caf\xc3\xa9",
            b"a/b",
        )
        for incoming in unsafe:
            with self.subTest(incoming=incoming):
                answered, _ = await self.send((b"x-request-id", incoming))

                self.assertTrue(GENERATED_ID.fullmatch(answered.request_id))

    async def test_refusals_carry_the_id(self):
        """A 413 and a 408 carry the id too: the incoming one, or a new one."""
        too_big = await exchange(
            guarded(SpyApp()),
            post_scope("/spy/", length(LIMIT + 1), (b"x-request-id", b"big-1")),
        )
        stalled = ApplicationCommunicator(
            guarded(SpyApp(), body_timeout=0.05), post_scope("/spy/", length(LIMIT))
        )
        await stalled.send_input({"type": "http.request", "more_body": True})
        timed_out = await answer(stalled)

        self.assertEqual((too_big.status, too_big.request_id), (413, "big-1"))
        self.assertEqual(timed_out.status, 408)
        self.assertTrue(GENERATED_ID.fullmatch(timed_out.request_id))

    async def test_log_records_carry_the_id_inside_the_request_only(self):
        """RequestIdFilter: the request's id on its records, "-" outside one."""
        with captured(SPY_LOGGER) as log:
            answered, _ = await self.send((b"x-request-id", b"logged-1"))
            logging.getLogger(SPY_LOGGER).info("after the request")

        self.assertEqual(
            [(record.getMessage(), record.request_id) for record in log.records],
            [
                ("on the event loop", "logged-1"),
                ("in a thread", "logged-1"),
                ("after the request", "-"),
            ],
        )
        self.assertEqual(answered.request_id, "logged-1")
        self.assertEqual(current_request_id(), "-")

    async def test_concurrent_requests_keep_their_own_ids(self):
        """Five requests at once on one loop: each log record has its own id."""
        with captured(SPY_LOGGER) as log:
            answers = await asyncio.gather(
                *(self.send((b"x-request-id", f"req-{n}".encode())) for n in range(5))
            )

        self.assertEqual(
            [answered.request_id for answered, _ in answers],
            [f"req-{n}" for n in range(5)],
        )
        by_id = Counter(record.request_id for record in log.records)
        self.assertEqual(by_id, {f"req-{n}": 2 for n in range(5)})
