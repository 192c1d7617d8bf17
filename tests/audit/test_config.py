"""[tool.async_audit] in pyproject.toml, the ASYNC_AUDIT setting, and the
command line over both, as ruff reads its own configuration."""

import json
import tempfile
from pathlib import Path

from django.test import SimpleTestCase

from tests.audit.hosts import ENTRY_POINTS, audit, build_host, codes
from tests.audit.test_host import run
from topics.audit.config import Config, UsageError, load
from topics.audit.findings import Finding


def finding(code: str, location: str = "shop/views.py:8") -> Finding:
    return Finding("error", code, code.split(".")[0], location, "message")


class SelectTests(SimpleTestCase):
    def test_the_longest_matching_prefix_decides(self):
        """ignore a family, select one of its codes back; a tie is ignored."""
        config = Config(select=("code.sync-orm",), ignore=("code",))

        self.assertIs(config.reports(finding("code.sync-orm")), True)
        self.assertIs(config.reports(finding("code.blocking-call")), False)
        self.assertIs(
            Config(select=("code",), ignore=("code",)).reports(
                finding("code.sync-orm")
            ),
            False,
        )

    def test_a_prefix_stops_at_a_dot(self):
        """ "middleware" matches middleware.hops; "code.sync" matches nothing."""
        self.assertIs(
            Config(select=("middleware",)).reports(finding("middleware.hops", "X")),
            True,
        )
        with self.assertRaisesMessage(UsageError, "no finding code starts with"):
            load(start=Path("/"), select="code.sync")

    def test_per_file_ignores_match_the_path_and_a_prefix(self):
        config = Config(per_file_ignores={"shop/*": ("code",)})

        self.assertIs(config.reports(finding("code.sync-orm")), False)
        self.assertIs(config.reports(finding("code.sync-orm", "app/v.py:1")), True)
        self.assertIs(config.reports(finding("settings.no-pool", "X")), True)

    def test_bad_values_are_usage_errors(self):
        """An unknown key, a bad level, a list that is not one: told, by key."""
        cases = {
            "Unknown key 'selct'": {"selct": ["code"]},
            "'fail-level' in the ASYNC_AUDIT setting is 'fatal'": {
                "fail-level": "fatal"
            },
            "'ignore' in the ASYNC_AUDIT setting must be a list": {"ignore": "code"},
        }
        for message, setting in cases.items():
            with self.subTest(message), self.assertRaisesMessage(UsageError, message):
                load(start=Path("/"), setting=setting)


