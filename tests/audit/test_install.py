"""`pip install <this checkout>` into a fresh virtualenv, then the audit on a
project it has never seen, the three ways the guide shows: nothing of this
checkout importable but what pip installed."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import django
from django.conf import settings
from django.test import SimpleTestCase

from tests.audit.test_host import make_host, run


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


class InstalledAuditTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.tmp = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        venv = cls.tmp / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        cls.python = venv / "bin" / "python"
        # The host's own dependencies (Django on the line this suite runs on,
        # its database driver): django.setup() imports the backend, for the
        # audit as for any management command.
        driver = next(
            line
            for line in (settings.BASE_DIR / "requirements.txt").read_text().split()
            if line.startswith("psycopg[")
        )
        _pip(
            cls.python, "install", "--quiet", f"Django=={django.get_version()}", driver
        )
        # From a copy: setuptools leaves build/ behind, whose stale files a
        # later build of the checkout would package.
        source = cls.tmp / "checkout"
        shutil.copytree(
            settings.BASE_DIR,
            source,
            ignore=shutil.ignore_patterns(
                ".*", "var", "build", "*.egg-info", "__pycache__"
            ),
        )
        _pip(cls.python, "install", "--quiet", str(source))
        cls.root = cls.tmp / "site"
        cls.root.mkdir()
        make_host(cls.root, python=str(cls.python))

    def audit(self, *args: str) -> subprocess.CompletedProcess:
        return run(list(args), self.root, python=str(self.python))

    def test_only_the_audit_is_installed(self):
        """The demo's `project` and its `topics` app stay in the checkout: in
        site-packages, `topics` holds the audit and the drop-ins, nothing else."""
        probe = self.audit(
            "-c",
            "import importlib.util as u, topics;"
            "print(sorted(topics.__path__), u.find_spec('project'),"
            " u.find_spec('topics.views'), None not in"
            " (u.find_spec('topics.audit'), u.find_spec('topics.hopfree')))",
        )

        self.assertEqual(probe.returncode, 0, probe.stderr)
        paths, project, views, audit = probe.stdout.rsplit(" ", 3)
        self.assertIn("site-packages", paths)
        self.assertNotIn(str(settings.BASE_DIR), paths)
        self.assertEqual((project, views, audit.strip()), ("None", "None", "True"))

    def test_one_line_in_installed_apps(self):
        """manage.py async_audit, the one change being "topics.audit" in
        INSTALLED_APPS: the planted sync query is found, the failing check and
        the missing database stop nothing; Django's defaults are told their
        drop-ins, which pip installed beside it."""
        audited = self.audit("manage.py", "async_audit", "--format", "json")

        # The planted sync query is an error: status 1 (--fail-level error).
        self.assertEqual(audited.returncode, 1, audited.stderr)
        found = {
            (f["code"], f["location"]) for f in json.loads(audited.stdout)["findings"]
        }
        self.assertIn(("code.sync-orm", "shop/views.py:8"), found)
        self.assertIn("middleware.hopfree-available", {code for code, _ in found})

    def test_no_settings_change(self):
        """python -m topics.audit --settings, and the async-audit script, on a
        settings module that names nothing of ours."""
        script = str(self.python.parent / "async-audit")
        for program, args in ((str(self.python), ["-m", "topics.audit"]), (script, [])):
            with self.subTest(program=program):
                audited = run(
                    [*args, "--settings", "host.settings_plain", "--format", "json"],
                    self.root,
                    python=program,
                )

                self.assertEqual(audited.returncode, 1, audited.stderr)
                findings = json.loads(audited.stdout)["findings"]
                found = {(f["code"], f["location"]) for f in findings}
                self.assertIn(("code.sync-orm", "shop/views.py:8"), found)

    def test_a_project_that_will_not_load_is_a_usage_error(self):
        """Settings that django.setup() cannot load (an app not installed here):
        one line saying why and what to do, exit status 2, no traceback."""
        (self.root / "host" / "settings_broken.py").write_text(
            "from host.settings_plain import *  # noqa: F403\n\n"
            'INSTALLED_APPS = [*INSTALLED_APPS, "not_installed_here"]\n'
        )

        audited = self.audit("-m", "topics.audit", "--settings", "host.settings_broken")

        self.assertEqual(audited.returncode, 2, audited.stderr)
        self.assertNotIn("Traceback", audited.stderr)
        self.assertIn("No module named 'not_installed_here'", audited.stderr)
        self.assertIn("PATH", audited.stderr)

    def test_paths_with_no_project(self):
        """python -m topics.audit PATH: the code rules alone."""
        scanned = self.audit("-m", "topics.audit", "shop", "--fail-level", "error")

        self.assertEqual(scanned.returncode, 1, scanned.stderr)
        self.assertIn("shop/views.py:8:36", scanned.stdout)
