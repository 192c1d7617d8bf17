"""The audit as an app of its own, in a project it has never seen: a generated
`startproject` whose one addition is "topics.audit" in INSTALLED_APPS."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

SHOP_VIEWS = """
from django.http import JsonResponse

from shop.models import Item


async def item_list(request):
    names = [item.name for item in Item.objects.all()]
    return JsonResponse({"names": names})
"""
SHOP_MODELS = """
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
"""
# An unrelated check that fails, as some real projects' do: no gate for the audit.
SHOP_APPS = """
from django.apps import AppConfig
from django.core import checks


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        checks.register(lambda **kwargs: [checks.Error("broken", id="shop.E001")])
"""
HOST_SETTINGS = """
INSTALLED_APPS += ["shop", "topics.audit"]
# No database server listens here: the audit must not need one.
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": "127.0.0.1", "PORT": "1", "NAME": "none", "CONNECT_TIMEOUT": 1,
    "CONN_MAX_AGE": 60,
}}
"""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run Python in the host project, with this checkout importable (as an
    installed package would be) and no settings of ours in the environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONDEVMODE")
    }
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class HostProjectTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        for command in (["startproject", "host", "."], ["startapp", "shop"]):
            made = run(["-m", "django", *command], cwd=cls.root)
            assert made.returncode == 0, made.stderr
        shop = cls.root / "shop"
        (shop / "views.py").write_text(SHOP_VIEWS)
        (shop / "models.py").write_text(SHOP_MODELS)
        (shop / "apps.py").write_text(SHOP_APPS)
        (cls.root / "host" / "urls.py").write_text(
            "from django.urls import path\n\nfrom shop.views import item_list\n\n"
            'urlpatterns = [path("items/", item_list)]\n'
        )
        # No ASGI_APPLICATION (startproject sets none): the Procfile says ASGI.
        (cls.root / "Procfile").write_text(
            "release: python manage.py migrate\nweb: uvicorn host.asgi:application\n"
        )
        with (cls.root / "host" / "settings.py").open("a") as host_settings:
            host_settings.write(HOST_SETTINGS)
        # The same project with no line of ours at all.
        (cls.root / "host" / "settings_plain.py").write_text(
            "from host.settings import *  # noqa: F403\n\n"
            "INSTALLED_APPS = [a for a in INSTALLED_APPS if a != 'topics.audit']\n"
        )

    def test_one_line_in_installed_apps_is_enough(self):
        """`manage.py async_audit` runs although a system check fails and no
        database answers, and finds the sync ORM call in the async view: an
        error, so it exits 1 (--fail-level is error by default)."""
        audited = run(["manage.py", "async_audit", "--format", "json"], self.root)

        self.assertEqual(audited.returncode, 1, audited.stderr)
        report = json.loads(audited.stdout)
        found = {(f["code"], f["location"]) for f in report["findings"]}
        self.assertIn(("code.sync-orm", "shop/views.py:8"), found)
        self.assertIn(
            ["async", "items/", "shop.views.item_list"],
            [[row["mode"], row["route"], row["view"]] for row in report["urls"]],
        )

    def test_its_own_checks_still_gate_other_commands(self):
        """The host's failing check is the host's: `check` still fails on it."""
        checked = run(["manage.py", "check"], self.root)

        self.assertNotEqual(checked.returncode, 0)
        self.assertIn("shop.E001", checked.stderr)

    def test_no_settings_change_with_python_m(self):
        """`python -m topics.audit --settings …` from the project's root: the same
        audit, the project's settings untouched."""
        audited = run(
            [
                "-m",
                "topics.audit",
                "--settings",
                "host.settings_plain",
                "--format",
                "json",
            ],
            self.root,
        )

        self.assertEqual(audited.returncode, 1, audited.stderr)
        found = {
            (f["code"], f["location"]) for f in json.loads(audited.stdout)["findings"]
        }
        self.assertIn(("code.sync-orm", "shop/views.py:8"), found)

    def test_paths_alone_need_no_django_project(self):
        """`python -m topics.audit PATH`: the code rules on those files, with no
        settings at all; --fail-level sets the exit status."""
        scanned = run(["-m", "topics.audit", "shop", "--fail-level", "info"], self.root)

        self.assertEqual(scanned.returncode, 1, scanned.stderr)
        self.assertIn("shop/views.py:8:36: error code.sync-orm ", scanned.stdout)
        clean = run(["-m", "topics.audit", "host/urls.py"], self.root)
        self.assertEqual(
            (clean.returncode, clean.stdout.split()[-6:]),
            (0, ["0", "info,", "0", "warning,", "0", "error"]),
        )

    def test_usage_errors_exit_2(self):
        """No settings and no paths, or a path that is not there: status 2."""
        for args in ([], ["no/such/folder"]):
            used = run(["-m", "topics.audit", *args], self.root)

            self.assertEqual(used.returncode, 2, args)

    def test_asgi_is_seen_from_the_project_not_only_asgi_application(self):
        """startproject sets no ASGI_APPLICATION: the Procfile names uvicorn, so
        CONN_MAX_AGE = 60 is the error it is under ASGI, pointing there;
        --server wsgi says otherwise."""
        audited = run(["manage.py", "async_audit", "--format", "json"], self.root)
        [finding] = [
            f
            for f in json.loads(audited.stdout)["findings"]
            if f["code"] == "settings.conn-max-age"
        ]

        self.assertEqual(finding["level"], "error")
        self.assertIn("Procfile:2", finding["message"])
        wsgi = run(
            ["manage.py", "async_audit", "--format", "json", "--server", "wsgi"],
            self.root,
        )
        codes = {f["code"] for f in json.loads(wsgi.stdout)["findings"]}
        self.assertNotIn("settings.conn-max-age", codes)

    def test_excludes_match_the_printed_paths_and_a_dead_one_is_told(self):
        """An exclude is written as the report prints paths; one that matches
        nothing is a warning, not a silent no-op (an exclude relative to each
        app had matched nothing on a real project, unnoticed)."""
        left_out = run(
            ["-m", "topics.audit", "shop", "--exclude", "shop/views.py"], self.root
        )
        dead = run(["-m", "topics.audit", "shop", "--exclude", "views.py"], self.root)

        self.assertNotIn("code.sync-orm", left_out.stdout)
        self.assertIn("views.py: warning config.unused-exclude ", dead.stdout)
        self.assertIn("shop/views.py:8:36: error code.sync-orm ", dead.stdout)

    def test_github_annotations_and_columns(self):
        """--format github: one workflow annotation per finding, on the file's line
        and column for code, the setting's name in the text otherwise; the text
        report prints path:line:col as ruff does."""
        github = run(["manage.py", "async_audit", "--format", "github"], self.root)
        text = run(["-m", "topics.audit", "shop"], self.root)

        lines = github.stdout.splitlines()
        self.assertIn(
            "::error file=shop/views.py,line=8,col=36,title=code.sync-orm::Iterating "
            "Item.objects.all() runs a sync query",
            "\n".join(lines),
        )
        self.assertTrue(
            any(
                line.startswith(
                    "::error title=settings.conn-max-age::DATABASES['default']"
                )
                for line in lines
            ),
            lines,
        )
        self.assertIn("shop/views.py:8:36: error code.sync-orm ", text.stdout)
