"""Pitfalls of event loops: an async object used past the loop that started it."""

import asyncio
from collections.abc import AsyncIterator

from django.http import HttpRequest, StreamingHttpResponse

from topics.pitfalls.registry import Pitfall
from topics.streaming import read_whole_under_wsgi

ASYNC_ITERATOR_WARNING = (
    "StreamingHttpResponse must consume asynchronous iterators in order to serve "
    "them synchronously. Use a synchronous iterator instead."
)
STREAM_LINES = 5


# 22. An async generator started in one event loop and finished in another.


async def _alines() -> AsyncIterator[bytes]:
    for number in range(STREAM_LINES):
        await asyncio.sleep(0)  # as a page of rows read from the database
        yield b"%d\n" % number


async def _aprepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for line in rest:
        yield line


async def wrong_primed_stream(request: HttpRequest) -> StreamingHttpResponse:
    """Read the first line in the view, so that a failure is an error response."""
    lines = _alines()
    # Started here, in the view's loop; under WSGI that loop closes it on exit.
    first = await anext(lines)
    return StreamingHttpResponse(_aprepend(first, lines), content_type="text/plain")


@read_whole_under_wsgi
async def right_primed_stream(request: HttpRequest) -> StreamingHttpResponse:
    """See wrong_primed_stream(); under WSGI the body is read in the view's loop."""
    lines = _alines()
    first = await anext(lines)
    return StreamingHttpResponse(_aprepend(first, lines), content_type="text/plain")


TEST = "tests/pitfalls/test_loops.py::"

PITFALLS = [
    Pitfall(
        number=22,
        slug="async-generator-across-loops",
        title="An async generator started in one event loop and finished in another",
        symptom="Under WSGI: `200 OK` with part of the body, and "
        f"`Warning: {ASYNC_ITERATOR_WARNING}`; the generator's `finally` has "
        "already run when the view's loop closed",
        fix="Under WSGI, read an async body in the view's own loop "
        "(`topics.streaming.read_whole_under_wsgi`), or serve with ASGI; never "
        "start a generator in the view for Django to finish.",
        wrong=wrong_primed_stream,
        right=right_primed_stream,
        test=TEST + "LoopTests::test_a_stream_started_in_the_view_is_cut_under_wsgi",
    ),
]
