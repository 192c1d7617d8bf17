"""What the code scan's test modules share: scan a snippet, list what it found."""

import textwrap

from topics.audit.code import scan_source
from topics.audit.findings import Finding


def scan(source: str) -> list[Finding]:
    """Scan a snippet written indented in a test."""
    return scan_source(textwrap.dedent(source), "snippet.py")


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    """(location, code) of each finding, in the scan's order."""
    return [(finding.location, finding.code) for finding in findings]


def found(findings: list[Finding]) -> list[tuple[int, str, str]]:
    """(line, code, level) of each warning and error, sorted."""
    return sorted(
        (int(f.location.rpartition(":")[2]), f.code, f.level)
        for f in findings
        if f.level != "info"
    )
