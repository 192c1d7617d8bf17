"""What a scan of one module keeps: its imports and names, the scope stack, findings.

The checks (orm.py, coroutines.py) and the visitor (scanner.py) build on this.
"""

import ast
import builtins
from dataclasses import dataclass

from topics.audit.code.chains import Chain, queryset_chain
from topics.audit.code.rules import AREA
from topics.audit.code.syntax import ScopeNode, is_coroutine_function, walk_scope
from topics.audit.findings import Finding


@dataclass
class Scope:
    node: ScopeNode | None  # None: the module
    is_async: bool  # code here runs on the event loop
    locals: frozenset[str]
    querysets: frozenset[str]
    klass: ast.ClassDef | None  # the class a method belongs to


class ScannerBase(ast.NodeVisitor):
    """One module's names, and the scope stack that says which code is async."""

    def __init__(self, tree: ast.Module, path: str) -> None:
        self.tree = tree
        self.path = path
        self.findings: list[Finding] = []
        # One walk of the tree, which the module-wide lookups below share: on a
        # large project the walks, not the checks, are most of the time.
        nodes: list[ast.AST] = [tree]
        self.parents: dict[int, ast.AST] = {}
        for node in nodes:  # grows as it goes: breadth first, as ast.walk
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
                nodes.append(child)
        self.imports = self._imports(nodes)
        self.module_names = self._module_names(tree)
        self.coroutines = self._coroutine_names(nodes)
        self.awaited: set[int] = set()
        # id(class) -> its method names -> all coroutine functions (coroutines.py)
        self.class_coroutines: dict[int, dict[str, bool]] = {}
        self.scopes = [Scope(None, False, frozenset(), frozenset(), None)]

    def scan(self) -> list[Finding]:
        self.visit(self.tree)
        return self.findings

    # What the module defines and imports.

    @staticmethod
    def _imports(nodes: list[ast.AST]) -> dict[str, str]:
        """Local name -> dotted name it stands for, from every import in the file
        (`nodes`: all of its nodes)."""
        names: dict[str, str] = {}
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        names[top] = top
            elif isinstance(node, ast.ImportFrom):
                # A relative import names this project's code: never a stdlib call.
                module = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name != "*":
                        names[alias.asname or alias.name] = f"{module}.{alias.name}"
        return names

    @staticmethod
    def _module_names(tree: ast.Module) -> frozenset[str]:
        names = set()
        for node in walk_scope(tree.body):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                names.add(node.name)
        return frozenset(names)

    @staticmethod
    def _coroutine_names(nodes: list[ast.AST]) -> frozenset[str]:
        """Names bound only ever to an `async def` (methods aside) in the module
        (`nodes`: all of its nodes)."""
        async_names: set[str] = set()
        other: set[str] = set()
        methods = {
            id(item)
            for node in nodes
            if isinstance(node, ast.ClassDef)
            for item in node.body
        }
        for node in nodes:
            if id(node) in methods:
                continue
            if is_coroutine_function(node):
                async_names.add(node.name)
            elif isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                other.add(node.name)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                other.add(node.id)
            elif isinstance(node, ast.arg):
                other.add(node.arg)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                other.update(a.asname or a.name.split(".")[0] for a in node.names)
        return frozenset(async_names - other)

    # Where we are.

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    @property
    def in_async(self) -> bool:
        return self.scope.is_async

    def _function_name(self) -> str:
        names = [
            scope.node.name
            for scope in self.scopes
            if isinstance(
                scope.node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            )
        ]
        return ".".join(names) or "<module>"

    def _where(self) -> str:
        return f"in async def {self._function_name()}()"

    def _resolve(self, node: ast.expr) -> str | None:
        """The dotted name a callee stands for (builtins.open, time.sleep), or None."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        if any(name in scope.locals for scope in self.scopes):
            return None  # a local variable or parameter, not the module
        if name in self.imports:
            base = self.imports[name]
        elif name in self.module_names:
            base = f".{name}"  # defined in this module
        elif hasattr(builtins, name):
            base = f"builtins.{name}"
        else:
            return None
        return ".".join([base, *reversed(parts)])

    def _chain(self, node: ast.expr) -> Chain | None:
        """The QuerySet chain `node` is, with this scope's QuerySet names."""
        return queryset_chain(node, self.scope.querysets)

    def _report(
        self, node: ast.AST, level: str, code: str, message: str, fix: str
    ) -> None:
        self.findings.append(
            Finding(
                level=level,
                code=code,
                area=AREA,
                location=f"{self.path}:{node.lineno}",
                message=message,
                fix=fix,
                column=node.col_offset + 1,
            )
        )
