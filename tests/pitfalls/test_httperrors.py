"""HTTP client errors: caught broad class first, a timeout or bad JSON is called
a connection failure; caught narrow class first, each is named right."""

import aiohttp
import pytest
import requests
from django.test import SimpleTestCase

from topics.httperrors import BAD_JSON, CONNECTION, TIMEOUT, HTTPCallError
from topics.pitfalls.httperrors import (
    aright_fetch_json,
    awrong_fetch_json,
    right_fetch_json,
    wrong_fetch_json,
)
from topics.upstream.params import source_url

# Seconds; the fake upstream answers the slow call after 1.5 s.
TIMEOUT_S = 0.3


@pytest.mark.usefixtures("upstream")
class ClauseOrderTests(SimpleTestCase):
    async def test_the_broad_class_first_misnames_the_failure(self):
        """A slow answer through aiohttp: upstream_connection when ClientError is
        caught first, upstream_timeout when TimeoutError is."""
        slow = f"{source_url('profile')}?delay=1500"
        codes = {}
        async with aiohttp.ClientSession() as session:
            for snippet in (awrong_fetch_json, aright_fetch_json):
                with self.assertRaises(HTTPCallError) as caught:
                    await snippet(session, slow, timeout=TIMEOUT_S)
                codes[snippet] = caught.exception.code

        self.assertEqual(codes[awrong_fetch_json], CONNECTION)
        self.assertEqual(codes[aright_fetch_json], TIMEOUT)
        self.assertIsInstance(caught.exception.__context__, aiohttp.SocketTimeoutError)

    def test_requests_bad_json_is_a_connection_failure_when_caught_broad_first(self):
        """Bad JSON through requests: upstream_connection when RequestException
        is caught first, upstream_bad_json when JSONDecodeError is."""
        bad_json = f"{source_url('profile')}?fail=badjson"
        codes = {}
        with requests.Session() as session:
            for snippet in (wrong_fetch_json, right_fetch_json):
                with self.assertRaises(HTTPCallError) as caught:
                    snippet(session, bad_json, timeout=TIMEOUT_S)
                codes[snippet] = caught.exception.code

        self.assertEqual(codes[wrong_fetch_json], CONNECTION)
        self.assertEqual(codes[right_fetch_json], BAD_JSON)
        self.assertIsInstance(caught.exception.__context__, requests.JSONDecodeError)

    def test_both_orders_agree_on_a_plain_success(self):
        """The order changes only the names of failures."""
        with requests.Session() as session:
            for snippet in (wrong_fetch_json, right_fetch_json):
                data = snippet(session, source_url("profile"), timeout=TIMEOUT_S)

                self.assertEqual(data, {"source": "profile", "value": 634})
