"""Copy drag: the project code an async view pulls in when a reader copies it.

Run `python -m project.copydrag` (add `--json`, `--explain VIEW`, and
`--max N --median M` or `--max-beyond N --median-beyond M` to exit 1 when a
view is over N lines or the median over M).

For each async side of every pair in the registry, the drag is the transitive set
of project-level definitions (functions, classes and module constants under
`topics/` and `project/`) that the view's source names, resolved through each
module's imports by reading the source (ast), never by importing it. Models
(topics/models.py), forms (topics/forms.py) and migrations are left aside, as a
reader's app has its own; Django, asgiref and other libraries are not counted.
A definition's lines run from its first decorator to its last line; the view
itself is not counted.

Two figures per view:
- lines: everything it drags, the kits' definitions included: what the first
  view copied into an app costs;
- beyond: what it drags outside the kits (KITS): what each further view costs
  once the kits it needs are in the app.
A kit is a module a reader copies whole, once per project, like a small
library: it imports nothing of the project but other kits, and reads no
setting (tests/test_boundaries.py holds every kit to that).
"""

import argparse
import ast
import json
import os
import statistics
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("topics", "project")
# A reader's app has its own models, forms and migrations.
EXCLUDED = ("topics.models", "topics.forms", "topics.migrations")
# Copied whole, once per project: each needs Django, asgiref, its I/O library
# and at most other kits.
KITS = (
    "topics.api",
    "topics.compat",
    "topics.exportfiles",
    "topics.httperrors",
    "topics.mixins",
    "topics.pagination",
    "topics.streaming",
    "topics.tasks_compat",
    "topics.upstream.client",
)

Key = tuple[str, str]  # (module, top-level name)


