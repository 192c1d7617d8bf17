"""One JSON GET, with requests or with aiohttp, failing the same way with either.

The two clients name their failures differently, and some of their exceptions
are two things at once, so the order of the except clauses decides the code:

refused, reset      requests: ConnectionError
                    aiohttp: ClientConnectorError, ServerDisconnectedError
                    -> upstream_connection
body cut short      requests: ChunkedEncodingError, ConnectionError
                    aiohttp: ClientPayloadError  -> upstream_connection
connect timeout     requests: ConnectTimeout, a ConnectionError too
                    aiohttp: ConnectionTimeoutError, a ClientConnectionError too
                    -> upstream_timeout
read timeout        requests: ReadTimeout; once the headers are in, a
                    ConnectionError wrapping urllib3's ReadTimeoutError
                    aiohttp: SocketTimeoutError, a ClientConnectionError too
                    -> upstream_timeout
non-2xx status      neither raises (raise_for_status(): 4xx and 5xx only)
                    -> upstream_status, with .status
bad JSON            requests: json() raises JSONDecodeError, a RequestException
                    too; aiohttp: json() raises json.JSONDecodeError
                    -> upstream_bad_json
not a JSON type     requests: json() parses it anyway; aiohttp: json() raises
                    ContentTypeError, a ClientResponseError (with status 200!)
                    -> upstream_bad_json
empty body          requests: json() raises JSONDecodeError; aiohttp: json()
                    returns None  -> upstream_bad_json

Copy this module as it is: it needs requests, aiohttp and the standard library.
"""

import re
from typing import Any

import aiohttp
import requests
from urllib3.exceptions import ReadTimeoutError

CONNECTION = "upstream_connection"
TIMEOUT = "upstream_timeout"
STATUS = "upstream_status"
BAD_JSON = "upstream_bad_json"

CONNECTION_FAILED = "The connection failed or broke."
NOT_JSON = "The answer is not valid JSON."
# The content types aiohttp's json() accepts: application/json, application/*+json.
JSON_CONTENT_TYPE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")


class HTTPCallError(Exception):
    """A call that failed: `code` is one of the four above; `status`, the
    upstream's HTTP status for upstream_status, else 0."""

    def __init__(self, code: str, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _timed_out(seconds: float) -> HTTPCallError:
    return HTTPCallError(TIMEOUT, f"No answer within {seconds * 1000:.0f} ms.")


def _check_status(status: int) -> None:
    # Not raise_for_status(): both let a 3xx through.
    if not 200 <= status < 300:
        raise HTTPCallError(STATUS, f"HTTP {status}", status=status)


def fetch_json(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    params: dict[str, Any] | None = None,
) -> Any:
    """GET `url` and decode its JSON. `timeout`: seconds to connect, then
    seconds between two reads (requests' meaning; not a deadline for the
    whole call). Redirects are not followed: a 3xx is upstream_status.

    Raise HTTPCallError: upstream_connection, upstream_timeout,
    upstream_status (with .status) or upstream_bad_json.
    """
    try:
        with session.get(
            url, params=params, timeout=timeout, allow_redirects=False
        ) as response:
            _check_status(response.status_code)
            # requests' json() parses any content type; aiohttp's refuses.
            content_type = response.headers.get("Content-Type", "").lower()
            if not JSON_CONTENT_TYPE.match(content_type):
                raise HTTPCallError(BAD_JSON, NOT_JSON)
            return response.json()
    except requests.Timeout:  # first: ConnectTimeout is a ConnectionError too
        raise _timed_out(timeout) from None
    except requests.JSONDecodeError:  # before RequestException: it is one
        raise HTTPCallError(BAD_JSON, NOT_JSON) from None
    except requests.ConnectionError as error:
        # Past the headers, requests wraps a read timeout in a ConnectionError.
        if error.args and isinstance(error.args[0], ReadTimeoutError):
            raise _timed_out(timeout) from None
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None
    except requests.RequestException:
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None


async def afetch_json(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 (per read: asyncio.timeout() is per call)
    params: dict[str, Any] | None = None,
) -> Any:
    """See fetch_json()."""
    # requests' meaning of a timeout; this replaces the session's, total included.
    per_read = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
    try:
        async with session.get(
            url, params=params, timeout=per_read, allow_redirects=False
        ) as response:
            _check_status(response.status)
            # aiohttp's json() answers None for an empty body; requests' raises.
            if not (await response.read()).strip():
                raise HTTPCallError(BAD_JSON, NOT_JSON)
            return await response.json()
    except TimeoutError:  # first: aiohttp's timeouts are ClientConnectionErrors too
        raise _timed_out(timeout) from None
    except aiohttp.ContentTypeError:  # before ClientError: a ClientResponseError
        raise HTTPCallError(BAD_JSON, NOT_JSON) from None
    except aiohttp.ClientError:  # before ValueError: aiohttp's InvalidURL is both
        raise HTTPCallError(CONNECTION, CONNECTION_FAILED) from None
    except ValueError:  # json.JSONDecodeError, or a body in the wrong encoding
        raise HTTPCallError(BAD_JSON, NOT_JSON) from None
