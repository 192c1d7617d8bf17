"""Where a setting is written: the settings module's line for a finding about it.

The settings module is parsed, never run again: the last top-level statement
that writes the setting wins (`X = …`, `X += …`, `X["k"] = …`, `X.append(…)`),
one that reaches the key or item asked for before one that does not; then the
modules it star-imports (`from .base import *`, the split-settings layout), the
latest first. Inside a dict or list literal the line narrows to the key or
item, inside a call to the keyword (`dj_database_url.config(conn_max_age=…)`).
"""

import ast
import importlib.util
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from topics.audit.findings import Finding

# A star import inside a star import inside...: real layouts are 2 deep.
MAX_DEPTH = 4


def setting_line(
    settings: Any, name: str, keys: Sequence[str] = ()
) -> tuple[Path, int, int] | None:
    """(file, line, column) of the assignment to the setting `name`, narrowed
    to `keys` inside dict literals (("default", "CONN_MAX_AGE")) or to an item
    of a list literal (a middleware's dotted path); line and column are
    1-based. None when no settings source assigns it (a Django default, a
    setting built in a loop), or the module cannot be found or parsed."""
    module = _settings_module(settings)
    return _find(module, None, name, tuple(keys), MAX_DEPTH) if module else None


def _settings_module(settings: Any) -> str | None:
    """The dotted settings module, under override_settings too: its holder
    says None and keeps the project's settings as default_settings."""
    holder = getattr(settings, "_wrapped", settings)
    for _ in range(MAX_DEPTH * 4):  # one holder per nested override
        if module := getattr(holder, "SETTINGS_MODULE", None):
            return module
        holder = getattr(holder, "default_settings", None)
        if holder is None:
            return None
    return None


# A match: (file, line, column) and whether it reached every key.
Match = tuple[tuple[Path, int, int], bool]


def _find(
    module: str, package: str | None, name: str, keys: tuple[str, ...], depth: int
) -> tuple[Path, int, int] | None:
    found = _search(module, package, name, keys, depth)
    return found[0] if found else None


