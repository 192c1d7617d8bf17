"""An upstream answer larger than the client's max_bytes: refused, never read whole."""

import json
import tracemalloc

import pytest
from django.test import SimpleTestCase

from tests.twins import prefixes
from topics.upstream.client import (
    CONNECTION,
    STATUS,
    TIMEOUT,
    TOO_LARGE,
    UpstreamError,
    afetch_json,
    error_response,
    fetch_json,
    http_session,
)
from topics.upstream.params import source_url

# The fake's answer for the memory tests, 8 times the client's max_bytes default.
LARGE = {"size": 8_000_000, "chunked": 1}
# Read whole, the answer alone takes 8 MB, and its decoded string as much again.
MEMORY_BOUND = 3_000_000


class ErrorResponseTests(SimpleTestCase):
    def test_a_timeout_is_504_any_other_failure_502(self):
        """Gateway Timeout when the upstream did not answer in time, as the
        budget and httperrors pairs answer it; Bad Gateway otherwise."""
        for code, status in (
            (TIMEOUT, 504),
            (CONNECTION, 502),
            (STATUS, 502),
            (TOO_LARGE, 502),
        ):
            with self.subTest(code=code):
                response = error_response(UpstreamError(code, "x", source="orders"))

                self.assertEqual(response.status_code, status)
                self.assertEqual(
                    json.loads(response.content)["error"],
                    {"code": code, "message": "orders: x", "source": "orders"},
                )


@pytest.mark.usefixtures("upstream")
class TooLargeTests(SimpleTestCase):
    async def test_too_large_answer_is_502_in_both_twins(self):
        """Declared (Content-Length) or chunked, a 4 MB answer is upstream_too_large."""
        for failure in ("huge", "huge_chunked"):
            for prefix in prefixes("upstream_fanout"):
                with self.subTest(twin=prefix):
                    async with http_session():
                        response = await self.async_client.get(
                            f"/{prefix}/upstream/fanout/",
                            {"delay": 0, "broken": f"orders:{failure}"},
                        )

                    self.assertEqual(response.status_code, 502, (prefix, failure))
                    error = response.json()["error"]
                    self.assertEqual(error["code"], TOO_LARGE)
                    self.assertEqual(error["source"], "orders")

    async def test_too_large_answer_is_an_entry_in_the_partial_pair(self):
        """The other sources still answer; the large one is an error entry."""
        for prefix in prefixes("upstream_partial"):
            with self.subTest(twin=prefix):
                async with http_session():
                    response = await self.async_client.get(
                        f"/{prefix}/upstream/partial/",
                        {"delay": 0, "broken": "orders:huge_chunked"},
                    )

                sources = response.json()["sources"]
                self.assertEqual(response.status_code, 200, prefix)
                self.assertEqual(sources["orders"]["error"]["code"], TOO_LARGE)
                self.assertIs(sources["profile"]["ok"], True)

    def test_fetch_json_reads_no_more_than_the_cap(self):
        """A chunked 8 MB answer: the sync client stops past 1 MiB."""
        tracemalloc.start()
        try:
            with self.assertRaises(UpstreamError) as caught:
                fetch_json(source_url("orders"), params=LARGE)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        self.assertEqual(caught.exception.code, TOO_LARGE)
        self.assertLess(peak, MEMORY_BOUND)

    async def test_afetch_json_reads_no_more_than_the_cap(self):
        """See test_fetch_json_reads_no_more_than_the_cap()."""
        async with http_session():
            tracemalloc.start()
            try:
                with self.assertRaises(UpstreamError) as caught:
                    await afetch_json(source_url("orders"), params=LARGE)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()

        self.assertEqual(caught.exception.code, TOO_LARGE)
        self.assertLess(peak, MEMORY_BOUND)
