"""One finding of the audit: where, how bad, what is wrong, and the fix."""

from dataclasses import asdict, dataclass, field
from typing import Any

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

    @property
    def shown_at(self) -> str:
        """Where, as editors and ruff print it: path:line:col for code."""
        if self.column is None:
            return self.location
        return f"{self.location}:{self.column}"

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
    """The findings, most severe first, each with its fix; then the counts."""
    lines = []
    for finding in sorted(
        findings, key=lambda f: (-LEVELS.index(f.level), f.area, f.location)
    ):
        lines.append(f"{finding.level.upper():7} {finding.code}  {finding.shown_at}")
        lines.append(f"        {finding.message}")
        if finding.fix:
            lines.append(f"        fix: {finding.fix}")
    counts = {level: sum(f.level == level for f in findings) for level in LEVELS}
    return [
        *lines,
        "",
        ", ".join(f"{count} {level}" for level, count in counts.items()),
    ]


# GitHub's workflow commands: one annotation per finding, on the diff's line.
GITHUB_COMMANDS = {"info": "notice", "warning": "warning", "error": "error"}


def _escaped(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def findings_github(findings: list[Finding]) -> list[str]:
    """The findings as GitHub Actions annotations (::error file=…,line=…::…)."""
    lines = []
    for finding in findings:
        text = (
            f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message
        )
        path, _, line = finding.location.rpartition(":")
        if finding.column is not None and line.isdigit():
            where = (
                f"file={_escaped(path, prop=True)},line={line},col={finding.column},"
            )
        else:
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
