"""The report as SARIF 2.1.0, for GitHub code scanning and other viewers."""

from pathlib import Path
from typing import Any
from urllib.parse import quote

from topics.audit.codes import CODES
from topics.audit.findings import Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://docs.djangoproject.com/en/stable/topics/async/"
# Relative URIs are from the current directory, as every other format prints.
BASE_ID = "%SRCROOT%"
SARIF_LEVELS = {"info": "note", "warning": "warning", "error": "error"}
# What a finding in no file names, in SARIF's words.
LOGICAL_KINDS = {
    "middleware": "type",
    "urls": "resource",
    "settings": "variable",
    "import": "module",
    "config": "value",
}


def as_sarif(findings: list[Finding], *, anchor: str | None = None) -> dict[str, Any]:
    """A SARIF log of one run. Each finding's location is relative to the
    current directory. A finding in no file is put on `anchor` (the settings
    module's file, say), line 1, beside its logical location, since GitHub
    rejects a whole log with a result that has no file; with no anchor it
    keeps its logical location alone."""
    codes = list(dict.fromkeys(finding.code for finding in findings))
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "async-audit",
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(code, findings) for code in codes],
                    }
                },
                "originalUriBaseIds": {BASE_ID: {"uri": Path.cwd().as_uri() + "/"}},
                "results": [
                    _result(finding, codes.index(finding.code), anchor)
                    for finding in findings
                ],
            }
        ],
    }


def _rule(code: str, findings: list[Finding]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": code,
        "shortDescription": {"text": CODES.get(code, code)},
    }
    # A code's fix varies with what was found (which call, which setting):
    # the rule's help is the first; each result's message carries its own.
    if fix := next((f.fix for f in findings if f.code == code and f.fix), ""):
        rule["help"] = {"text": fix}
    return rule


def _result(finding: Finding, index: int, anchor: str | None) -> dict[str, Any]:
    text = f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message
    return {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": SARIF_LEVELS[finding.level],
        "message": {"text": text},
        "locations": [_location(finding, anchor)],
    }


def _location(finding: Finding, anchor: str | None) -> dict[str, Any]:
    if finding.path is not None and finding.line is not None:
        region = {"startLine": finding.line}
        if finding.column is not None:
            region["startColumn"] = finding.column
        return {"physicalLocation": _physical(finding.path, region)}
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "fullyQualifiedName": finding.location,
                **(
                    {"kind": LOGICAL_KINDS[finding.area]}
                    if finding.area in LOGICAL_KINDS
                    else {}
                ),
            }
        ]
    }
    if anchor is not None:
        location["physicalLocation"] = _physical(anchor, {"startLine": 1})
    return location


def _physical(path: str, region: dict[str, int]) -> dict[str, Any]:
    if Path(path).is_absolute():
        artifact = {"uri": Path(path).as_uri()}
    else:
        artifact = {"uri": quote(Path(path).as_posix()), "uriBaseId": BASE_ID}
    return {"artifactLocation": artifact, "region": region}
