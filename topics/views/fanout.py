"""Upstream fan-out: K calls per request — one after another, in threads, or awaited
together; with a time budget, with partial failure, bounded, and streamed."""

import asyncio
import json
import time
from collections.abc import AsyncIterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from topics.api import ApiError, api_view
from topics.streaming import read_whole_under_wsgi
from topics.upstream.client import (
    TIMEOUT,
    Json,
    UpstreamError,
    afetch_json,
    error_response,
    fetch_json,
    gather_all,
)
from topics.upstream.params import (
    BoundedParams,
    budget_param,
    executor,
    item_url,
    source_url,
    sources_param,
)

NDJSON = "application/x-ndjson"
# How long one source may take in the partial-failure pair, in seconds.
SOURCE_TIMEOUT = 0.5


class BudgetExceeded(ApiError):
    def __init__(self, budget: int) -> None:
        message = f"No complete answer within the {budget} ms budget."
        super().__init__(TIMEOUT, message, status=504)


@api_view
def upstream_fanout(request: HttpRequest) -> JsonResponse:
    """Call every source and answer with all their data; 502 if one fails
    (504 if it timed out)."""
    names = sources_param(request.GET)
    try:
        results = {name: fetch_json(source_url(name), source=name) for name in names}
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse({"sources": results})


@api_view
def upstream_fanout_threads(request: HttpRequest) -> JsonResponse:
    """See upstream_fanout(); the calls run together in a shared thread pool."""
    names = sources_param(request.GET)
    futures = {
        name: executor().submit(fetch_json, source_url(name), source=name)
        for name in names
    }
    try:
        # On a failure, the other calls run on: a thread cannot be cancelled.
        results = {name: future.result() for name, future in futures.items()}
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse({"sources": results})


@api_view
async def aupstream_fanout(request: HttpRequest) -> JsonResponse:
    """See upstream_fanout(); the calls are awaited together in a TaskGroup."""
    names = sources_param(request.GET)
    try:
        results = await gather_all(
            {name: afetch_json(source_url(name), source=name) for name in names}
        )
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse({"sources": results})


@api_view
async def aupstream_fanout_gather(request: HttpRequest) -> JsonResponse:
    """See upstream_fanout(); asyncio.gather instead of a TaskGroup."""
    names = sources_param(request.GET)
    # return_exceptions=True: gather would otherwise return at the first
    # failure and leave the other calls running, unowned.
    answers = await asyncio.gather(
        *(afetch_json(source_url(name), source=name) for name in names),
        return_exceptions=True,
    )
    if failures := [answer for answer in answers if isinstance(answer, Exception)]:
        if isinstance(failures[0], UpstreamError):
            return error_response(failures[0])
        raise failures[0]
    return JsonResponse({"sources": dict(zip(names, answers, strict=True))})


@api_view
def upstream_budget(request: HttpRequest) -> JsonResponse:
    """The fan-out under one time budget for all calls; 504 when it runs out."""
    names, budget = sources_param(request.GET), budget_param(request.GET)
    deadline = time.monotonic() + budget / 1000
    results = {}
    try:
        for name in names:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BudgetExceeded(budget)
            url = source_url(name)
            results[name] = fetch_json(url, timeout=remaining, source=name)
    except UpstreamError as error:
        if error.code == TIMEOUT:
            raise BudgetExceeded(budget) from None
        return error_response(error)
    return JsonResponse({"sources": results})


@api_view
async def aupstream_budget(request: HttpRequest) -> JsonResponse:
    """See upstream_budget(); asyncio.timeout() around the whole fan-out."""
    names, budget = sources_param(request.GET), budget_param(request.GET)
    try:
        async with asyncio.timeout(budget / 1000):
            results = await gather_all(
                {name: afetch_json(source_url(name), source=name) for name in names}
            )
    except TimeoutError:
        raise BudgetExceeded(budget) from None
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse({"sources": results})


def _entry(name: str, seconds: float) -> Json:
    """One source's {"ok": true, "data"} or {"ok": false, "error"}."""
    try:
        data = fetch_json(source_url(name), timeout=seconds)
    except UpstreamError as error:
        return {"ok": False, "error": {"code": error.code, "message": error.reason}}
    return {"ok": True, "data": data}


