"""ORM QuerySet chains, and the names of a function that only ever hold one."""

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from topics.audit.code.rules import (
    ASYNC_METHODS,
    INSTANCE_LOADS,
    QUERYING_MANAGER_METHODS,
    QUERYING_PREFIXES,
    QUERYSET_ANNOTATIONS,
    SYNC_INSTANCE_LOADS,
    SYNC_METHODS,
)
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
            name in SYNC_METHODS
            or name in ASYNC_METHODS
            or name in QUERYING_MANAGER_METHODS
            or name.startswith(QUERYING_PREFIXES)
            for name in self.methods
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


# What a name is bound to: a value, a parameter (annotated or not), the loop
# whose target it is (`for x in ...`, async or not, or a comprehension's), or
# None for anything else (a with target, a def, an augmented assignment).
Loop = ast.For | ast.AsyncFor | ast.comprehension
Binding = ast.expr | ast.arg | Loop | None


def bindings(
    function: FunctionNode, own: list[ast.AST] | None = None
) -> dict[str, list[Binding]]:
    """Each name bound in the function (imports aside) -> what it is bound to.

    `own`: the nodes of its body, walk_scope()'s, when already at hand.
    """
    bound: dict[str, list[Binding]] = {}
    for arg in parameters(function.args):
        bound.setdefault(arg.arg, []).append(arg)
    simple: dict[int, ast.expr] = {}
    nodes = own if own is not None else list(walk_scope(_body(function)))
    for node in nodes:
        match node:
            case ast.Assign(targets=[ast.Name() as target], value=value):
                simple[id(target)] = value
            case ast.AnnAssign(target=ast.Name() as target, value=ast.expr() as value):
                simple[id(target)] = value
            case ast.NamedExpr(target=target, value=value):
                simple[id(target)] = value
            case (
                ast.For(target=ast.Name() as target)
                | ast.AsyncFor(target=ast.Name() as target)
                | ast.comprehension(target=ast.Name() as target)
            ):
                simple[id(target)] = node
    for node, name in _bound_here(nodes):
        bound.setdefault(name, []).append(simple.get(id(node)))
    return bound


def bound_names(
    function: FunctionNode, own: list[ast.AST] | None = None
) -> frozenset[str]:
    """The names bound in the function: frozenset(bindings(function)), cheaper."""
    names = {arg.arg for arg in parameters(function.args)}
    nodes = own if own is not None else walk_scope(_body(function))
    names.update(name for _, name in _bound_here(nodes))
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
        return False  # a parameter annotated QuerySet: any QuerySet; a loop
    chain = queryset_chain(value, querysets)
    return chain is not None and chain.related


def _holds_queryset(value: Binding, querysets: Mapping[str, bool]) -> bool:
    if isinstance(value, ast.arg):
        return _is_queryset_annotation(value.annotation)
    if not isinstance(value, ast.expr):
        return False  # a loop's target, or anything else
    # `qs = qs.filter(...)` counts once the other bindings of qs hold one.
    chain = queryset_chain(value, querysets)
    return chain is not None and chain.lazy


# A related manager's chain, evaluated: who owns the relation, and whether the
# function that evaluates it shows the relation prefetched.

Bound = Mapping[str, list[Binding]]


def related_owners(
    node: ast.expr,
    bound: Bound,
    querysets: Mapping[str, bool],
    seen: frozenset[str] = frozenset(),
) -> list[tuple[ast.expr, str]] | None:
    """(owner, relation) for `owner.relation.all()`, which a prefetch of the
    relation answers without a query; for a name only ever bound to such chains
    (`files = agent.files.all()`), each of them. None for anything else: a
    filter(), order_by()... queries prefetched or not."""
    match node:
        case ast.Call(
            func=ast.Attribute(
                value=ast.Attribute(value=owner, attr=relation) as manager,
                attr="all",
            ),
            args=[],
            keywords=[],
        ) if isinstance(owner, ast.Name | ast.Attribute) and _is_dotted(manager):
            return [(owner, relation)]
        case ast.Name(id=name) if querysets.get(name) and name not in seen:
            pairs: list[tuple[ast.expr, str]] = []
            for value in bound.get(name, []):
                if not isinstance(value, ast.expr):
                    return None
                found = related_owners(value, bound, querysets, seen | {name})
                if found is None:
                    return None
                pairs += found
            return pairs or None
    return None


