"""The code that runs behind a URL pattern's callback, through the wrappers of
Django REST framework, adrf and django-ninja.

Duck-typed on the shapes those libraries build, so the audit needs none of them
installed: DRF's and adrf's as_view() set `cls` on the view (Django's own sets
`view_class`); their @api_view builds a class named WrappedAPIView whose handler
closes over the decorated function as `func`; django-ninja routes every path to
one wrapper of a PathView (its bound `_sync_view` or `_async_view` in ninja 1.3, a
closure over it in 1.7), whose `operations` each hold a `view_func`.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction


@dataclass(frozen=True)
class Handler:
    """What one callback runs: a function, or a class-based view's class."""

    target: Any
    mode: str  # "async" or "sync", as Django runs it (ninja: as ninja does)
    hidden_coroutine: Callable | None = None  # an async function run as sync


def handlers(callback: Callable) -> list[Handler]:
    """The functions or classes `callback` runs: one, or one per django-ninja
    operation on its path. Never raises on an odd callback: it is its own handler.
    """
    mode = "async" if iscoroutinefunction(callback) else "sync"
    if (path_view := _ninja_path_view(callback)) is not None:
        return [
            Handler(operation.view_func, _mode(operation.view_func))
            for operation in path_view.operations
        ]
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if not inspect.isclass(view_class):
        return [Handler(callback, mode)]
    function = _api_view_function(view_class)
    if function is None:
        # DRF's APIView.dispatch() calls the handler and never awaits it;
        # adrf's APIView, a subclass, does.
        hidden = _async_handler(view_class) if _drf_dispatch(view_class) else None
        return [Handler(view_class, mode, hidden)]
    # DRF's @api_view calls an async function without awaiting it; adrf's awaits.
    hidden = function if mode == "sync" and _mode(function) == "async" else None
    return [Handler(function, mode, hidden)]


def _drf_dispatch(view_class: type) -> bool:
    """Whether the class dispatches as DRF's APIView does, sync: it is one, and
    nothing in its MRO comes from adrf."""
    modules = [klass.__module__ for klass in view_class.__mro__]
    is_drf = any(
        klass.__name__ == "APIView" and klass.__module__ == "rest_framework.views"
        for klass in view_class.__mro__
    )
    return is_drf and not any(m == "adrf" or m.startswith("adrf.") for m in modules)


def _async_handler(view_class: type) -> Callable | None:
    """The first async HTTP method handler of the class, if any."""
    for name in getattr(view_class, "http_method_names", ()):
        handler = getattr(view_class, name, None)
        if handler is not None and _mode(handler) == "async":
            return handler
    return None


def _mode(function: Callable) -> str:
    is_async = iscoroutinefunction(function) or inspect.isasyncgenfunction(function)
    return "async" if is_async else "sync"


def _ninja_path_view(callback: Callable) -> Any | None:
    candidates = [getattr(callback, "__self__", None)]
    candidates += [cell.cell_contents for cell in _cells(callback)]
    for candidate in candidates:
        operations = getattr(candidate, "operations", None)
        if (
            isinstance(operations, list)
            and operations
            and all(callable(getattr(op, "view_func", None)) for op in operations)
        ):
            return candidate
    return None


def _api_view_function(view_class: type) -> Callable | None:
    if view_class.__qualname__ != "WrappedAPIView":
        return None
    for name in getattr(view_class, "http_method_names", ()):
        handler = vars(view_class).get(name)
        code = getattr(handler, "__code__", None)
        if code is None or "func" not in code.co_freevars:
            continue
        cell = handler.__closure__[code.co_freevars.index("func")]
        if callable(function := _contents(cell)):
            return function
    return None


def _cells(function: Callable) -> list:
    cells = getattr(function, "__closure__", None) or ()
    return [cell for cell in cells if _contents(cell) is not None]


def _contents(cell: Any) -> Any | None:
    try:
        return cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return None
