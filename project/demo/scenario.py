"""Demo only: the fake upstream's scenario, carried beside the views.

A reader watches each upstream pattern under latency and failure by adding
knobs to the demo's URL: /async/upstream/fanout/?delay=300&broken=orders:500.
No view reads them (a real app's view would have no such parameters): this
middleware takes them off the request, checks them, and hands them to the fake
upstream in the X-Fake-Scenario header of every call the request makes, through
topics.upstream.client.propagated_headers, which both of the client's sessions
(requests and aiohttp) send, from the thread-pool variants' threads too. A
middleware, not the views or the test client, so that a link with knobs (the
index page, the bench, the parity examples) needs nothing else.
"""

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict

from project.demo.upstream import CALL_FAILURES, FAILURES, SCENARIO_HEADER, SOURCES
from topics.upstream.client import propagated_headers

DELAY_MAX = 5000  # ms
# Each upstream pair's knobs, with their defaults: "" for none.
KNOBS = {
    "fanout": {"delay": 100, "broken": ""},
    "budget": {"delay": 100, "broken": ""},
    "partial": {"delay": 100, "broken": ""},
    "stream": {"delay": 100, "broken": "", "stagger": 100},
    "bounded": {"delay": 50},
    "hedged": {"primary_delay": 300, "backup_delay": 20},
    "cached": {"delay": 200},
    "retry": {"fail_times": 2},
    "errors": {"fail": ""},
}
HIGH = {"fail_times": 5}  # the delays' highest is DELAY_MAX
UPSTREAM_PATH = re.compile(r"/[\w-]+/upstream/(\w+)/")


class InvalidKnob(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def _int(raw: str, name: str) -> int:
    high = HIGH.get(name, DELAY_MAX)
    # int() alone would take "+1", " 1", "1_000" and non-ASCII digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5 and int(raw) <= high):
        raise InvalidKnob(name, f"must be an integer from 0 to {high}.")
    return int(raw)


def _broken(raw: str, query: QueryDict) -> str:
    failures = dict(item.partition(":")[::2] for item in raw.split(","))
    sources = query.get("sources", ",".join(SOURCES)).split(",")
    if not set(failures) <= set(sources) or not set(failures.values()) <= set(FAILURES):
        message = f"must be source:failure pairs; failures: {', '.join(FAILURES)}."
        raise InvalidKnob("broken", message)
    return raw


def _fail(raw: str) -> str:
    if raw not in CALL_FAILURES:
        raise InvalidKnob("fail", f"must be one of: {', '.join(CALL_FAILURES)}.")
    return raw


def scenario(pair: str, query: QueryDict) -> dict[str, str | int]:
    """The pair's knobs from the query, or their defaults; InvalidKnob if one is
    malformed. ?sources= (the views') orders a stagger; ?fail_times= gets a
    fresh ?key= (the fake counts a key's attempts)."""
    found: dict[str, str | int] = {}
    for name, default in KNOBS[pair].items():
        raw = query.get(name)
        if raw is None or (raw == "" and name == "broken"):
            value = default
        elif name == "broken":
            value = _broken(raw, query)
        elif name == "fail":
            value = _fail(raw)
        else:
            value = _int(raw, name)
        if value != "":
            found[name] = value
    if "stagger" in found and "sources" in query:
        found["sources"] = query["sources"]
    if "fail_times" in found:
        found["key"] = uuid.uuid4().hex
    return found


def _invalid(error: InvalidKnob) -> JsonResponse:
    body = {"code": "invalid_parameter", "message": str(error), "parameter": error.name}
    return JsonResponse({"error": body}, status=400)


async def _streamed_with(
    headers: Mapping[str, str], content: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    # An async stream's calls start once the view has returned: as it is read.
    previous = propagated_headers.get()
    propagated_headers.set(headers)
    try:
        async for chunk in content:
            yield chunk
    finally:
        propagated_headers.set(previous)


class ScenarioMiddleware:
    """Demo only: send an upstream pair's knobs to the fake upstream."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        headers = _headers(request)
        if isinstance(headers, HttpResponse):
            return headers
        token = propagated_headers.set(headers)
        try:
            return _streaming(self.get_response(request), headers)
        finally:
            propagated_headers.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        headers = _headers(request)
        if isinstance(headers, HttpResponse):
            return headers
        token = propagated_headers.set(headers)
        try:
            return _streaming(await self.get_response(request), headers)
        finally:
            propagated_headers.reset(token)


def _headers(request: HttpRequest) -> dict[str, str] | HttpResponse:
    """The scenario header for an upstream pair's request, or a 400."""
    match = UPSTREAM_PATH.fullmatch(request.path)
    if not match or match[1] not in KNOBS:
        return {}
    try:
        return {SCENARIO_HEADER: urlencode(scenario(match[1], request.GET))}
    except InvalidKnob as error:
        return _invalid(error)


def _streaming(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    if headers and response.streaming and response.is_async:
        response.streaming_content = _streamed_with(headers, response.streaming_content)
    return response