def prefetched(
    owner: ast.expr, relation: str, bound: Bound, querysets: Mapping[str, bool]
) -> bool | None:
    """Whether the instances `owner` holds come from queries of this function
    that prefetch `relation` (True), or from queries of it that do not (False).
    None when the function cannot tell: a parameter, a helper's result, an
    attribute, a loop over something else, or both kinds of query."""
    if not isinstance(owner, ast.Name) or not bound.get(owner.id):
        return None
    verdicts: set[bool | None] = set()
    for value in bound[owner.id]:
        chains = _loaded_from(value, owner.id, bound, querysets)
        if chains is None:
            return None
        verdicts.update(
            _prefetches(chain, relation, bound, querysets) for chain in chains
        )
    return verdicts.pop() if len(verdicts) == 1 else None


def _loaded_from(
    value: Binding, name: str, bound: Bound, querysets: Mapping[str, bool]
) -> list[ast.expr] | None:
    """The QuerySet chains an instance bound to `name` was loaded from, when
    the binding shows them: `await <chain>.aget()`, `await
    aget_object_or_404(<chain or model>)`, `async for name in <chain>`, `for
    name in rows` with rows = [x async for x in <chain>]."""
    match value:
        case ast.Await(value=ast.Call(func=ast.Attribute(value=chain, attr=attr))) if (
            attr in INSTANCE_LOADS
        ):
            chains = [chain]
        case ast.Await(
            value=ast.Call(
                func=ast.Name(id="aget_object_or_404")
                | ast.Attribute(attr="aget_object_or_404"),
                args=[klass, *_],
            )
        ):
            # A model class stands for its default manager's QuerySet.
            model = isinstance(klass, ast.Name) and klass.id[:1].isupper()
            chains = [ast.Attribute(klass, "objects") if model else klass]
        case ast.For() | ast.AsyncFor() | ast.comprehension():
            chains = [value.iter]
            if isinstance(value.iter, ast.Name) and value.iter.id not in querysets:
                listed = value.iter.id
                if listed == name or not bound.get(listed):
                    return None
                chains = [_listed_chain(row) for row in bound[listed]]
        case _:
            return None
    if any(c is None or queryset_chain(c, querysets) is None for c in chains):
        return None
    return [chain for chain in chains if chain is not None]


def instance_model(
    name: str, bound: Bound, querysets: Mapping[str, bool]
) -> tuple[str, list[ast.expr]] | None:
    """The model class (as written: "Topic", "blog.Topic" is "blog.Topic") whose
    instance `name` holds, and the chains it was loaded from, when every binding
    of `name` in the function is a load from that model's manager: `await
    Topic.objects.aget(...)`, `async for name in Topic.objects...`, the sync
    `Topic.objects.get(...)`; None otherwise."""
    models: set[str] = set()
    chains: list[ast.expr] = []
    for value in bound.get(name, []):
        match value:
            case ast.Call(func=ast.Attribute(value=chain, attr=attr)) if (
                attr in SYNC_INSTANCE_LOADS
            ):
                loaded = [chain]
            case _:
                loaded = _loaded_from(value, name, bound, querysets)
        if not loaded:
            return None
        for chain in loaded:
            model = _manager_model(chain, bound, querysets)
            if model is None:
                return None
            models.add(model)
        chains += loaded
    if len(models) != 1:
        return None
    return models.pop(), chains


# QuerySet methods whose rows are not the model's instances.
ROWS_NOT_INSTANCES = frozenset({"values", "values_list", "dates", "datetimes"})


def _manager_model(
    node: ast.expr,
    bound: Bound,
    querysets: Mapping[str, bool],
    seen: frozenset[str] = frozenset(),
) -> str | None:
    """ "Topic" for a chain rooted at Topic.objects (or a name only ever bound to
    one such chain)."""
    while True:
        match node:
            case ast.Call(func=ast.Attribute(value=value, attr=attr)):
                if attr in ROWS_NOT_INSTANCES:
                    return None  # dicts, tuples, values: no model instance
                node = value
            case ast.Subscript(value=value, slice=ast.Slice()):
                node = value
            case ast.Attribute(value=model, attr="objects" | "_default_manager") if (
                isinstance(model, ast.Name | ast.Attribute) and _is_dotted(model)
            ):
                text = short(model)
                return text if text.rpartition(".")[2][:1].isupper() else None
            case ast.Name(id=name) if name in querysets and name not in seen:
                values = bound.get(name, [])
                if len(values) != 1 or not isinstance(values[0], ast.expr):
                    return None
                node, seen = values[0], seen | {name}
            case _:
                return None


