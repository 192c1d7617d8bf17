"""The demo's scenario travels beside the upstream views: from the URL's knobs,
through the demo-only middleware, to the fake upstream, in every twin."""

import inspect

import pytest
from django.http import QueryDict
from django.test import SimpleTestCase

from project.demo import scenario
from project.demo.upstream import scenario_knobs
from tests.twins import urls
from topics.upstream.client import fetch_json, http_session
from topics.upstream.params import source_url
from topics.views import fanout, httperrors, resilience


class ScenarioTests(SimpleTestCase):
    def test_knobs_become_the_header_with_the_pair_defaults(self):
        """Knobs a pair does not take are left out; absent ones get defaults."""
        query = QueryDict("delay=20&broken=orders:500&stagger=9&sources=orders")

        self.assertEqual(
            scenario.scenario("fanout", query), {"delay": 20, "broken": "orders:500"}
        )
        self.assertEqual(
            scenario.scenario("hedged", QueryDict()),
            {"primary_delay": 300, "backup_delay": 20},
        )

    def test_a_malformed_knob_is_named(self):
        cases = [
            ("fanout", "delay=soon", "delay"),
            ("fanout", "delay=5001", "delay"),
            ("fanout", "broken=orders:melt", "broken"),
            ("fanout", "sources=profile&broken=orders:500", "broken"),
            ("retry", "fail_times=6", "fail_times"),
            ("errors", "fail=", "fail"),
        ]
        for pair, query, name in cases:
            with (
                self.subTest(pair=pair, query=query),
                self.assertRaisesMessage(scenario.InvalidKnob, f"{name}: "),
            ):
                scenario.scenario(pair, QueryDict(query))

    def test_the_fake_turns_the_scenario_into_each_calls_parameters(self):
        """Stagger by rank in ?sources=, failures per source, replica delays."""
        knobs = {"delay": "10", "stagger": "100", "sources": "orders,profile"}
        broken = {"delay": "0", "broken": "orders:500"}
        hedged = {"primary_delay": "300", "backup_delay": "20"}

        self.assertEqual(scenario_knobs(knobs, "profile", "")["delay"], 210)
        self.assertEqual(scenario_knobs(knobs, "orders", "")["delay"], 110)
        self.assertEqual(scenario_knobs(broken, "orders", "")["status"], 500)
        self.assertNotIn("status", scenario_knobs(broken, "profile", ""))
        self.assertEqual(scenario_knobs(hedged, "profile", "2")["delay"], 20)

    def test_no_view_reads_a_knob(self):
        """The views name none of the fake's knobs: a real app's view has none."""
        knobs = {name for pair in scenario.KNOBS.values() for name in pair}
        for module in (fanout, resilience, httperrors):
            source = inspect.getsource(module)
            for knob in knobs:
                with self.subTest(module=module.__name__, knob=knob):
                    self.assertNotIn(f'"{knob}"', source)


@pytest.mark.usefixtures("upstream")
class ScenarioTravelsTests(SimpleTestCase):
    async def test_every_twin_sends_the_scenario(self):
        """requests, the thread pool, aiohttp: the broken source fails in each."""
        for url in urls("upstream_fanout"):
            with self.subTest(twin=url):
                async with http_session():
                    response = await self.async_client.get(
                        url, {"delay": 0, "broken": "orders:500"}
                    )

                self.assertEqual(response.status_code, 502)
                self.assertEqual(
                    response.json()["error"]["message"], "orders: HTTP 500"
                )

    def test_the_scenario_ends_with_its_request(self):
        """A call made after a request with knobs carries none of them."""
        response = self.client.get("/sync/upstream/fanout/?delay=0&broken=profile:500")

        self.assertEqual(response.status_code, 502)
        self.assertEqual(fetch_json(source_url("profile"))["source"], "profile")
