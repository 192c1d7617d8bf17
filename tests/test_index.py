"""The index page: rendered from the registry, and its compare control in Chromium."""

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import TestCase, TransactionTestCase
from django.utils.html import escape

from project.demo.seeding import seed_topics
from project.demo.templatetags.lessons import inline_code
from project.demo.views import (
    SENT_WRITES,
    WRITES_NOT_SENT,
    card,
    is_write_route,
)
from tests.servers import uvicorn_server
from tests.twins import prefixes
from topics.models import Topic
from topics.pairs import PAIRS

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


# (sync, async) as the page summarizes them, in ms: the 5.1 vs 4.5 ms
# with overlapping middle halves; halves apart; a single request each.
VERDICT_CASES = [
    (
        {"name": "sync", "median": 5.1, "low": 4.2, "high": 6.0, "count": 7},
        {"name": "async", "median": 4.5, "low": 4.0, "high": 5.5, "count": 7},
    ),
    (
        {"name": "sync", "median": 9.0, "low": 8.5, "high": 9.6, "count": 7},
        {"name": "async", "median": 4.5, "low": 4.0, "high": 5.5, "count": 7},
    ),
    (
        {"name": "sync", "median": 9.0, "low": 9.0, "high": 9.0, "count": 1},
        {"name": "async", "median": 4.5, "low": 4.5, "high": 4.5, "count": 1},
    ),
]


def chromium_path() -> str | None:
    """Debian's chromium, or CHROMIUM_PATH; Playwright's own download is not used."""
    candidates = [os.environ.get("CHROMIUM_PATH", "")]
    candidates += [
        shutil.which(name) or "" for name in ("chromium", "chromium-browser")
    ]
    return next((path for path in candidates if path and os.path.exists(path)), None)


class IndexPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=5)

    def test_index_lists_every_pair_with_every_twin_link(self):
        """Each pair appears with its lesson, and a link to each twin's first GET."""
        response = self.client.get("/")

        self.assertEqual(response.status_code, 200)
        for pair in PAIRS:
            with self.subTest(pair=pair.name):
                self.assertContains(response, f'data-pair="{pair.name}"')
                self.assertContains(response, inline_code(pair.lesson))
                for variant in pair.variants:
                    self.assertContains(response, inline_code(variant.lesson))
                requests = card(pair).requests
                for twin in pair.twins():
                    if requests and requests[0]["method"] == "GET":
                        link = f"/{twin.prefix}/{requests[0]['path']}"
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
        with self.assertLogs("django.request", "WARNING"):
            response = self.client.get("/sync/no-such-pattern/")

        self.assertEqual(response.status_code, 404)

    def test_write_routes_offer_no_get_since_they_refuse_it(self):
        """A write route's GET examples are 405s: the page offers none of them."""
        write_routes = [pair for pair in PAIRS if is_write_route(pair)]

        self.assertGreater(len(write_routes), 3)
        for pair in write_routes:
            requests = card(pair).requests
            self.assertNotIn("GET", [request["method"] for request in requests])
            for example in pair.requests:
                if example.browsable:
                    for twin in pair.twins():
                        with (
                            self.subTest(pair=pair.name, twin=twin.prefix),
                            self.assertLogs("django.request", "WARNING"),
                        ):
                            url = f"/{twin.prefix}/{example.path}"
                            response = self.client.get(url)

                            self.assertEqual(response.status_code, 405, url)

    def test_a_write_route_sends_a_real_write_or_says_why_not(self):
        """topic_create sends its POST with a unique slug; other writes say why not."""
        response = self.client.get("/")

        for pair in PAIRS:
            if not is_write_route(pair):
                continue
            with self.subTest(pair=pair.name):
                requests, not_sent = card(pair).requests, card(pair).not_sent
                if pair.name in SENT_WRITES:
                    self.assertEqual(requests[0]["method"], "POST")
                    self.assertEqual(
                        requests[0]["unique"], SENT_WRITES[pair.name].unique
                    )
                    self.assertEqual(not_sent, "")
                else:
                    self.assertEqual((requests, not_sent), ([], WRITES_NOT_SENT))
        self.assertContains(response, WRITES_NOT_SENT)
        self.assertContains(response, 'name="csrf-token"')


