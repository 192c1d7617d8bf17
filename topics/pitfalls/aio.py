"""asyncio and asgiref pitfalls: missing awaits, a blocked loop, thread hops,
bridges used from inside the loop, and the async-unsafe escape hatch."""

import asyncio
import gc
import logging
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponse

from topics.models import Topic
from topics.pitfalls.registry import Pitfall

logger = logging.getLogger(__name__)

PAUSE = 0.3  # seconds a blocking call or a slow write takes in these snippets


def text_page(*lines: str) -> HttpResponse:
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


async def timed(call: Awaitable) -> tuple[Any, float]:
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


# 4. A forgotten await.


async def topic_exists(slug: str) -> bool:
    return await Topic.objects.filter(slug=slug).aexists()


async def wrong_next_number() -> int:
    """acount() without await is a coroutine: `count + 1` raises TypeError."""
    count = Topic.objects.acount()
    return count + 1


async def right_next_number() -> int:
    """See wrong_next_number()."""
    count = await Topic.objects.acount()
    return count + 1


async def wrong_slug_status(slug: str) -> str:
    """A coroutine object is always true: every slug looks taken."""
    if topic_exists(slug):
        return "taken"
    return "free"


async def right_slug_status(slug: str) -> str:
    """See wrong_slug_status()."""
    if await topic_exists(slug):
        return "taken"
    return "free"


async def demo_forgotten_await(request: HttpRequest) -> HttpResponse:
    """Both missing awaits, and the warning Python prints when it drops them."""
    lines = []
    # Nothing in this block suspends, so it records this request's warnings only.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            await wrong_next_number()
        except TypeError as error:
            lines.append(f"wrong_next_number() raised TypeError: {error}")
        status = await wrong_slug_status("no-such-topic")
        lines.append(f"wrong_slug_status('no-such-topic') returned {status!r}")
        gc.collect()  # drop the coroutines now, so that Python warns here
    lines += [
        f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught
    ]
    return text_page(*lines)


# 5. A sync-only decorator around an async view.


async def ahello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


def wrong_logged(view: Callable) -> Callable:
    """A sync wrapper: around an async view, it returns an unawaited coroutine."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        logger.debug("%s %s", request.method, request.path)
        return view(request, *args, **kwargs)

    return wrapper


def right_logged(view: Callable) -> Callable:
    """A wrapper in the view's own mode, as Django's decorators and api_view do."""
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            logger.debug("%s %s", request.method, request.path)
            return await view(request, *args, **kwargs)

        return async_wrapper

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        logger.debug("%s %s", request.method, request.path)
        return view(request, *args, **kwargs)

    return wrapper


async def demo_sync_decorator(request: HttpRequest) -> HttpResponse:
    """Call the wrapped view as Django's handler does; Django's check raises."""
    view = wrong_logged(ahello)
    returned = await sync_to_async(view)(request)
    try:
        BaseHandler().check_response(returned, view)
    finally:
        returned.close()  # the coroutine: so that Python does not warn as well


# 6. Blocking the event loop.


async def wrong_sleep_view(request: HttpRequest) -> HttpResponse:
    """time.sleep() (like requests, open(), CPU work) holds the whole loop."""
    time.sleep(PAUSE)  # noqa: ASYNC251 -- the pitfall: no other request runs meanwhile
    return HttpResponse("done")


async def right_sleep_view(request: HttpRequest) -> HttpResponse:
    """See wrong_sleep_view(); for blocking calls, await asyncio.to_thread()."""
    await asyncio.sleep(PAUSE)
    return HttpResponse("done")


async def demo_blocking_loop(request: HttpRequest) -> HttpResponse:
    """Four views at once, each pausing 0.3 s: blocked, then awaited."""
    _, wrong = await timed(
        asyncio.gather(*(wrong_sleep_view(request) for _ in range(4)))
    )
    _, right = await timed(
        asyncio.gather(*(right_sleep_view(request) for _ in range(4)))
    )
    return text_page(
        f"4 views at once, each pausing {PAUSE} s:",
        f"time.sleep():    {wrong:.2f} s (one after another)",
        f"asyncio.sleep(): {right:.2f} s",
    )


# 7. thread_sensitive=True runs one call at a time.


def _blocking_call() -> int:
    time.sleep(PAUSE)  # stands for a slow query or a blocking library call
    return threading.get_ident()


async def wrong_parallel_calls() -> list[int]:
    """Thread-sensitive calls share one thread: gather() runs them in turn."""
    return await asyncio.gather(*(sync_to_async(_blocking_call)() for _ in range(3)))


async def right_parallel_calls() -> list[int]:
    """Thread-safe blocking calls (never the ORM) may overlap in the default pool."""
    calls = (sync_to_async(_blocking_call, thread_sensitive=False)() for _ in range(3))
    return await asyncio.gather(*calls)


async def demo_thread_sensitive(request: HttpRequest) -> HttpResponse:
    """Three 0.3 s calls under gather(), thread-sensitive, then not."""
    threads, wrong = await timed(wrong_parallel_calls())
    other_threads, right = await timed(right_parallel_calls())
    return text_page(
        f"gather() over 3 sync_to_async calls of {PAUSE} s each:",
        f"thread_sensitive=True (the default, as in the a* ORM methods): {wrong:.2f} s"
        f" on {len(set(threads))} thread",
        f"thread_sensitive=False: {right:.2f} s on {len(set(other_threads))} threads",
    )


# 9. Bridging the wrong way from inside the loop.


async def fetch_answer() -> int:
    await asyncio.sleep(0)
    return 42


async def wrong_async_to_sync_in_loop() -> int:
    """async_to_sync() on the loop's own thread raises RuntimeError."""
    return async_to_sync(fetch_answer)()


