"""The options `manage.py async_audit` and `python -m topics.audit` share, and
what both do once the report is built: configuration, baseline, output."""

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from topics.audit import baseline
from topics.audit.config import Config, UsageError, load
from topics.audit.findings import LEVELS, Finding, Report
from topics.audit.output import FORMATS, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the audit's options to `parser` (a command's or argparse's own)."""
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument(
        "--fail-level",
        choices=LEVELS,
        help="Exit with status 1 when a finding is at this level or above "
        "(default: error, or fail-level in the configuration).",
    )
    parser.add_argument(
        "--select",
        metavar="CODES",
        help="Report only these codes or prefixes, comma-separated "
        "(code.sync-orm,middleware); replaces select in the configuration.",
    )
    parser.add_argument(
        "--ignore",
        metavar="CODES",
        help="Do not report these codes or prefixes, comma-separated; "
        "replaces ignore in the configuration.",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="Report only the findings this baseline file does not hold.",
    )
    parser.add_argument(
        "--write-baseline",
        action="store_true",
        help="Write the findings to the baseline file, and exit 0; entries this "
        "run did not check (other files, settings in a code-only run) are kept.",
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


def configure(
    options: Mapping[str, Any], *, start: Path, setting: Mapping[str, Any] | None
) -> Config:
    """The configuration for a run: pyproject.toml found from `start`, the
    ASYNC_AUDIT `setting`, then the parsed command-line `options`.

    Raises UsageError for a bad configuration, --write-baseline with no
    baseline file, or a baseline file that is missing or unreadable.
    """
    config = load(
        start=start,
        setting=setting,
        select=options["select"],
        ignore=options["ignore"],
        exclude=options["exclude"],
        fail_level=options["fail_level"],
        baseline=options["baseline"],
    )
    if options["write_baseline"] and config.baseline is None:
        raise UsageError("--write-baseline needs a file: give --baseline FILE.")
    if config.baseline is not None and not options["write_baseline"]:
        baseline.load(config.baseline)  # a missing file stops the run before it
    return config


@dataclass(frozen=True)
class Outcome:
    """What a run prints, and its exit status (0 or 1)."""

    output: str
    status: int


def conclude(
    report: Report,
    config: Config,
    *,
    fmt: str,
    write_baseline: bool = False,
    root: Path | None = None,
    anchor: Path | None = None,
    settings: bool = True,
) -> Outcome:
    """Apply `config` to the built report (select, ignore, per-file-ignores,
    baseline) and render it as `fmt`; with `write_baseline`, write the
    findings to the baseline file instead. Locations in the report are
    relative to `root` (None: the current directory). `settings` is False for
    a run on named paths, which checks no setting, middleware or route: the
    baseline's entries about those are neither stale nor rewritten, nor are
    those about files the run did not scan or codes it does not report.

    Raises UsageError when the baseline file cannot be read or written.
    """
    here = root or Path()
    findings = [finding for finding in report.findings if config.reports(finding)]
    scope = baseline.Scope(
        scanned=report.scanned, root=here, settings=settings, reports=config.reports
    )
    if write_baseline and config.baseline is not None:
        count, kept = baseline.write(config.baseline, findings, root=here, scope=scope)
        text = f"Wrote {count} finding(s) to {config.baseline}"
        if kept:
            entries = "entry" if kept == 1 else "entries"
            text += f", and kept {kept} {entries} this run did not check"
        return Outcome(f"{text}.", 0)
    counts = None
    if config.baseline is not None:
        findings, known, stale = baseline.split(
            findings,
            baseline.load(config.baseline),
            root=here,
            base=config.baseline.parent,
            scope=scope,
        )
        counts = {"known": known, "stale": stale}
    report = replace(report, findings=findings, baseline=counts)
    status = int(bool(failing(findings, config.fail_level)))
    return Outcome(render(report, fmt, root=root, anchor=anchor), status)


def failing(findings: list[Finding], level: str | None) -> list[Finding]:
    """The findings at `level` or above: those that make the exit status 1."""
    return [f for f in findings if level and f.at_least(level)]
