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

    def test_path_mode_on_one_file_judges_and_rewrites_that_file_only(self):
        """The pre-commit hook's run, on one file: no entry is stale, from the
        project's root or from inside the app; written, the baseline keeps
        every other file's and the settings' entries."""
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                self.tasks.write_text(SHOP_TASKS)
                full = audit(self.root, "--write-baseline", entry=entry)
                self.assertEqual(full.returncode, 0, full.stderr)
                before = self.entries()
                self.assertEqual(
                    {entry["code"] for entry in before}
                    >= {
                        "code.sync-orm",
                        "code.blocking-call",
                        "settings.conn-max-age",
                    },
                    True,
                    before,
                )

                one_file = self.stale([*PATH_MODE, "shop/tasks.py"])
                from_app = self.stale([*PATH_MODE, "tasks.py"], self.root / "shop")
                app = self.stale([*PATH_MODE, "shop"])
                written = run(
                    [*PATH_MODE, "shop/tasks.py", "--write-baseline"], self.root
                )

                self.assertEqual((one_file, from_app, app), (0, 0, 0))
                self.assertIn("Wrote 1 finding(s)", written.stdout)
                self.assertEqual(self.entries(), before)
                self.assertEqual(self.stale(entry), 0)

    def test_path_mode_drops_only_the_fixed_entries_of_the_file_it_checked(self):
        """The blocking call fixed: one entry of the file matches nothing, and
        --write-baseline on that file drops it and keeps the rest."""
        self.assertEqual(
            run([*PATH_MODE, "shop", "--write-baseline"], self.root).returncode, 0
        )
        # The settings' entries, as a full run writes them.
        written = json.loads(self.baseline.read_text())
        written["findings"].append(
            {
                "code": "settings.conn-max-age",
                "target": "DATABASES['default']['CONN_MAX_AGE']",
            }
        )
        self.baseline.write_text(json.dumps(written))
        before = self.entries()
        self.tasks.write_text("async def warm(request):\n    pass\n")

        checked = run([*PATH_MODE, "shop/tasks.py"], self.root)
        rewritten = run([*PATH_MODE, "shop/tasks.py", "--write-baseline"], self.root)

        self.assertIn("1 of its entries matches nothing now", checked.stdout)
        self.assertIn("Wrote 0 finding(s)", rewritten.stdout)
        self.assertEqual(
            self.entries(),
            [entry for entry in before if entry["code"] != "code.blocking-call"],
        )
        self.assertEqual(self.stale([*PATH_MODE, "shop"]), 0)

    def test_select_code_keeps_the_settings_entries(self):
        """--select code checks no setting: their entries are not stale, and a
        write keeps them."""
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                self.assertEqual(
                    audit(self.root, "--write-baseline", entry=entry).returncode, 0
                )
                before = self.entries()

                selected = self.stale([*entry, "--select", "code"])
                written = audit(
                    self.root, "--select", "code", "--write-baseline", entry=entry
                )

                self.assertEqual(selected, 0)
                self.assertEqual(written.returncode, 0, written.stderr)
                self.assertEqual(self.entries(), before)
                self.assertIn("settings.conn-max-age", {e["code"] for e in before})

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

    def test_a_broken_baseline_is_not_written_over(self):
        """--write-baseline keeps the entries the run did not check: a file it
        cannot read (a merge conflict in it, say) is a usage error, not lost."""
        self.baseline.write_text("<<<<<<< HEAD\n")

        written = run([*PATH_MODE, "shop/tasks.py", "--write-baseline"], self.root)

        self.assertEqual(written.returncode, 2, written.stdout)
        self.assertIn("Cannot rewrite the baseline", written.stderr)
        self.assertEqual(self.baseline.read_text(), "<<<<<<< HEAD\n")
