"""Pitfalls of transactions, middleware, connections, streaming and test runners."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.module_loading import import_string

from topics.models import Author, Topic
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE
from topics.pitfalls.registry import Pitfall

ATOMIC_REQUESTS_MESSAGE = "You cannot use ATOMIC_REQUESTS with async views."
ADAPTED_MESSAGE = "Asynchronous handler adapted for middleware {path}."
SYNC_ITERATOR_WARNING = (
    "StreamingHttpResponse must consume synchronous iterators in order to serve "
    "them asynchronously. Use an asynchronous iterator instead."
)
# Shows Django's DEBUG lines on django.request (the adapted middleware) and
# nothing else: the other records still go to Django's own handlers.
LOGGING_ADAPTED_MIDDLEWARE = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "debug_only": {
            "()": "django.utils.log.CallbackFilter",
            "callback": lambda record: record.levelname == "DEBUG",
        },
    },
    "handlers": {
        "debug_console": {"class": "logging.StreamHandler", "filters": ["debug_only"]},
    },
    "loggers": {"django.request": {"handlers": ["debug_console"], "level": "DEBUG"}},
}
WRONG_MIDDLEWARE = f"{__name__}.wrong_middleware"
RIGHT_MIDDLEWARE = f"{__name__}.right_middleware"
STREAM_CHUNKS = 10
CHUNK_SECONDS = 0.05  # each chunk is slow to make, as a page of rows would be


# 8. transaction.atomic() in async code.


async def wrong_atomic(*, slug: str, title: str) -> None:
    """Retitle a topic inside transaction.atomic(), from async code."""
    # Entering atomic() touches the connection, which async code may not do.
    with transaction.atomic():
        topic = await Topic.objects.aget(slug=slug)
        topic.title = title
        await topic.asave(update_fields=["title"])


def _retitle(*, slug: str, title: str) -> None:
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(slug=slug)
        topic.title = title
        topic.save(update_fields=["title"])


async def right_atomic(*, slug: str, title: str) -> None:
    """See wrong_atomic(); one sync function holds the whole transaction."""
    # atomic() has no async form: the unit of work takes one thread hop.
    await sync_to_async(_retitle)(slug=slug, title=title)


async def demo_atomic(request: HttpRequest) -> HttpResponse:
    """Run wrong_atomic(): it raises before anything is written."""
    await wrong_atomic(slug="any-topic", title="Never saved")
    return HttpResponse("Unreachable: atomic() raised.")


# 10. Sync-only middleware in front of async views.


def _timed(response: HttpResponse, started: float) -> HttpResponse:
    milliseconds = (time.perf_counter() - started) * 1000
    response.headers["Server-Timing"] = f"app;dur={milliseconds:.1f}"
    return response


def wrong_middleware(get_response: Callable) -> Callable:
    """Time each request; sync only, so an async stack adapts it with a hop."""

    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        return _timed(get_response(request), started)

    return middleware


@sync_and_async_middleware
def right_middleware(get_response: Callable) -> Callable:
    """See wrong_middleware(); sync- and async-capable, it is never adapted."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            return _timed(await get_response(request), started)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            return _timed(get_response(request), started)

    return middleware


def _mode(path: str) -> str:
    if getattr(import_string(path), "async_capable", False):
        return "async-capable"
    return "SYNC ONLY: adapted, one thread hop per async request"


def demo_middleware(request: HttpRequest) -> HttpResponse:
    """Tell which middleware of settings.MIDDLEWARE an async stack must adapt."""
    lines = [f"{path}: {_mode(path)}" for path in settings.MIDDLEWARE]
    lines += ["", "Not installed, for comparison:"]
    lines += [f"{path}: {_mode(path)}" for path in (WRONG_MIDDLEWARE, RIGHT_MIDDLEWARE)]
    return HttpResponse("\n".join(lines), content_type="text/plain")


# 11. CONN_MAX_AGE > 0 under ASGI.


