"""Async streaming bodies under WSGI: read in the view's own event loop."""

from collections.abc import Awaitable, Callable
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
