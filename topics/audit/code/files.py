"""The scan's entry points, and what surrounds the AST: files, text, comments.

Walking the tree (skipped folders, excludes), decoding, a finding for a file that
cannot be scanned, `# async-audit: ignore` comments, and the order of findings.
"""

import ast
import fnmatch
import io
import multiprocessing
import os
import re
import sys
import threading
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from topics.audit.code.calls import ModuleCalls, Resolver, module_name
from topics.audit.code.rules import UNPARSABLE
from topics.audit.code.scanner import Scanner
from topics.audit.findings import Finding

SKIPPED_DIRS = frozenset(
    {"migrations", "__pycache__", "venv", "site-packages", "node_modules"}
)
SUPPRESS = re.compile(r"async-audit:\s*ignore(?:\[([^\]]*)\])?")


class Scanned(NamedTuple):
    """One module's scan: its findings (suppressions not yet applied), what it
    keeps for the call following, and its `# async-audit: ignore` comments."""

    findings: list[Finding]
    calls: ModuleCalls | None
    suppressed: dict[int, frozenset[str] | None]


def scan_source(source: str, path: str) -> list[Finding]:
    """Findings for one module's source; `path` goes into each location. Calls
    are followed inside the module only."""
    return _resolved([_scan_source(source, path)])


def _scan_source(source: str, path: str, module: str = "") -> Scanned:
    try:
        with warnings.catch_warnings():
            # SyntaxWarning (say, "\d" in a plain string) is no concern of this scan,
            # and under -W error it would turn a good file into a SyntaxError.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None) or 1
        why = f"{type(error).__name__}: {error}"
        return Scanned([_unparsable(f"{path}:{line}", why)], None, {})
    except RecursionError:
        return Scanned(
            [_unparsable(f"{path}:1", "too deeply nested to parse")], None, {}
        )
    scanner = Scanner(tree, path, module)
    try:
        findings = scanner.scan()
    except RecursionError:
        return Scanned(
            [_unparsable(f"{path}:1", "too deeply nested to scan")], None, {}
        )
    return Scanned(findings, scanner.calls, _suppressions(source))


def _resolved(scans: list[Scanned]) -> list[Finding]:
    """The findings of modules scanned together, with those of the calls
    followed between them; suppressed ones left out, one per line and message."""
    reached = Resolver(scan.calls for scan in scans if scan.calls is not None)
    at_sites = reached.findings()
    kept: list[Finding] = []
    for scan in scans:
        findings = scan.findings
        if scan.calls is not None:
            findings = findings + at_sites.get(scan.calls.path, [])
        kept += _kept(findings, scan.suppressed)
    return sorted(kept, key=_sort_key)


def _kept(
    findings: list[Finding], suppressed: dict[int, frozenset[str] | None]
) -> list[Finding]:
    # One finding per line, code and message: `request.user.pk if
    # request.user.is_authenticated` loads the user once. The first column stays.
    kept: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        if _is_suppressed(finding, suppressed):
            continue
        key = (finding.location, finding.code, finding.message)
        first = kept.get(key)
        if first is None or (finding.column or 0) < (first.column or 0):
            kept[key] = finding
    return list(kept.values())


def scan_file(path: Path, root: Path) -> list[Finding]:
    """Findings for one file, located relative to `root`."""
    return _resolved([_scan_file(path, root)])


def _scan_file(path: Path, root: Path) -> Scanned:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    try:
        raw = path.read_bytes()
    except OSError as error:
        why = f"cannot be read ({error.strerror})"
        return Scanned([_unparsable(f"{relative}:1", why)], None, {})
    source, decode_error = _decode(raw)
    scanned = _scan_source(source, relative, module_name(path.absolute()))
    if decode_error:
        # Python would refuse to import it: one warning for the file, and what the
        # scan of its decoded text found besides.
        findings = [f for f in scanned.findings if f.code != UNPARSABLE]
        findings.insert(0, _unparsable(f"{relative}:1", decode_error))
        scanned = scanned._replace(findings=findings)
    return scanned


def scan_tree(
    root: Path,
    *,
    exclude: Sequence[str] = (),
    shown_as: str = "",
    matched: set[str] | None = None,
) -> list[Finding]:
    """Findings for every .py file under `root`, but migrations, venvs, excludes.

    An exclude glob matches a path as the report shows it: `shown_as` (root's
    own path there, "topics/" say) then the path under root. The globs that
    matched a path are added to `matched`, so that one that matches nothing can
    be told.
    """
    root = Path(root)
    if root.is_file():
        return scan_file(root, root.parent)
    findings: list[Finding] = []
    matched = set() if matched is None else matched
    paths = list(_python_files(root, exclude, shown_as, matched))
    findings += _resolved(list(_scanned(paths, root)))
    return sorted(findings, key=_sort_key)


