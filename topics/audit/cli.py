"""The options `manage.py async_audit` and `python -m topics.audit` share."""

import argparse

from topics.audit.findings import LEVELS, Finding
from topics.audit.output import FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the audit's options to `parser` (a command's or argparse's own)."""
    parser.add_argument("--format", choices=FORMATS, default="text")
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
        "shows paths (from the project's root).",
    )
    parser.add_argument(
        "--urlconf",
        action="append",
        default=[],
        metavar="DOTTED",
        help="Walk this URLconf too (repeatable): one a middleware sets as "
        "request.urlconf, say. ROOT_URLCONF and django-hosts' host URLconfs "
        "are walked anyway.",
    )


def failing(findings: list[Finding], level: str | None) -> list[Finding]:
    """The findings at `level` or above: those that make the exit status 1."""
    return [f for f in findings if level and f.at_least(level)]
