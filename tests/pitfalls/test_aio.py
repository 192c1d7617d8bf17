"""The asyncio and asgiref pitfalls, each wrong snippet failing for real and its
right twin working.

Time bounds are generous and still fail when the behaviour is the wrong one.
"""

import asyncio
import gc
import os
import re
import threading
import time
from collections.abc import Awaitable
from unittest import mock

from django.core.exceptions import SynchronousOnlyOperation
from django.db import connection
from django.test import (
    RequestFactory,
    SimpleTestCase,
    TestCase,
    TransactionTestCase,
    override_settings,
)
from django.urls import path

from tests.factories import make_topic
from topics.pitfalls.aio import (
    PAUSE,
    ahello,
    right_await_directly,
    right_count_topics,
    right_logged,
    right_next_number,
    right_parallel_calls,
    right_sleep_view,
    right_slug_status,
    wrong_async_to_sync_in_loop,
    wrong_asyncio_run_in_loop,
    wrong_count_topics,
    wrong_logged,
    wrong_next_number,
    wrong_parallel_calls,
    wrong_sleep_view,
    wrong_slug_status,
    wrong_sync_to_async_of_coroutine,
)
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE

# Messages as Python, Django and asgiref print them.
ADD_COROUTINE = "unsupported operand type(s) for +: 'coroutine' and 'int'"
UNAWAITED_VIEW = (
    "The view topics.pitfalls.aio.ahello didn't return an HttpResponse object. It "
    "returned an unawaited coroutine instead. You may need to add an 'await' into "
    "your view."
)
ASYNC_TO_SYNC_IN_LOOP = (
    "You cannot use AsyncToSync in the same thread as an async event loop - "
    "just await the async function directly."
)
RUN_IN_LOOP = "asyncio.run() cannot be called from a running event loop"
SYNC_ONLY_FUNCTIONS = "sync_to_async can only be applied to sync functions."

# The URLconf of SyncDecoratorTests: the same async view, wrapped both ways.
urlpatterns = [
    path("wrong/", wrong_logged(ahello)),
    path("right/", right_logged(ahello)),
]


async def seconds_of(call: Awaitable) -> float:
    started = time.monotonic()
    await call
    return time.monotonic() - started


class ForgottenAwaitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken")

    async def test_a_missing_await_gives_a_coroutine(self):
        """Unawaited, acount() is a coroutine: `+ 1` fails, `if` is always true,
        and Python warns when the coroutine is dropped."""
        with self.assertWarnsMessage(
            RuntimeWarning, "coroutine 'QuerySet.acount' was never awaited"
        ):
            with self.assertRaisesMessage(TypeError, ADD_COROUTINE):
                await wrong_next_number()
            gc.collect()
        with self.assertWarnsMessage(
            RuntimeWarning, "coroutine 'topic_exists' was never awaited"
        ):
            wrong_status = await wrong_slug_status("no-such-topic")
            gc.collect()

        self.assertEqual(wrong_status, "taken")
        self.assertEqual(await right_next_number(), 2)
        self.assertEqual(await right_slug_status("no-such-topic"), "free")
        self.assertEqual(await right_slug_status("taken"), "taken")


@override_settings(ROOT_URLCONF=__name__)
class SyncDecoratorTests(SimpleTestCase):
    async def test_sync_wrapper_returns_a_coroutine(self):
        """Django rejects the coroutine a sync wrapper returns; an async wrapper
        awaits it."""
        with self.assertWarnsMessage(
            RuntimeWarning, "coroutine 'ahello' was never awaited"
        ):
            with self.assertRaisesMessage(ValueError, UNAWAITED_VIEW):
                await self.async_client.get("/wrong/")
            gc.collect()

        response = await self.async_client.get("/right/")

        self.assertContains(response, "hello")


