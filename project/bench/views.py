"""The trivial views of the per-request overhead scenario: no I/O at all."""

from django.http import HttpRequest, HttpResponse


def ping(request: HttpRequest) -> HttpResponse:
    """A constant answer: what is left is Django's own cost per request."""
    return HttpResponse(b"ok", content_type="text/plain")


async def aping(request: HttpRequest) -> HttpResponse:
    """See ping()."""
    return HttpResponse(b"ok", content_type="text/plain")