def selected(
    chains: list[ast.expr], bound: Bound, querysets: Mapping[str, bool]
) -> frozenset[str] | None:
    """The relations the chains load with their rows (select_related() or
    prefetch_related() of them, first part of the lookup); None when that may
    be every one: select_related() alone, a lookup not written out."""
    names: set[str] = set()
    for chain in chains:
        node, seen = chain, frozenset[str]()
        while True:
            match node:
                case ast.Call(func=ast.Attribute(value=value, attr=attr), args=args):
                    if attr == "select_related" and not args:
                        return None
                    if attr in ("select_related", "prefetch_related"):
                        for arg in args:
                            if not isinstance(arg, ast.Constant):
                                return None
                            names.add(str(arg.value).split("__")[0])
                    node = value
                case ast.Subscript(value=value):
                    node = value
                case ast.Name(id=name) if name in querysets and name not in seen:
                    values = bound.get(name, [])
                    if len(values) != 1 or not isinstance(values[0], ast.expr):
                        return None
                    node, seen = values[0], seen | {name}
                case _:
                    break
    return frozenset(names)


def _listed_chain(value: Binding) -> ast.expr | None:
    """<chain> for a list of its rows, [x async for x in <chain>]."""
    match value:
        case ast.ListComp(
            elt=ast.Name(id=row),
            generators=[ast.comprehension(target=ast.Name(id=target), iter=chain)],
        ) if row == target:
            return chain
    return None


def _prefetches(
    node: ast.expr,
    relation: str,
    bound: Bound,
    querysets: Mapping[str, bool],
    seen: frozenset[str] = frozenset(),
) -> bool | None:
    """Whether the QuerySet chain prefetches `relation`; None: it cannot be told
    (a QuerySet parameter, a lookup not written out, a name bound both ways)."""
    unknown = False
    while True:
        match node:
            case ast.Call(func=ast.Attribute(value=value, attr=attr)):
                if attr == "prefetch_related":
                    names = _names_relation(node, relation)
                    if names:
                        return True
                    unknown = unknown or names is None
                node = value
            case ast.Subscript(value=value, slice=ast.Slice()):
                node = value
            case ast.Attribute() if _is_dotted(node):
                # Model.objects, or the related manager the rows came from.
                return None if unknown else False
            case ast.Name(id=name) if name in querysets and name not in seen:
                verdicts = {
                    _prefetches(value, relation, bound, querysets, seen | {name})
                    if isinstance(value, ast.expr)
                    else None
                    for value in bound.get(name, [None])
                }
                verdict = verdicts.pop() if len(verdicts) == 1 else None
                return None if verdict is False and unknown else verdict
            case _:
                return None


def _names_relation(call: ast.Call, relation: str) -> bool | None:
    """prefetch_related("relation"), ("relation__..."), or Prefetch("relation")
    without to_attr (which leaves the manager unprefetched). None: a lookup that
    is not written out."""
    unknown = False
    for arg in call.args:
        match arg:
            case ast.Call(func=ast.Name(id=cls) | ast.Attribute(attr=cls)) if (
                cls == "Prefetch"
            ):
                lookup = arg.args[0] if arg.args else None
                to_attr = None
                for keyword in arg.keywords:
                    if keyword.arg == "lookup":
                        lookup = keyword.value
                    elif keyword.arg == "to_attr":
                        to_attr = keyword.value
                if to_attr is not None and not (
                    isinstance(to_attr, ast.Constant) and to_attr.value is None
                ):
                    continue
            case _:
                lookup = arg
        match lookup:
            case ast.Constant(value=str(text)):
                if text == relation or text.startswith(f"{relation}__"):
                    return True
            case ast.Constant(value=None):
                pass
            case _:
                unknown = True
    return None if unknown else False
