"""Threads and start-up: waits that deadlock the thread-sensitive executor, ORM
work sent to threads Django does not manage, background work nobody keeps, and
queries that run at import time or in AppConfig.ready()."""

import ast
from functools import cached_property
from pathlib import PurePosixPath

from topics.audit.code.base import ScannerBase
from topics.audit.code.chains import queryset_chain
from topics.audit.code.rules import (
    DROPPED_TASK,
    EVALUATING_BUILTINS,
    INSTANCE_METHODS,
    SYNC_METHODS,
    SYNC_ORM,
    SYNC_TO_ASYNC,
    TASK_FACTORIES,
    TASK_FIX,
)
from topics.audit.code.syntax import FunctionNode, short, walk_scope

THREAD_DEADLOCK = "code.thread-deadlock"
STARTUP_QUERY = "code.startup-query"

ASGIREF_SYNC_TO_ASYNC = "asgiref.sync.sync_to_async"
TO_THREAD = "asyncio.to_thread"
THREAD_ENTRIES = frozenset({*SYNC_TO_ASYNC, TO_THREAD})

# Blocking primitives: their constructors -> their kind; for each kind, the
# methods that wait, and those that end someone else's wait.
PRIMITIVES = {
    **{
        f"queue.{name}": "queue"
        for name in ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue")
    },
    "multiprocessing.Queue": "queue",
    "multiprocessing.JoinableQueue": "queue",
    "threading.Event": "event",
    "multiprocessing.Event": "event",
    **{
        f"threading.{name}": "lock"
        for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore")
    },
    "threading.Condition": "condition",
    "threading.Barrier": "barrier",
    "threading.Thread": "thread",
    "concurrent.futures.Future": "future",
    # Not a primitive, but read the same way: a name bound to the event loop.
    **{
        f"asyncio.{name}": "loop"
        for name in ("get_event_loop", "get_running_loop", "new_event_loop")
    },
}
WAITS = {
    "queue": frozenset({"get", "join"}),
    "event": frozenset({"wait"}),
    "lock": frozenset({"acquire"}),
    "condition": frozenset({"acquire", "wait", "wait_for"}),
    "barrier": frozenset({"wait"}),
    "thread": frozenset({"join"}),
    "future": frozenset({"result", "exception"}),
}
WAKERS = {
    "queue": frozenset({"put", "put_nowait", "task_done"}),
    "event": frozenset({"set"}),
    "lock": frozenset({"release"}),
    "condition": frozenset({"notify", "notify_all", "release"}),
    "future": frozenset({"set_result", "set_exception"}),
}
WAIT_METHODS = frozenset().union(*WAITS.values())
# A kind that is bound to something else somewhere in the module.
OTHER = "other"
DEADLOCK_FIX = (
    "Wait in a thread of its own: await asyncio.to_thread({wait}), or "
    "sync_to_async({wait}, thread_sensitive=False); better, an asyncio.Queue or "
    "asyncio.Event awaited directly."
)

# Calls on the event loop that schedule work and return what must be kept.
LOOP_SCHEDULERS = frozenset({"create_task", "run_in_executor"})

UNMANAGED_FIX = (
    "await sync_to_async({f})(...) (thread-sensitive: Django closes its "
    "connection with the request), or call django.db.close_old_connections() "
    "at the end of {f}."
)
# Calls that close the thread's connection, which make the thread safe to query in.
CLOSERS = frozenset(
    {
        "django.db.close_old_connections",
        "django.db.connection.close",
        "django.db.connections.close_all",
    }
)

# Module-level code of these files runs whenever Django starts.
STARTUP_FILES = frozenset(
    f"{name}.py"
    for name in ("urls", "models", "views", "admin", "apps", "forms", "settings")
)
# Folders and files whose module-level code runs in a script or a test, not
# when the server starts.
NOT_STARTUP_DIRS = frozenset({"tests", "test", "scripts", "management", "bin"})
NOT_STARTUP_FILES = frozenset(
    {"conftest.py", "manage.py", "setup.py", "fabfile.py", "tests.py", "noxfile.py"}
)
CACHE_SYNC = frozenset(
    {
        "get",
        "set",
        "add",
        "delete",
        "get_many",
        "set_many",
        "delete_many",
        "get_or_set",
        "incr",
        "decr",
        "has_key",
        "touch",
        "clear",
    }
)
STARTUP_FIX = (
    "Query when a request needs it, inside a view or a function: a lazy QuerySet "
    "(queryset=Model.objects.all()) or a callable (choices=a_function, Django "
    "5.0+) where a value is needed at import; keep AppConfig.ready() to "
    "connecting signals."
)