# Parsing is CPU-bound and per file: a large tree is scanned on every core.
# Below this many files, starting the workers costs more than they save.
PARALLEL_FROM = 200


def _scanned(paths: list[Path], root: Path) -> Iterator[Scanned]:
    """_scan_file() of each path, in order; in worker processes for many files."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if len(paths) < PARALLEL_FROM or cores < 2:
        return (_scan_file(path, root) for path in paths)
    try:
        # fork while this process runs one thread: the workers need nothing
        # re-imported (spawn re-runs the main script, which fails in one with no
        # `if __name__ == "__main__"` guard). With more threads (a Django
        # project may start some) a fork can deadlock, and Python 3.12 warns:
        # spawn then.
        alone = threading.active_count() == 1 and sys.platform == "linux"
        context = multiprocessing.get_context("fork" if alone else "spawn")
        with ProcessPoolExecutor(min(cores, 8), mp_context=context) as pool:
            return iter(list(pool.map(_scan_file, paths, repeat(root), chunksize=8)))
    except (OSError, BrokenProcessPool):
        # No worker processes here (a sandbox, a main module that cannot be
        # re-imported): one core it is.
        return (_scan_file(path, root) for path in paths)


# Files, text and suppression comments.


def _python_files(
    root: Path, exclude: Sequence[str], shown_as: str, matched: set[str]
) -> Iterator[Path]:
    """The .py files under root, sorted, pruning what is not the project's code."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        relative = here.relative_to(root).as_posix()
        prefix = shown_as + ("" if relative == "." else f"{relative}/")
        dirs[:] = sorted(
            name
            for name in dirs
            if not _skipped_dir(here / name)
            and not _excluded(f"{prefix}{name}", exclude, matched)
        )
        for name in sorted(files):
            if name.endswith(".py") and not _excluded(
                f"{prefix}{name}", exclude, matched
            ):
                yield here / name


def _skipped_dir(path: Path) -> bool:
    name = path.name
    # A virtualenv under any name carries pyvenv.cfg.
    return (
        name.startswith((".", "venv"))
        or name in SKIPPED_DIRS
        or (path / "pyvenv.cfg").is_file()
    )


def _excluded(shown: str, exclude: Sequence[str], matched: set[str]) -> bool:
    hits = {pattern for pattern in exclude if fnmatch.fnmatchcase(shown, pattern)}
    matched |= hits
    return bool(hits)


def _decode(raw: bytes) -> tuple[str, str]:
    """The text, and why it is not valid source text ("" when it is)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        encoding, problem = "utf-8", f"bad encoding declaration ({error})"
    else:
        problem = ""
    try:
        return raw.decode(encoding.removesuffix("-sig")).removeprefix("\ufeff"), problem
    except (UnicodeDecodeError, LookupError) as error:
        text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
        return text, problem or f"cannot be decoded as {encoding} ({error})"


def _unparsable(location: str, why: str) -> Finding:
    return Finding(
        level="warning",
        code=UNPARSABLE,
        area="import",
        location=location,
        message=f"This file could not be scanned: {why}.",
        fix="The scan reads Python "
        f"{sys.version_info.major}.{sys.version_info.minor}'s grammar: run the audit "
        "with the Python your project runs on, fix the file (UTF-8, valid syntax), "
        "or exclude it.",
    )


def _suppressions(source: str) -> dict[int, frozenset[str] | None]:
    """Line -> suppressed codes (None: all) from `# async-audit: ignore` comments."""
    found: dict[int, frozenset[str] | None] = {}
    if "async-audit" not in source:
        return found  # most files: no need to tokenize them
    try:
        comments = [
            (token.start[0], token.string)
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError):
        # Parsed by ast but not by tokenize: read each line's text instead.
        comments = [
            (number, line) for number, line in enumerate(source.splitlines(), 1)
        ]
    for line, comment in comments:
        match = SUPPRESS.search(comment)
        if match is None:
            continue
        if match.group(1) is None:
            found[line] = None
        else:
            codes = frozenset(c.strip() for c in match.group(1).split(",") if c.strip())
            previous = found.get(line, frozenset())
            found[line] = None if previous is None else previous | codes
    return found


def _is_suppressed(
    finding: Finding, suppressed: dict[int, frozenset[str] | None]
) -> bool:
    line = _sort_key(finding)[1]
    if line not in suppressed:
        return False
    codes = suppressed[line]
    return codes is None or finding.code in codes


def _sort_key(finding: Finding) -> tuple[str, int, str, str]:
    path, _, line = finding.location.rpartition(":")
    return (path, int(line) if line.isdigit() else 0, finding.code, finding.message)