def _search(
    module: str, package: str | None, name: str, keys: tuple[str, ...], depth: int
) -> Match | None:
    """The latest statement of `module` that writes `name` at `keys` (an
    exact match: every key reached), else the latest that writes part of it;
    a star-imported module's exact match beats this module's partial one."""
    try:
        spec = importlib.util.find_spec(module, package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    path = Path(spec.origin)
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    exact: Match | None = None
    partial: Match | None = None
    stars = []
    for statement in _module_level(tree.body):
        if isinstance(statement, ast.ImportFrom) and any(
            alias.name == "*" for alias in statement.names
        ):
            stars.append(statement)
            continue
        for node, rest in _writes(statement, name, keys):
            node, done = _narrowed(node, rest)
            found = ((path, node.lineno, node.col_offset + 1), done)
            exact = found if done else exact
            partial = found
    if exact is not None:
        return exact
    if depth > 0:
        parent = spec.name if spec.submodule_search_locations else spec.parent
        for star in reversed(stars):
            dotted = "." * star.level + (star.module or "")
            below = _search(dotted, parent, name, keys, depth - 1)
            if below is not None and (below[1] or partial is None):
                return below
    return partial


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run at import, in order: inside `if`, `try` and
    `with` blocks too (`if DEBUG:`, `try: from .local import *`), not inside
    functions or classes."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If | ast.With):
            yield from _module_level(statement.body)
            yield from _module_level(getattr(statement, "orelse", []))
        elif isinstance(statement, ast.Try | ast.TryStar):
            yield from _module_level(statement.body)
            for handler in statement.handlers:
                yield from _module_level(handler.body)
            yield from _module_level(statement.orelse)
            yield from _module_level(statement.finalbody)


# list.append("x"), .insert(0, "x"), .extend([...]): MIDDLEWARE grown in place.
GROWING = {"append", "insert", "extend"}


def _writes(
    statement: ast.stmt, name: str, keys: tuple[str, ...]
) -> list[tuple[ast.AST, tuple[str, ...]]]:
    """What a top-level statement writes to `name`, each with the keys left
    to narrow it by; nothing when it writes another key of it
    (DATABASES["default"]["ATOMIC_REQUESTS"] = … is not about OPTIONS)."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in GROWING
            and isinstance(func.value, ast.Name)
            and func.value.id == name
        ):
            return [(arg, keys) for arg in call.args[-1:]]
        return []
    if isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets, value = [statement.target], statement.value
    else:
        return []
    writes = []
    for target in targets:
        written: list[str] = []
        root = target
        while isinstance(root, ast.Subscript):
            key = root.slice
            written.insert(0, key.value if isinstance(key, ast.Constant) else "?")
            root = root.value
        if not (isinstance(root, ast.Name) and root.id == name):
            continue
        shared = min(len(written), len(keys))
        if tuple(written[:shared]) != keys[:shared]:
            continue  # another key of the same setting
        rest = keys[len(written) :]
        if len(written) >= len(keys) and written:
            # X["k"] = … (or a key inside it): the statement is the line.
            writes.append((statement, ()))
        elif value is not None:
            writes.append((value, rest))
        else:
            writes.append((statement, rest))
    return writes


def _narrowed(node: ast.AST, keys: tuple[str, ...]) -> tuple[ast.AST, bool]:
    """The key of a dict literal, the item of a list literal, or the keyword
    of a call (dj_database_url.config(conn_max_age=…)) that `keys` names, as
    deep as the literals go; and whether every key was reached."""
    for index, key in enumerate(keys):
        last = index == len(keys) - 1
        if isinstance(node, ast.Dict):
            match = next(
                (
                    (k, v)
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == key
                ),
                None,
            )
            if match is None:
                return node, False
            node = match[0] if last else match[1]
        elif isinstance(node, ast.List | ast.Tuple | ast.Constant):
            items = node.elts if not isinstance(node, ast.Constant) else [node]
            item = next(
                (i for i in items if isinstance(i, ast.Constant) and i.value == key),
                None,
            )
            return (item, True) if item is not None else (node, False)
        elif isinstance(node, ast.Call):
            keyword = next(
                (k for k in node.keywords if k.arg and k.arg == key.lower()), None
            )
            return (keyword.value, last) if keyword is not None else (node, False)
        else:
            return node, False
    return node, True


# The finding's target, as the audit names it: NAME, NAME['key']['key'], or a
# middleware's dotted path (an item of MIDDLEWARE).
TARGET = re.compile(r"(?P<name>[A-Z][A-Z0-9_]*)(?P<keys>(\['[^']*'\])*)")
SETTINGS_AREAS = {"settings", "middleware", "urls"}


def located(findings: list[Finding], settings: Any, base: Path) -> list[Finding]:
    """The findings about settings, with the settings line that causes each as
    their location ("project/settings.py:42", from `base`) where one is
    written, and those at a file of the project by absolute path (a route's
    view) from `base` too; the others as they were."""
    middleware = set(getattr(settings, "MIDDLEWARE", ()))
    result = []
    for finding in findings:
        target = None
        if finding.area in SETTINGS_AREAS and finding.column is None:
            if finding.location in middleware:
                target = ("MIDDLEWARE", (finding.location,))
            elif match := TARGET.fullmatch(finding.location):
                target = (match["name"], tuple(re.findall(r"'([^']*)'", match["keys"])))
        where = setting_line(settings, *target) if target else None
        if where is None and finding.path and Path(finding.path).is_absolute():
            # A route's view, found by its code object: from the project's root
            # when it is the project's own.
            where = (Path(finding.path), finding.line or 1, 1)
            if not where[0].resolve().is_relative_to(base):
                where = None
        if where is None:
            result.append(finding)
            continue
        path, line, column = where
        shown = Path(os.path.relpath(path, base)).as_posix()
        result.append(
            replace(
                finding,
                location=f"{shown}:{line}",
                column=column,
                target=finding.target or finding.location,
            )
        )
    return result
