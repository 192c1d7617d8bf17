"""The visitor of the scan: which code runs on the loop, and what to check where."""

import ast

from topics.audit.code.base import Scope
from topics.audit.code.blocking import BlockingChecks
from topics.audit.code.calls import Summary
from topics.audit.code.coroutines import CoroutineChecks
from topics.audit.code.orm import OrmChecks
from topics.audit.code.rules import (
    ATOMIC,
    BLOCKING,
    BLOCKING_CALLS,
    BLOCKING_PREFIXES,
    BRIDGE_FIX,
    FUTURE_METHODS,
    HAND_ON_METHODS,
    RECEIVER,
    RELATION_FIELDS,
    STR,
    SYNC_ORM,
)
from topics.audit.code.syntax import FunctionNode, defaults, short
from topics.audit.code.threads import ThreadChecks
from topics.audit.code.views import ViewChecks


class Scanner(BlockingChecks, OrmChecks, CoroutineChecks, ViewChecks, ThreadChecks):
    """Visits one module, entering scopes, and runs each check where it applies."""

    # Scopes.

    def _enter(self, node: FunctionNode, *, is_async: bool) -> None:
        klass = self.scope.node if isinstance(self.scope.node, ast.ClassDef) else None
        if klass is None:
            klass = self.scope.klass  # a closure in a method still sees `self`
        scope = Scope(node, is_async, klass, own=self.own[id(node)])
        if not is_async and not isinstance(node, ast.Lambda):
            qualname = self._keeps_effects(node)
            if qualname is not None:
                scope.summary = self.calls.summaries[qualname] = Summary()
        self.scopes.append(scope)

    def _visit_function(self, node: FunctionNode, *, is_async: bool) -> None:
        if not isinstance(node, ast.Lambda):
            for decorator in node.decorator_list:
                self.visit(decorator)
        for default in defaults(node.args):
            self.visit(default)
        self._enter(node, is_async=is_async)
        if isinstance(node, ast.Lambda):
            self.visit(node.body)
        else:
            for statement in node.body:
                self.visit(statement)
            self._check_unawaited_assignments(node)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node, is_async=False)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self._resolve(target, {ATOMIC}) is not None:
                self._report(
                    decorator,
                    "error",
                    SYNC_ORM,
                    f"@transaction.atomic cannot wrap async def {node.name}(): it "
                    "needs the sync connection, and would not span the awaits.",
                    "Put the transaction in one sync function and await "
                    "sync_to_async(that_function)(...).",
                )
        self._check_view_decorators(node)
        self._visit_function(node, is_async=True)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_function(node, is_async=False)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(child)
        self._check_class_view(node)
        if self._top_level(node):
            bases = [self._call_target(base) for base in node.bases]
            self.calls.classes[node.name] = [b for b in bases if b is not None]
            relations = [
                target.id
                for statement in node.body
                if isinstance(statement, ast.Assign | ast.AnnAssign)
                and isinstance(statement.value, ast.Call)
                and short(statement.value.func).endswith(RELATION_FIELDS)
                for target in (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                )
                if isinstance(target, ast.Name)
            ]
            if relations:
                self.calls.relations[node.name] = relations
        # A class body runs where it stands: in the enclosing function, if any.
        outer = self.scope
        self.scopes.append(
            Scope(node, outer.is_async, node, names_of=outer, own=self.own[id(node)])
        )
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    # Statements and expressions.

    def visit_Await(self, node: ast.Await) -> None:
        self.awaited.add(id(node.value))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._note_coroutine_assignment(node)
        self._check_kept_task(node)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self._check_dropped(node.value)
            self._check_dropped_loop_work(node.value)
        self.generic_visit(node)

    def _note_receiver(self, node: ast.expr) -> None:
        """A signal connected to a receiver: @receiver(signal), signal.connect()."""
        match node:
            case ast.Call(func=func, args=[first, *_]) if self._resolve(func, RECEIVER):
                signals = (
                    first.elts if isinstance(first, ast.List | ast.Tuple) else [first]
                )
            case ast.Call(func=ast.Attribute(value=signal, attr="connect")):
                signals = [signal]
            case _:
                return
        for signal in signals:
            target = self._call_target(signal)
            if target is not None:
                self.calls.receivers.add(target)

    def visit_Call(self, node: ast.Call) -> None:
        self._note_receiver(node)
        if self.on_loop and len(node.args) == 1 and self._resolve(node.func, STR):
            self._note_formatted(node.args[0], f"str({short(node.args[0])})")
        if self.in_async:
            self._check_blocking(node)
            if self.on_loop:  # a sync view's stream is not buffered under WSGI
                self._check_streaming(node)
            if not self._check_validation(node):  # a form's: said more precisely
                self._check_orm_call(node)
            self._check_more_blocking(node)
            self._note_call(node)
        self._check_thread_call(node)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if self.in_async:
            self._check_evaluated(node.iter, "for")
        self._check_misused(node.iter)
        self._check_startup_iter(node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if self.in_async and not node.is_async:
            self._check_evaluated(node.iter, "for")
        self._check_startup_iter(node.iter)
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        self._check_test(node.test)
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self._check_test(node.test)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._check_test(node.test)
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        self._check_test(node.test)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self._check_test(value)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._check_test(node.operand)
        else:
            self._check_misused(node.operand)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self._check_misused(node.left)
        self._check_misused(node.right)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for operand in [node.left, *node.comparators]:
            self._check_misused(operand)
        if self.in_async:
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    self._check_evaluated(right, "in")
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        self._check_misused(node.value)
        if self.on_loop:
            self._note_formatted(node.value, f'f"{{{short(node.value)}}}"')
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self._check_misused(node.value)
        # qs[0] runs a query; qs[:10] stays lazy, and qs[window] may be either.
        indexed = isinstance(node.slice, ast.Constant) and isinstance(
            node.slice.value, int
        )
        if self.in_async and indexed and isinstance(node.ctx, ast.Load):
            self._check_evaluated(node.value, "index")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        # async def returning coro() hands its caller a coroutine inside a coroutine.
        if self.on_loop and node.value is not None:
            self._check_misused(node.value)
        summary = self.scope.summary
        if summary is not None and node.value is not None and not summary.returns_lazy:
            chain = self._chain(node.value)
            if chain is not None and chain.lazy:
                summary.returns_lazy = short(node.value)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr not in HAND_ON_METHODS | FUTURE_METHODS:
            self._check_misused(node.value)
        if self.on_loop:
            self._note_relation(node)
        summary = self.scope.summary
        match node:
            case ast.Attribute(value=ast.Name(id="self"), ctx=ast.Load()) if summary:
                summary.self_reads.add(node.attr)
        if self.in_async:
            self._check_request_user(node)
            self._check_session(node, self.parents.get(id(node)))
            self._check_form_errors(node)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        if self.in_async:
            for item in node.items:
                expr = item.context_expr
                target = expr.func if isinstance(expr, ast.Call) else expr
                if self._resolve(target) == ATOMIC:
                    self._report(
                        item.context_expr,
                        "error",
                        SYNC_ORM,
                        f"transaction.atomic() touches the database connection "
                        f"{self._where()}: it raises SynchronousOnlyOperation.",
                        "Put the whole transaction in one sync function and await "
                        "sync_to_async(that_function)(...).",
                    )
        self.generic_visit(node)

    def _check_test(self, node: ast.expr) -> None:
        """Something used for its truth: a lazy QuerySet, or a coroutine."""
        self._check_misused(node)
        if self.in_async:
            self._check_evaluated(node, "truth")

    # Blocking calls.

    def _check_blocking(self, call: ast.Call) -> None:
        name = self._resolve(call.func)
        if name is None:
            return
        fix = BLOCKING_CALLS.get(name)
        last = name.rpartition(".")[2]
        # requests.get() and requests.Session() block; requests.HTTPError() not.
        if fix is None and (last.islower() or last == "Session"):
            fix = next(
                (
                    f
                    for prefix, f in BLOCKING_PREFIXES.items()
                    if name.startswith(prefix)
                ),
                None,
            )
        if fix is None:
            return
        written = short(call.func)
        shown = name.removeprefix("builtins.")
        callee = f"{written}()" if written == shown else f"{written}() ({shown})"
        if fix == BRIDGE_FIX:
            message = (
                f"{callee} cannot run inside the running event loop {self._where()}."
            )
        else:
            message = f"{callee} blocks the event loop {self._where()}."
        self._report(call, "error", BLOCKING, message, fix)
