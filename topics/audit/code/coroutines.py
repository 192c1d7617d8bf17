"""The coroutine checks of the scan: calls never awaited, tasks nobody keeps."""

import ast

from topics.audit.code.base import ScannerBase
from topics.audit.code.rules import (
    AREA,
    ASYNC_ANY_RECEIVER,
    ASYNC_METHODS,
    AWAIT_FIX,
    COROUTINE_FUNCTIONS,
    DROPPED_TASK,
    FUTURE,
    FUTURE_FUNCTIONS,
    FUTURE_METHODS,
    HAND_ON_METHODS,
    NOT_AWAITED,
    SYNC_TO_ASYNC,
    TASK_FACTORIES,
    TASK_FIX,
)
from topics.audit.code.syntax import is_coroutine_function, short, walk_scope
from topics.audit.findings import Finding

# Calls that read what they are given as plain values: a coroutine object in
# their arguments is a bug, not a hand-off (classes named *Response or
# *Serializer, and render() methods, count too).
VALUE_SINKS = frozenset(
    {
        "django.shortcuts.render",
        "django.template.loader.render_to_string",
        "json.dumps",
        *(
            f"builtins.{name}"
            for name in ("str", "repr", "format", "print", "int", "float", "bool")
        ),
    }
)

_MAKE_COROUTINES = FUTURE_FUNCTIONS | COROUTINE_FUNCTIONS


def _describe(call: ast.Call, what: str) -> str:
    """Why a call needs await: "fetch() is an async def of this module"."""
    match call.func:
        case ast.Call(func=maker):  # sync_to_async(f)(...)
            return f"{short(maker)}() returns {what}"
        case ast.Attribute(attr=attr):
            callee = f"{attr}()"  # the chain before it is in the message already
        case func:
            callee = f"{short(func)}()"
    return f"{callee} returns {what}" if what == FUTURE else f"{callee} is {what}"


