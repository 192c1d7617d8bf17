"""The audit's configuration: `[tool.async_audit]` in pyproject.toml, the
ASYNC_AUDIT setting, then the command line, each overriding the one before.

    [tool.async_audit]
    select = ["code", "settings"]           # code prefixes; default: every code
    ignore = ["middleware.mixin-hops"]
    exclude = ["legacy/*"]                  # globs, as the report shows paths
    per-file-ignores = {"scripts/*" = ["code.blocking-call"]}
    fail-level = "warning"                  # info, warning or error (the default)
    baseline = "async-audit-baseline.json"  # relative to this pyproject.toml
"""

import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from topics.audit.codes import known_prefix, matches
from topics.audit.findings import LEVELS, Finding

TABLE = "async_audit"
KEYS = ("select", "ignore", "exclude", "per-file-ignores", "fail-level", "baseline")


class UsageError(Exception):
    """A bad configuration or option: the audit stops with exit status 2."""


@dataclass(frozen=True)
class Config:
    """What to report and when to fail; the defaults report every code."""

    select: tuple[str, ...] = ("",)  # "" is every code's prefix
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fail_level: str = "error"
    baseline: Path | None = None

    def reports(self, finding: Finding) -> bool:
        """True when `finding` is selected, not ignored, and not ignored for
        its file. As in ruff, the longest matching prefix decides, and between
        a select and an ignore of the same length, the ignore."""
        votes = [
            (len(prefix.rstrip(".")), keep)
            for prefixes, keep in ((self.select, True), (self.ignore, False))
            for prefix in prefixes
            if matches(finding.code, prefix)
        ]
        longest = max((length for length, _ in votes), default=None)
        if longest is None or not all(keep for n, keep in votes if n == longest):
            return False
        path = finding.path
        return path is None or not any(
            fnmatch.fnmatchcase(path, glob)
            and any(matches(finding.code, prefix) for prefix in prefixes)
            for glob, prefixes in self.per_file_ignores.items()
        )


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.async_audit] table, from `start`
    upward (as ruff looks for its own); None when there is none.

    Raises UsageError for a pyproject.toml that is not valid TOML.
    """
    for folder in [start.resolve(), *start.resolve().parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and TABLE in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def load(
    *,
    start: Path,
    setting: Mapping[str, Any] | None = None,
    select: str | None = None,
    ignore: str | None = None,
    exclude: Sequence[str] = (),
    fail_level: str | None = None,
    baseline: str | None = None,
) -> Config:
    """The configuration in force: pyproject.toml found from `start`, then the
    `setting` mapping (Django's ASYNC_AUDIT), then the command line's values
    (comma-separated codes for select and ignore; None where not given).
    Excludes add up; every other key overrides.

    Raises UsageError on an unknown key, a bad value or an unknown code.
    """
    config = Config()
    if pyproject := find_pyproject(start):
        table = _read_toml(pyproject)["tool"][TABLE]
        config = _merged(config, table, f"[tool.{TABLE}] in {pyproject}", pyproject)
    if setting is not None:
        if not isinstance(setting, Mapping):
            raise UsageError("The ASYNC_AUDIT setting must be a dict.")
        config = _merged(config, setting, "the ASYNC_AUDIT setting", None)
    given: dict[str, Any] = {
        "select": _split(select),
        "ignore": _split(ignore),
        "fail-level": fail_level,
        "exclude": list(exclude),
    }
    config = _merged(
        config,
        {key: value for key, value in given.items() if value is not None},
        "the command line",
        None,
    )
    if baseline is not None:
        config = replace(config, baseline=Path(baseline))
    return config


def _split(codes: str | None) -> list[str] | None:
    if codes is None:
        return None
    return [code.strip() for code in codes.split(",") if code.strip()]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"Cannot read {path}: {error}") from None


def _merged(
    config: Config, table: Mapping[str, Any], source: str, pyproject: Path | None
) -> Config:
    """`config` with the keys of `table` applied; `source` names it in errors."""
    changes: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = str(raw_key).replace("_", "-")
        if key not in KEYS:
            raise UsageError(
                f"Unknown key {raw_key!r} in {source}; the keys are {', '.join(KEYS)}."
            )
        where = f"{key!r} in {source}"
        if key in ("select", "ignore"):
            changes[key] = _codes(value, where)
        elif key == "exclude":
            changes[key] = (*config.exclude, *_strings(value, where))
        elif key == "per-file-ignores":
            if not isinstance(value, Mapping):
                raise UsageError(f"{where} must be a table of glob = [codes].")
            changes["per_file_ignores"] = {
                str(glob): _codes(codes, f"{where} for {glob!r}")
                for glob, codes in value.items()
            }
        elif key == "fail-level":
            if value not in LEVELS:
                raise UsageError(
                    f"{where} is {value!r}; it must be one of {', '.join(LEVELS)}."
                )
            changes["fail_level"] = value
        else:
            if not isinstance(value, str) or not value:
                raise UsageError(f"{where} must be a file name.")
            # A path written in a pyproject.toml is from that file's folder.
            base = pyproject.parent if pyproject else Path()
            changes["baseline"] = base / value
    return replace(config, **changes)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) for item in value
    ):
        raise UsageError(f"{where} must be a list of strings.")
    return tuple(value)


def _codes(value: Any, where: str) -> tuple[str, ...]:
    codes = _strings(value, where)
    if unknown := [code for code in codes if not known_prefix(code)]:
        raise UsageError(
            f"{where}: no finding code starts with {', '.join(map(repr, unknown))} "
            "(codes look like code.sync-orm; a prefix like middleware names a family)."
        )
    return codes
