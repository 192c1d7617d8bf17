"""The pattern pages show each pair's current diff and link only to what exists."""

import re
import shutil
import tempfile
import textwrap
from contextlib import redirect_stderr
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase

from project import docs
from tests.test_readme import LINK, _prose, anchors

# A link whose text names a test: `[`test_x`](../../tests/views/test_orm.py)`.
TEST_LINK = re.compile(r"\[`(test_\w+)`\]\(([^)\s#]+)\)")


def _pages() -> list[Path]:
    return sorted(docs.PAGES.glob("*.md"))


def _sources() -> str:
    paths = sorted((settings.BASE_DIR / "topics").rglob("*.py"))
    paths += sorted((settings.BASE_DIR / "project").rglob("*.py"))
    return "\n".join(path.read_text() for path in paths)


class PatternPageTests(SimpleTestCase):
    def test_every_pair_has_its_diff_on_its_family_page(self) -> None:
        """Each pair and variant has a diff marker on the page of its views module."""
        for block in docs.diffs():
            with self.subTest(pair=block.key):
                self.assertTrue(block.page.exists(), f"{block.page.name} is missing.")
                self.assertIn(f"<!-- diff:{block.key} -->", block.page.read_text())

    def test_every_page_is_a_views_module(self) -> None:
        """No page outlives its module: each names a topics/views/<family>.py."""
        families = {block.page for block in docs.diffs()}

        self.assertEqual(set(_pages()), families)

    def test_diffs_are_current(self) -> None:
        """Every diff on the pages is the one the views' source makes today."""
        problems = docs.stale_pages()

        self.assertEqual(problems, [], "Run: python -m project.docs --write")

    def test_a_changed_view_makes_its_page_stale_until_written(self) -> None:
        """--check names the page whose diff no longer matches; --write mends it."""
        with tempfile.TemporaryDirectory() as tmp:
            pages = Path(tmp) / "docs" / "patterns"
            shutil.copytree(docs.PAGES, pages)
            orm = pages / "orm.md"
            orm.write_text(orm.read_text().replace("atopic_list(", "atopic_lst(", 1))

            stale = docs.stale_pages(pages)
            written = docs.stale_pages(pages, write=True)
            after = docs.stale_pages(pages)

            self.assertEqual(
                stale,
                [f"docs/patterns/orm.md: {docs.STALE}"],
            )
            self.assertEqual(written, [])
            self.assertEqual(after, [])
            self.assertEqual(orm.read_text(), (docs.PAGES / "orm.md").read_text())

    def test_a_lost_marker_is_named(self) -> None:
        """A pair whose marker is gone is reported by key; --write cannot place it."""
        with tempfile.TemporaryDirectory() as tmp:
            pages = Path(tmp) / "docs" / "patterns"
            shutil.copytree(docs.PAGES, pages)
            signals = pages / "signals.md"
            signals.write_text(
                signals.read_text().replace("<!-- diff:topic_share -->", "")
            )

            problems = docs.stale_pages(pages, write=True)

            lost = docs.NO_MARKER.format(key="topic_share")
            self.assertEqual(
                problems,
                [f"docs/patterns/signals.md: {lost}"],
            )

    def test_a_marker_naming_nothing_is_named(self) -> None:
        """A marker for a pair, variant or helper that does not exist is reported."""
        with tempfile.TemporaryDirectory() as tmp:
            pages = Path(tmp) / "docs" / "patterns"
            shutil.copytree(docs.PAGES, pages)
            tags = pages / "tags.md"
            markers = "<!-- diff:{} -->\n<!-- /diff -->\n"
            tags.write_text(
                tags.read_text()
                + markers.format("topic_tagz")
                + markers.format("topics.pagination.no_such_helper")
            )

            problems = docs.stale_pages(pages, write=True)

            self.assertEqual(
                problems,
                [
                    f"docs/patterns/tags.md: {docs.UNKNOWN.format(key=key)}"
                    for key in ("topic_tagz", "topics.pagination.no_such_helper")
                ],
            )

    def test_check_exits_non_zero_naming_the_stale_page(self) -> None:
        """`python -m project.docs --check`: 0 on the repository's pages, else 1."""
        with tempfile.TemporaryDirectory() as tmp:
            pages = Path(tmp) / "docs" / "patterns"
            shutil.copytree(docs.PAGES, pages)
            cbv = pages / "cbv.md"
            cbv.write_text(
                cbv.read_text().replace("+    async def get(", "+    def get(")
            )
            stderr = StringIO()

            current = docs.main(["--check"])
            with redirect_stderr(stderr):
                stale = docs.main(["--check", "--pages", str(pages)])

            self.assertEqual(current, 0)
            self.assertEqual(stale, 1)
            self.assertEqual(stderr.getvalue(), f"docs/patterns/cbv.md: {docs.STALE}\n")

    def test_pages_open_with_a_summary_and_the_way_back(self) -> None:
        """A one-line summary, then links to the guide and the README."""
        for page in _pages():
            with self.subTest(page=page.name):
                title, blank, summary, *_ = page.read_text().splitlines()

                self.assertTrue(title.startswith("# "))
                self.assertEqual(blank, "")
                self.assertIn("](../guide.md)", summary)
                self.assertIn("](../../README.md)", summary)

    def test_relative_links_lead_to_files_and_headings(self) -> None:
        """Every relative link names a file of the repo, every anchor a heading."""
        for page in _pages():
            for target in LINK.findall(_prose(page.read_text())):
                if re.match(r"(?i)(https?|mailto):", target):
                    continue
                path, _, anchor = target.partition("#")
                resolved = (page.parent / path).resolve() if path else page
                with self.subTest(page=page.name, target=target):
                    self.assertTrue(resolved.exists(), f"{resolved} does not exist.")
                    if anchor and resolved.suffix == ".md":
                        self.assertIn(anchor, anchors(resolved.read_text()))

    def test_test_links_name_tests_of_the_linked_file(self) -> None:
        """A link whose text is a test's name leads to the file that defines it."""
        links = [
            (page, name, target)
            for page in _pages()
            for name, target in TEST_LINK.findall(page.read_text())
        ]

        self.assertGreater(len(links), len(_pages()))
        for page, name, target in links:
            with self.subTest(page=page.name, test=name):
                source = (page.parent / target).resolve().read_text()
                self.assertRegex(source, rf"def {name}\(")

    def test_python_blocks_are_copied_from_the_source(self) -> None:
        """A python block on a page stands, verbatim, in topics/ or project/."""
        sources = _sources()
        for page in _pages():
            for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
                with self.subTest(page=page.name, block=block[:60]):
                    copied = block in sources or textwrap.dedent(block) in sources
                    self.assertTrue(copied, f"{page.name}'s copy is stale:\n{block}")

    def test_pair_table_links_to_pattern_pages_and_files(self) -> None:
        """Each row of `manage.py pairs` links to its section and its views file."""
        out = StringIO()

        call_command("pairs", stdout=out)

        rows = out.getvalue().splitlines()[2:]
        self.assertEqual(len(rows), len(docs.diffs()))
        for row in rows:
            page_link, file_link = LINK.findall(row)[:2]
            page, _, anchor = page_link.partition("#")
            with self.subTest(row=row[:60]):
                self.assertRegex(page, r"^docs/patterns/\w+\.md$")
                self.assertIn(anchor, anchors((settings.BASE_DIR / page).read_text()))
                self.assertEqual(Path(file_link).stem, Path(page).stem)
                self.assertTrue((settings.BASE_DIR / file_link).is_file())


