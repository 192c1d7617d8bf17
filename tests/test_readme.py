"""The README and the pages under docs/ say what the code does."""

import os
import re
import textwrap
import unicodedata
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase

# A Markdown link, `[text](target)`; the text may wrap onto the next line.
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")
# A repository file named in inline code, `tests/views/test_orm.py`.
CODE_PATH = re.compile(r"`((?:topics|project|tests)/[\w/.-]+\.py)`")
FENCE = re.compile(r"^ *```.*?^ *```", re.S | re.M)
HEADING = re.compile(r"^#{1,6} +(.+?) *#* *$", re.M)
# The README's first screen: what a newcomer sees before scrolling. The rest
# lives on the pages under docs/ (issue 21: at most 200 lines).
FIRST_SCREEN = 25
README_MAX_LINES = 200


def pages() -> list[Path]:
    """The README and every Markdown page under docs/, relative to the repo."""
    docs = sorted((settings.BASE_DIR / "docs").rglob("*.md"))
    return [Path("README.md")] + [path.relative_to(settings.BASE_DIR) for path in docs]


def read(page: Path) -> str:
    return (settings.BASE_DIR / page).read_text()


def _sources() -> str:
    paths = sorted((settings.BASE_DIR / "topics").rglob("*.py"))
    paths += sorted((settings.BASE_DIR / "project").rglob("*.py"))
    return "\n".join(path.read_text() for path in paths)


