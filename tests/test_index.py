"""The index page: rendered from the registry, and its compare control in Chromium."""

import os
import re
import shutil

import pytest
from django.test import TestCase, TransactionTestCase
from django.utils.html import escape

from tests.servers import uvicorn_server
from topics.pairs import PAIRS
from topics.seeding import seed_topics
from topics.templatetags.lessons import inline_code

# Without the background-networking flags Chromium keeps calling out to a
# network this machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium, or CHROMIUM_PATH; Playwright's own download is not used."""
    candidates = [os.environ.get("CHROMIUM_PATH", "")]
    candidates += [
        shutil.which(name) or "" for name in ("chromium", "chromium-browser")
    ]
    return next((path for path in candidates if path and os.path.exists(path)), None)


class IndexPageTests(TestCase):
    def test_index_lists_every_pair_with_every_twin_link(self):
        """Each pair appears with its lesson and a link to each twin's first example."""
        response = self.client.get("/")

        self.assertEqual(response.status_code, 200)
        for pair in PAIRS:
            self.assertContains(response, f'data-pair="{pair.name}"')
            self.assertContains(response, inline_code(pair.lesson))
            for variant in pair.variants:
                self.assertContains(response, inline_code(variant.lesson))
            for twin in pair.twins():
                if pair.browsable:
                    link = f"/{twin.prefix}/{pair.browsable[0].path}"
                    self.assertContains(response, f'href="{escape(link)}"')
                else:
                    self.assertContains(response, f"<code>/{twin.prefix}/</code>")
            self.assertContains(response, escape(pair.route))

    def test_index_lists_the_requests_it_cannot_send(self):
        """Writes and logged-in requests are listed, not offered to the browser."""
        response = self.client.get("/")

        for pair in PAIRS:
            for example in pair.requests:
                if not example.browsable:
                    self.assertContains(response, escape(example.label))

    def test_lesson_backticks_become_escaped_code(self):
        """`spans` render as <code>, and any markup in a lesson is escaped."""
        html = inline_code("Use `async for` & <b>not</b> `list(<qs>)`")

        self.assertEqual(
            html,
            "Use <code>async for</code> &amp; &lt;b&gt;not&lt;/b&gt; "
            "<code>list(&lt;qs&gt;)</code>",
        )

    def test_unknown_path_is_404(self):
        """A path that no pair serves is 404."""
        response = self.client.get("/sync/no-such-pattern/")

        self.assertEqual(response.status_code, 404)


@pytest.mark.usefixtures("upstream")
class IndexPageBrowserTests(TransactionTestCase):
    def setUp(self):
        self.chromium = chromium_path()
        if self.chromium is None:
            if os.environ.get("CI"):
                self.fail("CI must run the browser test: install chromium.")
            self.skipTest("Chromium not found: apt-get install chromium.")
        seed_topics(count=5)

    def test_compare_shows_status_and_time_of_both_twins(self):
        """Compare requests both twins; each shows 200, a time, and the same body."""
        from playwright.sync_api import expect, sync_playwright

        # The database is only touched before Playwright starts and after it
        # stops: its event loop would make Django refuse sync queries.
        with uvicorn_server() as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=self.chromium, args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.goto(server.url + "/")
            # me/ as a visitor: both twins redirect to the login page, whose
            # ?next= names the twin; the page compares them as the same.
            for name in ("topic_detail", "me"):
                pair = page.locator(f'article[data-pair="{name}"]')
                pair.locator("button.compare").click()

                for prefix in ("sync", "async"):
                    row = pair.locator(f'tr[data-prefix="{prefix}"]')
                    expect(row.locator(".status")).to_have_text("200", timeout=20_000)
                    expect(row.locator(".elapsed")).to_have_text(
                        re.compile(r"^\d+\.\d ms$")
                    )
                    expect(row.locator(".same")).to_have_text("same as sync")
            medians = self.compare_fanout(page, expect)
            browser.close()

        # Three 100 ms calls: ~300 ms in turn, ~100 ms together. Half is generous.
        self.assertLess(medians["async"], medians["sync"] / 2, medians)
        self.assertLess(medians["sync-threads"], medians["sync"] / 2, medians)

        self.assertNotIn("Traceback", server.output)
        self.assertNotIn("Warning:", server.output)

    def compare_fanout(self, page, expect) -> dict[str, float]:
        """Compare the fan-out pair; return each twin's median in ms."""
        pair = page.locator('article[data-pair="upstream_fanout"]')
        pair.locator("button.compare").click()
        medians = {}
        for row in pair.locator("tr.twin").all():
            expect(row.locator(".same")).to_have_text("same as sync", timeout=20_000)
            medians[row.get_attribute("data-prefix")] = float(
                row.locator(".elapsed").inner_text().removesuffix(" ms")
            )
        return medians
