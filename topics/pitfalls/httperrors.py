"""Pitfalls of HTTP clients: their exceptions overlap, so the order of the except
clauses decides what a failure is called."""

from typing import Any

import aiohttp
import requests

from topics.httperrors import (
    BAD_JSON,
    CONNECTION,
    CONNECTION_FAILED,
    NOT_JSON,
    TIMEOUT,
    HTTPCallError,
)
from topics.pitfalls.registry import Pitfall

TIMED_OUT = "No answer in time."


# 33. A client's broad exception class caught before the narrow one it contains.


def wrong_fetch_json(session: requests.Session, url: str, *, timeout: float) -> Any:
    """Any failure of the client first, then bad JSON."""
    try:
        with session.get(url, timeout=timeout) as response:
            return response.json()
    except requests.RequestException:
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None
    except ValueError:  # never reached: requests' JSONDecodeError is both
        raise HTTPCallError(BAD_JSON, NOT_JSON) from None


def right_fetch_json(session: requests.Session, url: str, *, timeout: float) -> Any:
    """See wrong_fetch_json(); the narrow class first."""
    try:
        with session.get(url, timeout=timeout) as response:
            return response.json()
    except requests.JSONDecodeError:  # before RequestException: it is one
        raise HTTPCallError(BAD_JSON, NOT_JSON) from None
    except requests.RequestException:
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None


async def awrong_fetch_json(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 (per read, as in topics.httperrors)
) -> Any:
    """Any failure of the client first, then a timeout."""
    per_read = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
    try:
        async with session.get(url, timeout=per_read) as response:
            return await response.json()
    except aiohttp.ClientError:
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None
    except TimeoutError:  # reached by a total timeout only: the others are both
        raise HTTPCallError(TIMEOUT, TIMED_OUT) from None


async def aright_fetch_json(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 (per read, as in topics.httperrors)
) -> Any:
    """See awrong_fetch_json(); the timeout first."""
    per_read = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
    try:
        async with session.get(url, timeout=per_read) as response:
            return await response.json()
    except TimeoutError:  # before ClientError: aiohttp's timeouts are both
        raise HTTPCallError(TIMEOUT, TIMED_OUT) from None
    except aiohttp.ClientError:
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None


TEST = "tests/pitfalls/test_httperrors.py::"

PITFALLS = [
    Pitfall(
        number=33,
        slug="http-client-errors-caught-in-the-wrong-order",
        title="An HTTP client's errors caught in the wrong order",
        symptom="A slow upstream answered `upstream_connection` (502) instead of "
        "`upstream_timeout` (504): aiohttp's `SocketTimeoutError` and "
        "`ConnectionTimeoutError` are `ClientConnectionError`s too; with requests, "
        "bad JSON answered as a connection failure: `requests.JSONDecodeError` is "
        "a `RequestException` too",
        fix="Catch the narrow class first: `TimeoutError` before "
        "`aiohttp.ClientError`, `requests.Timeout` before `requests.ConnectionError`, "
        "`requests.JSONDecodeError` before `requests.RequestException`, "
        "`aiohttp.ContentTypeError` before `aiohttp.ClientResponseError` "
        "(`topics.httperrors`).",
        wrong=awrong_fetch_json,
        right=aright_fetch_json,
        test=TEST + "ClauseOrderTests::test_the_broad_class_first_misnames_the_failure",
    ),
]
