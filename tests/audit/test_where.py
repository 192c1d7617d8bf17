"""Settings findings point at the line that causes them, in split settings too."""

import sys
import tempfile
import textwrap
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.test import SimpleTestCase, override_settings

from topics.audit.findings import Finding
from topics.audit.where import located, setting_line

BASE = """
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shop.middleware.Legacy",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "CONN_MAX_AGE": 60,
    },
}
CACHES = {}
"""
# The split-settings layout: production.py star-imports base and overrides.
PRODUCTION = """
from .base import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = 600
MIDDLEWARE += ["shop.middleware.Extra"]
MIDDLEWARE.insert(0, "shop.middleware.First")
DATABASES["default"]["ATOMIC_REQUESTS"] = True
"""
# A database from a URL, as dj-database-url builds it.
HOSTED = """
import os

import dj_database_url

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.config(conn_max_age=500)}
"""


class SettingLineTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.root = root
        package = root / "whereconf"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "base.py").write_text(textwrap.dedent(BASE))
        (package / "production.py").write_text(textwrap.dedent(PRODUCTION))
        (package / "hosted.py").write_text(textwrap.dedent(HOSTED))
        sys.path.insert(0, str(root))
        cls.addClassCleanup(sys.path.remove, str(root))

    def settings(self, module: str) -> SimpleNamespace:
        return SimpleNamespace(
            SETTINGS_MODULE=f"whereconf.{module}",
            MIDDLEWARE=[
                "django.middleware.security.SecurityMiddleware",
                "shop.middleware.Legacy",
                "shop.middleware.Extra",
            ],
        )

    def where(self, module: str, name: str, *keys: str) -> tuple[str, int, int] | None:
        found = setting_line(self.settings(module), name, keys)
        return found and (found[0].name, found[1], found[2])

    def test_keys_narrow_the_line_inside_literals(self):
        self.assertEqual(
            self.where("base", "DATABASES", "default", "CONN_MAX_AGE"),
            ("base.py", 9, 9),
        )
        self.assertEqual(
            self.where("base", "MIDDLEWARE", "shop.middleware.Legacy"),
            ("base.py", 4, 5),
        )

    def test_the_last_assignment_wins_then_star_imports(self):
        """production.py's own assignment beats base's literal; what it does
        not assign is found in the module it star-imports."""
        self.assertEqual(
            self.where("production", "DATABASES", "default", "CONN_MAX_AGE"),
            ("production.py", 4, 1),
        )
        self.assertEqual(self.where("production", "CACHES"), ("base.py", 12, 10))

    def test_override_settings_still_has_the_project_module(self):
        """Under override_settings (as in a test) the holder's SETTINGS_MODULE
        is None; the project's own settings are behind it."""
        with override_settings(DEBUG=True), override_settings(USE_TZ=True):
            found = setting_line(settings, "MIDDLEWARE")

        self.assertEqual(
            found and found[0], settings.BASE_DIR / "project" / "settings.py"
        )

    def test_the_statement_that_writes_what_is_asked(self):
        """A write to another key of the setting is not the line: OPTIONS is
        missing from base's dict, not set by ATOMIC_REQUESTS' line; an item
        inserted in place is found where it is inserted; a database from a
        URL, in an `if` block, points at the call's keyword, not at the
        literal above it that has no CONN_MAX_AGE."""
        self.assertEqual(
            self.where("production", "DATABASES", "default", "OPTIONS"),
            ("base.py", 7, 16),
        )
        self.assertEqual(
            self.where("production", "MIDDLEWARE", "shop.middleware.First"),
            ("production.py", 6, 22),
        )
        self.assertEqual(
            self.where("production", "MIDDLEWARE", "shop.middleware.Legacy"),
            ("base.py", 4, 5),
        )
        self.assertEqual(
            self.where("hosted", "DATABASES", "default", "CONN_MAX_AGE"),
            ("hosted.py", 8, 65),
        )

    def test_unwritten_settings_have_no_line(self):
        self.assertIsNone(self.where("production", "SECRET_KEY"))
        self.assertIsNone(setting_line(SimpleNamespace(), "DATABASES"))

    def test_findings_are_located_from_the_project_root(self):
        findings = [
            Finding("error", "settings.conn-max-age", "settings",
                    "DATABASES['default']['CONN_MAX_AGE']", "m"),
            Finding("warning", "middleware.sync-only", "middleware",
                    "shop.middleware.Legacy", "m"),
            Finding("error", "settings.allow-async-unsafe", "settings",
                    "DJANGO_ALLOW_ASYNC_UNSAFE", "m"),
            Finding("error", "code.sync-orm", "code", "shop/views.py:3", "m", column=4),
        ]  # fmt: skip

        moved = located(findings, self.settings("base"), self.root)

        self.assertEqual(
            [(f.location, f.column) for f in moved],
            [
                ("whereconf/base.py:9", 9),
                ("whereconf/base.py:4", 5),
                ("DJANGO_ALLOW_ASYNC_UNSAFE", None),
                ("shop/views.py:3", 4),
            ],
        )