class DiffTests(SimpleTestCase):
    def test_diff_runs_from_the_sync_twin_to_the_async(self) -> None:
        """Removed lines are the sync twin's, added lines the async twin's."""
        from topics.views import orm

        text = docs.diff(orm.topic_detail, orm.atopic_detail)

        self.assertIn("--- topic_detail\n+++ atopic_detail\n", text)
        self.assertIn("\n-def topic_detail(", text)
        self.assertIn("\n+async def atopic_detail(", text)
        self.assertIn("\n+    topic = await aget_object_or_404(", text)

    def test_a_helper_is_diffed_to_its_a_prefixed_twin(self) -> None:
        """`topics.pagination.page_data` names page_data() → apage_data()."""
        text = docs.helper_diff("topics.pagination.page_data")

        self.assertIn("--- page_data\n+++ apage_data\n", text)
        self.assertIn("\n+async def apage_data(", text)

    def test_a_class_based_view_is_diffed_as_its_class(self) -> None:
        """The whole class shows, not only its first handler."""
        from topics.views import cbv

        text = docs.diff(cbv.TopicView.as_view(), cbv.AsyncTopicView.as_view())

        self.assertIn("\n-class TopicView(", text)
        self.assertIn("\n+class AsyncTopicView(", text)
        self.assertIn("\n+    async def delete(", text)
