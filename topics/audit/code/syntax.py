"""Reading the AST: a scope's own nodes, argument defaults, an expression as text."""

import ast
from collections.abc import Iterator, Sequence

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
ScopeNode = FunctionNode | ast.ClassDef


def short(node: ast.expr) -> str:
    """A call chain as one reads it: Topic.objects.filter(...).count()."""
    text = _text(node)
    # A long chain keeps its two ends: the model, and the call that matters.
    return text if len(text) <= 72 else f"{text[:40]}...{text[-29:]}"


def _text(node: ast.expr) -> str:
    match node:
        case ast.Name(id=name):
            return name
        case ast.Attribute(value=ast.BinOp() | ast.BoolOp() as value, attr=attr):
            return f"({_text(value)}).{attr}"  # (settings.BASE_DIR / "x").read_text
        case ast.Attribute(value=value, attr=attr):
            return f"{_text(value)}.{attr}"
        case ast.Call(func=func, args=args, keywords=keywords):
            return f"{_text(func)}({'...' if args or keywords else ''})"
        case ast.Subscript(value=value):
            return f"{_text(value)}[...]"
        case ast.Await(value=value):
            return f"(await {_text(value)})"
    text = ast.unparse(node)
    return text if len(text) <= 40 else f"{text[:37]}..."


def walk_scope(nodes: Sequence[ast.AST]) -> Iterator[ast.AST]:
    """Every node under `nodes`, but not inside nested functions and classes."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # Decorators and defaults run in this scope; the body does not.
            inner: list[ast.AST] = [*node.decorator_list, *defaults(node.args)]
        elif isinstance(node, ast.Lambda):
            inner = list(defaults(node.args))
        elif isinstance(node, ast.ClassDef):
            inner = [*node.decorator_list, *node.bases, *node.keywords]
        else:
            inner = child_nodes(node)
        stack.extend(reversed(inner))


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes(node) as a list, in its order; the scan's walks spend
    most of their time here, and this is about twice as fast."""
    children: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


def is_coroutine_function(node: ast.AST) -> bool:
    """An async def without yield: calling it makes a coroutine, which needs await.

    (With yield, it is an async generator: iterated with async for, not awaited.)
    """
    return isinstance(node, ast.AsyncFunctionDef) and not is_generator(node)


def is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A def with yield: calling it runs none of its body."""
    return any(
        isinstance(inner, ast.Yield | ast.YieldFrom) for inner in walk_scope(node.body)
    )


def parameters(args: ast.arguments) -> list[ast.arg]:
    """Every parameter of a function, *args and **kwargs included."""
    extra = [arg for arg in (args.vararg, args.kwarg) if arg is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def defaults(args: ast.arguments) -> list[ast.expr]:
    """The default values of a function's parameters, which run where it is defined."""
    return [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
