"""Django middleware of the app: sync- and async-capable, so it costs no hop."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response

from topics.api import DATABASE_UNAVAILABLE, ServiceUnavailable


def database_unavailable(exception: BaseException) -> bool:
    """Whether the exception is the database being unavailable, and nothing else.

    A TaskGroup wraps its tasks' errors in an ExceptionGroup: an outage met by
    any task of a view is still an outage, but a group that also holds another
    error holds a bug.
    """
    if isinstance(exception, BaseExceptionGroup):
        _, rest = exception.split(DATABASE_UNAVAILABLE)
        return rest is None
    return isinstance(exception, DATABASE_UNAVAILABLE)


class DatabaseUnavailableMiddleware:
    """Answer a view's database outage with 503 and Retry-After, logged once."""

    # Both modes: in an async stack a sync-only middleware costs a thread hop
    # per request; this one runs in whichever mode the stack has.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        # In async mode this returns get_response's coroutine, for Django to await.
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None  # Django's handler500: a bug, logged with its traceback
        response = ServiceUnavailable(
            retry_after=settings.DATABASE_RETRY_AFTER
        ).response()
        # Logged here, with the cause; log_response marks the response so that
        # Django does not log the 503 a second time.
        log_response(
            "Service Unavailable (%s): %s",
            exception,
            request.path,
            response=response,
            request=request,
            exception=exception,
        )
        return response
