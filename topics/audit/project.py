"""What the audit reads of a project: its stack, URLs, settings and own code."""

import fnmatch
from collections.abc import Sequence
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings

from topics.audit.code import scan_trees
from topics.audit.findings import Report, unused_excludes
from topics.audit.risks import audit_settings
from topics.audit.routes import urlconfs_to_walk, walk_urlconfs
from topics.audit.scope import not_own, project_packages, project_root, routed_files
from topics.audit.stack import audit_middleware
from topics.audit.where import located


def own_apps() -> list[AppConfig]:
    """The installed apps whose code lives in this project, not in a package."""
    base = project_root(settings)
    return [
        config
        for config in apps.get_app_configs()
        if not not_own(Path(config.path).resolve(), base)
    ]


def audit_project(
    *, exclude: list[str], server: str | None = None, urlconfs: Sequence[str] = ()
) -> Report:
    """Every part of the audit, on the project whose settings are loaded.

    The code scanned is the project's own (see topics.audit.scope): its installed
    apps, its packages, and the files its URLconfs route to; `urlconfs` (dotted)
    are walked besides ROOT_URLCONF and django-hosts' ones. Whatever fails to
    load is an error finding; what was left out is in `report.not_scanned`.
    """
    base = project_root(settings)
    middleware, findings = audit_middleware(settings.MIDDLEWARE)
    own = own_apps()
    assets = [getattr(settings, name, None) for name in ("STATIC_ROOT", "MEDIA_ROOT")]
    folders, left_out = project_packages(base, skip=[a for a in assets if a])
    names, urls = urlconfs_to_walk(urlconfs)
    # The project's own classes, for the mixed-handlers check: its apps, its
    # URLconfs' packages and every outermost package under BASE_DIR, each
    # importable by its own name (src/ layouts too).
    packages = [config.name for config in own] + [n.split(".")[0] for n in names]
    packages += [folder.name for folder in folders]
    walk_urlconfs(names, packages=packages, audit=urls)
    findings += urls.findings
    async_views = any(row.mode == "async" for row in urls.rows)
    findings += audit_settings(settings, async_views=async_views, server=server)
    findings[:] = located(findings, settings, base)
    report = Report(findings, middleware=middleware, urls=urls.rows)

    folders = _outermost({*folders, *(Path(c.path).resolve() for c in own)})
    files, not_ours = routed_files([h.target for h in urls.handlers], base)
    files = [f for f in files if not any(f.is_relative_to(d) for d in folders)]
    report.not_scanned += urls.not_loaded + left_out + not_ours

    matched: set[str] = set()
    trees: list[tuple[Path, str]] = []
    for path in [*folders, *files]:
        shown = path.relative_to(base).as_posix()
        root = path if path.is_dir() else path.parent
        shown_as = "" if root == base else f"{root.relative_to(base).as_posix()}/"
        if _excluded(shown, exclude, matched):
            continue
        report.scanned.append(f"{shown}/" if path.is_dir() and shown != "." else shown)
        trees.append((path, shown_as))
    # Scanned together: a view in one package calls services in another.
    findings += scan_trees(trees, exclude=exclude, matched=matched)
    findings += unused_excludes(exclude, matched)
    return report


def _excluded(shown: str, exclude: list[str], matched: set[str]) -> bool:
    """An exclude glob matches a folder as its files do, by the printed path;
    scan_tree only matches what is under the folder it is given."""
    hits = {glob for glob in exclude if fnmatch.fnmatchcase(shown, glob)}
    matched |= hits
    return bool(hits)


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
    trees: list[tuple[Path, str]] = []
    for path in paths:
        root = path if path.is_dir() else path.parent
        shown_as = "" if root == Path() else f"{root.as_posix()}/"
        report.scanned.append(path.as_posix())
        trees.append((path, shown_as))
    report.findings += scan_trees(trees, exclude=exclude, matched=matched)
    report.findings += unused_excludes(exclude, matched)
    return report
