"""Where a setting is written: the settings module's line for a finding about it.

The settings module is parsed, never run again: the last top-level assignment
to the name wins (`X = …`, `X += …`, `X["k"] = …`), then the modules it
star-imports (`from .base import *`, the split-settings layout), the latest
first. Inside a dict or list literal the line narrows to the key or item.
"""

import ast
import importlib.util
import os
import re
from collections.abc import Sequence
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


def _find(
    module: str, package: str | None, name: str, keys: tuple[str, ...], depth: int
) -> tuple[Path, int, int] | None:
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
    found = None
    stars = []
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and any(
            alias.name == "*" for alias in statement.names
        ):
            stars.append(statement)
        elif (node := _assigned(statement, name)) is not None:
            found = node
    if found is not None:
        node = _narrowed(found, keys)
        return path, node.lineno, node.col_offset + 1
    if depth == 0:
        return None
    parent = spec.name if spec.submodule_search_locations else spec.parent
    for star in reversed(stars):
        dotted = "." * star.level + (star.module or "")
        if where := _find(dotted, parent, name, keys, depth - 1):
            return where
    return None


def _assigned(statement: ast.stmt, name: str) -> ast.AST | None:
    """The node a top-level statement assigns to `name` (or to a part of it)."""
    if isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets, value = [statement.target], statement.value
    else:
        return None
    for target in targets:
        root = target
        while isinstance(root, ast.Subscript):
            root = root.value
        if isinstance(root, ast.Name) and root.id == name:
            # `X["k"] = v`: the line is the statement's, there is no literal.
            return value if target is root and value is not None else statement
    return None


def _narrowed(node: ast.AST, keys: tuple[str, ...]) -> ast.AST:
    """The key of a dict literal, or the item of a list literal, that `keys`
    names, as deep as the literals go."""
    for key in keys:
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
                return node
            node = match[0] if key == keys[-1] else match[1]
        elif isinstance(node, ast.List | ast.Tuple):
            item = next(
                (
                    item
                    for item in node.elts
                    if isinstance(item, ast.Constant) and item.value == key
                ),
                None,
            )
            return item if item is not None else node
        else:
            return node
    return node


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
