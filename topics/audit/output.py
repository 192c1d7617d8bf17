"""The report in each --format: text for a terminal, JSON, GitHub annotations."""

import json
from typing import Any

from topics.audit.findings import LEVELS, Report, findings_github, findings_text

FORMATS = ("text", "json", "github")


def render(report: Report, fmt: str) -> str:
    """The report as `fmt` (one of FORMATS) prints it."""
    if fmt == "json":
        return json.dumps(as_json(report), indent=2)
    if fmt == "github":
        return "\n".join(findings_github(report.findings))
    return as_text(report)


def as_json(report: Report) -> dict[str, Any]:
    """The report as plain data."""
    findings = report.findings
    return {
        "middleware": [row.as_dict() for row in report.middleware],
        "urls": [row.as_dict() for row in report.urls],
        "findings": [finding.as_dict() for finding in findings],
        "summary": {level: sum(f.level == level for f in findings) for level in LEVELS},
        "scanned": report.scanned,
        "not_scanned": report.not_scanned,
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
    return "\n".join([*lines, *findings_text(report.findings)])


def _yes(value: bool) -> str:
    return "yes" if value else "no"
