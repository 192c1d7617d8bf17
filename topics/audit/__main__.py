"""`python -m topics.audit`: the audit with no change to a project's settings.

    python -m topics.audit --settings mysite.settings [options]   # a whole project
    python -m topics.audit PATH [PATH ...] [options]                # the code scan only

With --settings (or DJANGO_SETTINGS_MODULE), run from the project's root, it
audits what `manage.py async_audit` does. With paths it needs no Django project:
it runs the code rules, which read source only, on those files and folders.
Exit status: 0 below --fail-level, 1 at or above it, 2 on a usage error.
"""

import argparse
import os
import sys
from pathlib import Path

from topics.audit.cli import add_arguments, failing
from topics.audit.output import render


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the audit; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m topics.audit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    parser.add_argument("--settings", help="The project's settings module.")
    add_arguments(parser)
    args = parser.parse_args(argv)

    if args.paths:
        if missing := [str(path) for path in args.paths if not path.exists()]:
            parser.error(f"no such file or folder: {', '.join(missing)}")
        from topics.audit.project import scan_paths

        report = scan_paths(args.paths, exclude=args.exclude)
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
                f"cannot load {settings_module}: {exc!r}. Run where the "
                "project's dependencies are installed, or give PATHs to scan "
                "the code alone."
            )
        from django.conf import settings

        from topics.audit.project import audit_project

        exclude = [*getattr(settings, "ASYNC_AUDIT_EXCLUDE", []), *args.exclude]
        report = audit_project(
            exclude=exclude, server=args.server, urlconfs=args.urlconf
        )
    print(render(report, args.format))
    return int(bool(failing(report.findings, args.fail_level)))


if __name__ == "__main__":
    sys.exit(main())
