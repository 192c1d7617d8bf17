"""fetch_json() and afetch_json() against real sockets: each failure of either
client is one HTTPCallError code, and the views answer it alike."""

import atexit
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import pytest
import requests
from asgiref.sync import async_to_sync
from django.test import SimpleTestCase

from tests.twins import prefixes
from topics.httperrors import (
    BAD_JSON,
    CONNECTION,
    CONNECTION_FAILED,
    NOT_JSON,
    STATUS,
    TIMEOUT,
    HTTPCallError,
    afetch_json,
    fetch_json,
)
from topics.upstream import client
from topics.upstream.client import http_session
from topics.upstream.params import source_url
from topics.views.httperrors import CALL_TIMEOUT

# Short, so that the tests are quick; the fake waits 5 times longer.
TIMEOUT_S = 0.3
SLOW = {"delay": 1500}
TIMED_OUT = "No answer within 300 ms."


_refusing = socket.socket()
atexit.register(_refusing.close)


def refused_url() -> str:
    """A URL on a loopback port this process holds bound but never listens on:
    every connection to it is refused, and no other process can take the port."""
    if not _refusing.getsockname()[1]:
        _refusing.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{_refusing.getsockname()[1]}/sources/profile"


@contextmanager
def unaccepting_port() -> Iterator[int]:
    """A port whose accept queue is full: a connection to it times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            # Linux queues backlog + 1 connections, then drops the next SYNs.
            for _ in range(3):
                filler = socket.socket()
                fillers.append(filler)
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            time.sleep(0.1)
            yield port
        finally:
            for filler in fillers:
                filler.close()


class ClassHierarchyTests(SimpleTestCase):
    """The overlaps fetch_json() and afetch_json() order their clauses for."""

    def test_requests_overlaps(self):
        self.assertIs(
            issubclass(requests.ConnectTimeout, requests.ConnectionError), True
        )
        self.assertIs(issubclass(requests.ConnectTimeout, requests.Timeout), True)
        self.assertIs(issubclass(requests.ReadTimeout, requests.ConnectionError), False)
        self.assertIs(
            issubclass(requests.JSONDecodeError, requests.RequestException), True
        )
        self.assertIs(issubclass(requests.JSONDecodeError, ValueError), True)
        self.assertIs(issubclass(requests.exceptions.InvalidURL, ValueError), True)

    def test_aiohttp_overlaps(self):
        for timeout in (
            aiohttp.ServerTimeoutError,
            aiohttp.ConnectionTimeoutError,
            aiohttp.SocketTimeoutError,
        ):
            self.assertIs(issubclass(timeout, aiohttp.ClientConnectionError), True)
            self.assertIs(issubclass(timeout, TimeoutError), True)
        self.assertIs(
            issubclass(aiohttp.ContentTypeError, aiohttp.ClientResponseError), True
        )
        self.assertIs(issubclass(aiohttp.InvalidURL, ValueError), True)


@pytest.mark.usefixtures("upstream")
class HelperTests(SimpleTestCase):
    """Each failure, through both helpers; the client's own exception is kept
    as __context__, which shows which overlap the clause order resolved."""

    def call(self, url: str, params: dict | None = None) -> HTTPCallError:
        with requests.Session() as session, self.assertRaises(HTTPCallError) as caught:
            fetch_json(session, url, timeout=TIMEOUT_S, params=params)
        return caught.exception

    async def acall(self, url: str, params: dict | None = None) -> HTTPCallError:
        async with aiohttp.ClientSession() as session:
            with self.assertRaises(HTTPCallError) as caught:
                await afetch_json(session, url, timeout=TIMEOUT_S, params=params)
        return caught.exception

    def assertFailure(self, error, code, message, status=0):
        self.assertEqual(
            (error.code, error.message, error.status), (code, message, status)
        )

    def test_success_is_the_decoded_json(self):
        with requests.Session() as session:
            data = fetch_json(session, source_url("profile"), timeout=TIMEOUT_S)

        self.assertEqual(data, {"source": "profile", "value": 634})

    async def test_success_is_the_decoded_json_async(self):
        async with aiohttp.ClientSession() as session:
            data = await afetch_json(session, source_url("profile"), timeout=TIMEOUT_S)

        self.assertEqual(data, {"source": "profile", "value": 634})

    def test_refused_and_reset_are_connection(self):
        refused = self.call(refused_url())
        reset = self.call(source_url("profile"), {"fail": "reset"})

        self.assertFailure(refused, CONNECTION, CONNECTION_FAILED)
        self.assertFailure(reset, CONNECTION, CONNECTION_FAILED)
        self.assertIsInstance(refused.__context__, requests.ConnectionError)

    async def test_refused_and_reset_are_connection_async(self):
        refused = await self.acall(refused_url())
        reset = await self.acall(source_url("profile"), {"fail": "reset"})

        self.assertFailure(refused, CONNECTION, CONNECTION_FAILED)
        self.assertFailure(reset, CONNECTION, CONNECTION_FAILED)
        self.assertIsInstance(refused.__context__, aiohttp.ClientConnectorError)
        self.assertIsInstance(reset.__context__, aiohttp.ServerDisconnectedError)

    def test_connect_timeout_is_timeout_though_a_connection_error(self):
        with unaccepting_port() as port:
            error = self.call(f"http://127.0.0.1:{port}/")

        self.assertFailure(error, TIMEOUT, TIMED_OUT)
        self.assertIsInstance(error.__context__, requests.ConnectTimeout)
        self.assertIsInstance(error.__context__, requests.ConnectionError)

    async def test_connect_timeout_is_timeout_though_a_connection_error_async(self):
        with unaccepting_port() as port:
            error = await self.acall(f"http://127.0.0.1:{port}/")

        self.assertFailure(error, TIMEOUT, TIMED_OUT)
        self.assertIsInstance(error.__context__, aiohttp.ConnectionTimeoutError)
        self.assertIsInstance(error.__context__, aiohttp.ClientConnectionError)

    def test_read_timeout_is_timeout_before_or_after_the_headers(self):
        started = time.monotonic()
        before = self.call(source_url("profile"), SLOW)
        after = self.call(source_url("profile"), {"fail": "stall"})
        elapsed = time.monotonic() - started

        self.assertFailure(before, TIMEOUT, TIMED_OUT)
        self.assertFailure(after, TIMEOUT, TIMED_OUT)
        self.assertIsInstance(before.__context__, requests.ReadTimeout)
        # requests wraps a timeout in the body in a plain ConnectionError.
        self.assertNotIsInstance(after.__context__, requests.Timeout)
        self.assertIsInstance(after.__context__, requests.ConnectionError)
        self.assertLess(elapsed, 1.5)

    async def test_read_timeout_is_timeout_before_or_after_the_headers_async(self):
        started = time.monotonic()
        before = await self.acall(source_url("profile"), SLOW)
        after = await self.acall(source_url("profile"), {"fail": "stall"})
        elapsed = time.monotonic() - started

        self.assertFailure(before, TIMEOUT, TIMED_OUT)
        self.assertFailure(after, TIMEOUT, TIMED_OUT)
        for error in (before, after):
            self.assertIsInstance(error.__context__, aiohttp.SocketTimeoutError)
            self.assertIsInstance(error.__context__, aiohttp.ClientConnectionError)
        self.assertLess(elapsed, 1.5)

    def test_non_2xx_is_status_with_the_upstream_status(self):
        for params, status in (({"status": 503}, 503), ({"fail": "redirect"}, 302)):
            error = self.call(source_url("profile"), params)

            self.assertFailure(error, STATUS, f"HTTP {status}", status)

    async def test_non_2xx_is_status_with_the_upstream_status_async(self):
        for params, status in (({"status": 503}, 503), ({"fail": "redirect"}, 302)):
            error = await self.acall(source_url("profile"), params)

            self.assertFailure(error, STATUS, f"HTTP {status}", status)

    def test_bad_json_is_bad_json_though_a_request_exception(self):
        error = self.call(source_url("profile"), {"fail": "badjson"})

        self.assertFailure(error, BAD_JSON, NOT_JSON)
        self.assertIsInstance(error.__context__, requests.RequestException)

    async def test_bad_json_is_bad_json_async(self):
        error = await self.acall(source_url("profile"), {"fail": "badjson"})

        self.assertFailure(error, BAD_JSON, NOT_JSON)
        self.assertIsInstance(error.__context__, json.JSONDecodeError)

    def test_html_is_bad_json(self):
        error = self.call(source_url("profile"), {"fail": "html"})

        self.assertFailure(error, BAD_JSON, NOT_JSON)

    async def test_html_is_bad_json_though_a_client_response_error(self):
        error = await self.acall(source_url("profile"), {"fail": "html"})

        self.assertFailure(error, BAD_JSON, NOT_JSON)
        self.assertIsInstance(error.__context__, aiohttp.ClientResponseError)
        self.assertEqual(error.__context__.status, 200)

    def test_body_cut_short_is_connection(self):
        error = self.call(source_url("profile"), {"fail": "close"})

        self.assertFailure(error, CONNECTION, CONNECTION_FAILED)

    async def test_body_cut_short_is_connection_async(self):
        error = await self.acall(source_url("profile"), {"fail": "close"})

        self.assertFailure(error, CONNECTION, CONNECTION_FAILED)
        self.assertIsInstance(error.__context__, aiohttp.ClientPayloadError)

    def test_invalid_url_is_connection_though_a_value_error(self):
        error = self.call("http://[::1/")

        self.assertFailure(error, CONNECTION, CONNECTION_FAILED)
        self.assertIsInstance(error.__context__, ValueError)

    async def test_invalid_url_is_connection_though_a_value_error_async(self):
        error = await self.acall("http://[::1/")

        self.assertFailure(error, CONNECTION, CONNECTION_FAILED)
        self.assertIsInstance(error.__context__, ValueError)


@pytest.mark.usefixtures("upstream")
class ViewTests(SimpleTestCase):
    """The upstream_errors pair's twins answer each failure alike."""

    async def get(self, prefix: str, **query: str):
        async with http_session():
            return await self.async_client.get(f"/{prefix}/upstream/errors/", query)

    async def test_each_failure_is_one_code_and_status_in_both_twins(self):
        expected = {
            "connect": (502, {"code": CONNECTION, "message": CONNECTION_FAILED}),
            "status": (
                502,
                {"code": STATUS, "message": "HTTP 503", "upstream_status": 503},
            ),
            "badjson": (502, {"code": BAD_JSON, "message": NOT_JSON}),
            "html": (502, {"code": BAD_JSON, "message": NOT_JSON}),
        }
        for fail, (status, error) in expected.items():
            for prefix in prefixes("upstream_errors"):
                with self.subTest(twin=prefix, fail=fail):
                    response = await self.get(prefix, fail=fail)

                    self.assertEqual(response.status_code, status)
                    self.assertEqual(response.json(), {"error": error})

    async def test_timeout_is_504_after_the_call_timeout_in_both_twins(self):
        for prefix in prefixes("upstream_errors"):
            with self.subTest(twin=prefix):
                started = time.monotonic()
                response = await self.get(prefix, fail="timeout")
                elapsed = time.monotonic() - started

                self.assertEqual(response.status_code, 504, prefix)
                self.assertEqual(
                    response.json(),
                    {"error": {"code": TIMEOUT, "message": "No answer within 500 ms."}},
                )
                # The fake would answer after 2 s.
                self.assertGreaterEqual(elapsed, CALL_TIMEOUT, prefix)
                self.assertLess(elapsed, 1.9, prefix)

    async def test_success_is_the_data_in_both_twins(self):
        for prefix in prefixes("upstream_errors"):
            with self.subTest(twin=prefix):
                response = await self.get(prefix)

                self.assertEqual(response.status_code, 200, prefix)
                self.assertEqual(
                    response.json(), {"data": {"source": "profile", "value": 634}}
                )

    async def test_unknown_failure_is_400(self):
        for prefix in prefixes("upstream_errors"):
            with self.subTest(twin=prefix):
                response = await self.get(prefix, fail="nope")

                self.assertEqual(response.status_code, 400, prefix)
                self.assertEqual(response.json()["error"]["parameter"], "fail")


@pytest.mark.usefixtures("upstream")
class ClientTwinsTests(SimpleTestCase):
    """topics.upstream.client's twins name a stalled body alike, as the helper does."""

    def test_a_body_that_stalls_is_a_timeout_in_both_twins(self):
        with self.assertRaises(client.UpstreamError) as sync:
            client.fetch_json(
                source_url("profile"), params={"fail": "stall"}, timeout=TIMEOUT_S
            )

        async def acall() -> client.UpstreamError:
            async with http_session():
                try:
                    await client.afetch_json(
                        source_url("profile"),
                        params={"fail": "stall"},
                        timeout=TIMEOUT_S,
                    )
                except client.UpstreamError as error:
                    return error
            raise AssertionError("afetch_json() answered a stalled body")

        both = [sync.exception, async_to_sync(acall)()]
        self.assertEqual(
            [(error.code, error.reason) for error in both], [(TIMEOUT, TIMED_OUT)] * 2
        )
