"""async_audit on planted middleware, views and settings, and on this project."""

import json
import sys
import tempfile
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import SimpleTestCase, TestCase, override_settings

from project.settings import database_settings
from tests.audit.hops import PLANTED_URLS, measured_hops
from tests.audit.planted import DJANGO_DEFAULT_MIDDLEWARE, PLANTED_MIDDLEWARE
from topics.audit.risks import asgi_evidence, audit_settings
from topics.audit.routes import audit_urls
from topics.audit.stack import audit_middleware


def codes(findings) -> list[tuple[str, str]]:
    """(code, target or location) of every finding, sorted."""
    return sorted((f.code, f.target or f.location) for f in findings)


class MiddlewareAuditTests(SimpleTestCase):
    def test_planted_stack(self):
        """Sync-only and MiddlewareMixin entries are named; a missing one is skipped."""
        rows, findings = audit_middleware(PLANTED_MIDDLEWARE)

        self.assertEqual(
            [(row.path.rsplit(".", 1)[1], row.mode, row.hops) for row in rows],
            [
                (
                    "DatabaseUnavailableMiddleware",
                    "sync",
                    1,
                ),  # the handler's hop into sync
                ("SyncOnlyMiddleware", "sync", 1),  # its hop back to async inside
                ("OldStyleMiddleware", "async", 2),  # process_request + _response
            ],
        )
        self.assertEqual(
            codes(findings),
            [
                ("import.middleware", "tests.audit.no_such_module.Middleware"),
                ("middleware.hops", "MIDDLEWARE"),
                ("middleware.mixin-hops", "tests.audit.planted.OldStyleMiddleware"),
                ("middleware.not-used", "tests.audit.planted.NotUsedMiddleware"),
                ("middleware.sync-only", "tests.audit.planted.SyncOnlyMiddleware"),
            ],
        )

    def test_mixin_hops_only_where_the_mixin_runs_async(self):
        """Outside a sync-only middleware a MiddlewareMixin one runs sync: its
        hooks cost no hop, so no mixin-hops line (9 of 12 on a real project)."""
        stack = ["tests.audit.planted.OldStyleMiddleware"]
        _, alone = audit_middleware(stack)
        _, outside = audit_middleware(
            [*stack, "tests.audit.planted.SyncOnlyMiddleware"]
        )

        self.assertIn("middleware.mixin-hops", {f.code for f in alone})
        self.assertNotIn("middleware.mixin-hops", {f.code for f in outside})

    def test_an_installed_packages_middleware_is_not_yours_to_rewrite(self):
        """The same sync-only middleware, once from the project, once from an
        installed package: only the first is told to become async-capable."""
        source = Path(self.enterContext(tempfile.TemporaryDirectory()))
        package = source / "site-packages" / "vendored_mw"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(
            "class SyncOnly:\n    async_capable = False\n\n"
            "    def __init__(self, get_response):\n"
            "        self.get_response = get_response\n"
        )
        self.enterContext(mock.patch("sys.path", [str(package.parent), *sys.path]))

        _, findings = audit_middleware(
            ["vendored_mw.SyncOnly", "tests.audit.planted.SyncOnlyMiddleware"]
        )

        fixes = {f.location: f.fix for f in findings if f.code.endswith("sync-only")}
        self.assertIn("installed package", fixes["vendored_mw.SyncOnly"])
        self.assertIn(
            "async_capable = True", fixes["tests.audit.planted.SyncOnlyMiddleware"]
        )

    def test_clean_stack_has_no_findings_and_no_hops(self):
        """A middleware in both modes, and no MiddlewareMixin: nothing to report."""
        rows, findings = audit_middleware(
            ["topics.middleware.DatabaseUnavailableMiddleware"]
        )

        self.assertEqual([(row.mode, row.hops) for row in rows], [("async", 0)])
        self.assertEqual(codes(findings), [("middleware.hops", "MIDDLEWARE")])
        self.assertIn(" 0 thread hop(s)", findings[0].message)

    async def test_hop_counts_are_what_django_does(self):
        """The audit's hops equal the sync_to_async/async_to_sync calls measured."""
        baseline = await measured_hops([])
        stacks = (
            settings.MIDDLEWARE,
            DJANGO_DEFAULT_MIDDLEWARE,
            PLANTED_MIDDLEWARE[:-1],
        )
        for stack in stacks:
            rows, _ = audit_middleware(stack)

            measured = await measured_hops(list(stack)) - baseline

            self.assertEqual(sum(row.hops for row in rows), measured, stack)

    def test_default_stack_costs_thirteen_hops(self):
        """Django's default middleware: 13 hops per request, none of them ours."""
        rows, findings = audit_middleware(
            [
                *DJANGO_DEFAULT_MIDDLEWARE,
                "topics.middleware.DatabaseUnavailableMiddleware",
            ]
        )

        self.assertEqual(sum(row.hops for row in rows), 13)
        self.assertEqual([row.mode for row in rows], ["async"] * len(rows))
        self.assertNotIn("warning", {finding.level for finding in findings})
        self.assertEqual(rows[-1].hops, 0)  # topics.middleware: both modes