class BlockingLoopTests(SimpleTestCase):
    async def test_a_blocking_view_holds_every_other(self):
        """Four views pausing 0.3 s at once: 1.2 s with time.sleep(), about 0.3 s
        with asyncio.sleep()."""
        request = RequestFactory().get("/")

        wrong = await seconds_of(
            asyncio.gather(*(wrong_sleep_view(request) for _ in range(4)))
        )
        right = await seconds_of(
            asyncio.gather(*(right_sleep_view(request) for _ in range(4)))
        )

        self.assertGreaterEqual(wrong, 4 * PAUSE - 0.1)
        self.assertLess(right, 0.8)

    async def test_debug_mode_names_the_task_that_blocked(self):
        """With asyncio's debug mode on, the blocking step is logged with its time."""
        loop = asyncio.get_running_loop()
        request = RequestFactory().get("/")
        debug, slow = loop.get_debug(), loop.slow_callback_duration
        loop.set_debug(True)
        loop.slow_callback_duration = 0.1
        try:
            with self.assertLogs("asyncio", "WARNING") as logs:
                await asyncio.create_task(wrong_sleep_view(request))
            with self.assertNoLogs("asyncio", "WARNING"):
                await asyncio.create_task(right_sleep_view(request))
        finally:
            loop.set_debug(debug)
            loop.slow_callback_duration = slow

        match = re.search(
            r"Executing <Task .*wrong_sleep_view\(\).*> took (\d+\.\d+) seconds",
            logs.output[0],
        )
        self.assertIsNotNone(match, logs.output[0])
        self.assertGreaterEqual(float(match[1]), PAUSE - 0.01)


class ThreadSensitiveTests(SimpleTestCase):
    async def test_thread_sensitive_calls_take_turns(self):
        """Three 0.3 s calls under gather(): 0.9 s on one thread when
        thread-sensitive, about 0.3 s on three threads when not."""
        # Here the test's own thread runs them (it waits in async_to_sync); under
        # uvicorn, the request's ThreadSensitiveContext gives one thread: alike.
        started = time.monotonic()
        wrong_threads = await wrong_parallel_calls()
        wrong = time.monotonic() - started
        started = time.monotonic()
        right_threads = await right_parallel_calls()
        right = time.monotonic() - started

        self.assertGreaterEqual(wrong, 3 * PAUSE - 0.05)
        self.assertEqual(len(set(wrong_threads)), 1)
        self.assertLess(right, 2 * PAUSE)
        self.assertEqual(len(set(right_threads)), 3)


class BridgeTests(SimpleTestCase):
    async def test_bridges_inside_the_loop_fail(self):
        """async_to_sync() and asyncio.run() refuse a running loop, sync_to_async()
        a coroutine function; awaiting directly works."""
        with self.assertRaisesMessage(RuntimeError, ASYNC_TO_SYNC_IN_LOOP):
            await wrong_async_to_sync_in_loop()
        with self.assertWarnsMessage(
            RuntimeWarning, "coroutine 'fetch_answer' was never awaited"
        ):
            with self.assertRaisesMessage(RuntimeError, RUN_IN_LOOP):
                await wrong_asyncio_run_in_loop()
            gc.collect()
        with self.assertRaisesMessage(TypeError, SYNC_ONLY_FUNCTIONS):
            await wrong_sync_to_async_of_coroutine()

        self.assertEqual(await right_await_directly(), 42)


class AsyncUnsafeTests(TransactionTestCase):
    async def test_the_variable_moves_the_query_onto_the_loop(self):
        """Allowed by DJANGO_ALLOW_ASYNC_UNSAFE, the sync ORM call runs its query on
        the event loop's thread; acount() runs it in a worker thread."""
        loop_thread = threading.get_ident()
        query_threads = []

        def record_thread(execute, sql, params, many, context):
            query_threads.append(threading.get_ident())
            return execute(sql, params, many, context)

        # Only the loop thread's connection records: a query elsewhere is not seen.
        with connection.execute_wrapper(record_thread):
            with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
                await wrong_count_topics()
            with mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}):
                wrong_count = await wrong_count_topics()
                wrong_threads = list(query_threads)
                connection.close()  # the loop thread's own connection
            right_count = await right_count_topics()

        self.assertEqual((wrong_count, right_count), (0, 0))
        self.assertEqual(wrong_threads, [loop_thread])
        self.assertEqual(query_threads, [loop_thread])
