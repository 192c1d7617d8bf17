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
    EXECUTOR,
    TIMEOUT,
    Json,
    UpstreamError,
    afetch_json,
    fetch_json,
    gather_all,
    item_url,
    source_url,
    timeout_error,
)
from topics.upstream.params import (
    BoundedParams,
    BudgetParams,
    FanoutParams,
    StreamParams,
)

NDJSON = "application/x-ndjson"
# How long one source may take in the partial-failure pair.
SOURCE_TIMEOUT = 0.5


class BudgetExceeded(ApiError):
    status = 504

    def __init__(self, budget: int) -> None:
        super().__init__(TIMEOUT, f"No complete answer within the {budget} ms budget.")


def _fanout_payload(results: dict[str, Json], params: FanoutParams) -> Json:
    return {"sources": {name: results[name] for name in params.sources}}


@api_view
def upstream_fanout(request: HttpRequest) -> JsonResponse:
    """Call every source and answer with all their data; 502 if one fails."""
    params = FanoutParams.from_query(request.GET)
    results = {
        name: fetch_json(source_url(name), params=params.knobs(name), source=name)
        for name in params.sources
    }
    return JsonResponse(_fanout_payload(results, params))


@api_view
def upstream_fanout_threads(request: HttpRequest) -> JsonResponse:
    """See upstream_fanout(); the calls run together in a shared thread pool."""
    params = FanoutParams.from_query(request.GET)
    futures = {
        name: EXECUTOR.submit(
            fetch_json, source_url(name), params=params.knobs(name), source=name
        )
        for name in params.sources
    }
    # On a failure, the other calls run on: a thread cannot be cancelled.
    results = {name: future.result() for name, future in futures.items()}
    return JsonResponse(_fanout_payload(results, params))


@api_view
async def aupstream_fanout(request: HttpRequest) -> JsonResponse:
    """See upstream_fanout(); the calls are awaited together in a TaskGroup."""
    params = FanoutParams.from_query(request.GET)
    results = await gather_all(
        {
            name: afetch_json(source_url(name), params=params.knobs(name), source=name)
            for name in params.sources
        }
    )
    return JsonResponse(_fanout_payload(results, params))


@api_view
async def aupstream_fanout_gather(request: HttpRequest) -> JsonResponse:
    """See upstream_fanout(); asyncio.gather instead of a TaskGroup."""
    params = FanoutParams.from_query(request.GET)
    # return_exceptions=True: gather would otherwise return at the first
    # failure and leave the other calls running, unowned.
    answers = await asyncio.gather(
        *(
            afetch_json(source_url(name), params=params.knobs(name), source=name)
            for name in params.sources
        ),
        return_exceptions=True,
    )
    if failures := [answer for answer in answers if isinstance(answer, Exception)]:
        raise failures[0]
    results = dict(zip(params.sources, answers, strict=True))
    return JsonResponse(_fanout_payload(results, params))


@api_view
def upstream_budget(request: HttpRequest) -> JsonResponse:
    """The fan-out under one time budget for all calls; 504 when it runs out."""
    params = BudgetParams.from_query(request.GET)
    deadline = time.monotonic() + params.budget / 1000
    results = {}
    for name in params.sources:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BudgetExceeded(params.budget)
        try:
            results[name] = fetch_json(
                source_url(name),
                params=params.knobs(name),
                timeout=remaining,
                source=name,
            )
        except UpstreamError as error:
            if error.code == TIMEOUT:
                raise BudgetExceeded(params.budget) from None
            raise
    return JsonResponse(_fanout_payload(results, params))


@api_view
async def aupstream_budget(request: HttpRequest) -> JsonResponse:
    """See upstream_budget(); asyncio.timeout() around the whole fan-out."""
    params = BudgetParams.from_query(request.GET)
    try:
        async with asyncio.timeout(params.budget / 1000):
            results = await gather_all(
                {
                    name: afetch_json(
                        source_url(name), params=params.knobs(name), source=name
                    )
                    for name in params.sources
                }
            )
    except TimeoutError:
        raise BudgetExceeded(params.budget) from None
    return JsonResponse(_fanout_payload(results, params))


def _partial_response(entries: dict[str, Json], params: FanoutParams) -> JsonResponse:
    # The rule: 200 while any source answered; 502 when none did.
    sources = {name: entries[name] for name in params.sources}
    if any(entry["ok"] for entry in sources.values()):
        return JsonResponse({"sources": sources})
    error = {"code": "all_sources_failed", "message": "Every source failed."}
    return JsonResponse({"error": {**error, "sources": sources}}, status=502)


