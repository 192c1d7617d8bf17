"""JSON API plumbing for every pair: errors as data, one decorator for both modes."""

import json
import re
from collections.abc import Callable, Collection, Mapping
from functools import partial, wraps
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict

NOT_FOUND = "not_found"
INVALID_PARAMETER = "invalid_parameter"
INVALID_JSON = "invalid_json"
UNKNOWN_FIELD = "unknown_field"
INVALID = "invalid"
CONFLICT = "conflict"
PAYLOAD_TOO_LARGE = "payload_too_large"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
CSRF_FAILED = "csrf_failed"
METHOD_NOT_ALLOWED = "method_not_allowed"
SERVICE_UNAVAILABLE = "service_unavailable"
SERVER_ERROR = "server_error"
INVALID_HEADER = "invalid_header"
IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
BAD_REQUEST = "bad_request"
PERMISSION_DENIED = "permission_denied"

# The largest primary key a 64-bit signed column holds.
PK_MAX = 2**63 - 1

SLUG_RE = re.compile(r"[-a-z0-9_]{1,50}")
# Printable ASCII without spaces: a UUID, or any client-made token.
IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


class ApiError(Exception):
    """A client's error, answered as {"error": {"code", "message", **details}}."""

    headers: Mapping[str, str] = {}

    def __init__(
        self, code: str, message: str, *, status: int = 400, **details: Any
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details
        self.status = status

    def response(self) -> JsonResponse:
        error = {"code": self.code, "message": self.message, **self.details}
        return JsonResponse({"error": error}, status=self.status, headers=self.headers)


class InvalidParameter(ApiError):
    """A malformed query parameter; the response names it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(INVALID_PARAMETER, f"{name}: {message}", parameter=name)


class NotFound(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(NOT_FOUND, message, status=404)


class ValidationFailed(ApiError):
    """Form errors, per field: {"fields": {"slug": ["…"]}}."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        fields = {name: list(messages) for name, messages in errors.items()}
        super().__init__(INVALID, "The data is not valid.", fields=fields)


class Conflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(CONFLICT, message, status=409)


class IdempotencyKeyReused(ApiError):
    def __init__(self) -> None:
        super().__init__(
            IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was used for a different request.",
            status=422,
        )


class MethodNotAllowed(ApiError):
    def __init__(self, method: str, allowed: Collection[str]) -> None:
        message = f"{method} is not allowed here; use {', '.join(allowed)}."
        super().__init__(METHOD_NOT_ALLOWED, message, status=405)
        self.headers = {"Allow": ", ".join(allowed)}


# A lost connection, a refused one, a pool timeout (psycopg_pool.PoolTimeout) or
# a full wait queue (TooManyRequests): Django raises them all as one of these.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


class ServiceUnavailable(ApiError):
    """The database is down or every pooled connection is busy: try again in
    `retry_after` seconds (the Retry-After header)."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            SERVICE_UNAVAILABLE,
            "The database is unavailable; try again shortly.",
            status=503,
        )
        self.headers = {"Retry-After": str(retry_after)}


def _check_method(method: str, allowed: Collection[str]) -> None:
    if method not in allowed:
        raise MethodNotAllowed(method, allowed)


def json_error(exc: ApiError | Http404) -> JsonResponse:
    """An ApiError's answer; an Http404's is not_found (404) with its message."""
    if isinstance(exc, Http404):
        exc = ApiError(NOT_FOUND, str(exc) or "Not found.", status=404)
    return exc.response()  # Django logs it, once, as a 4xx


# What a read answers; Django's require_safe() allows the same two.
SAFE_METHODS = ("GET", "HEAD")


def api_view(
    view: Callable | None = None, *, methods: Collection[str] = SAFE_METHODS
) -> Callable:
    """Answer a sync or async view's ApiError and Http404, and a method not in
    `methods` (405, with Allow), as JSON errors: @api_view for GET and HEAD, or
    @api_view(methods=["POST"]). Source: Django's require_http_methods(), whose
    405 is an empty text/html page."""
    if view is None:
        return partial(api_view, methods=methods)
    # A sync wrapper around an async view would return an unawaited coroutine.
    if iscoroutinefunction(view):

        @wraps(view)
        async def _async_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                _check_method(request.method, methods)
                return await view(request, *args, **kwargs)
            except (ApiError, Http404) as exc:
                return json_error(exc)

        return _async_view

    @wraps(view)
    def _view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            _check_method(request.method, methods)
            return view(request, *args, **kwargs)
        except (ApiError, Http404) as exc:
            return json_error(exc)

    return _view


def _is_int_text(raw: str, high: int) -> bool:
    # int() alone would accept "+1", " 1", "1_000" and non-ASCII digits, and
    # raise on a 5,000-digit string: check the text before converting it.
    return raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))


def parse_pk(raw: str, *, model_name: str) -> int:
    """A primary key from the URL; anything that cannot be one is 404, not 500."""
    if not _is_int_text(raw, PK_MAX) or not 1 <= int(raw) <= PK_MAX:
        raise NotFound(f"No {model_name} has the id {raw!r}.")
    return int(raw)


def int_param(
    query: QueryDict, name: str, *, default: int | None, low: int, high: int
) -> int | None:
    """Read an integer query parameter within [low, high]."""
    raw = query.get(name)
    if raw is None:
        return default
    if not _is_int_text(raw, high) or not low <= int(raw) <= high:
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


def text_param(query: QueryDict, name: str, *, max_length: int) -> str | None:
    """Read an optional free-text query parameter; blank counts as absent."""
    raw = query.get(name, "").strip()
    if len(raw) > max_length:
        raise InvalidParameter(name, f"must be at most {max_length} characters.")
    if "\x00" in raw:
        raise InvalidParameter(name, "must not contain NUL characters.")
    return raw or None


def choice_param(
    query: QueryDict, name: str, *, choices: Collection[str], default: str | None
) -> str | None:
    """Read a query parameter that must be one of the choices."""
    raw = query.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise InvalidParameter(name, f"must be one of: {', '.join(choices)}.")
    return raw


# The JSON types a body's field may be declared with, and the error for each.
NOT_A_STRING = "Must be a string."
NOT_AN_INTEGER = "Must be an integer."
NOT_A_LIST_OF_STRINGS = "Must be a list of strings."
JSON_TYPES = {str: NOT_A_STRING, int: NOT_AN_INTEGER, list[str]: NOT_A_LIST_OF_STRINGS}


def _refuse_constant(name: str) -> float:
    # Python's json reads NaN and Infinity, which are not JSON (RFC 8259).
    raise ValueError(f"{name} is not JSON")


def _is_json_type(value: Any, kind: Any) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)  # True is an int
    if kind == list[str]:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)


def json_body(request: HttpRequest, *, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The request's JSON object, holding only the known fields, each of its type.

    `fields` maps each name to a type of JSON_TYPES (int is not a bool; null is
    no type). Raises ApiError: unsupported_media_type (415), payload_too_large
    (413), invalid_json, unknown_field; ValidationFailed for wrong types.
    """
    if request.content_type != "application/json":
        given = request.content_type or "nothing"
        message = f"Send the body as application/json, not {given}."
        raise ApiError(UNSUPPORTED_MEDIA_TYPE, message, status=415)
    try:
        # Under ASGI the body was read before the view ran; this reads memory.
        data = json.loads(request.body, parse_constant=_refuse_constant)
    except RequestDataTooBig:
        message = "The request body is too large."
        raise ApiError(PAYLOAD_TOO_LARGE, message, status=413) from None
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise ApiError(INVALID_JSON, "The body is not valid JSON.") from None
    except RecursionError:  # "[[[[…" a thousand deep is valid JSON, and small
        raise ApiError(INVALID_JSON, "The body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise ApiError(INVALID_JSON, "The body must be a JSON object.")
    try:
        # "\ud800" is valid JSON but no text: no database could store it.
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(
            INVALID_JSON, "The body holds a lone surrogate, which is not text."
        ) from None
    if unknown := sorted(set(data) - set(fields)):
        raise ApiError(
            UNKNOWN_FIELD, f"Unknown fields: {', '.join(unknown)}.", fields=unknown
        )
    # A form str()s what it is given: {"x": 1} would be stored as "{'x': 1}".
    if wrong := {
        name: [JSON_TYPES[fields[name]]]
        for name, value in data.items()
        if not _is_json_type(value, fields[name])
    }:
        raise ValidationFailed(wrong)
    return data


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404: no URL matched; JSON like every other error here."""
    return NotFound(f"Nothing is served at {request.path}.").response()


def server_error(request: HttpRequest) -> JsonResponse:
    """handler500: a bug; Django has logged it with its traceback."""
    message = "The server failed; the error is logged."
    return ApiError(SERVER_ERROR, message, status=500).response()


def idempotency_key(request: HttpRequest) -> str | None:
    """The request's Idempotency-Key header, if it sent one."""
    raw = request.headers.get("Idempotency-Key")
    if raw is not None and not IDEMPOTENCY_KEY_RE.fullmatch(raw):
        raise ApiError(
            INVALID_HEADER,
            "Idempotency-Key: must be 1 to 255 printable ASCII characters.",
            header="Idempotency-Key",
        )
    return raw


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """CSRF_FAILURE_VIEW: a JSON 403 instead of Django's HTML page."""
    message = f"CSRF verification failed: {reason}" if reason else "CSRF failed."
    return ApiError(CSRF_FAILED, message, status=403).response()


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """handler400: JSON, and no second CSRF check.

    Django's default bad_request view carries requires_csrf_token, which reads
    request.POST again: for the body that raised BadRequest in the first place
    (a form POST in another charset than UTF-8), that is a second BadRequest,
    raised inside the error handler, hence a 500.
    """
    # A SuspiciousOperation's text can carry what the client sent (a Host
    # header): the log has it; the client gets the generic message.
    if isinstance(exception, BadRequest):
        message = str(exception)
    else:
        message = "The request is malformed."
    return ApiError(BAD_REQUEST, message).response()


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    """handler403: JSON like every other error here."""
    return ApiError(PERMISSION_DENIED, "You may not do this.", status=403).response()
