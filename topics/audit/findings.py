"""One finding of the audit: where, how bad, what is wrong, and the fix."""

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# "shop/views.py:8", "project/settings.py:42": a file and a line; a dotted path
# or a setting's name ("CACHES['default']") is no file.
IN_FILE = re.compile(r"(?P<path>.*[^\s:]):(?P<line>[0-9]+)")

# Ordered: --fail-level picks one, and every finding at or above it fails.
LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    level: str  # one of LEVELS
    code: str  # stable id, e.g. "code.blocking-call"
    area: str  # "middleware", "urls", "settings", "code" or "import"
    location: str  # "path/to/file.py:12", a dotted path, or a setting's name
    message: str
    fix: str = ""
    column: int | None = None  # 1-based, for a finding in code
    # What a finding outside code is about ("DATABASES['default']", a
    # middleware's path), kept when `location` becomes the settings line.
    target: str | None = None

    @property
    def shown_at(self) -> str:
        """Where, as editors and ruff print it: path:line:col for code."""
        if self.column is None:
            return self.location
        return f"{self.location}:{self.column}"

    @property
    def path(self) -> str | None:
        """The file, as the location gives it; None for a finding in no file."""
        match = IN_FILE.fullmatch(self.location)
        return match["path"] if match else None

    @property
    def line(self) -> int | None:
        """The 1-based line in `path`; None for a finding in no file."""
        match = IN_FILE.fullmatch(self.location)
        return int(match["line"]) if match else None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")

    def at_least(self, level: str) -> bool:
        """True when this finding is as severe as `level`, or more."""
        return LEVELS.index(self.level) >= LEVELS.index(level)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def unused_excludes(exclude: list[str], matched: set[str]) -> list[Finding]:
    """An exclude glob that matched no path: a typo, or a path that moved."""
    return [
        Finding(
            "warning",
            "config.unused-exclude",
            "config",
            glob,
            f"The exclude {glob!r} matched no file or folder: nothing was left out.",
            "Write it as the report shows paths, from the project's root "
            "(myapp/legacy/*, say).",
        )
        for glob in dict.fromkeys(exclude)
        if glob not in matched
    ]


def findings_text(findings: list[Finding]) -> list[str]:
    """One line per finding, as ruff prints them (`path:line:col: level code
    message`), its fix indented below; a file's findings together, in line
    order, then those in no file (the stack, the settings); then the counts."""
    lines = []
    for finding in sorted(findings, key=_text_order):
        lines.append(
            f"{finding.shown_at}: {finding.level} {finding.code} {finding.message}"
        )
        if finding.fix:
            lines.append(f"    fix: {finding.fix}")
    return [*lines, "", summary_line(findings)]


def summary_line(findings: list[Finding]) -> str:
    """The counts by level: "2 info, 0 warning, 1 error"."""
    counts = {level: sum(f.level == level for f in findings) for level in LEVELS}
    return ", ".join(f"{count} {level}" for level, count in counts.items())


def _text_order(finding: Finding) -> tuple[bool, str, int, int, str, str]:
    if finding.path is None:
        return (True, finding.area, 0, 0, finding.location, finding.code)
    line, column = finding.line or 0, finding.column or 0
    return (False, finding.path, line, column, finding.code, finding.message)


# GitHub's workflow commands: one annotation per finding, on the diff's line.
GITHUB_COMMANDS = {"info": "notice", "warning": "warning", "error": "error"}


def _escaped(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def findings_github(findings: list[Finding]) -> list[str]:
    """The findings as GitHub Actions annotations (::error file=…,line=…::…)."""
    lines = []
    # In the text report's order: files, then lines, then the rest.
    for finding in sorted(findings, key=_text_order):
        text = (
            f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message
        )
        if finding.path is not None:
            column = "" if finding.column is None else f"col={finding.column},"
            where = f"file={_escaped(finding.path, prop=True)},line={finding.line},"
            where += column
        else:
            if not finding.message.startswith(finding.location):
                text = f"{finding.location}: {text}"
            where = ""
        command = GITHUB_COMMANDS[finding.level]
        title = _escaped(finding.code, prop=True)
        lines.append(f"::{command} {where}title={title}::{_escaped(text)}")
    return lines


@dataclass
class Report:
    """What one run of the audit found, and what it looked at."""

    findings: list[Finding]
    middleware: list[Any] = field(default_factory=list)  # stack.MiddlewareRow
    urls: list[Any] = field(default_factory=list)  # routes.RouteRow
    scanned: list[str] = field(default_factory=list)  # folders and files, as shown
    # What the scan left out, and why: {"target": ..., "reason": ...}
    not_scanned: list[dict[str, str]] = field(default_factory=list)
    # {"known": n, "stale": n} when a baseline was applied: the findings it
    # held back, and its entries that matched none.
    baseline: dict[str, int] | None = None
