"""`manage.py async_audit`: what stands between this project and async views.

Add "topics.audit" to INSTALLED_APPS: it reads the middleware, the URLconf, the
settings and the source of the project's own apps. It runs no system check and
opens no database connection, so a project whose checks fail, or whose
database is down, is audited all the same.
"""

import json
from pathlib import Path
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from topics.audit.code import scan_tree
from topics.audit.findings import (
    LEVELS,
    Finding,
    findings_github,
    findings_text,
    unused_excludes,
)
from topics.audit.risks import audit_settings
from topics.audit.routes import audit_urls
from topics.audit.stack import audit_middleware

# Folders that hold installed packages, not the project's own code.
NOT_OWN = {"site-packages", "dist-packages"}


def own_apps() -> list[AppConfig]:
    """The installed apps whose code lives in this project, not in a package."""
    base = Path(settings.BASE_DIR).resolve()
    own = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        inside = path.is_relative_to(base) and not NOT_OWN & set(path.parts)
        if inside and not any(part.startswith(".venv") for part in path.parts):
            own.append(config)
    return own


def audit(*, exclude: list[str], server: str | None = None) -> dict[str, Any]:
    """Run every part of the audit; rows for the report, and the findings."""
    middleware, findings = audit_middleware(settings.MIDDLEWARE)
    own = own_apps()
    packages = [config.name for config in own] + [settings.ROOT_URLCONF.split(".")[0]]
    routes, route_findings = audit_urls(settings.ROOT_URLCONF, packages=packages)
    findings += route_findings
    async_views = any(row.mode == "async" for row in routes)
    findings += audit_settings(settings, async_views=async_views, server=server)
    base = Path(settings.BASE_DIR).resolve()
    matched: set[str] = set()
    for path in _outermost({Path(config.path).resolve() for config in own}):
        prefix = path.relative_to(base).as_posix()
        shown_as = "" if prefix == "." else f"{prefix}/"
        for finding in scan_tree(
            path, exclude=exclude, shown_as=shown_as, matched=matched
        ):
            location = f"{shown_as}{finding.location}"
            findings.append(Finding(**{**finding.as_dict(), "location": location}))
    findings += unused_excludes(exclude, matched)
    return {"middleware": middleware, "urls": routes, "findings": findings}


def _outermost(paths: set[Path]) -> list[Path]:
    """The paths not inside another of them: an app nested in another app's
    folder (topics.audit in topics) is scanned once, with its parent."""
    return sorted(
        path
        for path in paths
        if not any(path.is_relative_to(other) for other in paths - {path})
    )


class Command(BaseCommand):
    # The host's own checks (an unrelated failing one, a database that is not
    # there) must not stop the audit: it reads code and settings only.
    requires_system_checks = []
    requires_migrations_checks = False

    help = (
        "Audit the project for async: middleware modes and hops, sync and async "
        "views, risky settings, and blocking or unawaited calls in the code."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--format", choices=("text", "json", "github"), default="text"
        )
        parser.add_argument(
            "--fail-level",
            choices=LEVELS,
            help="Exit with status 1 when a finding is at this level or above.",
        )
        parser.add_argument(
            "--server",
            choices=("asgi", "wsgi"),
            help="How the project is served, when the audit cannot tell (it looks "
            "for an ASGI server in a Procfile, Dockerfile or gunicorn config, "
            "ASGI_APPLICATION, then an asgi.py).",
        )
        parser.add_argument(
            "--exclude",
            action="append",
            default=[],
            metavar="GLOB",
            help="Skip matching files in the code scan, written as the report "
            "shows paths (from the project's root); adds to "
            "settings.ASYNC_AUDIT_EXCLUDE.",
        )

    def handle(self, *args, **options) -> None:
        exclude = [*getattr(settings, "ASYNC_AUDIT_EXCLUDE", []), *options["exclude"]]
        report = audit(exclude=exclude, server=options["server"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(as_json(report), indent=2))
        elif options["format"] == "github":
            self.stdout.write("\n".join(findings_github(report["findings"])))
        else:
            self.stdout.write(as_text(report))
        if level := options["fail_level"]:
            failing = [f for f in report["findings"] if f.at_least(level)]
            if failing:
                raise CommandError(
                    f"{len(failing)} finding(s) at level {level} or above.",
                    returncode=1,
                )


def as_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report as plain data."""
    findings = report["findings"]
    return {
        "middleware": [row.as_dict() for row in report["middleware"]],
        "urls": [row.as_dict() for row in report["urls"]],
        "findings": [finding.as_dict() for finding in findings],
        "summary": {level: sum(f.level == level for f in findings) for level in LEVELS},
    }


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(headers, *rows, strict=True)
    ]
    return [
        "  ".join(
            str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in [headers, *rows]
    ]


def as_text(report: dict[str, Any]) -> str:
    """The report for a terminal: the stack, the views, then every finding."""
    lines = ["Middleware, outermost first (as an ASGI server runs it)"]
    lines += _table(
        ["middleware", "sync", "async", "mixin", "runs", "hops"],
        [
            [
                row.path,
                _yes(row.sync_capable),
                _yes(row.async_capable),
                _yes(row.mixin),
                row.mode,
                str(row.hops),
            ]
            for row in report["middleware"]
        ],
    )
    lines += ["", "Views"]
    lines += _table(
        ["mode", "route", "view"],
        [[row.mode, row.route, row.view] for row in report["urls"]],
    )
    lines += ["", "Findings", *findings_text(report["findings"])]
    return "\n".join(lines)


def _yes(value: bool) -> str:
    return "yes" if value else "no"
