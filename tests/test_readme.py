"""The README says what the code does."""

import re
import textwrap
import unicodedata
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase

# A Markdown link, `[text](target)`; the text may wrap onto the next line.
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")
# A repository file named in inline code, `tests/views/test_orm.py`.
CODE_PATH = re.compile(r"`((?:topics|project|tests)/[\w/.-]+\.py)`")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^#{1,6} +(.+?) *#* *$", re.M)


def _sources() -> str:
    paths = sorted((settings.BASE_DIR / "topics").rglob("*.py"))
    paths += sorted((settings.BASE_DIR / "project").rglob("*.py"))
    return "\n".join(path.read_text() for path in paths)


def _readme() -> str:
    return (settings.BASE_DIR / "README.md").read_text()


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


class ReadmeTests(SimpleTestCase):
    def test_python_code_blocks_are_copied_from_the_source(self) -> None:
        """Every python block in the README stands, verbatim, in topics/ or project/."""
        readme = _readme()
        sources = _sources()

        blocks = re.findall(r"```python\n(.*?)```", readme, re.S)

        self.assertGreater(len(blocks), 10)
        for block in blocks:
            # A block inside a list item is indented with the item.
            copied = block in sources or textwrap.dedent(block) in sources
            self.assertTrue(copied, f"README.md's copy is stale:\n{block}")

    def assert_generated_table(self, command: str) -> None:
        """The README's block between `<!-- command:start/end -->` is its output."""
        readme = _readme()
        block = re.search(
            rf"<!-- {command}:start -->\n(.*?)<!-- {command}:end -->", readme, re.S
        )
        out = StringIO()

        call_command(command, stdout=out)

        self.assertIsNotNone(block, f"README.md lost its {command} markers.")
        self.assertEqual(
            block.group(1),
            out.getvalue(),
            f"README.md's {command} table is stale: paste `manage.py {command}`.",
        )

    def test_pair_table_matches_the_registry(self) -> None:
        """The table between the pairs markers is `manage.py pairs`, verbatim."""
        self.assert_generated_table("pairs")

    def test_pitfall_table_matches_the_catalogue(self) -> None:
        """The table between the pitfalls markers is `manage.py pitfalls`, verbatim."""
        self.assert_generated_table("pitfalls")

    def test_relative_links_lead_to_files_and_headings(self) -> None:
        """Every relative link names a file of the repo, every anchor a heading."""
        readme = _readme()
        headings = anchors(readme)
        targets = LINK.findall(_prose(readme))

        self.assertGreater(len(targets), 10)
        for target in targets:
            if re.match(r"(?i)(https?|mailto):", target):
                continue
            path, _, anchor = target.partition("#")
            with self.subTest(target=target):
                if path:
                    self.assertTrue(
                        (settings.BASE_DIR / path).exists(),
                        f"README.md links to {path}, which does not exist.",
                    )
                if anchor and path in ("", "README.md"):
                    self.assertTrue(
                        anchor in headings, f"No README heading makes #{anchor}."
                    )

    def test_audit_excerpts_are_its_output(self) -> None:
        """Each line of a quoted `manage.py async_audit` report is one it prints."""
        command = "$ python manage.py async_audit\n"
        blocks = [
            block.removeprefix(command)
            for block in re.findall(r"```text\n(.*?)```", _readme(), re.S)
            if block.startswith(command)
        ]
        out = StringIO()

        call_command("async_audit", stdout=out)

        self.assertTrue(blocks, "README.md quotes no async_audit report.")
        printed = set(out.getvalue().splitlines())
        for line in "".join(blocks).splitlines():
            if line != "…":
                self.assertTrue(
                    line in printed, f"Not in the report, paste it again: {line!r}"
                )

    def test_code_paths_name_files_of_the_repo(self) -> None:
        """Every `topics/…`, `project/…` or `tests/….py` in inline code exists."""
        paths = set(CODE_PATH.findall(_prose(_readme())))

        self.assertGreater(len(paths), 10)
        for path in sorted(paths):
            with self.subTest(path=path):
                self.assertTrue(
                    (settings.BASE_DIR / path).is_file(),
                    f"README.md names {path}, which does not exist.",
                )

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
