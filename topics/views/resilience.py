"""Upstream resilience: hedged requests, a cache in front, retries with backoff."""

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError

from topics.api import api_view
from topics.upstream.client import (
    Json,
    UpstreamError,
    afetch_json,
    afetch_with_retries,
    error_response,
    fetch_json,
    fetch_with_retries,
    first_success,
)
from topics.upstream.params import (
    REPLICAS,
    executor,
    hedge_after_param,
    method_param,
    source_param,
    source_url,
)

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


def _replica_url(replica: int) -> str:
    return source_url(HEDGED_SOURCE, replica=replica)


def _first_success(calls: set[Future]) -> Json:
    pending = calls
    while True:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        if winner := first_success(done, last=not pending):
            return winner.result()


@api_view
def upstream_hedged(request: HttpRequest) -> JsonResponse:
    """Ask the primary; if it is slow, ask the backup too; take the first answer."""
    hedge_after = hedge_after_param(request.GET)
    futures = {executor().submit(fetch_json, _replica_url(REPLICAS[0]))}
    done, _ = wait(futures, timeout=hedge_after / 1000)
    if not done:
        futures.add(executor().submit(fetch_json, _replica_url(REPLICAS[1])))
    try:
        # The loser runs on in its thread: a requests call cannot be cancelled.
        return JsonResponse({"answer": _first_success(futures)})
    except UpstreamError as error:
        return error_response(error)


async def _afirst_success(calls: set[asyncio.Task]) -> Json:
    pending = calls
    while True:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if winner := first_success(done, last=not pending):
            return winner.result()


@api_view
async def aupstream_hedged(request: HttpRequest) -> JsonResponse:
    """See upstream_hedged(); the losing call is cancelled."""
    hedge_after = hedge_after_param(request.GET)
    tasks = {asyncio.create_task(afetch_json(_replica_url(REPLICAS[0])))}
    try:
        done, _ = await asyncio.wait(tasks, timeout=hedge_after / 1000)
        if not done:
            tasks.add(asyncio.create_task(afetch_json(_replica_url(REPLICAS[1]))))
        return JsonResponse({"answer": await _afirst_success(tasks)})
    except UpstreamError as error:
        return error_response(error)
    finally:
        # The loser, or every call if the client left: cancelled, and awaited
        # so that none outlives the request.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _cached_response(data: Json, *, hit: bool) -> JsonResponse:
    response = JsonResponse({"data": data})
    response["X-Cache"] = "hit" if hit else "miss"
    return response


def _cache_key(source: str) -> str:
    return f"upstream:{source}"


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
    source = source_param(request.GET)
    data, cache_answered = None, False
    with _cache_errors_logged():
        data = cache.get(_cache_key(source))
        cache_answered = True
    hit = data is not None
    if not hit:
        try:
            data = fetch_json(source_url(source), source=source)
        except UpstreamError as error:
            return error_response(error)
        if cache_answered:  # one failure is enough: no second wait for a store
            with _cache_errors_logged():
                cache.set(_cache_key(source), data, CACHE_SECONDS)
    return _cached_response(data, hit=hit)


@api_view
async def aupstream_cached(request: HttpRequest) -> JsonResponse:
    """See upstream_cached(); Django's async cache API: aget() and aset()."""
    source = source_param(request.GET)
    data, cache_answered = None, False
    with _cache_errors_logged():
        data = await cache.aget(_cache_key(source))
        cache_answered = True
    hit = data is not None
    if not hit:
        try:
            data = await afetch_json(source_url(source), source=source)
        except UpstreamError as error:
            return error_response(error)
        if cache_answered:  # one failure is enough: no second wait for a store
            with _cache_errors_logged():
                await cache.aset(_cache_key(source), data, CACHE_SECONDS)
    return _cached_response(data, hit=hit)


def _retry_payload(data: Json) -> Json:
    # The fake counts the attempts it saw; a real upstream's data has no such key.
    attempts = data.pop("attempt")
    return {"attempts": attempts, "data": data}


@api_view
def upstream_retry(request: HttpRequest) -> JsonResponse:
    """A GET that fails is retried with backoff, up to 3 attempts; a POST never."""
    url, method = source_url(RETRIED_SOURCE), method_param(request.GET)
    try:
        data = fetch_with_retries(url, method=method, source=RETRIED_SOURCE)
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse(_retry_payload(data))


@api_view
async def aupstream_retry(request: HttpRequest) -> JsonResponse:
    """See upstream_retry()."""
    url, method = source_url(RETRIED_SOURCE), method_param(request.GET)
    try:
        data = await afetch_with_retries(url, method=method, source=RETRIED_SOURCE)
    except UpstreamError as error:
        return error_response(error)
    return JsonResponse(_retry_payload(data))
