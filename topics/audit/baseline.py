"""The baseline: findings accepted as they stand, so that only new ones fail.

A finding is known by what does not move when lines are added above it: its
code, its file (relative to the baseline's folder), its message and the text
of its line, stripped; a finding about a setting or a middleware, by its code
and target, wherever the settings line is. The same key twice is two findings:
a third is new.
"""

import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from topics.audit.config import UsageError
from topics.audit.findings import Finding

VERSION = 1
# "(seen at Procfile:2)": a line number inside a message moves with the file.
LINE_IN_MESSAGE = re.compile(r"(?<=[^\s:]):[0-9]+(?::[0-9]+)?\b")

Key = tuple[tuple[str, Any], ...]


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


def write(path: Path, findings: Iterable[Finding], *, root: Path) -> int:
    """Write the baseline of `findings` to `path`, sorted so that the file
    changes only where the findings do; the number written.

    Raises UsageError when the file cannot be written.
    """
    records = sorted(
        entries(findings, root=root, base=path.parent),
        key=lambda record: json.dumps(record, sort_keys=True),
    )
    document = {"version": VERSION, "findings": records}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"Cannot write the baseline {path}: {error}") from None
    return len(records)


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


def split(
    findings: list[Finding], known: Counter[Key], *, root: Path, base: Path
) -> tuple[list[Finding], int, int]:
    """(the findings not in the baseline, how many were in it, how many of
    its entries matched nothing: fixed since, so the file can shrink)."""
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
    return new, len(findings) - len(new), sum(left.values())


def _key(item: dict[str, Any]) -> Key:
    return tuple(sorted(item.items()))


def _read_lines(file: Path) -> list[str]:
    try:
        return file.read_text(errors="replace").splitlines()
    except OSError:
        return []