async def _aentry(name: str, seconds: float) -> Json:
    """See _entry()."""
    try:
        data = await afetch_json(source_url(name), timeout=seconds)
    except UpstreamError as error:
        return {"ok": False, "error": {"code": error.code, "message": error.reason}}
    return {"ok": True, "data": data}


def _partial_response(sources: dict[str, Json]) -> JsonResponse:
    # The rule: 200 while any source answered; 502 when none did.
    if any(entry["ok"] for entry in sources.values()):
        return JsonResponse({"sources": sources})
    error = {"code": "all_sources_failed", "message": "Every source failed."}
    return JsonResponse({"error": {**error, "sources": sources}}, status=502)


@api_view
def upstream_partial(request: HttpRequest) -> JsonResponse:
    """Every source's data or error; one failure does not fail the answer."""
    names = sources_param(request.GET)
    entries = {name: _entry(name, SOURCE_TIMEOUT) for name in names}
    return _partial_response(entries)


@api_view
async def aupstream_partial(request: HttpRequest) -> JsonResponse:
    """See upstream_partial()."""
    names = sources_param(request.GET)
    entries = await gather_all({name: _aentry(name, SOURCE_TIMEOUT) for name in names})
    return _partial_response(entries)


def _past_deadline() -> BudgetExceeded:
    return BudgetExceeded(round(settings.UPSTREAM_DEADLINE * 1000))


def _fetch_before(deadline: float, url: str) -> Json:
    """fetch_json() given the time left before `deadline`; BudgetExceeded once
    no time is left or the call times out for want of it."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _past_deadline()
    try:
        return fetch_json(url, timeout=min(remaining, settings.UPSTREAM_TIMEOUT))
    except UpstreamError as error:
        if error.code == TIMEOUT and remaining <= settings.UPSTREAM_TIMEOUT:
            raise _past_deadline() from None
        raise


@api_view
def upstream_bounded(request: HttpRequest) -> JsonResponse:
    """Fetch ?n= items; one at a time here; 504 past UPSTREAM_DEADLINE."""
    params = BoundedParams.from_query(request.GET)
    # A timeout per call bounds one call; n calls need a deadline of their own.
    deadline = time.monotonic() + settings.UPSTREAM_DEADLINE
    try:
        items = [
            _fetch_before(deadline, item_url(number)) for number in range(params.count)
        ]
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse({"items": items})


@api_view
async def aupstream_bounded(request: HttpRequest) -> JsonResponse:
    """See upstream_bounded(); all at once, but never more than ?limit= in flight."""
    params = BoundedParams.from_query(request.GET)
    in_flight = asyncio.Semaphore(params.limit)

    async def fetch(number: int) -> Json:
        async with in_flight:
            return await afetch_json(item_url(number))

    try:
        async with asyncio.timeout(settings.UPSTREAM_DEADLINE):
            results = await gather_all(
                {str(number): fetch(number) for number in range(params.count)}
            )
    except TimeoutError:
        raise _past_deadline() from None
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse({"items": list(results.values())})


def _line(name: str, entry: Json) -> bytes:
    return json.dumps({"source": name, **entry}).encode() + b"\n"


@api_view
def upstream_stream(request: HttpRequest) -> HttpResponse:
    """NDJSON, a line per source; a sync view can only send it all at the end."""
    names = sources_param(request.GET)
    timeout = settings.UPSTREAM_TIMEOUT
    lines = [_line(name, _entry(name, timeout)) for name in names]
    return HttpResponse(b"".join(lines), content_type=NDJSON)


@api_view
@read_whole_under_wsgi
async def aupstream_stream(request: HttpRequest) -> StreamingHttpResponse:
    """See upstream_stream(); each line is sent as soon as its source answers."""
    names = sources_param(request.GET)
    lines = _alines(names, settings.UPSTREAM_TIMEOUT)
    return StreamingHttpResponse(lines, content_type=NDJSON)


async def _alines(names: tuple[str, ...], seconds: float) -> AsyncIterator[bytes]:
    async def named(name: str) -> tuple[str, Json]:
        return name, await _aentry(name, seconds)

    tasks = [asyncio.create_task(named(name)) for name in names]
    try:
        for answered in asyncio.as_completed(tasks):
            yield _line(*await answered)
    finally:
        # The client left, or we are done: no call may outlive the response.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
