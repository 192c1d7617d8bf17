"""The code the audit scans is the code the project serves: every package under
BASE_DIR and every file its URLconfs route to (django-hosts' and --urlconf's
too), but no virtualenv, installed or vendored package, nor its tests."""

import functools
import inspect
import json
import tempfile
from pathlib import Path

from django.test import SimpleTestCase, override_settings

from tests.audit.test_host import run
from topics.audit.routes import urlconfs_to_walk
from topics.audit.scope import routed_files, source_file

# Planted in each file the audit must scan, or must not: a query run on the loop.
PLANTED = """
from shop.models import Item


async def {name}(request):
    names = [item.name for item in Item.objects.all()]
    return JsonResponse({{"names": names}})
"""
PLANTED_LINE = 7  # after the import planted() adds


def planted(name: str) -> str:
    return "from django.http import JsonResponse\n" + PLANTED.format(name=name)


HOSTS = """
class host:
    '''django_hosts.host's shape: what the audit reads is `urlconf`.'''

    def __init__(self, regex, urlconf, name):
        self.regex, self.urlconf, self.name = regex, urlconf, name


host_patterns = [
    host(r"www", "host.urls", name="www"),
    host(r"api", "host.urls_api", name="api"),
]
"""
SETTINGS = """
INSTALLED_APPS += ["shop", "topics.audit"]
ROOT_HOSTCONF = "host.hosts"
"""
# What a project tree holds besides its own code; each has a planted file.
NOT_OURS = {
    ".venv/lib/python3.12/site-packages/evil/__init__.py": "a virtualenv",
    "env/lib/python3.12/site-packages/evil/__init__.py": "a virtualenv",
    "vendor/thirdlib/__init__.py": "vendored third-party code",
    "node_modules/pkg/__init__.py": "node_modules",
    "tests/test_shop.py": "tests, not served",
    "build/lib/shop/views.py": "build output",
}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


class ProjectScopeTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.root = root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        for command in (["startproject", "host", "."], ["startapp", "shop"]):
            made = run(["-m", "django", *command], cwd=root)
            assert made.returncode == 0, made.stderr
        write(
            root / "shop" / "models.py",
            "from django.db import models\n\n\nclass Item(models.Model):\n"
            "    name = models.CharField(max_length=100)\n",
        )
        write(root / "shop" / "views.py", planted("item_list"))
        # Outside INSTALLED_APPS: a folder with no __init__.py that the URLconf
        # routes to, a package nothing routes to, a package in a src/ layout.
        write(root / "handlers" / "checkout.py", planted("checkout"))
        write(root / "billing" / "__init__.py", "")
        write(root / "billing" / "tasks.py", planted("charge"))
        write(root / "src" / "core" / "__init__.py", "")
        write(root / "src" / "core" / "jobs.py", planted("sync_stock"))
        # Routed by the api host's URLconf, and by one only --urlconf names.
        write(root / "apihandlers" / "items.py", planted("api_items"))
        write(root / "tenants" / "views.py", planted("tenant_home"))
        for path in NOT_OURS:
            write(root / path, planted("not_ours"))
        write(root / "env" / "pyvenv.cfg", "home = /usr/bin\n")
        write(root / ".venv" / "pyvenv.cfg", "home = /usr/bin\n")

        write(root / "host" / "hosts.py", HOSTS)
        write(
            root / "host" / "urls.py",
            "from django.contrib import admin\nfrom django.urls import path\n\n"
            "from handlers.checkout import checkout\nfrom shop.views import item_list"
            "\n\nurlpatterns = [\n    path('admin/', admin.site.urls),\n"
            "    path('items/', item_list),\n    path('checkout/', checkout),\n]\n",
        )
        for name, module, view in (
            ("urls_api", "apihandlers.items", "api_items"),
            ("urls_tenant", "tenants.views", "tenant_home"),
        ):
            write(
                root / "host" / f"{name}.py",
                f"from django.urls import path\n\nfrom {module} import {view}\n\n"
                f"urlpatterns = [path('items/', {view})]\n",
            )
        with (root / "host" / "settings.py").open("a") as settings:
            settings.write(SETTINGS)
        cls.audited = run(["manage.py", "async_audit", "--format", "json"], root)
        # The planted sync queries are errors: status 1, as --fail-level error.
        assert cls.audited.returncode == 1, cls.audited.stderr
        cls.report = json.loads(cls.audited.stdout)

    def sync_orm_paths(self, report: dict) -> list[str]:
        return sorted(
            f["location"].rsplit(":", 1)[0]
            for f in report["findings"]
            if f["code"] == "code.sync-orm"
        )

    def test_a_view_outside_installed_apps_that_the_urlconf_routes_to(self):
        """handlers/ is no app and no package: the URLconf routes to it, so
        its query on the loop is found (it was not: a real
        SynchronousOnlyOperation went unreported)."""
        found = {(f["code"], f["location"]) for f in self.report["findings"]}

        self.assertIn(("code.sync-orm", f"handlers/checkout.py:{PLANTED_LINE}"), found)
        self.assertIn("handlers/checkout.py", self.report["scanned"])

    def test_every_package_under_base_dir_each_file_once(self):
        """A package no URLconf routes to, one in a src/ layout, the project's
        own: scanned; a routed file inside a scanned package is not again."""
        scanned = self.report["scanned"]

        for folder in ("billing/", "host/", "shop/", "src/core/"):
            self.assertIn(folder, scanned)
        self.assertNotIn("shop/views.py", scanned)
        self.assertEqual(
            self.sync_orm_paths(self.report),
            [
                "apihandlers/items.py",
                "billing/tasks.py",
                "handlers/checkout.py",
                "shop/views.py",
                "src/core/jobs.py",
            ],
        )

    def test_what_the_project_does_not_serve_is_told_not_scanned(self):
        """Virtualenvs (by pyvenv.cfg, any name), vendored code, node_modules,
        build output and tests: not scanned, each said so with why; the admin's
        views are Django's, not the project's."""
        not_scanned = {n["target"]: n["reason"] for n in self.report["not_scanned"]}

        for path, why in NOT_OURS.items():
            folder = path.split("/")[0] + "/"
            self.assertIn(why, not_scanned.get(folder, ""), folder)
        self.assertIn("an installed package", not_scanned["django"])

    def test_django_hosts_urlconfs_are_walked(self):
        """ROOT_HOSTCONF's host_patterns: each host's URLconf, each row saying
        which it came from, in the JSON and as a column of the text report."""
        rows = [(r["urlconf"], r["route"], r["view"]) for r in self.report["urls"]]
        text = run(["manage.py", "async_audit"], self.root).stdout

        self.assertIn(("host.urls_api", "items/", "apihandlers.items.api_items"), rows)
        self.assertIn(("host.urls", "items/", "shop.views.item_list"), rows)
        self.assertRegex(
            text, r"async +items/ +apihandlers.items.api_items +host.urls_api"
        )
        self.assertIn(
            "Scanned: billing/, host/, shop/, src/core/, apihandlers/items.py, ", text
        )
        self.assertIn("Not scanned: .venv/ (a virtualenv)", text)

    def test_urlconf_option_in_both_entry_points(self):
        """--urlconf: one a middleware would set as request.urlconf, walked and
        its views scanned; one that will not load is a warning, not a crash."""
        options = ["--format", "json", "--urlconf", "host.urls_tenant"]
        options += ["--urlconf", "no.such.urls"]
        for command in (
            ["manage.py", "async_audit"],
            ["-m", "topics.audit", "--settings", "host.settings"],
        ):
            audited = run([*command, *options], self.root)

            self.assertEqual(audited.returncode, 1, audited.stderr)
            report = json.loads(audited.stdout)
            self.assertIn("tenants/views.py", self.sync_orm_paths(report))
            self.assertIn(
                ("import.urls", "no.such.urls"),
                {(f["code"], f["location"]) for f in report["findings"]},
            )
            [unloaded] = [
                n for n in report["not_scanned"] if n["target"] == "no.such.urls"
            ]
            self.assertIn("ModuleNotFoundError", unloaded["reason"])

    def test_a_package_is_excluded_by_its_printed_path(self):
        """An exclude glob matches a package folder as the report prints it."""
        audited = run(
            ["manage.py", "async_audit", "--format", "json", "--exclude", "billing"],
            self.root,
        )

        report = json.loads(audited.stdout)
        self.assertNotIn("billing/tasks.py", self.sync_orm_paths(report))
        self.assertNotIn("billing/", report["scanned"])
        self.assertNotIn(
            "config.unused-exclude", {f["code"] for f in report["findings"]}
        )


