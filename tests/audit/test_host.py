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


def run(
    args: list[str], cwd: Path, *, python: str | None = None
) -> subprocess.CompletedProcess:
    """Run Python in the host project with no settings of ours in the
    environment: `python` (a virtualenv the audit is installed in), or this
    interpreter with this checkout importable, as an installed package would be."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONDEVMODE", "PYTHONPATH")
    }
    if python is None:
        env["PYTHONPATH"] = str(settings.BASE_DIR)
    return subprocess.run(
        [python or sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_host(root: Path, *, python: str | None = None) -> None:
    """A startproject host in `root`: the app `shop` with a sync query in an
    async view and a failing check, a database nobody serves, a Procfile
    naming uvicorn; host.settings adds "topics.audit", host.settings_plain not."""
    for command in (["startproject", "host", "."], ["startapp", "shop"]):
        made = run(["-m", "django", *command], root, python=python)
        assert made.returncode == 0, made.stderr
    shop = root / "shop"
    (shop / "views.py").write_text(SHOP_VIEWS)
    (shop / "models.py").write_text(SHOP_MODELS)
    (shop / "apps.py").write_text(SHOP_APPS)
    (root / "host" / "urls.py").write_text(
        "from django.urls import path\n\nfrom shop.views import item_list\n\n"
        'urlpatterns = [path("items/", item_list)]\n'
    )
    # No ASGI_APPLICATION (startproject sets none): the Procfile says ASGI.
    (root / "Procfile").write_text(
        "release: python manage.py migrate\nweb: uvicorn host.asgi:application\n"
    )
    with (root / "host" / "settings.py").open("a") as host_settings:
        host_settings.write(HOST_SETTINGS)
    # The same project with no line of ours at all.
    (root / "host" / "settings_plain.py").write_text(
        "from host.settings import *  # noqa: F403\n\n"
        "INSTALLED_APPS = [a for a in INSTALLED_APPS if a != 'topics.audit']\n"
    )


class HostProjectTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        make_host(cls.root)

    def test_one_line_in_installed_apps_is_enough(self):
        """`manage.py async_audit` runs although a system check fails and no
        database answers, and finds the sync ORM call in the async view: an
        error, so it exits 1 (--fail-level is error by default)."""
        audited = run(["manage.py", "async_audit", "--format", "json"], self.root)

        self.assertEqual(audited.returncode, 1, audited.stderr)
        report = json.loads(audited.stdout)
        found = {(f["code"], f["location"]) for f in report["findings"]}
        self.assertIn(("code.sync-orm", "shop/views.py:8"), found)
        # Its one view is async: no "0 of 1 views are sync" line.
        self.assertNotIn("urls.sync-views", {code for code, _ in found})
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
        """No settings and no paths, a path that is not there, or both settings
        and paths (which would leave the settings unread): status 2."""
        for args in ([], ["no/such/folder"], ["--settings", "host.settings", "shop"]):
            used = run(["-m", "topics.audit", *args], self.root)

            self.assertEqual(used.returncode, 2, args)
        self.assertIn("not both", used.stderr)

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
        and column for code and for the settings line a finding is about; the text
        report prints path:line:col as ruff does."""
        github = run(["manage.py", "async_audit", "--format", "github"], self.root)
        text = run(["-m", "topics.audit", "shop"], self.root)

        lines = github.stdout.splitlines()
        self.assertIn(
            "::error file=shop/views.py,line=8,col=36,title=code.sync-orm::Iterating "
            "Item.objects.all() runs a sync query",
            "\n".join(lines),
        )
        # A settings finding is annotated on the line that causes it.
        settings_line = next(
            n
            for n, line in enumerate(
                (self.root / "host" / "settings.py").read_text().splitlines(), 1
            )
            if '"CONN_MAX_AGE": 60' in line
        )
        self.assertIs(
            any(
                line.startswith(
                    f"::error file=host/settings.py,line={settings_line},col=5,"
                    "title=settings.conn-max-age::DATABASES['default']['CONN_MAX_AGE']"
                )
                for line in lines
            ),
            True,
            lines,
        )
        self.assertIn("shop/views.py:8:36: error code.sync-orm ", text.stdout)


class UnloadableUrlconfTests(SimpleTestCase):
    def test_a_mixed_view_outside_installed_apps_is_named_and_fails(self):
        """A class mixing sync and async handlers, in a package no app names:
        Django refuses it in as_view() while loading the URLconf. The audit
        names the class, and the URLconf that will not load is an error, not a
        warning that passes the default fail level."""
        root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        make_host(root)
        (root / "extra").mkdir()
        (root / "extra" / "__init__.py").write_text("")
        (root / "extra" / "views.py").write_text(
            "from django.http import JsonResponse\nfrom django.views import View\n\n\n"
            "class MixedView(View):\n"
            "    async def get(self, request):\n        return JsonResponse({})\n\n"
            "    def post(self, request):\n        return JsonResponse({})\n"
        )
        (root / "extra" / "urls.py").write_text(
            "from django.urls import path\n\nfrom extra.views import MixedView\n\n"
            'urlpatterns = [path("m/", MixedView.as_view())]\n'
        )
        (root / "host" / "urls.py").write_text(
            "from django.urls import include, path\n\n"
            'urlpatterns = [path("x/", include("extra.urls"))]\n'
        )

        audited = run(
            ["manage.py", "async_audit", "--format", "json", "--select", "urls,import"],
            root,
        )

        self.assertEqual(audited.returncode, 1, audited.stderr)
        found = {
            (f["code"], f["level"], f["target"] or f["location"])
            for f in json.loads(audited.stdout)["findings"]
        }
        self.assertIn(("urls.mixed-handlers", "error", "extra.views.MixedView"), found)
        self.assertIn(("import.urls", "error", "host.urls"), found)
