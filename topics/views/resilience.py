"""Upstream resilience: hedged requests, a cache in front, retries with backoff."""

import asyncio
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError

from topics.api import api_view
from topics.upstream.client import (
    EXECUTOR,
    REPLICAS,
    Json,
    afetch_json,
    afetch_with_retries,
    fetch_json,
    fetch_with_retries,
    source_url,
)
from topics.upstream.params import CachedParams, HedgeParams, RetryParams

logger = logging.getLogger(__name__)

HEDGED_SOURCE = "profile"
RETRIED_SOURCE = "orders"
CACHE_SECONDS = 60
# What a cache that is down or slow raises. Django's backends share no error
# class: each raises its client's (redis-py's RedisError, pymemcache's
# MemcacheError...), so name yours. `except Exception` would also turn a bug,
# an unpicklable value say, into a silent miss.
CACHE_ERRORS = (RedisError,)
CACHE_FAILED = "The cache failed and is skipped for this request: %r"


def _replica_call(params: HedgeParams, replica: int) -> tuple[str, dict]:
    delay = params.primary_delay if replica == REPLICAS[0] else params.backup_delay
    return source_url(HEDGED_SOURCE, replica=replica), {"delay": delay}


def _first_success(futures: set[Future]) -> Json:
    pending = futures
    while True:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        answers = [future for future in done if future.exception() is None]
        if answers:
            return answers[0].result()
        if not pending:
            raise next(iter(done)).exception()


@api_view
def upstream_hedged(request: HttpRequest) -> JsonResponse:
    """Ask the primary; if it is slow, ask the backup too; take the first answer."""
    params = HedgeParams.from_query(request.GET)
    url, knobs = _replica_call(params, REPLICAS[0])
    futures = {EXECUTOR.submit(fetch_json, url, params=knobs)}
    done, _ = wait(futures, timeout=params.hedge_after / 1000)
    if not done:
        url, knobs = _replica_call(params, REPLICAS[1])
        futures.add(EXECUTOR.submit(fetch_json, url, params=knobs))
    # The loser runs on in its thread: a requests call cannot be cancelled.
    return JsonResponse({"answer": _first_success(futures)})


async def _afirst_success(tasks: set[asyncio.Task]) -> Json:
    pending = tasks
    while True:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        answers = [task for task in done if task.exception() is None]
        if answers:
            return answers[0].result()
        if not pending:
            raise next(iter(done)).exception()


@api_view
async def aupstream_hedged(request: HttpRequest) -> JsonResponse:
    """See upstream_hedged(); the losing call is cancelled."""
    params = HedgeParams.from_query(request.GET)
    url, knobs = _replica_call(params, REPLICAS[0])
    tasks = {asyncio.create_task(afetch_json(url, params=knobs))}
    try:
        done, _ = await asyncio.wait(tasks, timeout=params.hedge_after / 1000)
        if not done:
            url, knobs = _replica_call(params, REPLICAS[1])
            tasks.add(asyncio.create_task(afetch_json(url, params=knobs)))
        answer = await _afirst_success(tasks)
    finally:
        # The loser, or every call if the client left: cancelled, and awaited
        # so that none outlives the request.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return JsonResponse({"answer": answer})


def _cached_response(data: Json, *, hit: bool) -> JsonResponse:
    response = JsonResponse({"data": data})
    response["X-Cache"] = "hit" if hit else "miss"
    return response


def _cache_key(params: CachedParams) -> str:
    return f"upstream:{params.source}"


@contextmanager
def _cache_errors_logged() -> Iterator[None]:
    """A cache that fails is logged and skipped: it is optional, the upstream is not."""
    try:
        yield
    except CACHE_ERRORS as error:
        logger.warning(CACHE_FAILED, error)


@api_view
def upstream_cached(request: HttpRequest) -> JsonResponse:
    """A source's data from the cache, or from the upstream and then cached; a
    cache that fails counts as a miss."""
    params = CachedParams.from_query(request.GET)
    data, cache_answered = None, False
    with _cache_errors_logged():
        data = cache.get(_cache_key(params))
        cache_answered = True
    hit = data is not None
    if not hit:
        url = source_url(params.source)
        data = fetch_json(url, params={"delay": params.delay}, source=params.source)
        if cache_answered:  # one failure is enough: no second wait for a store
            with _cache_errors_logged():
                cache.set(_cache_key(params), data, CACHE_SECONDS)
    return _cached_response(data, hit=hit)


@api_view
async def aupstream_cached(request: HttpRequest) -> JsonResponse:
    """See upstream_cached(); Django's async cache API: aget() and aset()."""
    params = CachedParams.from_query(request.GET)
    data, cache_answered = None, False
    with _cache_errors_logged():
        data = await cache.aget(_cache_key(params))
        cache_answered = True
    hit = data is not None
    if not hit:
        url = source_url(params.source)
        data = await afetch_json(
            url, params={"delay": params.delay}, source=params.source
        )
        if cache_answered:  # one failure is enough: no second wait for a store
            with _cache_errors_logged():
                await cache.aset(_cache_key(params), data, CACHE_SECONDS)
    return _cached_response(data, hit=hit)


def _retry_call(params: RetryParams) -> dict:
    # A fresh key per request: the fake fails its first ?fail_times= calls.
    knobs = {"fail_times": params.fail_times, "key": uuid.uuid4().hex}
    return {"url": source_url(RETRIED_SOURCE), "method": params.method, "params": knobs}


def _retry_payload(data: Json) -> Json:
    attempts = data.pop("attempt")
    return {"attempts": attempts, "data": data}


@api_view
def upstream_retry(request: HttpRequest) -> JsonResponse:
    """A GET that fails is retried with backoff, up to 3 attempts; a POST never."""
    params = RetryParams.from_query(request.GET)
    data = fetch_with_retries(**_retry_call(params), source=RETRIED_SOURCE)
    return JsonResponse(_retry_payload(data))


@api_view
async def aupstream_retry(request: HttpRequest) -> JsonResponse:
    """See upstream_retry()."""
    params = RetryParams.from_query(request.GET)
    data = await afetch_with_retries(**_retry_call(params), source=RETRIED_SOURCE)
    return JsonResponse(_retry_payload(data))