class UrlAuditTests(SimpleTestCase):
    def test_planted_urls(self):
        """Each view's mode; mixed handlers, a hidden async view, a broken include."""
        rows, findings = audit_urls(PLANTED_URLS, packages=["tests.audit"])

        self.assertEqual(
            [(row.route, row.mode) for row in rows],
            [
                ("async/", "async"),
                ("sync/", "sync"),
                ("hidden/", "sync"),
                ("class/", "async"),
            ],
        )
        self.assertEqual(
            codes(findings),
            [
                ("import.urls", "broken/"),
                ("import.urls", "mixed/"),
                ("urls.mixed-handlers", "tests.audit.planted.MixedView"),
                (
                    "urls.sync-decorator",
                    "hidden/ → tests.audit.planted.hidden_async_view",
                ),
                ("urls.sync-views", "ROOT_URLCONF"),
            ],
        )

    def test_this_projects_views_are_all_found(self):
        """Every twin of every pair appears, with its mode."""
        rows, findings = audit_urls(settings.ROOT_URLCONF, packages=["topics"])
        modes = {row.view: row.mode for row in rows}

        self.assertEqual(modes["topics.views.orm.topic_list"], "sync")
        self.assertEqual(modes["topics.views.orm.atopic_list"], "async")
        self.assertEqual([f.level for f in findings], ["info"])