def wrong_database_settings(database: dict[str, Any]) -> dict[str, Any]:
    """Keep each connection for a minute, as many WSGI deployments do."""
    options = dict(database["OPTIONS"])
    options.pop("pool", None)  # Django's pool refuses CONN_MAX_AGE > 0
    return {**database, "CONN_MAX_AGE": 60, "OPTIONS": options}


def right_database_settings(database: dict[str, Any]) -> dict[str, Any]:
    """See wrong_database_settings(); close at request end, or pool (PostgreSQL)."""
    return {**database, "CONN_MAX_AGE": 0}


# 12. The ORM in asyncio.to_thread().


async def wrong_thread_count(request: HttpRequest) -> JsonResponse:
    """Count topics in asyncio.to_thread(): that thread's connection stays open."""
    # Django closes connections at request end on the request's thread only.
    return JsonResponse({"topics": await asyncio.to_thread(Topic.objects.count)})


async def right_thread_count(request: HttpRequest) -> JsonResponse:
    """See wrong_thread_count(); thread-sensitive, it runs on the request's thread."""
    return JsonResponse({"topics": await sync_to_async(Topic.objects.count)()})


# 16. A sync iterator in StreamingHttpResponse under ASGI.


def _slow_lines() -> Iterator[bytes]:
    for number in range(STREAM_CHUNKS):
        time.sleep(CHUNK_SECONDS)
        yield b"%d\n" % number


async def _aslow_lines() -> AsyncIterator[bytes]:
    for number in range(STREAM_CHUNKS):
        await asyncio.sleep(CHUNK_SECONDS)
        yield b"%d\n" % number


def wrong_stream(request: HttpRequest) -> StreamingHttpResponse:
    """Stream a sync generator: under ASGI, Django reads it whole first."""
    return StreamingHttpResponse(_slow_lines(), content_type="text/plain")


def right_stream(request: HttpRequest) -> StreamingHttpResponse:
    """See wrong_stream(); an async generator is sent chunk by chunk."""
    return StreamingHttpResponse(_aslow_lines(), content_type="text/plain")


async def demo_stream(request: HttpRequest) -> HttpResponse:
    """Read wrong_stream() as Django's ASGI handler does; say when chunks came."""
    started = time.perf_counter()
    arrivals = [time.perf_counter() - started async for _ in wrong_stream(request)]
    return HttpResponse(
        f"{len(arrivals)} chunks, made {CHUNK_SECONDS} s apart, arrived between "
        f"{arrivals[0]:.2f} s and {arrivals[-1]:.2f} s: all at once, at the end "
        "(and the console shows Django's warning).",
        content_type="text/plain",
    )


# 20. pytest-asyncio async tests marked django_db.


async def _create_topic(slug: str) -> None:
    author, _ = await Author.objects.aget_or_create(name="Ada Lovelace")
    await Topic.objects.acreate(title=slug, slug=slug, body="b", author=author)


def wrong_async_tests() -> tuple[Callable, Callable]:
    """Two pytest-asyncio tests marked django_db: the first one's write escapes."""
    import pytest  # test-only: imported when a test module asks for the tests

    # pytest-asyncio runs the test on a loop in the main thread; acreate() hops
    # to asgiref's executor thread, whose connection is not the main thread's,
    # where pytest-django opened the test's transaction.
    @pytest.mark.django_db
    @pytest.mark.asyncio
    async def test_creates_a_topic() -> None:
        await _create_topic("created")
        assert await Topic.objects.acount() == 1

    @pytest.mark.django_db
    @pytest.mark.asyncio
    async def test_starts_with_no_topic() -> None:
        assert await Topic.objects.acount() == 0

    return test_creates_a_topic, test_starts_with_no_topic


def right_async_tests() -> type:
    """See wrong_async_tests(); under TestCase, the ORM's hops reach its transaction."""
    from django.test import TestCase  # test-only, as above

    class TopicTests(TestCase):
        async def test_creates_a_topic(self) -> None:
            await _create_topic("created")
            self.assertEqual(await Topic.objects.acount(), 1)

        async def test_starts_with_no_topic(self) -> None:
            self.assertEqual(await Topic.objects.acount(), 0)

    return TopicTests


