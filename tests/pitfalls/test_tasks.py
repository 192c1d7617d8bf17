"""Task pitfalls: cancelled writes, lost tasks, swallowed cancellation, gather()."""

import asyncio
import gc
import weakref
from collections.abc import Awaitable

from django.test import SimpleTestCase, TransactionTestCase

from topics.models import Author, Topic
from topics.pitfalls.aio import PAUSE
from topics.pitfalls.tasks import (
    CALL_FAILED,
    background_tasks,
    right_create_topic,
    right_fan_out,
    right_keep_a_reference,
    right_reraise_cancel,
    send_when_ready,
    wrong_create_topic,
    wrong_fan_out,
    wrong_fire_and_forget,
    wrong_swallow_cancel,
)

# Messages as Python, Django and asgiref print them.
TASK_DESTROYED = "Task was destroyed but it is pending!"
TASK_GROUP_FAILED = "unhandled errors in a TaskGroup (1 sub-exception)"


class CancelledWriteTests(TransactionTestCase):
    async def cancel_after(self, call: Awaitable, seconds: float) -> None:
        """Start the call, then cancel it, as when the client disconnects."""
        task = asyncio.create_task(call)
        await asyncio.sleep(seconds)
        task.cancel()
        await asyncio.wait([task])
        self.assertIs(task.cancelled(), True)

    async def test_a_cancelled_write_still_commits(self):
        """The cancelled write commits anyway; a retry writes a second row, unless
        the write is keyed by the client."""
        author = await Author.objects.acreate(name="Ada Lovelace")

        await self.cancel_after(
            wrong_create_topic(title="Wrong", author_id=author.pk), 0.1
        )
        # The cancel only stopped the awaiting; the thread writes on. The count
        # below queues behind it on the same thread: no write outlives the test.
        await asyncio.sleep(PAUSE)
        wrong_after_cancel = await Topic.objects.filter(title="Wrong").acount()
        await wrong_create_topic(title="Wrong", author_id=author.pk)
        await self.cancel_after(
            right_create_topic(slug="right", title="Right", author_id=author.pk), 0.1
        )
        await right_create_topic(slug="right", title="Right", author_id=author.pk)

        self.assertEqual(wrong_after_cancel, 1)
        self.assertEqual(await Topic.objects.filter(title="Wrong").acount(), 2)
        self.assertEqual(await Topic.objects.filter(title="Right").acount(), 1)


class BackgroundTaskTests(SimpleTestCase):
    async def start_job(self, start, sent: list[str]) -> weakref.ref:
        """Start a job that alone holds its event; return a weak reference to it."""
        ready = asyncio.Event()
        start(send_when_ready(ready, sent))
        await asyncio.sleep(0)  # the job starts and waits for its event
        return weakref.ref(ready)

    async def test_an_unreferenced_task_is_destroyed(self):
        """Unreferenced, a waiting task is destroyed by garbage collection and its
        job never done; kept in a set, it survives and completes."""
        wrong_sent, right_sent = [], []

        ready = await self.start_job(wrong_fire_and_forget, wrong_sent)
        with self.assertLogs("asyncio", "ERROR") as logs:
            gc.collect()
        wrong_ready = ready()
        ready = await self.start_job(right_keep_a_reference, right_sent)
        gc.collect()
        ready().set()
        await asyncio.wait(set(background_tasks))

        self.assertIsNone(wrong_ready)
        self.assertIn(TASK_DESTROYED, logs.output[0])
        self.assertEqual(wrong_sent, [])
        self.assertEqual(right_sent, ["sent"])
        self.assertEqual(background_tasks, set())

    async def test_a_swallowed_cancellation_defeats_the_timeout(self):
        """A coroutine that swallows CancelledError runs on and no TimeoutError is
        raised; re-raised, the timeout fires after the cleanup."""
        wrong_progress, right_progress = [], []

        async with asyncio.timeout(0.1):
            await wrong_swallow_cancel(wrong_progress)
        with self.assertRaises(TimeoutError):
            async with asyncio.timeout(0.1):
                await right_reraise_cancel(right_progress)

        self.assertEqual(wrong_progress, ["cleaned up", "kept running"])
        self.assertEqual(right_progress, ["cleaned up"])


class GatherTests(SimpleTestCase):
    async def test_gather_leaves_the_slow_call_running(self):
        """gather() raises at the first failure and the slow call finishes later;
        return_exceptions=True waits for it; a TaskGroup cancels it."""
        wrong_log, waiting_log, right_log = [], [], []

        with self.assertRaisesMessage(ConnectionError, CALL_FAILED):
            await wrong_fan_out(wrong_log)
        log_when_raised = list(wrong_log)
        results = await wrong_fan_out(waiting_log, return_exceptions=True)
        with self.assertRaisesMessage(ExceptionGroup, TASK_GROUP_FAILED) as failed:
            await right_fan_out(right_log)
        await asyncio.sleep(PAUSE + 0.1)  # long enough for any slow call to end

        self.assertEqual(log_when_raised, [])
        self.assertEqual(wrong_log, ["slow call finished"])
        self.assertIsInstance(results[0], ConnectionError)
        self.assertEqual(waiting_log, ["slow call finished"])
        self.assertEqual(str(failed.exception.exceptions[0]), CALL_FAILED)
        self.assertEqual(right_log, ["slow call cancelled"])
