"""The sync ORM checks of the scan: queries, evaluations, request.user, sessions."""

import ast
import warnings
from pathlib import PurePosixPath

from topics.audit.code.base import ScannerBase
from topics.audit.code.calls import CallSite
from topics.audit.code.chains import prefetched, queryset_chain, related_owners
from topics.audit.code.rules import (
    ASYNC_FOR_FIX,
    ASYNC_METHODS,
    CACHED_CALLS,
    DJANGO_REQUEST_PACKAGES,
    EVALUATING_BUILTINS,
    EVALUATIONS,
    INSTANCE_METHODS,
    PAGINATORS,
    RENDERERS,
    SESSION_SYNC,
    SYNC_METHODS,
    SYNC_ORM,
    SYNC_SHORTCUTS,
    SYNC_TO_ASYNC,
    TYPE_WRAPPERS,
    UNTYPED_PACKAGES,
    InstanceMethod,
)
from topics.audit.code.syntax import short, walk_scope

DJANGO_AUTH_MIXINS = "django.contrib.auth.mixins"
# Django's names, which async-capable drop-ins keep.
USER_LOADING_MIXINS = frozenset(
    {"LoginRequiredMixin", "PermissionRequiredMixin", "UserPassesTestMixin"}
)


def _no_commit(call: ast.Call) -> bool:
    """form.save(commit=False): builds the instance, runs no query."""
    return any(
        keyword.arg == "commit"
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value is False
        for keyword in call.keywords
    )


def _takes(method: InstanceMethod, call: ast.Call) -> bool:
    """The call passes only what the model's method takes (`*args`, `**kwargs`
    may be anything: they count as taken)."""
    positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    return len(positional) <= method.positional and all(
        keyword.arg is None or keyword.arg in method.keywords
        for keyword in call.keywords
    )