def _source_timeout(name: str, params: FanoutParams, stagger: int) -> float:
    # A staggered source starts answering later; its deadline moves with it.
    return SOURCE_TIMEOUT + stagger * (params.sources.index(name) + 1) / 1000


def _entry(name: str, params: FanoutParams, stagger: int = 0) -> Json:
    """One source's {"ok": true, "data"} or {"ok": false, "error"}."""
    knobs = params.knobs(name, stagger=stagger)
    timeout = _source_timeout(name, params, stagger)
    try:
        data = fetch_json(source_url(name), params=knobs, timeout=timeout)
    except UpstreamError as error:
        return {"ok": False, "error": error.entry()}
    return {"ok": True, "data": data}


async def _aentry(name: str, params: FanoutParams, stagger: int = 0) -> Json:
    """See _entry()."""
    knobs = params.knobs(name, stagger=stagger)
    timeout = _source_timeout(name, params, stagger)
    try:
        async with asyncio.timeout(timeout):
            data = await afetch_json(source_url(name), params=knobs)
    except TimeoutError:
        return {"ok": False, "error": timeout_error(timeout).entry()}
    except UpstreamError as error:
        return {"ok": False, "error": error.entry()}
    return {"ok": True, "data": data}


@api_view
def upstream_partial(request: HttpRequest) -> JsonResponse:
    """Every source's data or error; one failure does not fail the answer."""
    params = FanoutParams.from_query(request.GET)
    entries = {name: _entry(name, params) for name in params.sources}
    return _partial_response(entries, params)


@api_view
async def aupstream_partial(request: HttpRequest) -> JsonResponse:
    """See upstream_partial()."""
    params = FanoutParams.from_query(request.GET)
    entries = await gather_all({name: _aentry(name, params) for name in params.sources})
    return _partial_response(entries, params)


def _past_deadline() -> BudgetExceeded:
    return BudgetExceeded(round(settings.UPSTREAM_DEADLINE * 1000))


def _fetch_before(deadline: float, url: str, params: dict) -> Json:
    """fetch_json() given the time left before `deadline`, UPSTREAM_TIMEOUT at
    most; BudgetExceeded once no time is left."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _past_deadline()
    try:
        return fetch_json(
            url, params=params, timeout=min(remaining, settings.UPSTREAM_TIMEOUT)
        )
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
    items = [
        _fetch_before(deadline, item_url(number), {"delay": params.delay})
        for number in range(params.count)
    ]
    return JsonResponse({"items": items})


@api_view
async def aupstream_bounded(request: HttpRequest) -> JsonResponse:
    """See upstream_bounded(); all at once, but never more than ?limit= in flight."""
    params = BoundedParams.from_query(request.GET)
    in_flight = asyncio.Semaphore(params.limit)

    async def fetch(number: int) -> Json:
        async with in_flight:
            return await afetch_json(item_url(number), params={"delay": params.delay})

    try:
        async with asyncio.timeout(settings.UPSTREAM_DEADLINE):
            results = await gather_all(
                {str(number): fetch(number) for number in range(params.count)}
            )
    except TimeoutError:
        raise _past_deadline() from None
    return JsonResponse({"items": list(results.values())})


def _line(name: str, entry: Json) -> bytes:
    return json.dumps({"source": name, **entry}).encode() + b"\n"


@api_view
def upstream_stream(request: HttpRequest) -> HttpResponse:
    """NDJSON, a line per source; a sync view can only send it all at the end."""
    params = StreamParams.from_query(request.GET)
    lines = [
        _line(name, _entry(name, params, params.stagger)) for name in params.sources
    ]
    return HttpResponse(b"".join(lines), content_type=NDJSON)


@api_view
@read_whole_under_wsgi
async def aupstream_stream(request: HttpRequest) -> StreamingHttpResponse:
    """See upstream_stream(); each line is sent as soon as its source answers."""
    params = StreamParams.from_query(request.GET)
    return StreamingHttpResponse(_alines(params), content_type=NDJSON)


async def _alines(params: StreamParams) -> AsyncIterator[bytes]:
    async def named(name: str) -> tuple[str, Json]:
        return name, await _aentry(name, params, stagger=params.stagger)

    tasks = [asyncio.create_task(named(name)) for name in params.sources]
    try:
        for answered in asyncio.as_completed(tasks):
            yield _line(*await answered)
    finally:
        # The client left, or we are done: no call may outlive the response.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
