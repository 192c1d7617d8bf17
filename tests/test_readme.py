"""The README says what the code does."""

import re
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase


def _sources() -> str:
    paths = sorted((settings.BASE_DIR / "topics").rglob("*.py"))
    paths += sorted((settings.BASE_DIR / "project").rglob("*.py"))
    return "\n".join(path.read_text() for path in paths)


class ReadmeTests(SimpleTestCase):
    def test_python_code_blocks_are_copied_from_the_source(self):
        """Every python block in the README stands, verbatim, in topics/ or project/."""
        readme = (settings.BASE_DIR / "README.md").read_text()
        sources = _sources()

        blocks = re.findall(r"```python\n(.*?)```", readme, re.S)

        self.assertGreater(len(blocks), 10)
        for block in blocks:
            self.assertTrue(block in sources, f"README.md's copy is stale:\n{block}")

    def assert_generated_table(self, command: str) -> None:
        """The README's block between `<!-- command:start/end -->` is its output."""
        readme = (settings.BASE_DIR / "README.md").read_text()
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

    def test_pair_table_matches_the_registry(self):
        """The table between the pairs markers is `manage.py pairs`, verbatim."""
        self.assert_generated_table("pairs")

    def test_pitfall_table_matches_the_catalogue(self):
        """The table between the pitfalls markers is `manage.py pitfalls`, verbatim."""
        self.assert_generated_table("pitfalls")
