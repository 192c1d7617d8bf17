"""The pre-commit hook this repository provides: its entry, run as pre-commit
runs it, on staged files named one by one."""

import shlex
import tempfile
from pathlib import Path

import yaml
from django.conf import settings
from django.test import SimpleTestCase

from tests.audit.test_host import SHOP_VIEWS, run

HOOKS = Path(settings.BASE_DIR) / ".pre-commit-hooks.yaml"


class PreCommitHookTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        [cls.hook] = yaml.safe_load(HOOKS.read_text())
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        (cls.root / "shop").mkdir()
        (cls.root / "shop" / "views.py").write_text(SHOP_VIEWS)
        (cls.root / "shop" / "models.py").write_text("from django.db import models\n")

    def run_hook(self, *files: str):
        command = shlex.split(self.hook["entry"])
        # pre-commit installs this repository and runs its async-audit script,
        # topics.audit.__main__:main (test_install runs the script itself).
        self.assertEqual(command, ["async-audit"])
        module = ["-m", "topics.audit"]
        return run([*module, *self.hook.get("args", []), *files], self.root)

    def test_the_hook_is_the_code_scan_on_python_files(self):
        self.assertEqual(
            {key: self.hook[key] for key in ("id", "language", "types")},
            {"id": "async-audit", "language": "python", "types": ["python"]},
        )

    def test_a_staged_file_with_a_blocking_call_fails_the_commit(self):
        """The finding on its line, status 1; a clean file passes."""
        failed = self.run_hook("shop/views.py", "shop/models.py")
        passed = self.run_hook("shop/models.py")

        self.assertEqual(failed.returncode, 1, failed.stderr)
        self.assertIn("shop/views.py:8:36: error code.sync-orm ", failed.stdout)
        self.assertEqual(passed.returncode, 0, passed.stderr)

    def test_an_excluded_file_is_skipped_though_named(self):
        """pyproject.toml's exclude holds for files named one by one, and a
        glob that matched none of the staged files is no warning."""
        pyproject = self.root / "pyproject.toml"
        pyproject.write_text('[tool.async_audit]\nexclude = ["shop/*", "legacy"]\n')
        self.addCleanup(pyproject.unlink)

        hooked = self.run_hook("shop/views.py")

        self.assertEqual(hooked.returncode, 0, hooked.stdout)
        self.assertEqual(
            hooked.stdout.split()[-6:], ["0", "info,", "0", "warning,", "0", "error"]
        )
