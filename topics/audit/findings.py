"""One finding of the audit: where, how bad, what is wrong, and the fix."""

from dataclasses import asdict, dataclass
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

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")

    def at_least(self, level: str) -> bool:
        """True when this finding is as severe as `level`, or more."""
        return LEVELS.index(self.level) >= LEVELS.index(level)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