class HostConfTests(SimpleTestCase):
    @override_settings(ROOT_HOSTCONF="tests.audit.no_such_hosts")
    def test_a_hostconf_that_will_not_load_is_a_warning(self):
        """ROOT_URLCONF is walked all the same."""
        names, audit = urlconfs_to_walk(["extra.urls"])

        self.assertEqual(names[1:], ["extra.urls"])
        self.assertEqual(
            [(f.code, f.location) for f in audit.findings],
            [("import.urls", "tests.audit.no_such_hosts (ROOT_HOSTCONF)")],
        )
        self.assertEqual(
            audit.not_loaded[0]["target"], "tests.audit.no_such_hosts (ROOT_HOSTCONF)"
        )


class Greeter:
    def __call__(self, request):
        return None


class SourceFileTests(SimpleTestCase):
    def test_a_view_leads_to_its_file_whatever_callable_it_is(self):
        """A partial, a callable object, a method: the file that defines them;
        a wrapper made with functools.wraps: the wrapped function's."""
        here = Path(__file__).resolve()

        for view in (
            functools.partial(write, text=""),
            Greeter(),
            Greeter().__call__,
        ):
            self.assertEqual(source_file(view), here, view)
        wrapper = functools.wraps(json.dumps)(lambda *args: None)
        self.assertEqual(source_file(wrapper), Path(json.__file__).resolve())

    def test_a_function_around_a_bound_method_leads_to_the_method(self):
        """AdminSite.admin_view() wraps a bound method in a function: the
        method's file, not "its source file cannot be located"."""
        from django.contrib.admin.sites import AdminSite

        site = AdminSite()

        found = source_file(site.admin_view(site.index))

        self.assertEqual(found, Path(inspect.getsourcefile(AdminSite)).resolve())

    def test_an_installed_view_behind_a_partial_is_its_packages(self):
        """A partial's own module is functools: the package listed as not
        scanned is the one whose code runs (django, here)."""
        from django.views.defaults import page_not_found

        _, left_out = routed_files(
            [functools.partial(page_not_found, exception=None)],
            Path(__file__).parent,
        )

        self.assertEqual([entry["target"] for entry in left_out], ["django"])

    def test_a_view_with_no_source_is_told_not_scanned(self):
        """A builtin has no file: named, with why, not an error."""
        files, left_out = routed_files([len], Path(__file__).parent)

        self.assertEqual(files, [])
        self.assertEqual(
            left_out,
            [{"target": "builtins.len", "reason": "its source file cannot be located"}],
        )