class CoroutineChecks(ScannerBase):
    """Coroutines never awaited (code.not-awaited), tasks let go (code.dropped-task)."""

    def _coroutine(self, call: ast.Call) -> str | None:
        """How `call` is known to make a coroutine, or None when it is not known."""
        func = call.func
        match func:
            case ast.Name(id=name) if name in self.coroutines:
                return "an async def of this module"
            case ast.Attribute(value=ast.Name(id="self" | "cls"), attr=attr) if (
                self._async_method(attr)
            ):
                return "an async def of this class"
            case ast.Attribute(attr=attr) if attr in ASYNC_ANY_RECEIVER:
                return "a coroutine method"
            case ast.Attribute(value=value, attr=attr) if attr in ASYNC_METHODS and (
                self._chain(value) is not None
            ):
                return "an async ORM method"
            case ast.Call(func=inner) if self._resolve(inner, SYNC_TO_ASYNC):
                return "a coroutine function"
        name = self._resolve(func, _MAKE_COROUTINES)
        if name in FUTURE_FUNCTIONS:
            return FUTURE
        if name in COROUTINE_FUNCTIONS:
            return "a coroutine function"
        return None

    def _async_method(self, name: str) -> bool:
        klass = self.scope.klass
        if klass is None:
            return False
        return self._class_coroutines(klass).get(name, False)

    def _class_coroutines(self, klass: ast.ClassDef) -> dict[str, bool]:
        """Each method name of `klass` -> whether every def of it is a coroutine
        function; read once per class, not once per self.x() call."""
        known = self.class_coroutines.get(id(klass))
        if known is None:
            known = {}
            for item in klass.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    is_coroutine = is_coroutine_function(item)
                    known[item.name] = known.get(item.name, True) and is_coroutine
            self.class_coroutines[id(klass)] = known
        return known

    def _check_dropped(self, call: ast.Call) -> None:
        """A bare call statement: a coroutine never awaited, or a task let go."""
        why = self._coroutine(call)
        if why is not None:
            self._report(
                call,
                "error",
                NOT_AWAITED,
                f"{short(call)} is never awaited, so "
                + (
                    "its result and errors are lost"
                    if why == FUTURE
                    else "it never runs"
                )
                + f": {_describe(call, why)}.",
                AWAIT_FIX,
            )
        elif self._resolve(call.func, TASK_FACTORIES) and not self._never_pauses(call):
            coroutine = self._imported_coroutine(call)
            if coroutine is not None:
                # Another module's: told once its body is known (calls.py).
                self.calls.tasks.append(
                    (
                        coroutine,
                        Finding(
                            level="warning",
                            code=DROPPED_TASK,
                            area=AREA,
                            location=f"{self.path}:{call.lineno}",
                            message=f"{short(call)} keeps no reference to its task: "
                            "the loop holds tasks weakly, so it may be destroyed "
                            "before it is done.",
                            fix=TASK_FIX,
                            column=call.col_offset + 1,
                        ),
                    )
                )
                return
            self._report(
                call,
                "warning",
                DROPPED_TASK,
                f"{short(call)} keeps no reference to its task: the loop holds "
                "tasks weakly, so it may be destroyed before it is done.",
                TASK_FIX,
            )

    def _imported_coroutine(self, call: ast.Call) -> str | None:
        """create_task(f()) with f imported from a module of the project: f's
        "module:name"."""
        match call.args:
            case [ast.Call(func=ast.Name(id=name) as func), *_] if (
                name in self.import_refs
            ):
                return self._call_target(func)
        return None

    def _never_pauses(self, call: ast.Call) -> bool:
        """create_task(f()) where f is an async def of the module that awaits
        nothing: its task runs to the end at its first step, and cannot be lost
        half-way."""
        match call.args:
            case [ast.Call(func=ast.Name(id=name)), *_] if name in self.coroutines:
                pass
            case _:
                return False
        for node in self.tree.body:
            if isinstance(node, ast.AsyncFunctionDef) and node.name == name:
                return not any(
                    isinstance(inner, ast.Await | ast.AsyncFor | ast.AsyncWith)
                    for inner in self.own[id(node)]
                )
        return False

    def _check_misused(self, node: ast.expr) -> None:
        """A coroutine used as a value: `if coro():`, `coro() + 1`, f"{coro()}"."""
        if not isinstance(node, ast.Call) or id(node) in self.awaited:
            return
        why = self._coroutine(node)
        if why is not None:
            read = "the Future" if why == FUTURE else "a coroutine object"
            self._report(
                node,
                "error",
                NOT_AWAITED,
                f"{short(node)} is used without await: {_describe(node, why)}, so "
                f"this reads {read}, not its result.",
                f"await {short(node)} here.",
            )

    def _note_coroutine_assignment(self, node: ast.Assign) -> None:
        """`name = coroutine()` in a function, for _check_unawaited_assignments."""
        if not isinstance(self.scope.node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        match node:
            case ast.Assign(targets=[ast.Name(id=name)], value=ast.Call() as call):
                if (why := self._coroutine(call)) is not None:
                    assigned = self.scope.coroutine_assignments
                    assigned.setdefault(name, []).append((node, call, why))

    def _check_unawaited_assignments(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> None:
        """`count = Model.objects.acount()`, then count is never awaited."""
        assigned = self.scope.coroutine_assignments
        if not assigned:
            return  # most functions: no need to read their names
        stores: dict[str, int] = {}
        for node in walk_scope(function.body):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
        for name, assignments in assigned.items():
            if stores[name] != 1:
                continue  # re-bound: flow matters, which this scan does not follow
            uses = [
                node
                for node in ast.walk(function)
                if isinstance(node, ast.Name)
                and node.id == name
                and isinstance(node.ctx, ast.Load)
            ]
            if any(self._hands_on(use, function) for use in uses):
                continue
            assignment, call, why = assignments[0]
            sinks = [s for use in uses if (s := self._sink_of(use, function))]
            read = (
                f"; {sinks[0]} gets the coroutine object, not its result"
                if sinks
                else ""
            )
            self._report(
                assignment,
                "error",
                NOT_AWAITED,
                f"{short(call)} is assigned to {name} but never awaited: "
                f"{_describe(call, why)}{read}.",
                f"Await it: {name} = await {short(call)}",
            )

    def _hands_on(self, use: ast.Name, function: ast.AST) -> bool:
        """The coroutine in `use` goes where it may be awaited: await, a call, out.

        In a list, tuple, set or dict literal, where the literal goes decides: to
        asyncio.gather(*[...]), a loop or an unknown function, it may be awaited
        there; into a response, a template context or a serializer, not.
        """
        node, parent = _out_of_containers(use, self.parents)
        if node is not use:
            return self._sink_of(use, function) is None
        match parent:
            case ast.Await() | ast.Return() | ast.Yield() | ast.YieldFrom():
                return True
            case ast.Call(func=func):
                # An argument, not `coro()`; str(coro) or print(coro) reads it.
                return func is not use and self._sink(parent) is None
            case ast.keyword() | ast.Starred():
                return True
            case ast.Assign() | ast.AnnAssign() | ast.NamedExpr():
                return True
            case ast.Attribute(attr=attr):
                return attr in HAND_ON_METHODS | FUTURE_METHODS
            case ast.withitem() | ast.Lambda():
                return True
        return False

    def _sink_of(
        self, use: ast.Name, function: ast.AST, follow: bool = True
    ) -> str | None:
        """The call that reads the coroutine in `use` as a plain value (in a
        container literal, or a name bound once to one): JsonResponse(),
        render(), a serializer, str()... None when none does."""
        node, parent = _out_of_containers(use, self.parents)
        if isinstance(parent, ast.keyword):
            node, parent = parent, self.parents.get(id(parent))
        if isinstance(parent, ast.Call) and parent.func is not node:
            return self._sink(parent)
        match parent:
            case ast.Assign(targets=[ast.Name(id=name)], value=value) if (
                follow and value is node and node is not use
            ):
                # context = {"total": total}; render(request, ..., context)
                for other in ast.walk(function):
                    if (
                        isinstance(other, ast.Name)
                        and other.id == name
                        and isinstance(other.ctx, ast.Load)
                        and (sink := self._sink_of(other, function, follow=False))
                    ):
                        return sink
        return None

    def _sink(self, call: ast.Call) -> str | None:
        """`call` as written when it reads its arguments as plain values."""
        name = self._resolve(call.func) or ""
        last = short(call.func).rpartition(".")[2]
        if (
            name in VALUE_SINKS
            or last.endswith(("Response", "Serializer"))
            or last in ("render", "render_to_string", "dumps")
        ):
            return f"{short(call.func)}()"
        return None


def _out_of_containers(
    node: ast.expr, parents: dict[int, ast.AST]
) -> tuple[ast.expr, ast.AST | None]:
    """The outermost list/tuple/set/dict literal (or *starred) holding `node`,
    and what holds that."""
    parent = parents.get(id(node))
    while isinstance(parent, ast.List | ast.Tuple | ast.Set | ast.Dict | ast.Starred):
        node, parent = parent, parents.get(id(parent))
    return node, parent