async def wrong_asyncio_run_in_loop() -> int:
    """asyncio.run() inside a loop raises, and leaves a never-awaited coroutine."""
    return asyncio.run(fetch_answer())


async def wrong_sync_to_async_of_coroutine() -> int:
    """sync_to_async() accepts sync functions only: TypeError."""
    return await sync_to_async(fetch_answer)()


async def right_await_directly() -> int:
    """In async code, await the coroutine function itself."""
    return await fetch_answer()


async def demo_async_to_sync_in_loop(request: HttpRequest) -> HttpResponse:
    """Runs wrong_async_to_sync_in_loop(): asgiref raises."""
    return text_page(str(await wrong_async_to_sync_in_loop()))


# 21. DJANGO_ALLOW_ASYNC_UNSAFE.


async def wrong_count_topics() -> int:
    """The sync ORM in async code: allowed by the variable, it blocks the loop."""
    return Topic.objects.count()


async def right_count_topics() -> int:
    """acount() runs the query in a worker thread; the loop stays free."""
    return await Topic.objects.acount()


TESTS = "tests/pitfalls/test_aio.py"

PITFALLS: list[Pitfall] = [
    Pitfall(
        number=4,
        slug="forgotten-await",
        title="A forgotten `await`",
        symptom=(
            "`TypeError: unsupported operand type(s) for +: 'coroutine' and 'int'`; "
            "`if topic_exists(slug):` is always true; later, "
            "`RuntimeWarning: coroutine 'QuerySet.acount' was never awaited`"
        ),
        fix="`await` every coroutine; run the tests with `PYTHONDEVMODE=1 -W error`.",
        wrong=wrong_next_number,
        right=right_next_number,
        test=f"{TESTS}::ForgottenAwaitTests::test_a_missing_await_gives_a_coroutine",
        demo=demo_forgotten_await,
    ),
    Pitfall(
        number=5,
        slug="sync-decorator-on-async-view",
        title="A sync-only decorator around an async view",
        symptom=(
            "`ValueError: The view topics.pitfalls.aio.ahello didn't return an "
            "HttpResponse object. It returned an unawaited coroutine instead. You may "
            "need to add an 'await' into your view.`"
        ),
        fix=(
            "Give async views an async wrapper (`iscoroutinefunction`), as "
            "`topics.api.api_view` and the decorators Django documents as "
            "async-capable do (not `cache_page`)."
        ),
        wrong=wrong_logged,
        right=right_logged,
        test=f"{TESTS}::SyncDecoratorTests::test_sync_wrapper_returns_a_coroutine",
        demo=demo_sync_decorator,
    ),
    Pitfall(
        number=6,
        slug="blocking-the-loop",
        title="`time.sleep`, `requests`, `open()` or CPU work inside `async def`",
        symptom=(
            "Four concurrent views that each block 0.3 s take 1.2 s: they run one "
            "after another; asyncio's debug mode logs "
            "`Executing <Task finished ...> took 0.300 seconds`"
        ),
        fix=(
            "`asyncio.sleep()`, aiohttp, aiofiles; `await asyncio.to_thread(...)` for "
            "a blocking or CPU-bound call."
        ),
        wrong=wrong_sleep_view,
        right=right_sleep_view,
        test=f"{TESTS}::BlockingLoopTests::test_a_blocking_view_holds_every_other",
        demo=demo_blocking_loop,
    ),
    Pitfall(
        number=7,
        slug="thread-sensitive-runs-one-at-a-time",
        title="`gather()` over `sync_to_async` or `a*` ORM calls",
        symptom=(
            "Three 0.3 s `sync_to_async` calls under `gather()` take 0.9 s on one "
            "thread: thread-sensitive calls, the `a*` ORM methods included, run one "
            "at a time"
        ),
        fix=(
            "ORM: one unit of work in one `sync_to_async` call; thread-safe non-ORM "
            "calls: `thread_sensitive=False` or `asyncio.to_thread()`."
        ),
        wrong=wrong_parallel_calls,
        right=right_parallel_calls,
        test=f"{TESTS}::ThreadSensitiveTests::test_thread_sensitive_calls_take_turns",
        demo=demo_thread_sensitive,
    ),
    Pitfall(
        number=9,
        slug="bridging-inside-the-loop",
        title="`async_to_sync`, `asyncio.run()` or `sync_to_async(coroutine)` in "
        "async code",
        symptom=(
            "`RuntimeError: You cannot use AsyncToSync in the same thread as an async "
            "event loop - just await the async function directly.`; `RuntimeError: "
            "asyncio.run() cannot be called from a running event loop`; "
            "`TypeError: sync_to_async can only be applied to sync functions.`"
        ),
        fix="In async code, `await` the coroutine function directly.",
        wrong=wrong_async_to_sync_in_loop,
        right=right_await_directly,
        test=f"{TESTS}::BridgeTests::test_bridges_inside_the_loop_fail",
        demo=demo_async_to_sync_in_loop,
    ),
    Pitfall(
        number=21,
        slug="allow-async-unsafe",
        title="`DJANGO_ALLOW_ASYNC_UNSAFE` to silence `SynchronousOnlyOperation`",
        symptom=(
            "`SynchronousOnlyOperation: You cannot call this from an async context - "
            "use a thread or sync_to_async.` is gone, and the query runs on the event "
            "loop's thread, blocking every request"
        ),
        fix="Never set it in a server: `await Topic.objects.acount()`.",
        wrong=wrong_count_topics,
        right=right_count_topics,
        test=f"{TESTS}::AsyncUnsafeTests::test_the_variable_moves_the_query_onto_the_loop",
    ),
]
