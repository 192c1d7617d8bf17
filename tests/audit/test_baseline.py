"""--baseline and --write-baseline: accepted findings stay quiet, new ones fail,
and a line shift above a finding does not make it new."""

import json
import tempfile
from pathlib import Path

import jsonschema
from django.test import SimpleTestCase

from tests.audit.hosts import ENTRY_POINTS, audit, build_host, codes
from tests.audit.test_host import SHOP_VIEWS, run
from topics.audit.output import REPORT_SCHEMA

BASELINE_SCHEMA = json.loads(
    (REPORT_SCHEMA.parent / "baseline.schema.json").read_text()
)
NEW_PROBLEM = """

async def slow(request):
    import time

    time.sleep(1)
"""


class BaselineEndToEndTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        build_host(cls.root)
        cls.views = cls.root / "shop" / "views.py"

    def setUp(self) -> None:
        self.views.write_text(SHOP_VIEWS)

    def test_round_trip_only_new_findings_fail(self):
        """Written, the baseline holds the code's and the settings' errors:
        the next run passes; lines added above a finding change nothing; a
        new blocking call is the one finding reported, and it fails."""
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                self.views.write_text(SHOP_VIEWS)
                written = audit(
                    self.root,
                    "--baseline",
                    "audit.json",
                    "--write-baseline",
                    entry=entry,
                )
                baseline = json.loads((self.root / "audit.json").read_text())
                clean = audit(self.root, "--baseline", "audit.json", entry=entry)
                self.views.write_text("# A comment.\n\n\n" + SHOP_VIEWS)
                shifted = audit(self.root, "--baseline", "audit.json", entry=entry)
                self.views.write_text(SHOP_VIEWS + NEW_PROBLEM)
                new = audit(
                    self.root,
                    "--baseline",
                    "audit.json",
                    "--format",
                    "json",
                    entry=entry,
                )

                self.assertEqual(written.returncode, 0, written.stderr)
                jsonschema.Draft202012Validator(BASELINE_SCHEMA).validate(baseline)
                self.assertIn(
                    {
                        "code": "settings.conn-max-age",
                        "target": "DATABASES['default']['CONN_MAX_AGE']",
                    },
                    baseline["findings"],
                )
                self.assertEqual(clean.returncode, 0, clean.stdout)
                self.assertEqual(shifted.returncode, 0, shifted.stdout)
                self.assertIn("more in the baseline, not shown", shifted.stdout)
                self.assertEqual(new.returncode, 1)
                self.assertEqual(codes(new), ["code.blocking-call"])
                self.assertEqual(json.loads(new.stdout)["baseline"]["stale"], 0)

    def test_path_mode_baseline_is_relative_to_its_file(self):
        """PATH mode too, the baseline's paths from its own folder: the same
        baseline works from another directory."""
        written = run(
            ["-m", "topics.audit", "shop", "--baseline", "b.json", "--write-baseline"],
            self.root,
        )
        from_shop = run(
            ["-m", "topics.audit", ".", "--baseline", "../b.json"], self.root / "shop"
        )

        self.assertEqual(written.returncode, 0, written.stderr)
        self.assertEqual(
            json.loads((self.root / "b.json").read_text())["findings"][0]["path"],
            "shop/views.py",
        )
        self.assertEqual(from_shop.returncode, 0, from_shop.stdout)

    def test_a_missing_or_broken_baseline_is_a_usage_error(self):
        """Status 2 and a message, before the audit runs."""
        (self.root / "broken.json").write_text("{")
        for name, entry in {
            **ENTRY_POINTS,
            "PATH": ["-m", "topics.audit", "shop"],
        }.items():
            for file, message in (
                ("missing.json", "No baseline at missing.json"),
                ("broken.json", "Cannot read the baseline broken.json"),
            ):
                with self.subTest(name, file=file):
                    audited = audit(self.root, "--baseline", file, entry=entry)

                    self.assertEqual(audited.returncode, 2, audited.stderr)
                    self.assertIn(message, audited.stderr)
                    self.assertNotIn("Traceback", audited.stderr)


SHOP_TASKS = """
import time


async def warm(request):
    time.sleep(1)
"""
PATH_MODE = ["-m", "topics.audit"]


class PartialRunTests(SimpleTestCase):
    """A run that checks part of the project (PATH mode, --select) judges and
    rewrites the baseline's entries about that part only: the others are
    neither stale nor lost."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        build_host(cls.root)
        cls.tasks = cls.root / "shop" / "tasks.py"
        cls.baseline = cls.root / "partial.json"

    def setUp(self) -> None:
        self.tasks.write_text(SHOP_TASKS)
        self.addCleanup(self.tasks.unlink, missing_ok=True)
        self.addCleanup(self.baseline.unlink, missing_ok=True)
        self.addCleanup((self.root / "pyproject.toml").unlink, missing_ok=True)
        # As a project configures it: the baseline's paths are from its folder.
        (self.root / "pyproject.toml").write_text(
            '[tool.async_audit]\nbaseline = "partial.json"\n'
        )

    def entries(self) -> list[dict]:
        return json.loads(self.baseline.read_text())["findings"]

    def stale(self, args: list[str], cwd: Path | None = None) -> int:
        audited = run([*args, "--format", "json"], cwd or self.root)
        self.assertEqual(audited.returncode, 0, audited.stdout + audited.stderr)
        return json.loads(audited.stdout)["baseline"]["stale"]

    def test_a_full_run_still_drops_what_was_fixed(self):
        """A deleted file's entry matches nothing in a full run: stale (one
        entry, told in the singular), and a write drops it."""
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                self.tasks.write_text(SHOP_TASKS)
                self.assertEqual(
                    audit(self.root, "--write-baseline", entry=entry).returncode, 0
                )
                before = self.entries()
                self.tasks.unlink()

                audited = audit(self.root, entry=entry)
                self.assertEqual(self.stale(entry), 1)
                audit(self.root, "--write-baseline", entry=entry)

                self.assertIn("1 of its entries matches nothing now", audited.stdout)
                self.assertEqual(
                    self.entries(),
                    [e for e in before if e.get("path") != "shop/tasks.py"],
                )
