"""The root URLconf: a URL no pattern matches under a twin prefix is JSON 404."""

from django.test import SimpleTestCase, TestCase, override_settings

from project.urls import TWIN_PREFIXES
from tests.twins import prefixes, twins
from topics.api import NOT_FOUND
from topics.pairs import PAIRS

# A non-ASCII slug that the <slug:> converter refuses, a route no pair serves,
# a part past a known route, and a known route without its slash.
UNKNOWN_ROUTES = (
    "topics/é/",
    "no-such-pattern/",
    "topics/topic-1/no-such-part/",
    "topics/topic-1",
)


def json_404(test: SimpleTestCase, url: str, *, debug: bool) -> dict:
    """GET url with DEBUG as given; assert a JSON not_found 404, return its error."""
    with (
        override_settings(DEBUG=debug),
        test.assertLogs("django.request", "WARNING"),
    ):
        response = test.client.get(url)

    test.assertEqual(response.status_code, 404)
    test.assertEqual(response["Content-Type"], "application/json")
    error = response.json()["error"]
    test.assertEqual(error["code"], NOT_FOUND)
    return error


class UnknownTwinUrlTests(SimpleTestCase):
    def test_prefixes_are_every_twin_of_every_pair(self):
        """The catch-all covers sync, async and every variant prefix."""
        served = {twin.prefix for pair in PAIRS for twin in pair.twins()}

        self.assertEqual(set(TWIN_PREFIXES), served)
        self.assertLessEqual({"sync", "async"}, served)

    def test_unknown_url_is_json_404_with_debug_on_and_off(self):
        """Whatever DEBUG says, an unknown URL under a twin is {"error": not_found}."""
        for debug in (False, True):
            for prefix in TWIN_PREFIXES:
                for route in UNKNOWN_ROUTES:
                    url = f"/{prefix}/{route}"
                    with self.subTest(debug=debug, url=url):
                        error = json_404(self, url, debug=debug)

                        self.assertIn(url, error["message"])

    async def test_unknown_url_is_json_404_for_async_client_and_post(self):
        """A POST to an unknown URL is a 404 too, not a CSRF 403."""
        for debug in (False, True):
            for prefix in prefixes("topic_update"):
                url = f"/{prefix}/topics/%C3%A9/edit/"
                with (
                    self.subTest(debug=debug, url=url),
                    override_settings(DEBUG=debug),
                    self.assertLogs("django.request", "WARNING"),
                ):
                    response = await self.async_client.post(url, {"title": "x"})

                    self.assertEqual(response.status_code, 404)
                    self.assertEqual(response.json()["error"]["code"], NOT_FOUND)

    def test_url_outside_the_twins_keeps_django_debug_page(self):
        """Outside the twin prefixes, DEBUG still shows Django's technical 404."""
        with (
            override_settings(DEBUG=True),
            self.assertLogs("django.request", "WARNING"),
        ):
            response = self.client.get("/nowhere/")

        self.assertEqual(response.status_code, 404)
        self.assertIn("text/html", response["Content-Type"])


class ClassBasedViewNotFoundTests(TestCase):
    """An Http404 a class-based twin raises is JSON too, whatever DEBUG says:
    Django's debug 404 page is HTML, and handler404 runs only with DEBUG off."""

    def test_a_handlers_404_is_json_in_both_twins(self):
        """The message is the Http404's, as @api_view answers it."""
        cases = [
            (
                "topic_resource",
                "cbv/topics/no-such-topic/",
                "No Topic matches the given query.",
            ),
            (
                "topic_list_view",
                "cbv/html/topics/?page=abc",
                "Page is not “last”, nor can it be converted to an int.",
            ),
        ]
        for debug in (False, True):
            for pair_name, route, message in cases:
                for twin in twins(pair_name):
                    url = f"/{twin.prefix}/{route}"
                    with self.subTest(debug=debug, url=url):
                        error = json_404(self, url, debug=debug)

                        self.assertEqual(error["message"], message)
