"""Async streaming bodies under WSGI: read in the view's own event loop."""

from collections.abc import Awaitable, Callable
from functools import wraps

from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase

AsyncView = Callable[..., Awaitable[HttpResponseBase]]


def read_whole_under_wsgi(view: AsyncView) -> AsyncView:
    """Under WSGI, read an async view's async streaming body before returning.

    WSGI runs the view in an event loop of its own and reads an async body in a
    second one; when the first loop ends it closes the async generators it
    started, so a stream begun in the view (primed) ends early, with a 200.
    Read here, the whole body comes from the view's loop, before the status
    line: a failure is an error response, never a cut body. Django reads an
    async body whole under WSGI anyway ("StreamingHttpResponse objects",
    Performance considerations, in Django's request/response reference), so
    this costs no memory that serving it there would not. Under ASGI the
    response is returned untouched, and streams. A sync view is returned as it
    is: WSGI streams its sync iterator, and method_decorator() tries this on a
    sync stand-in first.
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
