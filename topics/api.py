"""JSON API plumbing for every pair: errors as data, one decorator for both modes."""

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict

NOT_FOUND = "not_found"
INVALID_PARAMETER = "invalid_parameter"

SLUG_RE = re.compile(r"[-a-z0-9_]{1,50}")


class ApiError(Exception):
    """An error the client caused, answered as {"error": {"code", "message"}}."""

    status = 400

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> JsonResponse:
        error = {"code": self.code, "message": self.message, **self.details}
        return JsonResponse({"error": error}, status=self.status)


class InvalidParameter(ApiError):
    """A malformed query parameter; the response names it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(INVALID_PARAMETER, f"{name}: {message}", parameter=name)


class NotFound(ApiError):
    status = 404

    def __init__(self, message: str) -> None:
        super().__init__(NOT_FOUND, message)


def _error_response(exc: Exception) -> JsonResponse:
    if isinstance(exc, Http404):
        exc = NotFound(str(exc))
    return exc.response()


def api_view(view: Callable) -> Callable:
    """Answer ApiError and Http404 from a sync or an async view as JSON errors."""
    # One decorator serves both modes, as Django's own decorators do since 5.0:
    # wrapping an async view in a sync function would return an unawaited coroutine.
    if iscoroutinefunction(view):

        @wraps(view)
        async def _async_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return await view(request, *args, **kwargs)
            except (ApiError, Http404) as exc:
                return _error_response(exc)

        return _async_view

    @wraps(view)
    def _view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (ApiError, Http404) as exc:
            return _error_response(exc)

    return _view


def int_param(query: QueryDict, name: str, *, default: int, low: int, high: int) -> int:
    """Read an integer query parameter within [low, high]."""
    raw = query.get(name)
    if raw is None:
        return default
    # int() alone would accept "+1", " 1", "1_000" and non-ASCII digits, and
    # raise on a 5,000-digit string: check the text before converting it.
    digits = raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))
    if not digits or not low <= int(raw) <= high:
        raise InvalidParameter(name, f"must be an integer from {low} to {high}.")
    return int(raw)


def slug_param(query: QueryDict, name: str) -> str | None:
    """Read an optional slug query parameter."""
    raw = query.get(name)
    if raw is None:
        return None
    if not SLUG_RE.fullmatch(raw):
        raise InvalidParameter(
            name, "must be 1 to 50 lowercase letters, digits, hyphens or underscores."
        )
    return raw
