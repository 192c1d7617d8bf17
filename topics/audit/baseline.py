"""The baseline: findings accepted as they stand, so that only new ones fail.

A finding is known by what does not move when lines are added above it: its
code, its file (relative to the baseline's folder), its message and the text
of its line, stripped; a finding about a setting or a middleware, by its code
and target, wherever the settings line is. The same key twice is two findings:
a third is new.

A run that checks part of the project (named paths, --select) judges only the
entries in its scope: those about a file it scanned, with a code it reports;
about a setting, a middleware or a route, only a run that loads the settings.
The others are neither stale nor dropped when it writes the baseline.
"""

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topics.audit.config import UsageError
from topics.audit.findings import Finding

VERSION = 1
# "(seen at Procfile:2)": a line number inside a message moves with the file.
LINE_IN_MESSAGE = re.compile(r"(?<=[^\s:]):[0-9]+(?::[0-9]+)?\b")

Key = tuple[tuple[str, Any], ...]
# The code scan's findings: the only ones a run on named paths looks for.
CODE_FAMILY = "code."


@dataclass(frozen=True)
class Scope:
    """What one run checked: the files and folders it scanned, as the report
    lists them (from `root`); whether it loaded the settings (and so checked
    the settings, the middleware and the URLs); and which findings it reports
    (the configuration's select, ignore and per-file-ignores)."""

    scanned: Sequence[str]
    root: Path
    settings: bool
    reports: Callable[[Finding], bool]

    def holds(self, record: dict[str, Any], *, base: Path) -> bool:
        """True when the run checked what the baseline entry `record` (its
        path relative to `base`) is about: when matching nothing, it is stale."""
        code = str(record.get("code", ""))
        if "path" not in record:
            target = str(record.get("target", ""))
            return self.settings and self.reports(self._finding(code, target))
        file = (base / str(record["path"])).resolve()
        here = self.root.resolve()
        if code.startswith(CODE_FAMILY):
            # In a full run, a file that is gone is checked: it holds nothing.
            checked = (self.settings and not file.exists()) or any(
                file.is_relative_to(folder)
                for folder in ((here / shown).resolve() for shown in self.scanned)
            )
        else:
            # A route's or a setting's finding that a file's line is shown for.
            checked = self.settings
        shown = Path(os.path.relpath(file, here)).as_posix()
        return checked and self.reports(self._finding(code, f"{shown}:1"))

    @staticmethod
    def _finding(code: str, location: str) -> Finding:
        return Finding("info", code, code.split(".")[0], location, "")


def entries(
    findings: Iterable[Finding], *, root: Path, base: Path
) -> list[dict[str, Any]]:
    """The baseline's record of each finding, whose location is relative to
    `root`: {code, path, message, source} for a finding in a file, with `path`
    relative to `base`; {code, target} for one in no file."""
    lines: dict[Path, list[str]] = {}
    records = []
    for finding in findings:
        if finding.target is not None or finding.path is None or finding.line is None:
            # A setting's message changes with the project ("26 of 66 views"),
            # its line with the settings file: the setting itself does not.
            target = finding.target or finding.location
            records.append({"code": finding.code, "target": target})
            continue
        file = (root / finding.path).resolve()
        if file not in lines:
            lines[file] = _read_lines(file)
        text = lines[file]
        records.append(
            {
                "code": finding.code,
                "path": Path(os.path.relpath(file, base.resolve())).as_posix(),
                "message": LINE_IN_MESSAGE.sub("", finding.message),
                "source": text[finding.line - 1].strip()
                if 0 < finding.line <= len(text)
                else "",
            }
        )
    return records


def write(
    path: Path, findings: list[Finding], *, root: Path, scope: Scope | None = None
) -> tuple[int, int]:
    """Write the baseline of `findings` to `path`, sorted so that the file
    changes only where the findings do; (the number of findings written, the
    number of entries kept). With a `scope`, the file's entries outside it
    are kept as they were: a run on one file rewrites that file's only.

    Raises UsageError when the file cannot be written, or cannot be read
    when there is one to keep entries of.
    """
    records = entries(findings, root=root, base=path.parent)
    kept: Counter[Key] = Counter()
    if scope is not None and path.exists():
        try:
            known = load(path)
        except UsageError:
            raise UsageError(
                f"Cannot rewrite the baseline {path}: it is not a readable "
                f"async-audit baseline (version {VERSION}), and --write-baseline "
                "keeps the entries a run did not check. Fix it (--baseline "
                "without --write-baseline says what is wrong), or delete it to "
                "write a new one."
            ) from None
        _, _, _, kept = compare(
            findings, known, root=root, base=path.parent, scope=scope
        )
        records += [dict(key) for key in kept.elements()]
    records.sort(key=lambda record: json.dumps(record, sort_keys=True))
    document = {"version": VERSION, "findings": records}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"Cannot write the baseline {path}: {error}") from None
    return len(findings), kept.total()


def load(path: Path) -> Counter[Key]:
    """The findings a baseline file holds, each key with its count.

    Raises UsageError when the file is missing or is not a baseline.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"No baseline at {path}: write one with --write-baseline."
        ) from None
    except (OSError, ValueError) as error:
        raise UsageError(f"Cannot read the baseline {path}: {error}") from None
    if (
        not isinstance(document, dict)
        or document.get("version") != VERSION
        or not isinstance(document.get("findings"), list)
        or not all(isinstance(item, dict) for item in document["findings"])
    ):
        raise UsageError(
            f"{path} is not an async-audit baseline (version {VERSION}): "
            "write it again with --write-baseline."
        )
    return Counter(_key(item) for item in document["findings"])


def compare(
    findings: list[Finding],
    known: Counter[Key],
    *,
    root: Path,
    base: Path,
    scope: Scope | None = None,
) -> tuple[list[Finding], int, int, Counter[Key]]:
    """(the findings not in the baseline, how many were in it, how many of
    its entries in `scope` matched nothing: fixed since, so the file can
    shrink; and the entries outside `scope` that matched nothing, which the
    run did not check). With no scope, every entry is in it."""
    left = known.copy()
    new = []
    for finding, record in zip(
        findings, entries(findings, root=root, base=base), strict=True
    ):
        key = _key(record)
        if left[key] > 0:
            left[key] -= 1
        else:
            new.append(finding)
    outside = Counter(
        {
            key: count
            for key, count in left.items()
            if count > 0 and scope is not None and not scope.holds(dict(key), base=base)
        }
    )
    stale = sum(left.values()) - sum(outside.values())
    return new, len(findings) - len(new), stale, outside


def split(
    findings: list[Finding],
    known: Counter[Key],
    *,
    root: Path,
    base: Path,
    scope: Scope | None = None,
) -> tuple[list[Finding], int, int]:
    """(the findings not in the baseline, how many were in it, how many of
    its entries in `scope` matched nothing: fixed since, so the file can
    shrink)."""
    new, known_count, stale, _ = compare(
        findings, known, root=root, base=base, scope=scope
    )
    return new, known_count, stale


def _key(item: dict[str, Any]) -> Key:
    return tuple(sorted(item.items()))


def _read_lines(file: Path) -> list[str]:
    try:
        return file.read_text(errors="replace").splitlines()
    except OSError:
        return []
