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

    def test_pair_table_matches_the_registry(self):
        """The table between the pairs markers is `manage.py pairs`, verbatim."""
        readme = (settings.BASE_DIR / "README.md").read_text()
        table = re.search(
            r"<!-- pairs:start -->\n(.*?)<!-- pairs:end -->", readme, re.S
        )
        out = StringIO()

        call_command("pairs", stdout=out)

        self.assertIsNotNone(table, "README.md lost its pairs markers.")
        self.assertEqual(
            table.group(1),
            out.getvalue(),
            "README.md's pair table is stale: paste `python manage.py pairs` into it.",
        )
