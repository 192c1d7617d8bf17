"""Task pitfalls: a cancelled write that commits, lost tasks, swallowed
cancellation, and gather() leaving calls running."""

import asyncio
import gc
import logging
import time
import uuid
import weakref
from collections.abc import Coroutine

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse

from topics.models import Topic
from topics.pitfalls.aio import PAUSE, text_page
from topics.pitfalls.registry import Pitfall

logger = logging.getLogger(__name__)

CALL_FAILED = "orders: HTTP 500"


# 17. Cancellation does not stop a sync_to_async write.


def _insert_topic(*, title: str, author_id: int) -> None:
    time.sleep(PAUSE)  # a slow write: the client may leave meanwhile
    slug = f"topic-{uuid.uuid4().hex[:12]}"  # a key the server makes up
    Topic.objects.create(slug=slug, title=title, body="", author_id=author_id)


async def wrong_create_topic(*, title: str, author_id: int) -> None:
    """Cancelled, the write still commits; the client's retry writes a second row."""
    await sync_to_async(_insert_topic)(title=title, author_id=author_id)


def _insert_topic_once(*, slug: str, title: str, author_id: int) -> None:
    time.sleep(PAUSE)
    defaults = {"title": title, "body": "", "author_id": author_id}
    Topic.objects.get_or_create(slug=slug, defaults=defaults)


async def right_create_topic(*, slug: str, title: str, author_id: int) -> None:
    """The client's key makes a retry harmless, however the first call ended."""
    await sync_to_async(_insert_topic_once)(slug=slug, title=title, author_id=author_id)


# 18. Fire-and-forget tasks, swallowed cancellation.

background_tasks: set[asyncio.Task] = set()


async def send_when_ready(ready: asyncio.Event, sent: list[str]) -> None:
    """A background job: it waits for the event, then sends."""
    await ready.wait()
    sent.append("sent")


def wrong_fire_and_forget(job: Coroutine) -> None:
    """The loop holds tasks weakly: garbage collection may destroy this one."""
    asyncio.create_task(job)  # noqa: RUF006 -- the pitfall: no reference is kept


def right_keep_a_reference(job: Coroutine) -> asyncio.Task:
    """Hold the task until it is done (or await it in a TaskGroup)."""
    task = asyncio.create_task(job)
    background_tasks.add(task)
    task.add_done_callback(background_tasks.discard)
    return task


async def wrong_swallow_cancel(progress: list[str]) -> None:
    """Swallowing CancelledError makes cancel(), timeouts and TaskGroup powerless."""
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        progress.append("cleaned up")
    progress.append("kept running")


async def right_reraise_cancel(progress: list[str]) -> None:
    """Clean up, then let the cancellation through."""
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        progress.append("cleaned up")
        raise
    progress.append("kept running")


async def demo_lost_task(request: HttpRequest) -> HttpResponse:
    """A job nobody references, then a coroutine that swallows its cancellation."""
    sent: list[str] = []
    ready = asyncio.Event()
    # The job alone holds its event: once it waits, nothing outside reaches it.
    wrong_fire_and_forget(send_when_ready(ready, sent))
    ready_ref = weakref.ref(ready)
    del ready
    await asyncio.sleep(0)
    gc.collect()  # asyncio logs "Task was destroyed but it is pending!"
    fate = "destroyed while pending" if ready_ref() is None else "still there"
    progress: list[str] = []
    started = time.monotonic()
    async with asyncio.timeout(0.1):
        await wrong_swallow_cancel(progress)
    seconds = time.monotonic() - started
    return text_page(
        f"A fire-and-forget job after gc.collect(): {fate}; sent: {sent}",
        f"asyncio.timeout(0.1) around wrong_swallow_cancel(): no TimeoutError after "
        f"{seconds:.2f} s; it went on: {progress}",
    )


# 19. gather() does not cancel the rest at the first failure.


async def _failing_call() -> None:
    await asyncio.sleep(0.05)
    raise ConnectionError(CALL_FAILED)


async def _slow_call(log: list[str]) -> None:
    try:
        await asyncio.sleep(PAUSE)
    except asyncio.CancelledError:
        log.append("slow call cancelled")
        raise
    log.append("slow call finished")


async def wrong_fan_out(log: list[str], *, return_exceptions: bool = False) -> list:
    """gather() raises the first failure and leaves the slow call running."""
    calls = (_failing_call(), _slow_call(log))
    return await asyncio.gather(*calls, return_exceptions=return_exceptions)


async def right_fan_out(log: list[str]) -> None:
    """A TaskGroup cancels the rest at the first failure (see client.gather_all)."""
    async with asyncio.TaskGroup() as group:
        group.create_task(_failing_call())
        group.create_task(_slow_call(log))


async def demo_gather_failure(request: HttpRequest) -> HttpResponse:
    """What the slow call did after each fan-out failed."""
    lines = []
    for fan_out in (wrong_fan_out, right_fan_out):
        log: list[str] = []
        try:
            await fan_out(log)
        except (ConnectionError, ExceptionGroup) as error:
            lines.append(f"{fan_out.__name__} raised {error!r}")
        await asyncio.sleep(PAUSE + 0.1)  # then the slow call's fate is known
        lines.append(f"  and then: {log}")
    return text_page(*lines)


TESTS = "tests/pitfalls/test_tasks.py"

PITFALLS: list[Pitfall] = [
    Pitfall(
        number=17,
        slug="cancelled-write-still-commits",
        title="Cancelling a `sync_to_async` write does not stop it",
        symptom=(
            "The request is cancelled (the client left), yet its row is committed: "
            "the thread runs on; the client's retry writes a second row"
        ),
        fix=(
            "Make the write idempotent: a client-supplied key with "
            "`get_or_create()`, so that a retry finds the first write."
        ),
        wrong=wrong_create_topic,
        right=right_create_topic,
        test=f"{TESTS}::CancelledWriteTests::test_a_cancelled_write_still_commits",
    ),
    Pitfall(
        number=18,
        slug="lost-task-swallowed-cancel",
        title="A fire-and-forget task; a swallowed `CancelledError`",
        symptom=(
            "A task nobody references is destroyed while pending (`Task was destroyed "
            "but it is pending!`) and its work never happens; a coroutine that "
            "swallows `CancelledError` runs on past `asyncio.timeout()`, which raises "
            "no `TimeoutError`"
        ),
        fix=(
            "Keep each task in a set until done (or use a `TaskGroup`); re-raise "
            "`CancelledError` after cleaning up."
        ),
        wrong=wrong_fire_and_forget,
        right=right_keep_a_reference,
        test=f"{TESTS}::BackgroundTaskTests::test_an_unreferenced_task_is_destroyed",
        demo=demo_lost_task,
    ),
    Pitfall(
        number=19,
        slug="gather-leaves-the-rest-running",
        title="`gather()`'s first failure leaves the other calls running",
        symptom=(
            "`gather()` raises the first failure at once while the other calls run "
            "on to completion; with `return_exceptions=True` it waits for all"
        ),
        fix=(
            "`asyncio.TaskGroup` cancels the others at the first failure (as "
            "`topics.upstream.client.gather_all` does)."
        ),
        wrong=wrong_fan_out,
        right=right_fan_out,
        test=f"{TESTS}::GatherTests::test_gather_leaves_the_slow_call_running",
        demo=demo_gather_failure,
    ),
]
