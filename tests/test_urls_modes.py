"""The catch-all 404 under a twin prefix runs in that twin's mode."""

from asgiref.sync import iscoroutinefunction
from django.test import SimpleTestCase
from django.urls import resolve

from project.urls import TWIN_PREFIXES
from topics.pairs import PAIRS


class CatchAllModeTests(SimpleTestCase):
    def test_an_async_prefix_404_runs_on_the_loop_and_a_sync_one_in_a_thread(self):
        # A sync view under /async/ would hold a thread for each unknown URL.
        modes = {twin.prefix: twin.mode for pair in PAIRS for twin in pair.twins()}
        for prefix in TWIN_PREFIXES:
            with self.subTest(prefix=prefix):
                match = resolve(f"/{prefix}/no-such-route/")

                self.assertIs(iscoroutinefunction(match.func), modes[prefix] == "async")
