"""Streaming bodies: primed before the status line, and read in the view's own
event loop under WSGI. Django and asgiref only: copy the file."""

import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from functools import wraps

from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase

AsyncView = Callable[..., Awaitable[HttpResponseBase]]


def read_whole_under_wsgi(view: AsyncView) -> AsyncView:
    """Under WSGI, read an async view's async streaming body before returning.

    WSGI reads an async body in a second event loop, after the view's loop has
    closed the generators it started: a primed stream would end early, with a
    200. Read in the view's loop, a failure is an error response, never a cut
    body; Django reads such a body whole under WSGI anyway ("StreamingHttpResponse
    objects" in its request/response reference). Under ASGI, and for a sync
    view, this changes nothing.
    """
    if not iscoroutinefunction(view):
        return view

    @wraps(view)
    async def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        response = await view(request, *args, **kwargs)
        streams_async = response.streaming and response.is_async
        if streams_async and not isinstance(request, ASGIRequest):
            # Should reading fail, this loop's end closes what it started.
            response.streaming_content = [
                part async for part in response.streaming_content
            ]
        return response

    return wrapper


# An export's header and its first batch of rows: reading them runs the query.
PRIMED_CHUNKS = 2


def primed(
    chunks: Generator[bytes, None, None], *, first: int = PRIMED_CHUNKS
) -> Generator[bytes, None, None]:
    """Read the `first` chunks now, before the status line is sent: a query that
    fails is then an error response (503), not a 200 cut short."""
    head = list(itertools.islice(chunks, first))
    return _concat(head, chunks)


def _concat(
    head: list[bytes], rest: Generator[bytes, None, None]
) -> Generator[bytes, None, None]:
    # closing: when the server closes this stream (the client left), close the
    # generator underneath too, so that it reads no further chunk.
    with contextlib.closing(rest):
        yield from head
        yield from rest


async def aprimed(
    chunks: AsyncIterator[bytes], *, first: int = PRIMED_CHUNKS
) -> AsyncIterator[bytes]:
    """See primed()."""
    head = []
    async for chunk in chunks:
        head.append(chunk)
        if len(head) == first:
            break
    return _aconcat(head, chunks)


async def _aconcat(
    head: list[bytes], rest: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """See _concat()."""
    async with contextlib.aclosing(rest):
        for chunk in head:
            yield chunk
        async for chunk in rest:
            yield chunk