def _unbounded(call: ast.Call | None, method: str) -> bool:
    """The wait has neither a timeout nor block=False: it may wait forever.
    (None: arguments not seen, as in `aget = sync_to_async(q.get)`.)"""
    if call is None:
        return True
    args = call.args[1:] if method == "wait_for" else call.args
    values = [*args, *(k.value for k in call.keywords if k.arg != "predicate")]
    return all(
        isinstance(v, ast.Constant) and (v.value is True or v.value is None)
        for v in values
    )


def _thread_sensitive(call: ast.Call) -> bool | None:
    """sync_to_async's thread_sensitive: True by default; None when not a literal."""
    for keyword in call.keywords:
        if keyword.arg == "thread_sensitive":
            if isinstance(keyword.value, ast.Constant):
                return bool(keyword.value.value)
            return None
    return True


class ThreadChecks(ScannerBase):
    """code.thread-deadlock, code.startup-query, loop tasks nobody keeps
    (code.dropped-task) and the ORM in unmanaged threads (code.sync-orm)."""

    # What the module binds: each name (or self.attr) -> the kinds it holds.

    @cached_property
    def _kinds(self) -> dict[str, set[str]]:
        """Name or "self.attr" -> kinds of what it is bound to anywhere in the
        module (OTHER for anything else); read once, when first needed."""
        kinds: dict[str, set[str]] = {}
        for node in ast.walk(self.tree):
            match node:
                case ast.Assign(targets=targets, value=value):
                    kind = self._constructed(value)
                    for target in targets:
                        self._bind_kind(kinds, target, kind)
                case ast.AnnAssign(target=target, value=value, annotation=note):
                    kind = self._constructed(value) if value else self._named(note)
                    self._bind_kind(kinds, target, kind)
                case ast.arg(arg=name, annotation=note):
                    kinds.setdefault(name, set()).add(self._named(note))
                case ast.For() | ast.AsyncFor() | ast.comprehension() | ast.withitem():
                    target = getattr(node, "target", None) or getattr(
                        node, "optional_vars", None
                    )
                    for name in ast.walk(target) if target is not None else []:
                        self._bind_kind(kinds, name, OTHER)
                case ast.AugAssign(target=target) | ast.NamedExpr(target=target):
                    self._bind_kind(kinds, target, OTHER)
        return kinds

    @staticmethod
    def _bind_kind(kinds: dict[str, set[str]], target: ast.AST, kind: str) -> None:
        match target:
            case ast.Name(id=name):
                kinds.setdefault(name, set()).add(kind)
            case ast.Attribute(value=ast.Name(id="self"), attr=attr):
                kinds.setdefault(f"self.{attr}", set()).add(kind)
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                for elt in elts:
                    ThreadChecks._bind_kind(kinds, elt, OTHER)

    def _dotted(self, node: ast.expr) -> str | None:
        """The dotted name `node` stands for through the module's imports."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.imports:
            return None
        return ".".join([self.imports[node.id], *reversed(parts)])

    def _constructed(self, value: ast.expr) -> str:
        if isinstance(value, ast.Call):
            return PRIMITIVES.get(self._dotted(value.func) or "", OTHER)
        return OTHER

    def _named(self, annotation: ast.expr | None) -> str:
        if annotation is None:
            return OTHER
        return PRIMITIVES.get(self._dotted(annotation) or "", OTHER)

    def _kind(self, node: ast.expr) -> str | None:
        """The kind `node` holds, when every binding of it in the module agrees."""
        if isinstance(node, ast.Call):
            kind = self._constructed(node)
            return None if kind == OTHER else kind
        match node:
            case ast.Name(id=key):
                pass
            case ast.Attribute(value=ast.Name(id="self"), attr=attr):
                key = f"self.{attr}"
            case _:
                return None
        found = self._kinds.get(key, set())
        return next(iter(found)) if len(found) == 1 and OTHER not in found else None

    # Functions of the module a call hands on.

    @cached_property
    def _module_functions(self) -> dict[str, ast.FunctionDef]:
        return {
            node.name: node
            for node in self.tree.body
            if isinstance(node, ast.FunctionDef)
        }

    @cached_property
    def _body_cache(self) -> dict[tuple[int, str], list]:
        return {}

    def _callee(self, target: ast.expr) -> FunctionNode | None:
        """The sync function `target` names: a lambda, a def of this module, or a
        method of the enclosing class (self.method)."""
        match target:
            case ast.Lambda():
                return target
            case ast.Name(id=name) if self._resolve(target) == f".{name}":
                return self._module_functions.get(name)
            case ast.Attribute(value=ast.Name(id="self"), attr=attr) if (
                self.scope.klass is not None
            ):
                return next(
                    (
                        item
                        for item in self.scope.klass.body
                        if isinstance(item, ast.FunctionDef) and item.name == attr
                    ),
                    None,
                )
        return None

    def _calls_in(self, function: FunctionNode) -> list[ast.Call]:
        """The calls a function's own body makes (cached per function)."""
        return [node for node in self._nodes_in(function) if isinstance(node, ast.Call)]

    def _nodes_in(self, function: FunctionNode) -> list[ast.AST]:
        """The nodes of a function's own body (walked once per function)."""
        key = (id(function), "nodes")
        if key not in self._body_cache:
            lambda_body = isinstance(function, ast.Lambda)
            body = [function.body] if lambda_body else function.body
            self._body_cache[key] = list(walk_scope(body))
        return self._body_cache[key]

    # The dispatcher, from visit_Call.

    def _check_thread_call(self, call: ast.Call) -> None:
        """sync_to_async, to_thread and run_in_executor; queries at start-up."""
        func = call.func
        match func:  # most calls are none of these: told apart without _resolve
            case ast.Name(id=written) | ast.Attribute(attr=written):
                pass
            case _:
                written = ""
        name = None
        if written in self._thread_entry_names:
            name = self._resolve(func, THREAD_ENTRIES)
        if name in SYNC_TO_ASYNC:
            sensitive = _thread_sensitive(call)
            if sensitive and call.args:
                self._check_wait(call, call.args[0])
            elif sensitive is False and name == ASGIREF_SYNC_TO_ASYNC:
                # channels' database_sync_to_async closes its connections itself.
                target = call.args[0] if call.args else self._decorated(call)
                if target is not None:
                    self._check_unmanaged(
                        call, target, "sync_to_async(..., thread_sensitive=False)"
                    )
        elif name == TO_THREAD and call.args:
            self._check_unmanaged(call, call.args[0], "asyncio.to_thread()")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "run_in_executor"
            and len(call.args) >= 2
        ):
            self._check_unmanaged(call, call.args[1], "loop.run_in_executor()")
        place = self._startup_place()
        if place is not None:
            self._check_startup_call(call, place)

    @cached_property
    def _thread_entry_names(self) -> frozenset[str]:
        """The last names a call to sync_to_async or to_thread is written with
        here (their import aliases included), and run_in_executor."""
        names = {"sync_to_async", "database_sync_to_async", "to_thread"}
        names.update(
            local for local, dotted in self.imports.items() if dotted in THREAD_ENTRIES
        )
        return frozenset(names)

    def _decorated(self, call: ast.Call) -> ast.FunctionDef | None:
        """@sync_to_async(thread_sensitive=False) over a def: that def."""
        parent = self.parents.get(id(call))
        if isinstance(parent, ast.FunctionDef) and call in parent.decorator_list:
            return parent
        return None

    # Thread-sensitive waits.

    def _check_wait(self, call: ast.Call, target: ast.expr) -> None:
        """sync_to_async(q.get): a blocking wait on the one thread-sensitive thread."""
        waits: list[tuple[str, str, str]] = []  # (receiver, method, kind)
        if isinstance(target, ast.Attribute) and target.attr in WAIT_METHODS:
            kind = self._kind(target.value)
            invoked = self.parents.get(id(call))
            if not (isinstance(invoked, ast.Call) and invoked.func is call):
                invoked = None  # not called here: its arguments are not seen
            method = target.attr
            if kind in WAITS and method in WAITS[kind] and _unbounded(invoked, method):
                waits.append((short(target.value), method, kind))
        else:
            function = self._callee(target)
            if function is None:
                return
            for inner in self._calls_in(function):
                match inner.func:
                    case ast.Attribute(value=receiver, attr=method) if (
                        method in WAIT_METHODS
                    ):
                        kind = self._kind(receiver)
                        if (
                            kind in WAITS
                            and method in WAITS[kind]
                            and _unbounded(inner, method)
                        ):
                            waits.append((short(receiver), method, kind))
        if not waits:
            return
        receiver, method, kind = waits[0]
        wait = f"{receiver}.{method}"
        woken = self._woken_on_the_same_thread(receiver, kind)
        where = "" if isinstance(target, ast.Attribute) else f" (in {short(target)})"
        head = (
            f"sync_to_async({short(target)}) waits on {wait}(){where} in the "
            "thread-sensitive executor, the one thread every sync_to_async of a "
            "request shares"
        )
        if woken is not None:
            self._report(
                call,
                "error",
                THREAD_DEADLOCK,
                f"{head}, and {woken}() that would end the wait is queued behind "
                "it on that same thread: it never runs, and the request hangs "
                "for good (SIGTERM does not stop the server's worker either).",
                DEADLOCK_FIX.format(wait=wait),
            )
        else:
            self._report(
                call,
                "warning",
                THREAD_DEADLOCK,
                f"{head}: until it returns, every other thread-sensitive call "
                "(the ORM through sync_to_async, sync middleware) waits, and if "
                "what ends the wait goes through sync_to_async too, it never "
                "does: the request hangs for good.",
                DEADLOCK_FIX.format(wait=wait),
            )

    def _woken_on_the_same_thread(self, receiver: str, kind: str) -> str | None:
        """`receiver.put` (or set, set_result...) handed to a thread-sensitive
        sync_to_async somewhere in this module, as written: "q.put"."""
        wakers = WAKERS.get(kind, frozenset())
        for target in self._thread_sensitive_targets:
            if isinstance(target, ast.Attribute):
                calls = [target]
            else:
                function = self._callee_anywhere(target)
                if function is None:
                    continue
                calls = [c.func for c in self._calls_in(function)]
            for func in calls:
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in wakers
                    and short(func.value) == receiver
                ):
                    return f"{receiver}.{func.attr}"
        return None

    @cached_property
    def _thread_sensitive_targets(self) -> list[ast.expr | ast.FunctionDef]:
        """What the module hands to a thread-sensitive sync_to_async: call
        arguments, and the defs it decorates."""
        targets: list[ast.expr | ast.FunctionDef] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and node.args:
                if self._dotted(node.func) in SYNC_TO_ASYNC and _thread_sensitive(node):
                    targets.append(node.args[0])
            elif isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    call = decorator if isinstance(decorator, ast.Call) else None
                    func = call.func if call is not None else decorator
                    if self._dotted(func) in SYNC_TO_ASYNC and (
                        call is None or _thread_sensitive(call)
                    ):
                        targets.append(node)
        return targets

    def _callee_anywhere(
        self, target: ast.expr | ast.FunctionDef
    ) -> FunctionNode | None:
        """Like _callee, outside the scope being visited: a lambda, a def of the
        module, a def decorated with sync_to_async."""
        if isinstance(target, ast.Lambda | ast.FunctionDef):
            return target
        if isinstance(target, ast.Name):
            return self._module_functions.get(target.id)
        return None

    # The ORM in threads Django does not manage.

    def _check_unmanaged(
        self, call: ast.Call, target: ast.expr | ast.FunctionDef, how: str
    ) -> None:
        """to_thread(f), run_in_executor(None, f), sync_to_async(f,
        thread_sensitive=False) where f queries: its connection is never closed."""
        if isinstance(target, ast.Attribute) and queryset_chain(target.value, {}):
            shown = fix_target = short(target)
            where = ""
        else:
            if isinstance(target, ast.FunctionDef):
                function: FunctionNode | None = target
                shown = fix_target = target.name
            else:
                function = self._callee(target)
                shown = short(target)
                fix_target = "f" if isinstance(target, ast.Lambda) else shown
            if function is None:
                return
            query = self._orm_query(function)
            if query is None:
                return
            where = f" ({query})"
        self._report(
            call,
            "warning",
            SYNC_ORM,
            f"{how} runs {shown}{where}, a query, in a thread whose "
            "database connection Django never closes: each such thread keeps one "
            "open past CONN_MAX_AGE and past a database restart, until the "
            "database refuses new ones.",
            UNMANAGED_FIX.format(f=fix_target),
        )

    def _orm_query(self, function: FunctionNode) -> str | None:
        """The first query a sync function runs, as written; None if none is seen."""
        key = (id(function), "orm")
        if key in self._body_cache:
            return self._body_cache[key][0]
        found = None
        calls = self._calls_in(function)
        if any(self._dotted(c.func) in CLOSERS for c in calls):
            calls = []  # it closes its connection itself
        for inner in calls:
            if self._is_query(inner):
                found = self._query_text(inner)
                break
        if found is None and calls:
            for node in self._nodes_in(function):
                loop = isinstance(node, ast.For | ast.comprehension)
                if loop and self._lazy(node.iter):
                    found = f"iterating {short(node.iter)}"
                    break
        self._body_cache[key] = [found]
        return found

    @staticmethod
    def _lazy(node: ast.expr) -> bool:
        chain = queryset_chain(node, {})
        return chain is not None and chain.lazy

    def _is_query(self, call: ast.Call) -> bool:
        """A sync ORM call: a chain's sync method, a lazy chain evaluated by a
        builtin, or a model's save()/delete() (the arguments they take only)."""
        func = call.func
        if isinstance(func, ast.Attribute):
            if func.attr in SYNC_METHODS and self._lazy(func.value):
                return True
            method = INSTANCE_METHODS.get(func.attr)
            if func.attr in ("save", "delete") and method is not None:
                return (
                    not call.args
                    and all(k.arg in method.keywords for k in call.keywords)
                    and not any(
                        k.arg == "commit"
                        and isinstance(k.value, ast.Constant)
                        and k.value.value is False
                        for k in call.keywords
                    )
                )
            return False
        return (
            isinstance(func, ast.Name)
            and func.id in EVALUATING_BUILTINS
            and func.id not in self.module_names
            and bool(call.args)
            and self._lazy(call.args[0])
        )

    @staticmethod
    def _query_text(call: ast.Call) -> str:
        """A query as written: Order.objects.count(), list(Order.objects.all())."""
        if isinstance(call.func, ast.Name):  # list(qs), len(qs)...
            return f"{call.func.id}({short(call.args[0])})"
        return short(call)

    # Background work nobody keeps.

    def _is_loop(self, node: ast.expr) -> bool:
        """asyncio.get_running_loop() (or get_event_loop()), or a name only ever
        bound to one."""
        return self._kind(node) == "loop"

    def _check_dropped_loop_work(self, call: ast.Call) -> None:
        """A bare `loop.create_task(...)` or `loop.run_in_executor(...)` statement."""
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr in LOOP_SCHEDULERS
            and self._is_loop(func.value)
        ):
            return
        if func.attr == "create_task":
            message = (
                f"{short(call)} keeps no reference to its task: the loop holds "
                "tasks weakly, so it may be destroyed before it is done."
            )
            fix = TASK_FIX
        else:
            message = (
                f"{short(call)} is neither awaited nor kept: its exceptions are "
                "lost, and the work may outlive the request that started it."
            )
            fix = (
                "await it (await loop.run_in_executor(...), or await "
                "asyncio.to_thread(...)); for work meant to outlive the request, "
                "a task queue."
            )
        self._report(call, "warning", DROPPED_TASK, message, fix)

    def _check_kept_task(self, node: ast.Assign) -> None:
        """`task = asyncio.create_task(...)`, and task is never read again."""
        function = self.scope.node
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        match node:
            case ast.Assign(targets=[ast.Name(id=name)], value=ast.Call(func=func)):
                pass
            case _:
                return
        is_task = self._resolve(func, TASK_FACTORIES) is not None or (
            isinstance(func, ast.Attribute)
            and func.attr == "create_task"
            and self._is_loop(func.value)
        )
        if not is_task or name in self._read_names(function):
            return
        if any(
            isinstance(inner, ast.Await | ast.AsyncFor | ast.AsyncWith)
            and inner.lineno > node.end_lineno
            for inner in self._nodes_in(function)
        ):
            # Held while the function awaits what follows (uvicorn's lifespan
            # startup does so on purpose): only a task let go at once is sure.
            return
        self._report(
            node,
            "warning",
            DROPPED_TASK,
            f"{short(node.value)} is assigned to {name}, which is never read: once "
            f"{function.name}() returns nothing keeps the task, and the loop holds "
            "tasks weakly, so it may be destroyed before it is done.",
            TASK_FIX,
        )

    def _read_names(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> set:
        """Every name read in a function, nested scopes included (global and
        nonlocal declarations count as reads: the name lives on)."""
        key = (id(function), "read")
        if key not in self._body_cache:
            names: set[str] = set()
            for node in ast.walk(function):
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Global | ast.Nonlocal):
                    names.update(node.names)
            self._body_cache[key] = [names]
        return self._body_cache[key][0]

    # Queries at import time and in AppConfig.ready().

    @cached_property
    def _imported_at_startup(self) -> bool:
        """Module-level code here runs when the server starts: not a test, a
        script (django.setup(), a __main__ guard) or a management command."""
        path = PurePosixPath(self.path)
        name = path.name
        if name in STARTUP_FILES or "settings" in path.parts[:-1]:
            return True
        if (
            name in NOT_STARTUP_FILES
            or name.startswith("test")
            or name.endswith("_test.py")
            or NOT_STARTUP_DIRS.intersection(path.parts[:-1])
        ):
            return False
        for statement in self.tree.body:
            match statement:
                case ast.If(test=ast.Compare(left=ast.Name(id="__name__"))):
                    return False
                case ast.Expr(value=ast.Call(func=func)) if (
                    self._dotted(func) == "django.setup"
                ):
                    return False
        return True

    def _startup_place(self) -> str | None:
        """Where the code being visited runs at start-up, or None."""
        innermost = self.scope.node
        if isinstance(innermost, FunctionNode) and not (
            isinstance(innermost, ast.FunctionDef) and innermost.name == "ready"
        ):
            return None  # most calls: asked once per call, so answered early
        functions = [s for s in self.scopes if isinstance(s.node, FunctionNode)]
        if not functions:
            if not self._imported_at_startup:
                return None
            return f"at import time (module level of {self.path})"
        if len(functions) > 1 or self.scopes[-1] is not functions[0]:
            return None
        scope = functions[0]
        node = scope.node
        if (
            isinstance(node, ast.FunctionDef)
            and node.name == "ready"
            and scope.klass is not None
            and node in scope.klass.body
            and any(short(base).endswith("AppConfig") for base in scope.klass.bases)
        ):
            return f"in {scope.klass.name}.ready(), at every start"
        return None

    def _check_startup_call(self, call: ast.Call, place: str) -> None:
        func = call.func
        if self._is_query(call):
            what = f"{self._query_text(call)} queries"
        elif isinstance(func, ast.Attribute) and func.attr == "cursor":
            if not self._is_connection(func.value):
                return
            what = f"{short(call)} connects to the database"
        elif isinstance(func, ast.Attribute) and func.attr in CACHE_SYNC:
            if not self._is_cache(func.value):
                return
            what = f"{short(call)} reaches the cache"
        else:
            return
        if not self._guarded(call):
            self._report_startup(call, what, place)

    def _check_startup_iter(self, node: ast.expr) -> None:
        """`for x in Model.objects.all()` (or a comprehension) at start-up."""
        if not self._lazy(node):
            return
        place = self._startup_place()
        if place is not None and not self._guarded(node):
            self._report_startup(node, f"Iterating {short(node)} queries", place)

    def _guarded(self, node: ast.AST) -> bool:
        """Inside a try with an except clause: the author saw that the database
        (or cache) may not be there yet, and chose to go on without it."""
        child = node
        parent = self.parents.get(id(node))
        while parent is not None and not isinstance(parent, FunctionNode):
            if (
                isinstance(parent, ast.Try | ast.TryStar)
                and parent.handlers
                and child in parent.body
            ):
                return True
            child, parent = parent, self.parents.get(id(parent))
        return False

    def _is_connection(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Subscript):
            return self._dotted(node.value) == "django.db.connections"
        return self._dotted(node) == "django.db.connection"

    def _is_cache(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Subscript):
            return self._dotted(node.value) == "django.core.cache.caches"
        return self._dotted(node) == "django.core.cache.cache"

    def _report_startup(self, node: ast.AST, what: str, place: str) -> None:
        self._report(
            node,
            "warning",
            STARTUP_QUERY,
            f"{what} {place}: under uvicorn --reload or --workers it runs "
            "on every worker start, maybe before the database is up (and the "
            "server never starts), in tests before the test database exists "
            "(against the real one), and its result is stale from then on.",
            STARTUP_FIX,
        )
