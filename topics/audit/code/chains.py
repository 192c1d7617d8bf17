"""ORM QuerySet chains, and the names of a function that only ever hold one."""

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from topics.audit.code.rules import ASYNC_METHODS, QUERYSET_ANNOTATIONS, SYNC_METHODS
from topics.audit.code.syntax import FunctionNode, parameters, short, walk_scope


@dataclass(frozen=True)
class Chain:
    """A QuerySet built by a call chain: its root and its methods, root first."""

    root: str
    methods: tuple[str, ...]
    related: bool  # rooted at obj.relation.all(): free once prefetched

    @property
    def lazy(self) -> bool:
        """Nothing in it has run a query, or made a coroutine, yet."""
        return not any(
            name in SYNC_METHODS or name in ASYNC_METHODS for name in self.methods
        )


def queryset_chain(node: ast.expr, querysets: Mapping[str, bool]) -> Chain | None:
    """The QuerySet chain `node` is, or None when it is not one.

    `querysets`: the names that hold one -> whether it is a related manager's.
    """
    methods: list[str] = []
    while True:
        match node:
            case ast.Call(func=ast.Attribute(value=value, attr=attr)):
                methods.append(attr)
                node = value
            case ast.Subscript(value=value, slice=ast.Slice()):
                node = value  # a slice stays lazy
            case ast.Attribute(value=value, attr=attr) if _is_manager(value, attr):
                return Chain(short(node), tuple(reversed(methods)), related=False)
            case ast.Attribute(value=ast.Name() | ast.Attribute()) if (
                methods and methods[-1] == "all" and _is_dotted(node)
            ):
                # topic.tags.all(): a related manager, which needs an attribute.
                return Chain(short(node), tuple(reversed(methods)), related=True)
            case ast.Name(id=name) if name in querysets:
                return Chain(name, tuple(reversed(methods)), querysets[name])
            case _:
                return None


def _is_dotted(node: ast.expr) -> bool:
    """A plain name or a.b.c: something a model class can be read from."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _is_manager(model: ast.expr, attr: str) -> bool:
    """Model.objects, self.model.objects, anything._default_manager."""
    if attr == "_default_manager":
        return _is_dotted(model)
    if attr != "objects" or not _is_dotted(model):
        return False
    match model:
        case ast.Name(id=name) | ast.Attribute(attr=name):
            # A class (or self.model): so that self.objects.get(key) is left alone.
            return name[:1].isupper() or name == "model"
    return False


def _is_queryset_annotation(annotation: ast.expr | None) -> bool:
    match annotation:
        case ast.Subscript(value=value):
            return _is_queryset_annotation(value)
        case ast.Name(id=name) | ast.Attribute(attr=name):
            return name in QUERYSET_ANNOTATIONS
        case ast.Constant(value=str(text)):
            return text.split("[")[0].split(".")[-1] in QUERYSET_ANNOTATIONS
    return False


# What a name is bound to: a value, a parameter (annotated or not), or None for
# anything else (a for target, a with target, a def, an augmented assignment).
Binding = ast.expr | ast.arg | None


def bindings(function: FunctionNode) -> dict[str, list[Binding]]:
    """Each name bound in the function (imports aside) -> what it is bound to."""
    bound: dict[str, list[Binding]] = {}
    for arg in parameters(function.args):
        bound.setdefault(arg.arg, []).append(arg)
    simple: dict[int, ast.expr] = {}
    nodes = list(walk_scope(_body(function)))
    for node in nodes:
        match node:
            case ast.Assign(targets=[ast.Name() as target], value=value):
                simple[id(target)] = value
            case ast.AnnAssign(target=ast.Name() as target, value=ast.expr() as value):
                simple[id(target)] = value
            case ast.NamedExpr(target=target, value=value):
                simple[id(target)] = value
    for node, name in _bound_here(nodes):
        bound.setdefault(name, []).append(simple.get(id(node)))
    return bound


def bound_names(function: FunctionNode) -> frozenset[str]:
    """The names bound in the function: frozenset(bindings(function)), cheaper."""
    names = {arg.arg for arg in parameters(function.args)}
    names.update(name for _, name in _bound_here(walk_scope(_body(function))))
    return frozenset(names)


def _body(function: FunctionNode) -> list[ast.AST]:
    return [function.body] if isinstance(function, ast.Lambda) else function.body


def _bound_here(nodes: Iterable[ast.AST]) -> Iterator[tuple[ast.AST, str]]:
    """(node, name) for each node of a scope that binds a name."""
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node, node.id
        elif isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ) or (isinstance(node, ast.ExceptHandler) and node.name):
            yield node, node.name


def queryset_names(bound: dict[str, list[Binding]]) -> dict[str, bool]:
    """Names that only ever hold a lazy QuerySet chain (or are QuerySet params)
    -> whether every one of those chains is a related manager's, obj.rel.all():
    `files = agent.files.all()` is no more a sure query than the chain itself."""
    names: set[str] = set()
    changed = True
    while changed:  # `qs = other.filter(...)` needs `other` known first
        changed = False
        for name, values in bound.items():
            if name in names:
                continue
            known = dict.fromkeys([*names, name], False)
            if all(_holds_queryset(value, known) for value in values):
                names.add(name)
                changed = True
    # Related until a binding says otherwise: `qs = qs.filter(...)` is related
    # when the other bindings of qs are.
    related = dict.fromkeys(names, True)
    changed = True
    while changed:
        changed = False
        for name in names:
            if related[name] and not all(
                _is_related(value, related) for value in bound[name]
            ):
                related[name] = False
                changed = True
    return related


def _is_related(value: Binding, querysets: Mapping[str, bool]) -> bool:
    if not isinstance(value, ast.expr):
        return False  # a parameter annotated QuerySet: any QuerySet
    chain = queryset_chain(value, querysets)
    return chain is not None and chain.related


def _holds_queryset(value: Binding, querysets: Mapping[str, bool]) -> bool:
    if isinstance(value, ast.arg):
        return _is_queryset_annotation(value.annotation)
    if value is None:
        return False
    # `qs = qs.filter(...)` counts once the other bindings of qs hold one.
    chain = queryset_chain(value, querysets)
    return chain is not None and chain.lazy
