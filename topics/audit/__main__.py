"""`python -m topics.audit`: the audit with no change to a project's settings.

    python -m topics.audit --settings mysite.settings [options]   # a whole project
    python -m topics.audit PATH [PATH ...] [options]                # the code scan only

With --settings (or DJANGO_SETTINGS_MODULE), run from the project's root, it
audits what `manage.py async_audit` does. With paths it needs no Django project:
it runs the code rules, which read source only, on those files and folders.
Exit status: 0 below --fail-level, 1 at or above it, 2 on a usage error.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from topics.audit.code import scan_tree
from topics.audit.findings import (
    LEVELS,
    Finding,
    findings_github,
    findings_text,
    unused_excludes,
)


def scan_paths(paths: list[Path], *, exclude: list[str]) -> list[Finding]:
    """The code findings for files and folders, located as given (relative to
    the current directory); the exclude globs match those paths."""
    findings: list[Finding] = []
    matched: set[str] = set()
    for path in paths:
        root = path if path.is_dir() else path.parent
        shown_as = "" if root == Path() else f"{root.as_posix()}/"
        for finding in scan_tree(
            path, exclude=exclude, shown_as=shown_as, matched=matched
        ):
            location = f"{shown_as}{finding.location}"
            findings.append(Finding(**{**finding.as_dict(), "location": location}))
    return findings + unused_excludes(exclude, matched)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the audit; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m topics.audit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    parser.add_argument("--settings", help="The project's settings module.")
    parser.add_argument("--format", choices=("text", "json", "github"), default="text")
    parser.add_argument("--fail-level", choices=LEVELS)
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    parser.add_argument("--server", choices=("asgi", "wsgi"))
    args = parser.parse_args(argv)

    if args.paths:
        if missing := [str(path) for path in args.paths if not path.exists()]:
            parser.error(f"no such file or folder: {', '.join(missing)}")
        findings = scan_paths(args.paths, exclude=args.exclude)
        if args.format == "json":
            print(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2))
        elif args.format == "github":
            print("\n".join(findings_github(findings)))
        else:
            print("\n".join(findings_text(findings)))
        level = args.fail_level
        return int(bool(level) and any(f.at_least(level) for f in findings))

    settings_module = args.settings or os.environ.get("DJANGO_SETTINGS_MODULE")
    if not settings_module:
        parser.error("give --settings (or DJANGO_SETTINGS_MODULE), or PATHs to scan")
    # As manage.py does: the project's packages import from its root.
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    from topics.audit.management.commands.async_audit import Command

    options = ["--format", args.format]
    options += ["--fail-level", args.fail_level] if args.fail_level else []
    options += [f"--exclude={glob}" for glob in args.exclude]
    options += ["--server", args.server] if args.server else []
    # run_from_argv() turns a CommandError into its exit status, as manage.py.
    Command().run_from_argv([parser.prog, "async_audit", *options])
    return 0


if __name__ == "__main__":
    sys.exit(main())