@dataclass
class Module:
    """One module's top-level definitions and imported names, read from source."""

    name: str
    is_package: bool
    definitions: dict[str, list[ast.AST]] = field(default_factory=dict)
    # name -> ("module", dotted) or ("from", dotted, attribute)
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _top_level(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    # Definitions under `if`/`try` at module level (version switches) count too.
    for node in body:
        if isinstance(node, ast.If | ast.Try | ast.With):
            yield from _top_level(node.body)
            yield from _top_level(getattr(node, "orelse", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)
            yield from _top_level(getattr(node, "finalbody", []))
        else:
            yield node


def _assigned_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _assigned_names(element)


def lines_of(node: ast.AST) -> int:
    """A definition's source lines, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return node.end_lineno - first + 1


class Index:
    """The project's modules under `root`, parsed on demand."""

    def __init__(
        self,
        root: Path = ROOT,
        packages: Iterable[str] = PACKAGES,
        excluded: Iterable[str] = EXCLUDED,
    ) -> None:
        self.root = root
        self.packages = tuple(packages)
        self.excluded = tuple(excluded)
        self._modules: dict[str, Module | None] = {}

    def is_project(self, dotted: str) -> bool:
        return dotted.split(".")[0] in self.packages

    def is_excluded(self, dotted: str) -> bool:
        return any(
            dotted == name or dotted.startswith(name + ".") for name in self.excluded
        )

    def module(self, dotted: str) -> Module | None:
        """The parsed module, or None if it is not a project module's file."""
        if dotted in self._modules:
            return self._modules[dotted]
        base = self.root.joinpath(*dotted.split("."))
        path, is_package = base.with_suffix(".py"), False
        if not path.is_file():
            path, is_package = base / "__init__.py", True
        if not self.is_project(dotted) or not path.is_file():
            self._modules[dotted] = None
            return None
        module = Module(dotted, is_package)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _top_level(tree.body):
            self._read_statement(module, node)
        self._modules[dotted] = module
        return module

    def _read_statement(self, module: Module, node: ast.stmt) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            module.definitions.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _assigned_names(target):
                    module.definitions.setdefault(name, []).append(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    module.imports[alias.asname] = ("module", alias.name)
                else:
                    top = alias.name.split(".")[0]
                    module.imports[top] = ("module", top)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                parts = module.name.split(".")
                keep = len(parts) - node.level + (1 if module.is_package else 0)
                source = ".".join(parts[:keep] + ([source] if source else []))
            for alias in node.names:
                if alias.name != "*":
                    module.imports[alias.asname or alias.name] = (
                        "from",
                        source,
                        alias.name,
                    )

    def resolve(self, dotted: str, name: str, seen: frozenset = frozenset()) -> tuple:
        """What `name` means in module `dotted`: ("def", module, name),
        ("module", dotted) or () for anything outside the counted project."""
        if (dotted, name) in seen or self.is_excluded(dotted):
            return ()
        module = self.module(dotted)
        if module is None:
            return ()
        if name in module.definitions:
            return ("def", dotted, name)
        if name in module.imports:
            imported = module.imports[name]
            if imported[0] == "module":
                return self._as_module(imported[1])
            _, source, attribute = imported
            submodule = f"{source}.{attribute}"
            if self.module(submodule) is not None:
                return self._as_module(submodule)
            return self.resolve(source, attribute, seen | {(dotted, name)})
        if module.is_package and self.module(f"{dotted}.{name}") is not None:
            return self._as_module(f"{dotted}.{name}")
        return ()

    def _as_module(self, dotted: str) -> tuple:
        if not self.is_project(dotted) or self.is_excluded(dotted):
            return ()
        return ("module", dotted)

    def references(self, key: Key) -> set[Key]:
        """The project definitions a definition's source names directly."""
        dotted, name = key
        found: set[Key] = set()
        for node in self.module(dotted).definitions[name]:
            for chain in _name_chains(node):
                target = self.resolve(dotted, chain[0])
                for attribute in chain[1:]:
                    if not target or target[0] != "module":
                        break
                    target = self.resolve(target[1], attribute)
                if target and target[0] == "def":
                    found.add((target[1], target[2]))
        found.discard(key)
        return found

    def drag(self, key: Key) -> dict[Key, int]:
        """Every definition `key` pulls in, transitively, with its lines."""
        dragged: dict[Key, int] = {}
        pending = [key]
        while pending:
            for reference in self.references(pending.pop()):
                if reference != key and reference not in dragged:
                    nodes = self.module(reference[0]).definitions[reference[1]]
                    dragged[reference] = sum(lines_of(node) for node in set(nodes))
                    pending.append(reference)
        return dragged


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _bound(nodes: Iterable[ast.AST]) -> set[str]:
    """The names these nodes bind: assignment and loop targets, nested
    definitions, imports; a function's parameters are added by its caller."""
    names: set[str] = set()
    for node in nodes:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
                names.add(inner.id)
            elif isinstance(
                inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                names.add(inner.name)
            elif isinstance(inner, ast.alias):
                names.add((inner.asname or inner.name).split(".")[0])
            elif isinstance(inner, ast.arg):
                names.add(inner.arg)
            elif isinstance(inner, ast.ExceptHandler) and inner.name:
                names.add(inner.name)
    return names


def _name_chains(
    node: ast.AST, local: frozenset[str] = frozenset()
) -> Iterator[list[str]]:
    # `a.b.c` as ["a", "b", "c"]; a bare name as [name]; names bound inside a
    # function or comprehension (parameters, variables) are its own, not the
    # module's, and are left out.
    if isinstance(node, FUNCTIONS):
        # Decorators, defaults and annotations are read in the enclosing scope.
        outer = [
            *getattr(node, "decorator_list", []),
            *node.args.defaults,
            *(default for default in node.args.kw_defaults if default is not None),
        ]
        if not isinstance(node, ast.Lambda):
            arguments = [
                *node.args.posonlyargs,
                *node.args.args,
                *node.args.kwonlyargs,
                *filter(None, [node.args.vararg, node.args.kwarg]),
            ]
            outer += [a.annotation for a in arguments if a.annotation is not None]
            outer += [node.returns] if node.returns is not None else []
        for child in outer:
            yield from _name_chains(child, local)
        body = node.body if isinstance(node.body, list) else [node.body]
        inner = local | _bound([node.args, *body])
        for child in body:
            yield from _name_chains(child, frozenset(inner))
        return
    if isinstance(node, COMPREHENSIONS):
        local = local | _bound(generator.target for generator in node.generators)
    if isinstance(node, ast.Attribute):
        chain: list[str] = []
        inner_node: ast.AST = node
        while isinstance(inner_node, ast.Attribute):
            chain.insert(0, inner_node.attr)
            inner_node = inner_node.value
        if isinstance(inner_node, ast.Name):
            if inner_node.id not in local:
                yield [inner_node.id, *chain]
            return
        yield from _name_chains(inner_node, local)
        return
    if isinstance(node, ast.Name):
        if node.id not in local:
            yield [node.id]
        return
    for child in ast.iter_child_nodes(node):
        yield from _name_chains(child, local)


@dataclass(frozen=True)
class Row:
    """One view's drag: the dotted names it pulls in and their total lines."""

    view: str
    module: str
    name: str  # the top-level definition: the function, or a view's class
    definitions: tuple[str, ...]
    lines: int
    kits: tuple[str, ...] = ()  # the kit modules it needs
    beyond: int = 0  # its lines outside them


def measure(
    index: Index,
    module: str,
    name: str,
    label: str | None = None,
    kits: Iterable[str] = (),
) -> Row:
    """The copy drag of the top-level definition `name` in `module`; what
    lies in one of `kits` (module names) counts in `lines` but not `beyond`."""
    kits = tuple(kits)
    dragged = index.drag((module, name))
    needed = {m for m, _ in dragged if m in kits}
    return Row(
        view=label or name,
        module=module,
        name=name,
        definitions=tuple(f"{m}.{n}" for m, n in sorted(dragged)),
        lines=sum(dragged.values()),
        kits=tuple(sorted(needed)),
        beyond=sum(lines for (m, _), lines in dragged.items() if m not in kits),
    )


def registry_rows(index: Index | None = None) -> list[Row]:
    """The drag of every async side in the registry, in registry order."""
    index = index or Index()
    return [
        measure(index, module, name, label, KITS)
        for label, module, name in async_views()
    ]


def median_lines(rows: list[Row]) -> float:
    """The median drag in lines, kits included."""
    return statistics.median(row.lines for row in rows)


def median_beyond(rows: list[Row]) -> float:
    """The median drag in lines outside the kits."""
    return statistics.median(row.beyond for row in rows)


def kit_lines(root: Path = ROOT) -> dict[str, int]:
    """Each kit's size: the lines of its file."""
    return {
        kit: len((root / f"{kit.replace('.', '/')}.py").read_text().splitlines())
        for kit in KITS
    }


def async_views() -> Iterator[tuple[str, str, str]]:
    """(label, module, top-level name) for every async side in the registry."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from topics.pairs import PAIRS

    for pair in PAIRS:
        for twin in pair.twins():
            if twin.mode == "async":
                yield twin.view_name, *view_location(twin.view)


def view_location(view: object) -> Key:
    """(module, top-level name) of a registered view; a class-based view's
    handler is a method, so its class is the view."""
    from topics.registry import view_function

    function = view_function(view)
    return function.__module__, function.__qualname__.split(".")[0]


def _short(kit: str) -> str:
    return kit.rsplit(".", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m project.copydrag")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    parser.add_argument("--explain", metavar="VIEW", help="list one view's drag")
    parser.add_argument("--max", type=int, help="fail if any view drags more lines")
    parser.add_argument("--median", type=float, help="fail if the median is above")
    parser.add_argument(
        "--max-beyond", type=int, help="fail if any view drags more beyond the kits"
    )
    parser.add_argument(
        "--median-beyond", type=float, help="fail if that median is above"
    )
    args = parser.parse_args(argv)

    index = Index()
    rows = registry_rows(index)
    summary = {
        "median_lines": median_lines(rows),
        "max_lines": max(row.lines for row in rows),
        "median_beyond": median_beyond(rows),
        "max_beyond": max(row.beyond for row in rows),
        "median_definitions": statistics.median(len(row.definitions) for row in rows),
        "kit_lines": kit_lines(),
    }

    if args.explain:
        for row in rows:
            if row.view == args.explain:
                dragged = index.drag((row.module, row.name))
                for (module, name), lines in sorted(dragged.items()):
                    where = "  (kit)" if module in KITS else ""
                    print(f"{lines:5}  {module}.{name}{where}")
                print(f"{row.lines:5}  total, {len(row.definitions)} definitions")
                print(f"{row.beyond:5}  beyond the kits")
        return 0
    if args.json:
        views = [row.__dict__ for row in rows]
        json.dump({"views": views, **summary}, sys.stdout, indent=2)
        print()
    else:
        width = max(len(row.view) for row in rows)
        print(f"{'view':<{width}}  lines  beyond  kits")
        for row in rows:
            kits = ", ".join(_short(kit) for kit in row.kits)
            print(f"{row.view:<{width}}  {row.lines:5}  {row.beyond:6}  {kits}")
        print(
            f"median: {summary['median_lines']:g} lines, "
            f"{summary['median_beyond']:g} beyond the kits"
        )
        worst = max(rows, key=lambda row: row.lines)
        worst_beyond = max(rows, key=lambda row: row.beyond)
        print(
            f"max: {worst.lines} lines ({worst.view}), "
            f"{worst_beyond.beyond} beyond the kits ({worst_beyond.view})"
        )
        sizes = ", ".join(f"{_short(k)} {n}" for k, n in summary["kit_lines"].items())
        print(f"kits, copied whole once (lines): {sizes}")

    failures = []
    for flag, value, figure in (
        ("max", args.max, "lines"),
        ("max-beyond", args.max_beyond, "beyond"),
    ):
        if value is not None:
            failures += [
                f"over --{flag} {value}: {row.view} ({getattr(row, figure)})"
                for row in rows
                if getattr(row, figure) > value
            ]
    for flag, value, median in (
        ("median", args.median, summary["median_lines"]),
        ("median-beyond", args.median_beyond, summary["median_beyond"]),
    ):
        if value is not None and median > value:
            failures.append(f"median {median:g} is over --{flag} {value:g}")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
