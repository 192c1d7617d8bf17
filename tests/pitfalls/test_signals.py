"""Pitfalls 36 and 37: a slow post_save receiver holds the save's hop; email sent
on the loop, through a real (slow) SMTP server on a real socket."""

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db.models.signals import post_save
from django.test import SimpleTestCase, TestCase, override_settings

from project.settings import smtp_settings
from tests.factories import make_topic
from topics.audit.code import scan_source
from topics.models import AnnouncedActivity, Topic
from topics.pitfalls import signals
from topics.pitfalls.signals import (
    ANNOUNCED_AFTER,
    ANNOUNCED_ON_SAVE,
    RECEIVER_PAUSE,
    right_record,
    right_send_notice,
    wrong_record,
    wrong_send_notice,
)

CONCURRENT = 4
SMTP_DELAY = 0.3  # seconds the server waits before its greeting


async def seconds_of(call: Awaitable) -> tuple[Any, float]:
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


class ModelSignalTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="announced")

    def setUp(self):
        signals.announcements.clear()

    async def test_a_slow_receiver_holds_the_save_hop(self):
        """Four gathered acreate()s with a 0.2 s post_save receiver take turns:
        0.8 s, the receiver on the loop while each save's thread waits for it;
        saved first and announced with asend() after, about 0.2 s."""
        topic = await Topic.objects.aget(slug="announced")
        loop = threading.get_ident()

        _, wrong = await seconds_of(
            asyncio.gather(*(wrong_record(topic) for _ in range(CONCURRENT)))
        )
        on_save = list(signals.announcements)
        signals.announcements.clear()
        _, right = await seconds_of(
            asyncio.gather(*(right_record(topic) for _ in range(CONCURRENT)))
        )

        self.assertEqual(on_save, [(ANNOUNCED_ON_SAVE, loop)] * CONCURRENT)
        self.assertEqual(signals.announcements, [(ANNOUNCED_AFTER, loop)] * CONCURRENT)
        self.assertGreaterEqual(wrong, CONCURRENT * RECEIVER_PAUSE)
        self.assertLess(right, CONCURRENT * RECEIVER_PAUSE * 3 / 4)
        self.assertEqual(
            await AnnouncedActivity.objects.filter(topic=topic).acount(), 2 * CONCURRENT
        )

    async def test_a_sync_receiver_runs_in_the_saves_thread(self):
        """A sync post_save receiver runs in the thread of the save's hop, not
        on the loop, and acreate() waits for all of it."""
        topic = await Topic.objects.aget(slug="announced")
        threads: list[int] = []

        def slow(sender: type, **kwargs: object) -> None:
            time.sleep(RECEIVER_PAUSE)
            threads.append(threading.get_ident())

        post_save.connect(slow, sender=AnnouncedActivity)
        self.addCleanup(post_save.disconnect, slow, sender=AnnouncedActivity)
        hop = await sync_to_async(threading.get_ident)()

        _, seconds = await seconds_of(
            AnnouncedActivity.objects.acreate(topic=topic, verb="sync-receiver")
        )

        self.assertEqual(threads, [hop])
        self.assertNotEqual(hop, threading.get_ident())
        self.assertGreaterEqual(seconds, RECEIVER_PAUSE)


class SlowSMTPServer:
    """A real SMTP server on 127.0.0.1, on its own thread and event loop, that
    waits `delay` seconds before its greeting; `messages` counts what it took."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages = 0
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),))

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await asyncio.sleep(self.delay)
        writer.write(b"220 slow.test ESMTP\r\n")
        reading_data = False
        while line := await reader.readline():
            if reading_data:
                if line != b".\r\n":
                    continue
                reading_data = False
                self.messages += 1
                reply = b"250 Queued"
            else:
                verb = line[:4].upper()
                reading_data = verb == b"DATA"
                reply = {
                    b"EHLO": b"250 slow.test",
                    b"DATA": b"354 End data with <CR><LF>.<CR><LF>",
                    b"QUIT": b"221 Bye",
                }.get(verb, b"250 OK")
            writer.write(reply + b"\r\n")
            await writer.drain()
            if reply.startswith(b"221"):
                break
        writer.close()

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)


async def in_a_request(call: Awaitable) -> Any:
    # What Django's ASGIHandler gives each request: a thread of its own for
    # its thread-sensitive hops.
    async with ThreadSensitiveContext():
        return await call


async def concurrently(send: Callable[[str], Awaitable[int]]) -> tuple[list, float]:
    """CONCURRENT sends at once, each as its own request: what each returned,
    and the seconds they took together."""
    calls = (in_a_request(send(f"{n}@example.com")) for n in range(CONCURRENT))
    return await seconds_of(asyncio.gather(*calls))


class EmailOnTheLoopTests(SimpleTestCase):
    def test_sends_on_the_loop_take_turns(self):
        """Four sends at once through a server that greets after 0.3 s: 1.2 s
        from send_mail() on the loop, about 0.3 s with one hop each."""
        # A plain asyncio.run(), as a server's loop: an async test method runs
        # under async_to_sync(), whose thread would take every thread-sensitive
        # hop, whatever the request's context.
        with SlowSMTPServer(SMTP_DELAY) as server:
            smtp = smtp_settings(host="127.0.0.1", port=server.port, timeout=5)
            with override_settings(**smtp):
                # The first send looks up the local host name (socket.getfqdn()),
                # once per process: not timed.
                self.assertEqual(asyncio.run(right_send_notice("first@example.com")), 1)
                sent_wrong, wrong = asyncio.run(concurrently(wrong_send_notice))
                sent_right, right = asyncio.run(concurrently(right_send_notice))

        self.assertEqual(sent_wrong, [1] * CONCURRENT)
        self.assertEqual(sent_right, [1] * CONCURRENT)
        self.assertEqual(server.messages, 1 + 2 * CONCURRENT)
        self.assertGreaterEqual(wrong, CONCURRENT * SMTP_DELAY)
        self.assertLess(right, CONCURRENT * SMTP_DELAY * 3 / 4)


class AuditTests(SimpleTestCase):
    def test_the_audit_reports_send_mail_on_the_loop_only(self):
        """The code scan finds send_mail() in wrong_send_notice(), at its line, and
        nothing in the right twins (nor pitfall 36's receiver: not its rule)."""
        source = Path(signals.__file__).read_text()
        _, first = inspect.getsourcelines(wrong_send_notice)

        findings = scan_source(source, "topics/pitfalls/signals.py")

        self.assertEqual(
            [(f.level, f.code, f.location) for f in findings],
            [
                (
                    "error",
                    "code.blocking-call",
                    f"topics/pitfalls/signals.py:{first + 2}",
                )
            ],
        )
        self.assertIn(
            "blocks the event loop in async def wrong_send_notice()",
            findings[0].message,
        )