def _prose(markdown: str) -> str:
    """The Markdown without its fenced code blocks, where `#` is not a heading."""
    return FENCE.sub("", markdown)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces → `-`."""
    kept = (
        char
        for char in heading.strip().lower()
        if char in " -"
        or unicodedata.category(char)[0] in "LMN"
        or unicodedata.category(char) == "Pc"
    )
    return "".join(kept).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor, with GitHub's `-1`, `-2` … for repeated headings."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(_prose(markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(f"{base}-{count}" if count else base)
    return result


def links(page: Path) -> list[tuple[Path, str]]:
    """(target, anchor) of each relative link of a page, the target from the
    repo's root: `guide.md#x` on docs/audit.md is (docs/guide.md, "x")."""
    result = []
    for target in LINK.findall(_prose(read(page))):
        if re.match(r"(?i)(https?|mailto):", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = Path(os.path.normpath(page.parent / path)) if path else page
        result.append((resolved, anchor))
    return result


class PageTests(SimpleTestCase):
    def test_python_code_blocks_are_copied_from_the_source(self) -> None:
        """Every python block of every page stands, verbatim, in topics/ or project/."""
        sources = _sources()
        total = 0

        for page in pages():
            blocks = re.findall(r"```python\n(.*?)```", read(page), re.S)
            total += len(blocks)
            for block in blocks:
                # A block inside a list item is indented with the item.
                copied = block in sources or textwrap.dedent(block) in sources
                with self.subTest(page=str(page)):
                    self.assertIs(copied, True, f"{page}'s copy is stale:\n{block}")

        self.assertGreaterEqual(total, 5)

    def test_relative_links_lead_to_files_and_headings(self) -> None:
        """Every relative link names a file of the repo, every anchor a heading
        of the page it names."""
        checked = 0
        for page in pages():
            for target, anchor in links(page):
                checked += 1
                with self.subTest(page=str(page), target=str(target), anchor=anchor):
                    self.assertFalse(
                        target.is_absolute() or target.parts[0] == "..",
                        f"{page} links outside the repository: {target}",
                    )
                    self.assertIs(
                        (settings.BASE_DIR / target).exists(),
                        True,
                        f"{page} links to {target}, which does not exist.",
                    )
                    if anchor:
                        self.assertEqual(target.suffix, ".md", f"#{anchor} on a file")
                        self.assertIn(
                            anchor,
                            anchors(read(target)),
                            f"{page}: no heading of {target} makes #{anchor}.",
                        )

        self.assertGreater(checked, 50)

    def test_code_paths_name_files_of_the_repo(self) -> None:
        """Every `topics/…`, `project/…` or `tests/….py` in inline code exists."""
        named = 0
        for page in pages():
            paths = set(CODE_PATH.findall(_prose(read(page))))
            named += len(paths)
            for path in sorted(paths):
                with self.subTest(page=str(page), path=path):
                    self.assertIs(
                        (settings.BASE_DIR / path).is_file(),
                        True,
                        f"{page} names {path}, which does not exist.",
                    )

        self.assertGreater(named, 10)

    def test_the_readme_links_every_page(self) -> None:
        """Each page under docs/ (the pattern pages aside) is linked from the
        README, and the migration guide from its first screen."""
        linked = {target for target, _ in links(Path("README.md"))}
        first_screen = "\n".join(read(Path("README.md")).splitlines()[:FIRST_SCREEN])

        for page in pages()[1:]:
            if page.parent == Path("docs"):
                with self.subTest(page=str(page)):
                    self.assertIn(page, linked)
        self.assertIn("](docs/guide.md)", first_screen)

    def test_the_readme_stays_a_front_page(self) -> None:
        """The README points to the pages; it does not grow back into them."""
        lines = len(read(Path("README.md")).splitlines())

        self.assertLessEqual(lines, README_MAX_LINES)


class GeneratedTableTests(SimpleTestCase):
    def assert_generated_table(self, page: str, command: str) -> None:
        """The page's block between `<!-- command:start/end -->` is its output."""
        block = re.search(
            rf"<!-- {command}:start -->\n(.*?)<!-- {command}:end -->",
            read(Path(page)),
            re.S,
        )
        out = StringIO()

        call_command(command, stdout=out)

        self.assertIsNotNone(block, f"{page} lost its {command} markers.")
        self.assertEqual(
            block.group(1),
            out.getvalue(),
            f"{page}'s {command} table is stale: paste `manage.py {command}`.",
        )

    def test_pair_table_matches_the_registry(self) -> None:
        """The README's table between the pairs markers is `manage.py pairs`."""
        self.assert_generated_table("README.md", "pairs")

    def test_pitfall_table_matches_the_catalogue(self) -> None:
        """docs/pitfalls.md's table is `manage.py pitfalls` (links from docs/)."""
        self.assert_generated_table("docs/pitfalls.md", "pitfalls")

    def test_pitfall_links_are_relative_to_the_page(self) -> None:
        """`--page` names where the table is pasted: its test links start there."""
        default, root = StringIO(), StringIO()

        call_command("pitfalls", stdout=default)
        call_command("pitfalls", page="README.md", stdout=root)

        self.assertIn("](../tests/pitfalls/test_orm.py)", default.getvalue())
        self.assertIn("](tests/pitfalls/test_orm.py)", root.getvalue())
        self.assertNotIn("](../", root.getvalue())

    def test_audit_excerpts_are_its_output(self) -> None:
        """Each line of a quoted `manage.py async_audit` report is one it prints."""
        command = "$ python manage.py async_audit\n"
        blocks = [
            block.removeprefix(command)
            for page in pages()
            for block in re.findall(r"```text\n(.*?)```", read(page), re.S)
            if block.startswith(command)
        ]
        out = StringIO()

        call_command("async_audit", stdout=out)

        self.assertTrue(blocks, "No page quotes an async_audit report.")
        printed = set(out.getvalue().splitlines())
        for line in "".join(blocks).splitlines():
            if line != "…":
                self.assertIn(line, printed, "Not in the report, paste it again.")


class SlugTests(SimpleTestCase):
    def test_slug_follows_github(self) -> None:
        """Backticks, `/`, `—` and `:` go; hyphens and underscores stay."""
        heading = (
            "Fan-out: three calls at once — `upstream_fanout` / `aupstream_fanout`"
        )

        self.assertEqual(
            slug(heading),
            "fan-out-three-calls-at-once--upstream_fanout--aupstream_fanout",
        )
        self.assertEqual(slug("3. Audit the middleware"), "3-audit-the-middleware")
        self.assertEqual(
            anchors("# Tests\n```sh\n# not a heading\n```\n## Tests\n"),
            {"tests", "tests-1"},
        )