class OrmChecks(ScannerBase):
    """Sync ORM use inside async code, reported as code.sync-orm."""

    def _check_orm_call(self, call: ast.Call) -> None:
        """Sync ORM methods, evaluating builtins, shortcuts, save()/delete()."""
        func = call.func
        name = self._resolve(func)
        if name in SYNC_SHORTCUTS:
            self._report(
                call,
                "error",
                SYNC_ORM,
                f"{short(func)}() runs a sync query {self._where()}.",
                f"await {SYNC_SHORTCUTS[name]}(...) instead.",
            )
        elif name is not None and name.startswith("builtins."):
            builtin = name.removeprefix("builtins.")
            if builtin in EVALUATING_BUILTINS and call.args:
                self._check_evaluated(call.args[0], builtin)
        elif name in RENDERERS:
            self._check_render(call)
        elif name in SYNC_TO_ASYNC and call.args:
            self._check_lazy_lambda(call.args[0])
            self._check_lazy_method(call.args[0])
        elif name in PAGINATORS:
            self._report(
                call,
                "warning",
                SYNC_ORM,
                f"{short(func)}() counts and slices its rows with sync queries, if "
                f"they are a QuerySet, {self._where()}.",
                "Use AsyncPaginator (Django 6.0+) and await paginator.apage(n), or "
                "build the page inside one sync_to_async.",
            )
        if not isinstance(func, ast.Attribute) or id(call) in self.awaited:
            return
        receiver = self._chain(func.value)
        if receiver is not None and func.attr in SYNC_METHODS and receiver.lazy:
            chain = short(func.value)
            method = func.attr
            args = "(...)" if call.args or call.keywords else "()"
            if method == "iterator":
                # Not for a response streamed to a client: its cursor would stay
                # open between chunks (the migration guide, step 7).
                fix = (
                    f"async for ... in {chain}.aiterator{args}; to stream it to a "
                    "client, a whole query per chunk, read by key"
                )
            else:
                fix = f"await {chain}.a{method}{args}"
            if receiver.related and method in CACHED_CALLS:
                # Answered from the rows of a prefetched relation.
                self._report_related(call, func.value, f"{short(call)}", fix)
            else:
                self._report(
                    call,
                    "warning" if receiver.related else "error",
                    SYNC_ORM,
                    f"{short(call)} runs a sync query {self._where()}.",
                    f"{fix} (or one sync_to_async for the whole unit of work).",
                )
        elif (
            receiver is None
            and func.attr in INSTANCE_METHODS
            and _takes(INSTANCE_METHODS[func.attr], call)
            and not self._is_session(func.value)  # reported as a session read
            and not _no_commit(call)
        ):
            async_name = INSTANCE_METHODS[func.attr].async_name
            if self._function_name().rpartition(".")[2] == f"a{func.attr}":
                # The async variant itself: awaiting it here would recurse.
                fix = f"await sync_to_async({short(func)})(...) instead."
            elif any(keyword.arg == "commit" for keyword in call.keywords):
                fix = (
                    "A ModelForm's save() has no async variant: do it inside one "
                    "sync_to_async with the rest of the work."
                )
            elif async_name:
                fix = (
                    f"await {short(func.value)}.{async_name}, or do it inside one "
                    "sync_to_async."
                )
            else:
                fix = "Do it inside one sync_to_async with the rest of the work."
            self._report(
                call,
                "warning",
                SYNC_ORM,
                f"{short(call)} may be a sync ORM call (if it is a model) "
                f"{self._where()}.",
                fix,
            )

    def _check_evaluated(self, node: ast.expr, how: str) -> None:
        """A lazy QuerySet evaluated the sync way: iterated, len(), bool(), [0]."""
        chain = self._chain(node)
        if chain is None or not chain.lazy or id(node) in self.awaited:
            return
        qs = short(node)
        what, fix = EVALUATIONS.get(how, (f"{how}({{qs}})", ASYNC_FOR_FIX))
        what, fix = what.replace("{qs}", qs), fix.replace("{qs}", qs)
        if chain.related:
            self._report_related(node, node, what, fix)
        else:
            self._report(
                node,
                "error",
                SYNC_ORM,
                f"{what} runs a sync query {self._where()}.",
                f"{fix} (or one sync_to_async for the whole unit of work).",
            )

    def _report_related(
        self, node: ast.expr, queryset: ast.expr, what: str, fix: str
    ) -> None:
        """A related manager's chain evaluated: `what` runs a query unless the
        relation was prefetched. A warning when this function loads the owner
        without prefetching it, nothing when it loads it prefetched, info when
        the owner comes from elsewhere (a parameter, a helper)."""
        scope = self.scope
        pairs = related_owners(queryset, scope.bound, scope.querysets)
        if pairs is None:
            # filter(), order_by()...: a query whether prefetched or not.
            self._report(
                node,
                "warning",
                SYNC_ORM,
                f"{what} runs a query {self._where()}, unless the relation was "
                "prefetched.",
                f"prefetch_related() it in the awaited query, or: {fix}.",
            )
            return
        verdicts = {
            prefetched(owner, relation, scope.bound, scope.querysets)
            for owner, relation in pairs
        }
        verdict = verdicts.pop() if len(verdicts) == 1 else None
        if verdict is True:
            return
        owner, relation = short(pairs[0][0]), pairs[0][1]
        if verdict is False:
            self._report(
                node,
                "warning",
                SYNC_ORM,
                f"{what} runs a sync query {self._where()}: {owner} is loaded "
                f"here without prefetch_related({relation!r}).",
                f"Add .prefetch_related({relation!r}) to the query that loads "
                f"{owner}, or: {fix}.",
            )
        else:
            self._report(
                node,
                "info",
                SYNC_ORM,
                f"{what} runs a sync query {self._where()}, unless the relation "
                f"was prefetched where {owner} was loaded.",
                f"prefetch_related({relation!r}) where {owner} is loaded, or await "
                f"aprefetch_related_objects([{owner}], {relation!r}) here (Django "
                f"5.0+); else: {fix}.",
            )

    def _check_render(self, call: ast.Call) -> None:
        """A lazy QuerySet in a template context is evaluated by the sync render."""
        values: list[ast.expr] = [*call.args, *(k.value for k in call.keywords)]
        for value in list(values):
            if isinstance(value, ast.Dict):
                values += [v for v in value.values if v is not None]
        for value in values:
            chain = self._chain(value)
            if chain is not None and chain.lazy:
                self._report(
                    value,
                    "warning",
                    SYNC_ORM,
                    f"{short(call.func)}() gets the lazy {short(value)}: the "
                    f"template runs its query {self._where()}.",
                    f"Evaluate it first: [x async for x in {short(value)}].",
                )

    def _check_lazy_lambda(self, target: ast.expr) -> None:
        """sync_to_async(lambda: Model.objects.filter(...)) runs no query there."""
        if not isinstance(target, ast.Lambda):
            return
        chain = queryset_chain(target.body, {})
        if chain is not None and chain.lazy:
            self._report(
                target,
                "error",
                SYNC_ORM,
                f"The lambda given to sync_to_async() returns the lazy "
                f"{short(target.body)}: its query runs later, on the loop, "
                f"{self._where()}.",
                f"Evaluate it inside the lambda: lambda: list({short(target.body)}).",
            )

    def _evaluated_here(self, target: ast.expr) -> bool:
        """What `await sync_to_async(target)(...)` returns is evaluated on the
        loop, the sync way: not handed to a call (sync_to_async(list)(rows), a
        thread), not iterated with async for, not left unused."""
        wrapper = self.parents.get(id(target))
        invoked = self.parents.get(id(wrapper))
        awaited = self.parents.get(id(invoked))
        if not isinstance(awaited, ast.Await):
            return False
        holder = self.parents.get(id(awaited))
        match holder:
            case ast.Assign(targets=[ast.Name(id=name)]):
                pass
            case ast.Call() | ast.Return() | ast.Assign() | ast.keyword():
                return False  # handed on: where it is evaluated cannot be told
            case _:
                return True  # iterated, tested, indexed, on the spot
        function = self.scope.node
        if function is None or isinstance(function, ast.ClassDef):
            return False
        uses = [
            node
            for node in self.own.get(id(function), [])
            if isinstance(node, ast.Name)
            and node.id == name
            and node is not holder
            and isinstance(node.ctx, ast.Load)
        ]
        for use in uses:
            parent = self.parents.get(id(use))
            match parent:
                case ast.Call() | ast.keyword() | ast.Starred():
                    return False
                case ast.AsyncFor() | ast.comprehension(is_async=1):
                    return False
        return bool(uses)

    def _check_lazy_method(self, target: ast.expr) -> None:
        """sync_to_async(Model.objects.filter): the thread only builds the
        QuerySet; and sync_to_async(helper), kept to learn whether the helper
        returns one (calls.py). Only where the result is then evaluated on the
        loop."""
        if not self._evaluated_here(target):
            return
        if isinstance(target, ast.Attribute):
            chain = self._chain(target.value)
            method = target.attr
            lazy = method not in SYNC_METHODS | ASYNC_METHODS
            if chain is not None and chain.lazy and lazy and not chain.related:
                self._report(
                    target,
                    "error",
                    SYNC_ORM,
                    f"sync_to_async({short(target)}) returns a lazy QuerySet: no "
                    f"query runs in the thread; it runs later, on the loop, "
                    f"{self._where()}.",
                    f"Evaluate it in a sync function: sync_to_async(lambda: "
                    f"list({short(target)}(...))), or use async for.",
                )
                return
        if not self.on_loop:
            return
        target_ref = self._call_target(target)
        if target_ref is not None:
            self.calls.threaded.append(
                CallSite(
                    target_ref,
                    f"sync_to_async({short(target)})",
                    target.lineno,
                    target.col_offset + 1,
                    self._where(),
                )
            )

    def _is_request(self, node: ast.expr) -> bool:
        match node:
            case ast.Name(id="request"):
                return True
            case ast.Attribute(value=ast.Name(id="self"), attr="request"):
                return True
        return False

    def _is_django_request(self, node: ast.expr) -> bool:
        """A request, unless it is a parameter annotated with a type from outside
        Django: Starlette's or FastAPI's Request runs no query for .user or
        .session, and has no auser()."""
        if not self._is_request(node):
            return False
        if isinstance(node, ast.Name):
            scope = self._binding_scope(node.id)
            parameter = scope.parameter(node.id) if scope is not None else None
            if parameter is not None and parameter.annotation is not None:
                return not self._is_foreign_type(parameter.annotation)
        return True

    def _is_foreign_type(self, annotation: ast.expr) -> bool:
        """The annotation names only types imported from outside Django (DRF,
        adrf and django-ninja count as Django) and outside the project."""
        types = self._annotated_types(annotation)
        return bool(types) and all(self._is_foreign(name) for name in types)

    def _annotated_types(self, annotation: ast.expr) -> list[str | None]:
        """The dotted names of the types an annotation allows (None: unknown);
        `X | None`, Optional[X] and Annotated[X, ...] are X."""
        match annotation:
            case ast.Constant(value=None):
                return []
            case ast.Constant(value=str(text)):  # "Request": a forward reference
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        parsed = ast.parse(text.strip(), mode="eval").body
                except (SyntaxError, ValueError):
                    return [None]
                return self._annotated_types(parsed)
            case ast.BinOp(left=left, op=ast.BitOr(), right=right):
                return [*self._annotated_types(left), *self._annotated_types(right)]
            case ast.Subscript(value=outer, slice=inner):
                name = self._resolve(outer)
                if name not in TYPE_WRAPPERS:
                    return [name]  # a generic: Request[User]
                members = inner.elts if isinstance(inner, ast.Tuple) else [inner]
                if name.endswith(".Annotated"):
                    members = members[:1]
                return [t for member in members for t in self._annotated_types(member)]
        return [self._resolve(annotation)]

    def _is_foreign(self, name: str | None) -> bool:
        if name is None or name.startswith("."):
            return False  # unknown, or this project's own (it may be HttpRequest's)
        top = name.partition(".")[0]
        if top in DJANGO_REQUEST_PACKAGES or top in UNTYPED_PACKAGES:
            return False
        # A package the file is in is the project's own, too.
        return top not in PurePosixPath(self.path).parent.parts

    def _check_request_user(self, node: ast.Attribute) -> None:
        if node.attr != "user" or not isinstance(node.ctx, ast.Load):
            return
        if not self._is_django_request(node.value) or self._assigns_user():
            return
        self._report(
            node,
            "warning",
            SYNC_ORM,
            f"{short(node)} loads the user lazily, a sync query, {self._where()}.",
            f"Use user = await {short(node.value)}.auser() instead.",
        )

    def _assigns_user(self) -> bool:
        """The function sets request.user itself (say, to await request.auser()),
        or is a method of a class-based view behind an auth mixin that did."""
        function = self.scope.node
        if function is None or isinstance(function, ast.Lambda | ast.ClassDef):
            return False
        if self._behind_user_loading_mixin():
            return True
        return any(
            isinstance(node, ast.Attribute)
            and node.attr == "user"
            and isinstance(node.ctx, ast.Store)
            for node in walk_scope(function.body)
        )

    def _behind_user_loading_mixin(self) -> bool:
        """An async method of a class whose bases hold an auth mixin that is not
        Django's: an async-capable drop-in (the reference project's
        topics/mixins.py, copied) sets request.user to the user auser() loaded
        before any handler runs. Judged by the mixin's name: Django's own names
        from another module than django.contrib.auth.mixins."""
        klass = self.scope.klass
        if klass is None or not isinstance(self.scope.node, ast.AsyncFunctionDef):
            return False
        for base in klass.bases:
            dotted = self._resolve(base) or short(base)
            module, _, name = dotted.rpartition(".")
            if name in USER_LOADING_MIXINS and module != DJANGO_AUTH_MIXINS:
                return True
        return False

    def _is_session(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "session"
            and self._is_request(node.value)
        )

    def _check_session(self, node: ast.expr, parent: ast.AST | None) -> None:
        """request.session read or written the sync way: session.get(), [key]."""
        if not self._is_session(node) or not self._is_django_request(node.value):
            return
        if isinstance(parent, ast.Subscript) and parent.value is node:
            how = f"{short(node)}[...]"
        elif isinstance(parent, ast.Attribute) and parent.attr in SESSION_SYNC:
            # Called here, on the loop; sync_to_async(request.session.get) only
            # hands the bound method to a thread.
            call = self.parents.get(id(parent))
            if not (isinstance(call, ast.Call) and call.func is parent):
                return
            how = f"{short(node)}.{parent.attr}()"
        else:
            return
        self._report(
            node,
            "warning",
            SYNC_ORM,
            f"{how} loads the session the sync way {self._where()}.",
            f"Use the async session API: await {short(node)}.aget(), aset(), apop().",
        )
