"""The report in each --format: text for a terminal, JSON, GitHub annotations,
SARIF. Every format prints a file's path from the current directory."""

import json
import os
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from topics.audit.findings import (
    LEVELS,
    Finding,
    Report,
    findings_github,
    findings_text,
)
from topics.audit.sarif import as_sarif

FORMATS = ("text", "json", "github", "sarif")
# The JSON format's schema, shipped with the package.
REPORT_SCHEMA = files("topics.audit") / "report.schema.json"


def render(
    report: Report, fmt: str, *, root: Path | None = None, anchor: Path | None = None
) -> str:
    """The report as `fmt` (one of FORMATS) prints it. Locations in the report
    are relative to `root` (None: the current directory); `anchor` is the file
    SARIF puts findings in no file on (the settings module's)."""
    report = replace(report, findings=_from_here(report.findings, root))
    if fmt == "json":
        return json.dumps(as_json(report), indent=2)
    if fmt == "github":
        return "\n".join(findings_github(report.findings))
    if fmt == "sarif":
        shown = None if anchor is None else _relative(anchor.resolve())
        return json.dumps(as_sarif(report.findings, anchor=shown), indent=2)
    return as_text(report)


def _from_here(findings: list[Finding], root: Path | None) -> list[Finding]:
    """The findings with each file's path from the current directory."""
    if root is None:
        return findings
    return [
        finding
        if finding.path is None or Path(finding.path).is_absolute()
        else replace(
            finding, location=f"{_relative(root / finding.path)}:{finding.line}"
        )
        for finding in findings
    ]


def _relative(path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()


def as_json(report: Report) -> dict[str, Any]:
    """The report as plain data, as report.schema.json describes it."""
    findings = report.findings
    return {
        "findings": [_finding_json(finding) for finding in findings],
        "summary": {level: sum(f.level == level for f in findings) for level in LEVELS},
        "baseline": report.baseline,
        "scanned": report.scanned,
        "not_scanned": report.not_scanned,
        "middleware": [row.as_dict() for row in report.middleware],
        "urls": [row.as_dict() for row in report.urls],
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "level": finding.level,
        "area": finding.area,
        "path": finding.path,
        "line": finding.line,
        "col": finding.column if finding.path is not None else None,
        "location": finding.location,
        "target": finding.target or (None if finding.path else finding.location),
        "message": finding.message,
        "fix": finding.fix,
        # Call chains (view -> helper -> blocking call) are a later issue's.
        "chain": [],
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


def as_text(report: Report) -> str:
    """The report for a terminal: the stack, the views, then every finding."""
    lines = []
    if report.middleware:
        lines += ["Middleware, outermost first (as an ASGI server runs it)"]
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
                for row in report.middleware
            ],
        )
        lines.append("")
    if report.urls:
        several = len({row.urlconf for row in report.urls}) > 1
        lines += ["Views"]
        lines += _table(
            ["mode", "route", "view"] + ["urlconf"] * several,
            [
                [row.mode, row.route, row.view] + [row.urlconf] * several
                for row in report.urls
            ],
        )
        lines.append("")
    if report.scanned or report.not_scanned:
        lines.append(f"Scanned: {', '.join(report.scanned) or 'nothing'}")
        lines += [
            f"Not scanned: {n['target']} ({n['reason']})" for n in report.not_scanned
        ]
        lines.append("")
    if lines:
        lines.append("Findings")
    text = findings_text(report.findings)
    if report.baseline:
        known, stale = report.baseline["known"], report.baseline["stale"]
        note = f"{known} more in the baseline, not shown."
        if stale:
            match = "matches" if stale == 1 else "match"
            note += (
                f" {stale} of its entries {match} nothing now: "
                "--write-baseline shrinks it."
            )
        text.insert(-1, note)
    return "\n".join([*lines, *text])


def _yes(value: bool) -> str:
    return "yes" if value else "no"
