"""The README says what the code does."""

import re
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase


class ReadmeTests(SimpleTestCase):
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
