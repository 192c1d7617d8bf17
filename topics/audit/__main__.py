"""`python -m topics.audit`: the audit with no change to a project's settings.

    python -m topics.audit --settings mysite.settings [options]   # a whole project
    python -m topics.audit PATH [PATH ...] [options]                # the code scan only

With --settings (or DJANGO_SETTINGS_MODULE), run from the project's root, it
audits what `manage.py async_audit` does. With paths it needs no Django project:
it runs the code rules, which read source only, on those files and folders.
Exit status: 0 below --fail-level (default: error), 1 at or above it, 2 on a
usage error (a bad option or configuration, a missing baseline file).
"""

import argparse
import fnmatch
import os
import sys
from pathlib import Path

from topics.audit.cli import add_arguments, conclude, configure
from topics.audit.config import UsageError


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the audit; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m topics.audit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="Files and folders to scan, the code rules only, with no Django "
        "project; calls are followed between the files given, not into others.",
    )
    parser.add_argument("--settings", help="The project's settings module.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except UsageError as error:
        parser.error(str(error))


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.paths and args.settings:
        parser.error(
            "give --settings to audit the whole project, or PATHs to scan code "
            "alone, not both"
        )
    if args.paths:
        if missing := [str(path) for path in args.paths if not path.exists()]:
            parser.error(f"no such file or folder: {', '.join(missing)}")
        from topics.audit.project import scan_paths

        config = configure(vars(args), start=Path.cwd(), setting=None)
        paths, used = _not_excluded(args.paths, config.exclude)
        report = scan_paths(paths, exclude=list(config.exclude))
        every_file = all(path.is_file() for path in args.paths)
        # A glob that left out a named file did match; with files named one
        # by one (pre-commit's staged files), one that matched none of them
        # is no mistake either.
        report.findings = [
            f
            for f in report.findings
            if f.code != "config.unused-exclude"
            or not (every_file or f.location in used)
        ]
        root = anchor = None
    else:
        settings_module = args.settings or os.environ.get("DJANGO_SETTINGS_MODULE")
        if not settings_module:
            parser.error(
                "give --settings (or DJANGO_SETTINGS_MODULE), or PATHs to scan"
            )
        # As manage.py does: the project's packages import from its root.
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
        sys.path.insert(0, os.getcwd())
        import django

        try:
            django.setup()
        except Exception as exc:  # noqa: BLE001 — the host's own code: any error is possible
            # As for manage.py, the project loads with its dependencies (apps,
            # the database driver) installed; the code scan needs none of them.
            parser.error(
                f"cannot load {settings_module}: {exc!r}. Run from the "
                "project's root (or with it on PYTHONPATH), where its "
                "dependencies are installed and an AppConfig.ready() that "
                "queries finds its database; or give PATHs to scan the code "
                "alone."
            )
        from django.conf import settings

        from topics.audit.project import audit_project
        from topics.audit.scope import project_root

        root = project_root(settings)
        config = configure(
            vars(args), start=root, setting=getattr(settings, "ASYNC_AUDIT", None)
        )
        exclude = [*getattr(settings, "ASYNC_AUDIT_EXCLUDE", []), *config.exclude]
        report = audit_project(
            exclude=exclude, server=args.server, urlconfs=args.urlconf
        )
        anchor_file = getattr(sys.modules.get(settings_module), "__file__", None)
        anchor = Path(anchor_file) if anchor_file else None
    outcome = conclude(
        report,
        config,
        fmt=args.format,
        write_baseline=args.write_baseline,
        root=root,
        anchor=anchor,
        settings=not args.paths,
    )
    print(outcome.output)
    return outcome.status


def _not_excluded(
    paths: list[Path], exclude: tuple[str, ...]
) -> tuple[list[Path], set[str]]:
    """(the paths but the files an exclude glob matches, or one of their
    folders; the globs that left one out). A file named on the command line
    is excluded too, as ruff's force-exclude does, so that pre-commit honours
    the configuration."""
    kept, used = [], set()
    for path in paths:
        shown = (path, *list(path.parents)[:-1]) if path.is_file() else ()
        hits = {
            glob
            for glob in exclude
            if any(fnmatch.fnmatchcase(name.as_posix(), glob) for name in shown)
        }
        used |= hits
        if not hits:
            kept.append(path)
    return kept, used


if __name__ == "__main__":
    sys.exit(main())
