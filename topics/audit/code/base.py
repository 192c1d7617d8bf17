"""What a scan of one module keeps: its imports and names, the scope stack, findings.

The checks (orm.py, coroutines.py) and the visitor (scanner.py) build on this.
"""

import ast
import builtins
import dataclasses
from collections.abc import Callable, Collection, Mapping
from functools import cached_property
from pathlib import PurePosixPath

from topics.audit.code.calls import (
    CallSite,
    Effect,
    ModuleCalls,
    RelationRead,
    Summary,
    call_target,
)
from topics.audit.code.chains import (
    Binding,
    Chain,
    bindings,
    bound_names,
    instance_model,
    queryset_chain,
    queryset_names,
    selected,
)
from topics.audit.code.rules import AREA, LOOP_CODES, SYNC_TO_ASYNC
from topics.audit.code.syntax import (
    ScopeNode,
    child_nodes,
    is_coroutine_function,
    parameters,
    short,
)
from topics.audit.findings import Finding

# The nodes that open a scope of their own.
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
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


def _dotted(
    node: ast.expr, imports: Mapping[str, str], module_names: frozenset[str]
) -> tuple[str, str]:
    """(builtins.open, open), (time.sleep, time): what a callee stands for, from
    the module's imports and names, and the name it starts with; "" for the
    dotted name when it stands for none of them."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return "", ""
    name = node.id
    if name in imports:
        base = imports[name]
    elif name in module_names:
        base = f".{name}"  # defined in this module
    elif hasattr(builtins, name):
        base = f"builtins.{name}"
    else:
        return "", name
    return ".".join([base, *reversed(parts)]), name


def _is_class(node: ast.expr) -> bool:
    """A name that reads as a class: Service, billing.Service."""
    match node:
        case ast.Name(id=name) | ast.Attribute(value=ast.Name(), attr=name):
            return name[:1].isupper()
    return False


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
        own: list[ast.AST] | None = None,  # the nodes of its body (walk_scope)
    ) -> None:
        self.own = own
        self.node = node
        self.is_async = is_async
        self.klass = klass
        self._names_of = names_of
        # A sync function whose effects are kept for the calls into it from
        # async code (calls.py), rather than reported where they are.
        self.summary: Summary | None = None
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
        return bound_names(self.node, self.own)

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
        if not self.checked or self.node is None:
            return {}
        return queryset_names(self._bound)

    @property
    def checked(self) -> bool:
        """Code here is checked: it runs on the loop, or its effects are kept."""
        return self.is_async or self.summary is not None

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
        return bindings(self.node, self.own)


class ScannerBase(ast.NodeVisitor):
    """One module's names, and the scope stack that says which code is async."""

    def __init__(self, tree: ast.Module, path: str, module: str = "") -> None:
        self.tree = tree
        self.path = path
        self.findings: list[Finding] = []
        # One walk of the tree, which the module-wide lookups below share: on a
        # large project the walks, not the checks, are most of the time.
        binders: list[ast.AST] = []  # what _coroutine_names() reads
        self.parents: dict[int, ast.AST] = {}
        # id(scope node) -> the nodes of its own body, as walk_scope() yields
        # them: bindings and generators are read from these, not walked again.
        module_nodes: list[ast.AST] = []
        self.own: dict[int, list[ast.AST]] = {id(tree): module_nodes}
        parents = self.parents
        # id(node) -> its children: the visit reads them again, per node.
        self.children: dict[int, list[ast.AST]] = {}
        self._visitors: dict[type, Callable[[ast.AST], None]] = {}
        # id(node) -> (the dotted name it stands for, or "", its first name).
        self._resolved_names: dict[int, tuple[str, str]] = {}
        kids = self.children
        self.yielding: set[int] = set()  # id() of the own lists holding a yield
        stack: list[tuple[ast.AST, list[ast.AST]]] = [
            (child, module_nodes) for child in reversed(tree.body)
        ]
        for child in tree.body:
            parents[id(child)] = tree
        while stack:  # depth first, in source order
            node, own = stack.pop()
            own.append(node)
            if isinstance(node, _BINDERS):
                if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
                    binders.append(node)
            elif isinstance(node, ast.Yield | ast.YieldFrom):
                self.yielding.add(id(own))
            children = kids[id(node)] = child_nodes(node)
            if isinstance(node, _SCOPES):
                inner: list[ast.AST] = []
                self.own[id(node)] = inner
                body = node.body
                ids = {id(body)} if isinstance(node, ast.Lambda) else set(map(id, body))
                for child in reversed(children):
                    parents[id(child)] = node
                    stack.append((child, inner if id(child) in ids else own))
            else:
                for child in reversed(children):
                    parents[id(child)] = node
                    stack.append((child, own))
        nodes = binders
        self.imports = self._imports(nodes)
        self.module_names = self._module_names(module_nodes)
        self.coroutines = self._coroutine_names(nodes)
        self.awaited: set[int] = set()
        # id(class) -> its method names -> all coroutine functions (coroutines.py)
        self.class_coroutines: dict[int, dict[str, bool]] = {}
        self.scopes = [Scope(None, False, None)]
        # For following calls out of async code (calls.py).
        self.is_package = PurePosixPath(path).name == "__init__.py"
        if not module:  # source with no file: its path, as a dotted name
            parts = PurePosixPath(path).with_suffix("").parts
            module = ".".join(parts[:-1] if self.is_package else parts)
        self.calls = ModuleCalls(module, path)
        self.import_refs = self._import_refs(nodes)
        self.calls.never_pause = {
            node.name
            for node in tree.body
            if isinstance(node, ast.AsyncFunctionDef)
            and not any(
                isinstance(inner, ast.Await | ast.AsyncFor | ast.AsyncWith)
                for inner in self.own[id(node)]
            )
        }

    def scan(self) -> list[Finding]:
        self.visit(self.tree)
        return self.findings

    # Visiting: ast.NodeVisitor's, with less overhead per node.

    def visit(self, node: ast.AST) -> None:
        """NodeVisitor.visit(), with the method looked up once per node class."""
        kind = node.__class__
        method = self._visitors.get(kind)
        if method is None:
            method = getattr(self, f"visit_{kind.__name__}", self.generic_visit)
            self._visitors[kind] = method
        method(node)

    def generic_visit(self, node: ast.AST) -> None:
        children = self.children.get(id(node))
        for child in child_nodes(node) if children is None else children:
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
    def _import_refs(nodes: list[ast.AST]) -> dict[str, tuple[int, str, str]]:
        """Local name -> (level, module, name) of the import that binds it;
        name is "" for `import a.b as c`."""
        refs: dict[str, tuple[int, str, str]] = {}
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*":
                        local = alias.asname or alias.name
                        refs[local] = (node.level, node.module or "", alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        refs[alias.asname] = (0, alias.name, "")
        return refs

    def _call_target(self, func: ast.expr) -> str | None:
        """The project function a call may be to, "module:qualname"; None for a
        local name, or what cannot be one."""
        if isinstance(func, ast.Name) and any(
            func.id in scope.locals for scope in self.scopes
        ):
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            scope = self._binding_scope(owner)
            if owner not in ("self", "cls") and scope is not None:
                # topic.bump(), topic loaded here from Topic.objects; or
                # service.run(), service = Service(...) here.
                loaded = self._instance_model(owner)
                if loaded is not None:
                    model = ast.parse(loaded[0], mode="eval").body
                    return self._call_target(ast.Attribute(model, func.attr))
                values = scope.bound.get(owner, []) if scope.checked else []
                classes = {
                    short(value.func)
                    for value in values
                    if isinstance(value, ast.Call) and _is_class(value.func)
                }
                if len(classes) != 1 or len(values) != 1:
                    return None
                klass = ast.parse(classes.pop(), mode="eval").body
                return self._call_target(ast.Attribute(klass, func.attr))
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            # Service(request).run()
            made = func.value.func
            if _is_class(made):
                return self._call_target(ast.Attribute(made, func.attr))
            return None
        klass = self.scope.klass
        return call_target(
            func,
            module=self.calls.module,
            is_package=self.is_package,
            imports=self.import_refs,
            module_defs=self.module_names,
            klass=klass.name if klass is not None and self._top_level(klass) else None,
        )

    def _instance_model(self, name: str) -> tuple[str, list[ast.expr]] | None:
        """The model a local name holds an instance of, as written, and the
        chains it is loaded from (chains.instance_model)."""
        scope = self._binding_scope(name)
        if scope is None or not scope.checked:
            return None
        return instance_model(name, scope.bound, scope.querysets)

    def _note_formatted(
        self, node: ast.expr, written: str, method: str = "__str__"
    ) -> None:
        """str(obj), f"{obj}", obj.label(): a method of obj's model may read a
        relation (calls.py)."""
        if not isinstance(node, ast.Name):
            return
        read = self._relation_read(node, method, written)
        if read is not None:
            self.calls.reads.append(dataclasses.replace(read, method=True))

    def _relation_read(
        self, node: ast.Name, attribute: str, written: str
    ) -> RelationRead | None:
        """`node.attribute`, node an instance loaded here, for calls.py."""
        loaded = self._instance_model(node.id)
        if loaded is None:
            return None
        model, chains = loaded
        scope = self._binding_scope(node.id)
        assert scope is not None
        target = self._call_target(ast.parse(model, mode="eval").body)
        if target is None:
            return None
        return RelationRead(
            target,
            attribute,
            written,
            model,
            node.lineno,
            node.col_offset + 1,
            self._where(),
            selected(chains, scope.bound, scope.querysets),
        )

    def _note_relation(self, node: ast.Attribute) -> None:
        """`obj.relation` read on the loop (or a property that reads one), or
        `obj.method()` called: kept, to be told once the model's fields and
        methods are known (calls.py)."""
        if not isinstance(node.value, ast.Name) or not isinstance(node.ctx, ast.Load):
            return
        attribute = node.attr
        if attribute == "pk" or attribute.endswith("_id") or attribute.startswith("_"):
            return
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.Call) and parent.func is node:
            self._note_formatted(node.value, f"{short(node)}()", attribute)
            return
        read = self._relation_read(node.value, attribute, short(node))
        if read is None:
            return
        if read.selected is None or attribute in read.selected:
            return  # loaded with its rows (or perhaps: a lookup not written out)
        self.calls.reads.append(read)

    def _top_level(self, node: ast.AST) -> bool:
        return self.parents.get(id(node)) is self.tree

    def _conditional(self, node: ast.AST) -> bool:
        """`node` runs only under a condition in its function: in a branch of an
        if (or a conditional expression, a match case), an except clause, or
        the right of `and`/`or`."""
        function = self.scope.node
        child, parent = node, self.parents.get(id(node))
        while parent is not None and parent is not function:
            match parent:
                case ast.If(test=test) | ast.IfExp(test=test) if child is not test:
                    return True
                case ast.ExceptHandler() | ast.match_case():
                    return True
                case ast.BoolOp(values=[first, *_]) if child is not first:
                    return True
            child, parent = parent, self.parents.get(id(parent))
        return False

    def _note_call(self, call: ast.Call) -> None:
        """A call from async code, or from a kept sync function, for calls.py."""
        scope = self.scope
        if scope.summary is None and not scope.is_async:
            return
        if id(call) in self.awaited:
            return  # a coroutine function's: it runs on the loop, as it should
        target = self._call_target(call.func)
        if target is None:
            return
        if scope.summary is not None:
            scope.summary.calls.append((target, self._conditional(call)))
        else:
            self.calls.sites.append(
                CallSite(
                    target,
                    short(call),
                    call.lineno,
                    call.col_offset + 1,
                    self._where(),
                )
            )

    def _keeps_effects(self, node: ScopeNode) -> str | None:
        """The qualname under which a sync function's effects are kept: a
        module-level def, or a method of a module-level class; not one that
        sync_to_async wraps."""
        if not isinstance(node, ast.FunctionDef) or id(self.own[id(node)]) in (
            self.yielding
        ):
            return None  # a generator's body runs as it is iterated, not called
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self._resolve(target, SYNC_TO_ASYNC) is not None:
                return None
        parent = self.parents.get(id(node))
        if parent is self.tree:
            return node.name
        if isinstance(parent, ast.ClassDef) and self._top_level(parent):
            return f"{parent.name}.{node.name}"
        return None

    @staticmethod
    def _module_names(nodes: list[ast.AST]) -> frozenset[str]:
        """The names bound at module level (`nodes`: the module's own)."""
        names = set()
        for node in nodes:
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
        """Check what would block or break on the loop here: in async code, and
        in a sync function whose effects are kept for calls into it."""
        return self.scope.checked

    @property
    def on_loop(self) -> bool:
        """This code itself runs on the event loop."""
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
        kind = "async def" if self.scope.is_async else "def"
        return f"in {kind} {self._function_name()}()"

    def _resolve(
        self, node: ast.expr, among: Collection[str] | None = None
    ) -> str | None:
        """The dotted name a callee stands for (builtins.open, time.sleep), or None.

        With `among`, None too for a name not in it: then the scopes' names are
        read only for a name that matters.
        """
        key = id(node)
        entry = self._resolved_names.get(key) if key in self.parents else None
        if entry is None:
            entry = _dotted(node, self.imports, self.module_names)
            if key in self.parents:  # a node of the tree: its id stays its own
                self._resolved_names[key] = entry
        dotted, name = entry
        if not dotted or (among is not None and dotted not in among):
            return None
        # The innermost scope first: a local variable or parameter, not the module.
        if any(name in scope.locals for scope in reversed(self.scopes)):
            return None
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
        summary = self.scope.summary
        if summary is not None and code in LOOP_CODES:
            if level == "info":
                return  # a hint where it is, not worth a finding elsewhere
            what = short(node) if isinstance(node, ast.expr) else code
            line = getattr(node, "lineno", 0)
            conditional = self._conditional(node)
            effect = Effect(level, code, message, fix, what, line, conditional)
            summary.effects.append(effect)
            return
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
