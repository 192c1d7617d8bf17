"""Pitfalls seen only under a real server: a request's thread waiting on itself,
and the event loop waiting on the network."""

import asyncio
import queue

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from topics.models import Topic
from topics.pitfalls.registry import Pitfall

ROWS_IN_FLIGHT = 1  # the queue between reader and writer holds this many rows
GREETING_KEY = "greeting"

# 29. A blocking wait inside sync_to_async for work queued behind it.


def _read_slugs(rows: queue.Queue) -> None:
    """Put every topic's slug on `rows`, then None."""
    try:
        for slug in Topic.objects.values_list("slug", flat=True).iterator():
            rows.put(slug)
    finally:
        rows.put(None)


def _write_lines(rows: queue.Queue) -> str:
    """The slugs taken from `rows`, one a line, until None."""
    return "".join(f"{slug}\n" for slug in iter(rows.get, None))


async def wrong_slug_pipeline(request: HttpRequest) -> HttpResponse:
    """Read rows and write them out at once: two sync functions and a queue."""
    rows = queue.Queue(maxsize=ROWS_IN_FLIGHT)
    # Both thread-sensitive: they share the request's one thread, in turn.
    _, text = await asyncio.gather(
        sync_to_async(_read_slugs)(rows), sync_to_async(_write_lines)(rows)
    )
    return HttpResponse(text, content_type="text/plain")


async def right_slug_pipeline(request: HttpRequest) -> HttpResponse:
    """See wrong_slug_pipeline(); the writer, which runs no query, has a thread
    of its own."""
    rows = queue.Queue(maxsize=ROWS_IN_FLIGHT)
    _, text = await asyncio.gather(
        sync_to_async(_read_slugs)(rows),
        sync_to_async(_write_lines, thread_sensitive=False)(rows),
    )
    return HttpResponse(text, content_type="text/plain")


# 31. The sync cache API in async code.


async def wrong_greeting(request: HttpRequest) -> JsonResponse:
    """The greeting, read from the cache."""
    return JsonResponse({"greeting": cache.get(GREETING_KEY, "")})


async def right_greeting(request: HttpRequest) -> JsonResponse:
    """See wrong_greeting()."""
    return JsonResponse({"greeting": await cache.aget(GREETING_KEY, "")})


TEST = "tests/pitfalls/test_servers.py::"

PITFALLS = [
    Pitfall(
        number=29,
        slug="wait-in-thread-sensitive-code",
        title="A blocking wait inside `sync_to_async()` for work queued behind it",
        symptom="The request never answers: its thread-sensitive calls share one "
        "thread, and the one that would end the wait is queued behind it. After "
        "SIGTERM, plain `uvicorn` logs `Waiting for background tasks to complete. "
        "(CTRL+C to force quit)` and never exits (only SIGKILL ends it); with "
        "`--timeout-graceful-shutdown` it cancels the request and exits, the "
        "thread still waiting until then",
        fix="Never wait, in thread-sensitive code, for other thread-sensitive "
        "work: run the side that runs no query with `thread_sensitive=False`, or "
        "do it all in one sync function.",
        wrong=wrong_slug_pipeline,
        right=right_slug_pipeline,
        test=TEST + "ThreadSensitiveWaitTests::test_the_request_and_the_server_hang",
    ),
    Pitfall(
        number=31,
        slug="sync-cache-in-async-code",
        title="The sync cache API (`cache.get()`) in async code",
        symptom="Nothing fails, but each call holds the event loop for its round "
        "trips to the cache (under ASGI each request opens its own connection "
        "too): concurrent requests answer in turn, 8 at once take 8 times as long "
        "as one; with `aget()`, about as long as one",
        fix="`await cache.aget()` (`aset()`...): Django's backends run the sync "
        "call in the request's own thread, so requests overlap.",
        wrong=wrong_greeting,
        right=right_greeting,
        test=TEST + "SyncCacheTests::test_sync_cache_calls_take_turns_on_the_loop",
    ),
]