def planted_settings(**database) -> SimpleNamespace:
    return SimpleNamespace(
        ASGI_APPLICATION="project.asgi.application",
        DATABASES={"default": {**database_settings("sqlite:///x"), **database}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    )


class SettingsAuditTests(SimpleTestCase):
    def risks(self, config: SimpleNamespace, async_views: bool = True) -> list[str]:
        findings = audit_settings(config, async_views=async_views)
        return sorted(f.code for f in findings if f.level != "info")

    def test_each_risk_is_found(self):
        """Persistent connections, ATOMIC_REQUESTS, no pool, the unsafe switch."""
        self.assertEqual(
            self.risks(planted_settings(CONN_MAX_AGE=60)), ["settings.conn-max-age"]
        )
        self.assertEqual(
            self.risks(planted_settings(ATOMIC_REQUESTS=True)),
            ["settings.atomic-requests"],
        )
        self.assertEqual(
            self.risks(planted_settings(ATOMIC_REQUESTS=True), async_views=False), []
        )
        unpooled = {**database_settings("postgres://a@b/c"), "OPTIONS": {}}
        self.assertEqual(self.risks(planted_settings(**unpooled)), ["settings.no-pool"])
        # A backend of the project's own on Django's PostgreSQL one is PostgreSQL.
        own_engine = {**unpooled, "ENGINE": "tests.audit.pgengine"}
        self.assertEqual(
            self.risks(planted_settings(**own_engine)), ["settings.no-pool"]
        )
        # Under WSGI persistent connections do a pool's work: no warning.
        wsgi = audit_settings(
            planted_settings(**unpooled), async_views=True, server="wsgi"
        )
        self.assertEqual([f.code for f in wsgi if f.level != "info"], [])
        with mock.patch.dict("os.environ", {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}):
            self.assertEqual(
                self.risks(planted_settings()), ["settings.allow-async-unsafe"]
            )

    def test_asgi_is_seen_where_the_project_says_how_it_is_served(self):
        """A server named in a deploy file wins; then ASGI_APPLICATION; then an
        asgi.py; files in a virtualenv are not the project's."""
        with tempfile.TemporaryDirectory() as base:
            root = Path(base)
            config = SimpleNamespace(BASE_DIR=root)
            self.assertIsNone(asgi_evidence(config))
            (root / ".venv" / "bin").mkdir(parents=True)
            (root / ".venv" / "bin" / "run.sh").write_text("uvicorn x:app\n")
            self.assertIsNone(asgi_evidence(config))
            (root / "site").mkdir()
            (root / "site" / "asgi.py").write_text(
                "from django.core.asgi import get_asgi_application\n\n"
                "application = get_asgi_application()\n"
            )
            self.assertEqual(asgi_evidence(config), "site/asgi.py:3")
            config.ASGI_APPLICATION = "site.asgi.application"
            self.assertEqual(asgi_evidence(config), "ASGI_APPLICATION")
            # A WSGI server where it is served outweighs startproject's asgi.py
            # and a setting Django never reads.
            (root / "Procfile").write_text("web: gunicorn site.wsgi:application\n")
            self.assertIsNone(asgi_evidence(config))
            (root / "Dockerfile").write_text(
                "FROM python:3.12\nCMD gunicorn -k uvicorn_worker.UvicornWorker x\n"
            )
            self.assertEqual(asgi_evidence(config), "Dockerfile:2")

    def test_a_cache_without_an_async_api_is_an_error(self):
        """A backend with no aget(); one that fails to import is reported."""
        config = planted_settings()
        config.CACHES = {
            "old": {"BACKEND": "tests.audit.planted.SyncOnlyMiddleware"},
            "gone": {"BACKEND": "no.such.Cache"},
        }
        findings = audit_settings(config, async_views=True)

        self.assertEqual(
            codes(findings),
            [
                ("import.cache", "CACHES['gone']"),
                ("settings.sync-cache", "CACHES['old']"),
            ],
        )

    def test_any_backend_on_basecaches_async_api_costs_a_hop(self):
        """Not only Django's own: a third-party backend (django-redis, say)
        that leaves BaseCache's aget() alone runs each await in a thread; one
        with its own async API does not."""
        config = planted_settings()
        config.CACHES = {
            "thread": {"BACKEND": "tests.audit.planted.ThirdPartyCache"},
            "native": {"BACKEND": "tests.audit.planted.NativeAsyncCache"},
        }

        self.assertEqual(
            codes(audit_settings(config, async_views=True)),
            [("settings.cache-hops", "CACHES['thread']")],
        )

    def test_clean_settings_have_no_risk(self):
        """This project's settings: nothing above info."""
        self.assertEqual(self.risks(settings), [])


class CommandTests(TestCase):
    def run_audit(self, *args: str) -> str:
        out = StringIO()
        call_command("async_audit", *args, stdout=out)
        return out.getvalue()

    def test_this_project_audits_clean_at_warning(self):
        """Only infos here (the sync twins are sync by design); --fail-level passes."""
        report = json.loads(
            self.run_audit("--format", "json", "--fail-level", "warning")
        )

        self.assertEqual(report["summary"]["warning"], 0)
        self.assertEqual(report["summary"]["error"], 0)
        self.assertEqual(len(report["middleware"]), len(settings.MIDDLEWARE))
        self.assertGreater(len(report["urls"]), 50)

    def test_fail_level_exits_1_at_or_above_it(self):
        """Infos exist, so --fail-level info fails, with status 1."""
        with self.assertRaises(CommandError) as raised:
            self.run_audit("--fail-level", "info")

        self.assertEqual(raised.exception.returncode, 1)

    @override_settings(MIDDLEWARE=PLANTED_MIDDLEWARE, ROOT_URLCONF=PLANTED_URLS)
    def test_planted_project_fails_and_says_where(self):
        """Text output names each problem with its location and fix; errors fail."""
        out = StringIO()
        with self.assertRaises(CommandError):
            call_command("async_audit", "--fail-level", "error", stdout=out)
        text = out.getvalue()

        # Overridden MIDDLEWARE is in no file: the settings file's MIDDLEWARE
        # line, where the fix would go, is its location.
        self.assertRegex(
            text,
            r"project/settings\.py:\d+:\d+: warning middleware\.sync-only "
            r"tests\.audit\.planted\.SyncOnlyMiddleware is sync-only",
        )
        self.assertRegex(
            text,
            r"tests/audit/planted\.py:\d+:1: error urls\.sync-decorator The async "
            r"view hidden_async_view \(at hidden/\)",
        )
        self.assertIn("fix: Make every handler async, or every one sync.", text)