TEST = "tests/pitfalls/test_deploy.py::"

PITFALLS: list[Pitfall] = [
    Pitfall(
        number=8,
        slug="atomic-in-async-code",
        title="`transaction.atomic()` in async code",
        symptom=f"`SynchronousOnlyOperation: {SYNC_ONLY_MESSAGE}` on entering it; "
        "with `ATOMIC_REQUESTS`, an async view: `RuntimeError: "
        f"{ATOMIC_REQUESTS_MESSAGE}`",
        fix="One sync function holds the transaction, called through one "
        "`sync_to_async()`; no `ATOMIC_REQUESTS` with async views.",
        wrong=wrong_atomic,
        right=right_atomic,
        test=TEST + "AtomicTests::test_atomic_in_async_code_raises_a_sync_unit_commits",
        demo=demo_atomic,
    ),
    Pitfall(
        number=10,
        slug="sync-only-middleware",
        title="Sync-only middleware in front of async views",
        symptom="Each async request takes a thread hop through it; with DEBUG on, "
        "Django logs at startup, at level DEBUG on logger `django.request` (so a "
        "logger left at INFO hides it): "
        f"`{ADAPTED_MESSAGE.format(path='<path>')}`",
        fix="Make it sync- and async-capable: `@sync_and_async_middleware` (or, "
        "on a class, `async_capable = True` and `markcoroutinefunction`).",
        wrong=wrong_middleware,
        right=right_middleware,
        test=TEST + "MiddlewareTests::test_sync_only_middleware_costs_a_thread_hop",
        demo=demo_middleware,
    ),
    Pitfall(
        number=11,
        slug="persistent-connections-under-asgi",
        title="`CONN_MAX_AGE > 0` under ASGI",
        symptom="Each request runs on a new thread and leaves its connection open, "
        "until the garbage collector finds it: `ResourceWarning: <psycopg.Connection "
        "...> was deleted while still open` (tested on PostgreSQL only)",
        fix="`CONN_MAX_AGE = 0` under ASGI; reuse connections with Django's "
        'PostgreSQL pool (`OPTIONS["pool"]`).',
        wrong=wrong_database_settings,
        right=right_database_settings,
        test=TEST + "PersistentConnectionTests::test_persistent_connections_pile_up",
    ),
    Pitfall(
        number=12,
        slug="orm-in-to-thread",
        title="The ORM in `asyncio.to_thread()`",
        symptom="The worker thread's connection stays open after the request: "
        "Django closes connections at request end on the request's thread only",
        fix="`sync_to_async()` with its default `thread_sensitive=True`; never "
        "`asyncio.to_thread()` or `thread_sensitive=False` for the ORM.",
        wrong=wrong_thread_count,
        right=right_thread_count,
        test=TEST + "ThreadConnectionTests::test_to_thread_leaves_its_connection_open",
    ),
    Pitfall(
        number=16,
        slug="sync-iterator-streaming",
        title="A sync iterator in `StreamingHttpResponse` under ASGI",
        symptom=f"`Warning: {SYNC_ITERATOR_WARNING}`, and nothing is sent until "
        "the iterator is exhausted",
        fix="Stream from an async generator under ASGI.",
        wrong=wrong_stream,
        right=right_stream,
        test=TEST + "StreamingTests::test_sync_iterator_is_read_whole_first",
        demo=demo_stream,
    ),
    Pitfall(
        number=20,
        slug="pytest-asyncio-django-db",
        title="pytest-asyncio tests marked `django_db`",
        symptom="The ORM runs on another thread, outside the test's transaction: on "
        "PostgreSQL the row is committed and the next test sees it; on SQLite it "
        "waits for the test's lock: `OperationalError: database is locked`",
        fix="Write async tests as `async def` methods of Django's `TestCase`.",
        wrong=wrong_async_tests,
        right=right_async_tests,
        test=TEST + "PytestAsyncioTests::test_writes_escape_the_test_transaction",
    ),
]
