"""What a scan of one module keeps: its imports and names, the scope stack, findings.

The checks (orm.py, coroutines.py) and the visitor (scanner.py) build on this.
"""

import ast
import builtins
from collections.abc import Collection, Mapping
from functools import cached_property

from topics.audit.code.chains import (
    Binding,
    Chain,
    bindings,
    bound_names,
    queryset_chain,
    queryset_names,
)
from topics.audit.code.rules import AREA
from topics.audit.code.syntax import (
    ScopeNode,
    child_nodes,
    is_coroutine_function,
    parameters,
    walk_scope,
)
from topics.audit.findings import Finding

# The nodes that bind a name in a module (for its coroutine names).
_BINDERS = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Name,
    ast.arg,
    ast.Import,
    ast.ImportFrom,
)


class Scope:
    """One scope of the stack: a function, a class body, or the module.

    What its names are bound to is read from its body when first asked: most
    functions are sync, and most of those never need it.
    """

    def __init__(
        self,
        node: ScopeNode | None,  # None: the module
        is_async: bool,  # code here runs on the event loop
        klass: ast.ClassDef | None,  # the class a method belongs to
        *,
        names_of: "Scope | None" = None,  # a class body: its enclosing scope
    ) -> None:
        self.node = node
        self.is_async = is_async
        self.klass = klass
        self._names_of = names_of
        # `name = coroutine()` in this function: name -> (assignment, call, why),
        # checked once the function is visited (coroutines.py).
        self.coroutine_assignments: dict[str, list[tuple[ast.Assign, ast.Call, str]]]
        self.coroutine_assignments = {}

    @cached_property
    def locals(self) -> frozenset[str]:
        """The names bound here (a class body sees its enclosing scope's)."""
        if self._names_of is not None:
            return self._names_of.locals
        if self.node is None or isinstance(self.node, ast.ClassDef):
            return frozenset()
        if self.is_async:
            return frozenset(self._bound)
        return bound_names(self.node)

    def parameter(self, name: str) -> ast.arg | None:
        """This function's parameter `name`, if it has one (a class body: its
        enclosing scope's)."""
        if self._names_of is not None:
            return self._names_of.parameter(name)
        if self.node is None or isinstance(self.node, ast.ClassDef):
            return None
        return next((a for a in parameters(self.node.args) if a.arg == name), None)

    @cached_property
    def querysets(self) -> Mapping[str, bool]:
        """Names only ever holding a lazy QuerySet (async code only) -> whether
        it is a related manager's."""
        if self._names_of is not None:
            return self._names_of.querysets
        if not self.is_async or self.node is None:
            return {}
        return queryset_names(self._bound)

    @property
    def bound(self) -> Mapping[str, list[Binding]]:
        """Each name bound here -> what it is bound to (a class body: its
        enclosing scope's; the module: none)."""
        if self._names_of is not None:
            return self._names_of.bound
        if self.node is None or isinstance(self.node, ast.ClassDef):
            return {}
        return self._bound

    @cached_property
    def _bound(self) -> dict[str, list[Binding]]:
        assert self.node is not None and not isinstance(self.node, ast.ClassDef)
        return bindings(self.node)


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
            for child in child_nodes(node):
                self.parents[id(child)] = node
                nodes.append(child)
        self.imports = self._imports(nodes)
        self.module_names = self._module_names(tree)
        self.coroutines = self._coroutine_names(nodes)
        self.awaited: set[int] = set()
        # id(class) -> its method names -> all coroutine functions (coroutines.py)
        self.class_coroutines: dict[int, dict[str, bool]] = {}
        self.scopes = [Scope(None, False, None)]

    def scan(self) -> list[Finding]:
        self.visit(self.tree)
        return self.findings

    # Visiting: ast.NodeVisitor's, with less overhead per node.

    def generic_visit(self, node: ast.AST) -> None:
        for child in child_nodes(node):
            self.visit(child)

    def visit_Constant(self, node: ast.Constant) -> None:
        """No children. (NodeVisitor's own looks for visit_Num and its kin.)"""

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
            if not isinstance(node, _BINDERS) or id(node) in methods:
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

    def _resolve(
        self, node: ast.expr, among: Collection[str] | None = None
    ) -> str | None:
        """The dotted name a callee stands for (builtins.open, time.sleep), or None.

        With `among`, None too for a name not in it: then the scopes' names are
        read only for a name that matters.
        """
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        if name in self.imports:
            base = self.imports[name]
        elif name in self.module_names:
            base = f".{name}"  # defined in this module
        elif hasattr(builtins, name):
            base = f"builtins.{name}"
        else:
            return None
        dotted = ".".join([base, *reversed(parts)])
        if among is not None and dotted not in among:
            return None
        if any(name in scope.locals for scope in self.scopes):
            return None  # a local variable or parameter, not the module
        return dotted

    def _binding_scope(self, name: str) -> Scope | None:
        """The innermost scope that binds `name`; None for a module-level name."""
        return next((s for s in reversed(self.scopes) if name in s.locals), None)

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
