"""The catalogue itself: complete, every entry proven by a test that exists, and
its demonstration pages served only while DEBUG is on."""

import re

from django.conf import settings
from django.test import Client, TestCase, override_settings

from project.demo.pitfall_pages import DEBUG_ONLY
from topics.pitfalls.catalogue import PITFALLS

# The pitfalls the catalogue's issues name (1 to 21, then 23 to 31 from real users'
# reports); more may be added after them.
NAMED = range(1, 32)


class CatalogueTests(TestCase):
    def test_every_named_pitfall_is_there_once(self):
        """Pitfalls 1 to 31 each have one entry; numbers and slugs are unique."""
        numbers = [pitfall.number for pitfall in PITFALLS]
        slugs = [pitfall.slug for pitfall in PITFALLS]

        self.assertLessEqual(set(NAMED), set(numbers))
        self.assertEqual(len(numbers), len(set(numbers)))
        self.assertEqual(len(slugs), len(set(slugs)))

    def test_every_entry_names_a_test_that_exists(self):
        """Each entry's test reference points at a real test function."""
        for pitfall in PITFALLS:
            path, *names = pitfall.test.split("::")
            source = (settings.BASE_DIR / path).read_text()

            for name in names:
                self.assertRegex(
                    source,
                    rf"(?m)^\s*(async )?(def|class) {re.escape(name)}\b",
                    pitfall,
                )

    def test_wrong_and_right_snippets_are_in_topics_pitfalls(self):
        """The snippets live in the catalogue's modules, never in the served views."""
        for pitfall in PITFALLS:
            for snippet in (pitfall.wrong, pitfall.right):
                self.assertIs(
                    snippet.__module__.startswith("topics.pitfalls."), True, pitfall
                )

    def test_pages_are_404_while_debug_is_off(self):
        """With DEBUG off (as in production), no pitfall page answers."""
        for pitfall in PITFALLS:
            if pitfall.demo is None:
                continue

            response = self.client.get(f"/pitfalls/{pitfall.slug}/")

            self.assertEqual(response.status_code, 404, pitfall.slug)
            self.assertNotContains(response, 'id="pitfalls"', status_code=404)
        self.assertNotContains(self.client.get("/"), 'id="pitfalls"')

    @override_settings(DEBUG=True)
    def test_pages_run_their_snippet_while_debug_is_on(self):
        """With DEBUG on, the index lists each page and each page runs its demo."""
        client = Client(raise_request_exception=False)
        index = client.get("/")

        for pitfall in PITFALLS:
            if pitfall.demo is None:
                continue
            self.assertContains(index, f'href="/pitfalls/{pitfall.slug}/"')
            response = client.get(f"/pitfalls/{pitfall.slug}/")
            self.assertNotEqual(response.status_code, 404, pitfall.slug)
            self.assertNotIn(DEBUG_ONLY.encode(), response.content)