class ConfigEndToEndTests(SimpleTestCase):
    """The configuration through both entry points, on a generated host."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        build_host(cls.root)

    def setUp(self) -> None:
        self.addCleanup((self.root / "pyproject.toml").unlink, missing_ok=True)

    def write_pyproject(self, table: str) -> None:
        (self.root / "pyproject.toml").write_text(
            f'[project]\nname = "host"\n\n[tool.async_audit]\n{table}\n'
        )

    def test_pyproject_selects_ignores_and_sets_the_fail_level(self):
        """ignore drops the settings' error; per-file-ignores the code's;
        fail-level = "info" then fails on what is left; --select on the
        command line replaces the configuration's."""
        self.write_pyproject(
            'ignore = ["settings.conn-max-age"]\nfail-level = "info"\n'
            '[tool.async_audit.per-file-ignores]\n"shop/*" = ["code.sync-orm"]\n'
        )
        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                configured = audit(self.root, "--format", "json", entry=entry)
                selected = audit(
                    self.root, "--format", "json", "--select", "code", entry=entry
                )

                self.assertEqual(configured.returncode, 1, configured.stderr)
                self.assertNotIn("settings.conn-max-age", codes(configured))
                self.assertNotIn("code.sync-orm", codes(configured))
                self.assertIn("settings.no-pool", codes(configured))
                self.assertEqual(codes(selected), [])

    def test_pyproject_is_found_above_the_project(self):
        """From the project's folder upward: a pyproject.toml one level up."""
        outer = Path(self.enterContext(tempfile.TemporaryDirectory()))
        (outer / "pyproject.toml").write_text('[tool.async_audit]\nignore = ["code"]\n')
        project = outer / "project"
        project.mkdir()
        build_host(project)

        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                self.assertNotIn(
                    "code.sync-orm",
                    codes(audit(project, "--format", "json", entry=entry)),
                )

    def test_exclude_adds_to_the_command_line(self):
        """exclude in pyproject.toml leaves the file out of the scan."""
        self.write_pyproject('exclude = ["shop/views.py"]')

        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                audited = audit(self.root, "--format", "json", entry=entry)

                self.assertNotIn("code.sync-orm", codes(audited))
                self.assertNotIn("config.unused-exclude", codes(audited))

    def test_the_django_setting_overrides_pyproject(self):
        """ASYNC_AUDIT = {...} in the settings, key by key over the file."""
        self.write_pyproject('fail-level = "info"\nignore = ["code"]')
        (self.root / "host" / "settings_configured.py").write_text(
            "from host.settings import *  # noqa: F403\n\n"
            'ASYNC_AUDIT = {"ignore": ["settings", "urls"]}\n'
        )

        for name, entry in ENTRY_POINTS.items():
            with self.subTest(name):
                audited = audit(
                    self.root,
                    "--format",
                    "json",
                    "--settings",
                    "host.settings_configured",
                    entry=entry,
                )

                self.assertNotIn("settings.conn-max-age", codes(audited))
                self.assertIn("code.sync-orm", codes(audited))
                self.assertEqual(audited.returncode, 1)

    def test_bad_configuration_exits_2_with_a_message(self):
        """An unknown key, a bad level or broken TOML: status 2 and one line
        that says what and where, no traceback."""
        cases = {
            'selct = ["code"]': "Unknown key 'selct'",
            'fail-level = "fatal"': "'fail-level' in [tool.async_audit]",
            "ignore = [": "Cannot read",
        }
        for table, message in cases.items():
            self.write_pyproject(table)
            for name, entry in {
                **ENTRY_POINTS,
                "PATH": ["-m", "topics.audit", "shop"],
            }.items():
                with self.subTest(name, table=table):
                    audited = audit(self.root, entry=entry)

                    self.assertEqual(audited.returncode, 2, audited.stderr)
                    self.assertIn(message, audited.stderr)
                    self.assertNotIn("Traceback", audited.stderr)

    def test_path_mode_reads_pyproject_from_the_current_directory(self):
        """python -m topics.audit PATH: the nearest pyproject.toml from here."""
        self.write_pyproject('ignore = ["code.sync-orm"]')

        scanned = run(["-m", "topics.audit", "shop", "--format", "json"], self.root)

        self.assertEqual((scanned.returncode, codes(scanned)), (0, []))
        self.assertEqual(json.loads(scanned.stdout)["scanned"], ["shop"])


class NamedPathsExcludeTests(SimpleTestCase):
    """python -m topics.audit PATH ...: a glob that leaves out a file named on
    the command line did its work, among named folders too."""

    def test_a_glob_that_left_out_a_named_file_is_used(self):
        """legacy/old.py named beside the folder app, with --exclude
        'legacy/*': left out, not listed as scanned, and no warning that the
        glob matched nothing; a glob that did match nothing still warns."""
        root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        (root / "legacy").mkdir()
        (root / "legacy" / "old.py").write_text(
            "import time\n\n\nasync def old(request):\n    time.sleep(1)\n"
        )
        (root / "app").mkdir()
        (root / "app" / "views.py").write_text("async def view(request):\n    pass\n")
        args = ["-m", "topics.audit", "--exclude", "legacy/*", "--exclude", "gone/*"]

        audited = run([*args, "legacy/old.py", "app", "--format", "json"], root)
        text = run([*args, "legacy/old.py", "app"], root)

        report = json.loads(audited.stdout)
        self.assertEqual(audited.returncode, 0, audited.stderr)
        self.assertEqual(
            [(f["code"], f["location"]) for f in report["findings"]],
            [("config.unused-exclude", "gone/*")],
        )
        self.assertEqual(report["scanned"], ["app"])
        self.assertIn("Scanned: app\n", text.stdout)
        self.assertNotIn("legacy/*: warning", text.stdout)
