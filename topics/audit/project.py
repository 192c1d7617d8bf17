"""What the audit reads of a project: its stack, URLs, settings and own code."""

from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings

from topics.audit.code import scan_tree
from topics.audit.findings import Finding, Report, unused_excludes
from topics.audit.risks import audit_settings
from topics.audit.routes import audit_urls
from topics.audit.stack import audit_middleware
from topics.audit.where import located

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


def audit_project(*, exclude: list[str], server: str | None = None) -> Report:
    """Every part of the audit, on the project whose settings are loaded."""
    middleware, findings = audit_middleware(settings.MIDDLEWARE)
    own = own_apps()
    packages = [config.name for config in own] + [settings.ROOT_URLCONF.split(".")[0]]
    routes, route_findings = audit_urls(settings.ROOT_URLCONF, packages=packages)
    findings += route_findings
    async_views = any(row.mode == "async" for row in routes)
    findings += audit_settings(settings, async_views=async_views, server=server)
    base = Path(settings.BASE_DIR).resolve()
    findings[:] = located(findings, settings, base)
    report = Report(findings, middleware=middleware, urls=routes)
    matched: set[str] = set()
    for path in _outermost({Path(config.path).resolve() for config in own}):
        prefix = path.relative_to(base).as_posix()
        shown_as = "" if prefix == "." else f"{prefix}/"
        report.scanned.append(shown_as or ".")
        for finding in scan_tree(
            path, exclude=exclude, shown_as=shown_as, matched=matched
        ):
            location = f"{shown_as}{finding.location}"
            findings.append(Finding(**{**finding.as_dict(), "location": location}))
    findings += unused_excludes(exclude, matched)
    return report


def _outermost(paths: set[Path]) -> list[Path]:
    """The paths not inside another of them: an app nested in another app's
    folder (topics.audit in topics) is scanned once, with its parent."""
    return sorted(
        path
        for path in paths
        if not any(path.is_relative_to(other) for other in paths - {path})
    )


def scan_paths(paths: list[Path], *, exclude: list[str]) -> Report:
    """The code findings for files and folders, located as given (relative to
    the current directory); the exclude globs match those paths."""
    report = Report([])
    matched: set[str] = set()
    for path in paths:
        root = path if path.is_dir() else path.parent
        shown_as = "" if root == Path() else f"{root.as_posix()}/"
        report.scanned.append(path.as_posix())
        for finding in scan_tree(
            path, exclude=exclude, shown_as=shown_as, matched=matched
        ):
            location = f"{shown_as}{finding.location}"
            report.findings.append(
                Finding(**{**finding.as_dict(), "location": location})
            )
    report.findings += unused_excludes(exclude, matched)
    return report