@pytest.mark.usefixtures("upstream")
class IndexPageBrowserTests(TransactionTestCase):
    def setUp(self):
        self.chromium = chromium_path()
        if self.chromium is None:
            if os.environ.get("CI"):
                self.fail("CI must run the browser test: install chromium.")
            self.skipTest("Chromium not found: apt-get install chromium.")
        seed_topics(count=5)

    @contextmanager
    def browse(self) -> Iterator[tuple[object, object]]:
        """The index page in Chromium, served by uvicorn (self.server): (page, expect).

        The database is only touched before Playwright starts and after it
        stops: its event loop would make Django refuse sync queries.
        """
        from playwright.sync_api import expect, sync_playwright

        with uvicorn_server() as self.server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=self.chromium, args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.goto(self.server.url + "/")
            yield page, expect
            browser.close()
        self.assertNotIn("Traceback", self.server.output)
        self.assertNotIn("Warning:", self.server.output)

    def compare(self, page, expect, name: str, request: str | None = None):
        """Compare a pair's twins (on `request`, a label) and wait for the verdict."""
        pair = page.locator(f'article[data-pair="{name}"]')
        if request is not None:
            pair.locator("select.example").select_option(label=request)
        pair.locator("button.compare").click()
        for row in pair.locator("tr.twin").all():
            expect(row.locator(".same")).not_to_have_text(
                re.compile("^(—|…)$"), timeout=30_000
            )
        return pair

    def medians(self, pair) -> dict[str, float]:
        """Each twin's median in ms, as the card shows it."""
        return {
            row.get_attribute("data-prefix"): float(
                row.locator(".elapsed").inner_text().removesuffix(" ms")
            )
            for row in pair.locator("tr.twin").all()
        }

    def test_compare_calls_a_winner_only_beyond_noise(self):
        """Medians with their middle half; a winner only when the halves part."""
        with self.browse() as (page, expect):
            pair = self.compare(page, expect, "upstream_fanout")
            verdict = pair.locator(".verdict").inner_text()
            winner = pair.get_attribute("data-winner")
            spreads = pair.locator("tr.twin .spread").all_inner_texts()
            medians = self.medians(pair)
            rules = [
                page.evaluate("stats => verdict(stats)", [sync, async_])
                for sync, async_ in VERDICT_CASES
            ]

        # Three 100 ms calls: ~300 ms in turn, ~100 ms together.
        self.assertLess(medians["async"], medians["sync"] / 2, medians)
        self.assertLess(medians["sync-threads"], medians["sync"] / 2, medians)
        self.assertIn(winner, ("async", "sync-threads", "async-gather", ""))
        # Under load, the concurrent twins may or may not part from one another;
        # either way sync, the slowest, is beaten beyond noise.
        self.assertRegex(
            verdict,
            r"^((async|sync-threads|async-gather) is faster: "
            r"|No difference beyond noise between .*; .* faster than .*\bsync\.$)",
        )
        for spread in spreads:
            self.assertRegex(spread, r"^\d+\.\d\u2013\d+\.\d ms$")
        # The 5.1 vs 4.5 ms, halves overlapping: no winner.
        self.assertEqual(
            rules[0],
            {
                "winner": None,
                "text": "No difference beyond noise between async and sync.",
            },
        )
        self.assertEqual(rules[1]["winner"], "async")
        self.assertEqual(rules[2]["winner"], None)
        self.assertIn("Too few requests", rules[2]["text"])

    def test_errors_and_redirects_have_colours_of_their_own(self):
        """A 404 is not green; a login redirect shows as 3xx → the login page."""
        with self.browse() as (page, expect):
            found = self.compare(page, expect, "topic_detail")
            ok_colour = found.locator('tr[data-prefix="sync"] .status').evaluate(
                "cell => getComputedStyle(cell).color"
            )
            detail = self.compare(
                page, expect, "topic_detail", "GET topics/no-such-topic/"
            )
            me = self.compare(page, expect, "me")

            for prefix in prefixes("topic_detail"):
                with self.subTest(twin=prefix):
                    status = detail.locator(f'tr[data-prefix="{prefix}"] .status')
                    expect(status).to_have_text("404")
                    expect(status).to_have_class(re.compile(r"\berror\b"))
                    expect(status).not_to_have_css("color", ok_colour)
            for prefix in prefixes("me"):
                with self.subTest(twin=prefix):
                    redirect = me.locator(f'tr[data-prefix="{prefix}"] .status')
                    expect(redirect).to_have_text(
                        f"3xx → /accounts/login/?next=/{prefix}/me/"
                    )
                    expect(redirect).to_have_class(re.compile(r"\bredirect\b"))
                    expect(redirect).not_to_have_css("color", ok_colour)
                    same = me.locator(f'tr[data-prefix="{prefix}"] .same')
                    expect(same).to_have_text("same as sync")
        self.assertEqual(ok_colour, "rgb(0, 105, 45)")

    def test_topic_create_is_compared_with_a_real_post(self):
        """A real POST with the CSRF token, twice over: 201 each time, same body."""
        before = Topic.objects.count()

        with self.browse() as (page, expect):
            for _ in range(2):
                pair = self.compare(page, expect, "topic_create")
                for row in pair.locator("tr.twin").all():
                    expect(row.locator(".status")).to_have_text("201")
                    expect(row.locator(".same")).to_have_text("same as sync")
            options = page.locator(
                'article[data-pair="topic_create"] select.example option'
            ).all_inner_texts()
            log_in = page.locator('article[data-pair="log_in"]')
            expect(log_in.locator("button.compare")).to_have_count(0)
            expect(log_in.locator(".not-sent")).to_have_text(WRITES_NOT_SENT)

        self.assertEqual(options, ["POST create/"])
        # Two compares, of two twins, each one warm-up and seven timed requests.
        self.assertEqual(Topic.objects.count() - before, 2 * 2 * 8)
        self.assertEqual(
            Topic.objects.filter(slug__startswith="streaming-exports-").count(), 32
        )

    def test_a_shared_cache_is_warm_before_either_twin_is_timed(self):
        """One untimed request per twin first: every timed request is a cache hit."""
        with self.browse() as (page, expect):
            answers = []
            page.on(
                "response",
                lambda response: answers.append(
                    (response.url.removeprefix(self.server.url), response.headers)
                ),
            )
            page.locator("#repeat").fill("3")
            pair = self.compare(page, expect, "upstream_cached")
            same = pair.locator("tr.twin .same").all_inner_texts()

        route = "upstream/cached/?source=orders&delay=50"
        self.assertEqual(
            [url for url, _ in answers],
            # Warm-up, then three rounds, the middle one in the other order.
            [
                f"/{prefix}/{route}"
                for prefix in ["sync", "async"] * 2
                + ["async", "sync"]
                + ["sync", "async"]
            ],
        )
        # The warm-up: sync misses and fills the cache the twins share; then
        # nothing that is timed waits for the upstream.
        caching = [headers["x-cache"] for _, headers in answers]
        self.assertEqual(caching, ["miss", *["hit"] * 7])
        self.assertEqual(self.upstream.stats()["requests"], 1)
        self.assertEqual(set(same), {"same as sync"})

    def test_twins_code_is_side_by_side_with_the_differences_highlighted(self):
        """Collapsed at first; opened, the I/O lines are marked and the rest is not."""
        with self.browse() as (page, expect):
            code = page.locator('article[data-pair="topic_detail"] table.code')
            expect(code).to_be_hidden()
            page.locator(
                'article[data-pair="topic_detail"] details.code summary'
            ).click()
            expect(code).to_be_visible()
            changed = code.locator("tr.changed")
            expect(changed.locator("td.async")).to_contain_text(
                ["async def atopic_detail", "await aget_object_or_404"]
            )
            same = code.locator("tr:not(.changed)", has_text="return JsonResponse")
            expect(same.locator("td.sync")).to_have_text(
                "return JsonResponse(topic_payload(topic))"
            )
            expect(same.locator("td.async")).to_have_text(
                "return JsonResponse(topic_payload(topic))"
            )
            changed_background = changed.first.locator("td.async").evaluate(
                "cell => getComputedStyle(cell).backgroundColor"
            )
            same_background = same.locator("td.async").evaluate(
                "cell => getComputedStyle(cell).backgroundColor"
            )

        self.assertNotEqual(changed_background, same_background)
