"""More of what blocks the loop in async code: the sync cache API, file system
calls, sockets and mail, Celery's publish, signals, auth, storages, custom
manager methods and reverse related managers (`author.book_set.count()`).

Each check resolves its receiver through the module's imports (or a name only
ever bound to one), never by a bare method name: `self.cache.get(k)`, a dict
named `cache` or a Python set named `seen_set` stay quiet.
"""

import ast
from collections.abc import Callable
from functools import cached_property

import django

from topics.audit.code.chains import queryset_chain
from topics.audit.code.orm import OrmChecks
from topics.audit.code.rules import (
    AREA,
    BLOCKING,
    BRIDGE_FIX,
    QUERYING_MANAGER_METHODS,
    QUERYING_PREFIXES,
    SYNC_CACHE,
    SYNC_METHODS,
    SYNC_ORM,
)
from topics.audit.code.syntax import short, walk_scope
from topics.audit.findings import Finding

# The Django cache: the default alias, and caches["alias"].
CACHE = "django.core.cache.cache"
CACHES = "django.core.cache.caches"
# BaseCache's sync methods, each with an `a` twin (aget, aset, ahas_key...).
CACHE_METHODS = frozenset(
    {
        "get",
        "set",
        "add",
        "incr",
        "decr",
        "get_or_set",
        "get_many",
        "set_many",
        "delete",
        "delete_many",
        "touch",
        "has_key",
        "clear",
        "incr_version",
        "decr_version",
    }
)

THREAD_FIX = (
    "Do the file work in a sync function run with await asyncio.to_thread(...) "
    "(or sync_to_async)."
)
SOCKET_FIX = (
    "Use asyncio's streams: await asyncio.open_connection(host, port), and await "
    "loop.getaddrinfo(...) for a lookup."
)
MAIL_FIX = (
    "Send it from a task queue, or from one sync function: await "
    "sync_to_async({call})(...)."
)
STORAGE_FIX = (
    "Storage has no async API: await sync_to_async({call})(...), or do the "
    "whole file handling in one sync function."
)
TASK_PUBLISH_FIX = (
    "Publishing to the broker is sync: await sync_to_async({call})(...), or "
    "asyncio.to_thread()."
)

# Module-level calls -> (level, fix). Error: what reads or writes whole files,
# trees or the network (as open() does); warning: one file system metadata call,
# quick on a local disk, slow on network storage. Not reported: os.path.exists()
# and its kin, os.stat(): one stat each, as cheap as an attribute read in
# practice, and everywhere; SpooledTemporaryFile, which stays in memory.
BLOCKING_MORE: dict[str, tuple[str, str]] = {
    **{
        f"shutil.{name}": ("error", THREAD_FIX)
        for name in (
            "copy",
            "copy2",
            "copyfile",
            "copytree",
            "move",
            "rmtree",
            "make_archive",
            "unpack_archive",
        )
    },
    **{
        f"tempfile.{name}": ("error", THREAD_FIX)
        for name in ("NamedTemporaryFile", "TemporaryFile", "mkstemp")
    },
    **{
        f"tempfile.{name}": ("warning", THREAD_FIX)
        for name in ("mkdtemp", "TemporaryDirectory")
    },
    "os.walk": ("error", THREAD_FIX),
    **{
        f"os.{name}": ("warning", THREAD_FIX)
        for name in (
            "remove",
            "unlink",
            "rename",
            "renames",
            "replace",
            "mkdir",
            "makedirs",
            "rmdir",
            "removedirs",
            "listdir",
            "scandir",
            "chmod",
            "chown",
            "link",
            "symlink",
            "truncate",
            "utime",
        )
    },
    **{
        f"socket.{name}": ("error", SOCKET_FIX)
        for name in (
            "create_connection",
            "getaddrinfo",
            "gethostbyname",
            "gethostbyname_ex",
            "gethostbyaddr",
            "getfqdn",
        )
    },
    **{
        f"smtplib.{name}": (
            "error",
            "Use aiosmtplib, or send from a task queue or one sync_to_async.",
        )
        for name in ("SMTP", "SMTP_SSL", "LMTP")
    },
    **{
        f"django.core.mail.{name}": ("error", MAIL_FIX)
        for name in ("send_mail", "send_mass_mail", "mail_admins", "mail_managers")
    },
}
SOCKET_METHODS = frozenset(
    {"connect", "connect_ex", "accept", "recv", "recv_into", "recvfrom", "send"}
    | {"sendall", "sendto", "sendfile"}
)
EMAIL_CLASSES = frozenset(
    f"django.core.mail{module}.{name}"
    for module in ("", ".message")
    for name in ("EmailMessage", "EmailMultiAlternatives")
)
PATH_CLASSES = frozenset(
    f"pathlib.{name}" for name in ("Path", "PosixPath", "WindowsPath")
)
# Path methods that return another Path (no I/O of their own).
PATH_RETURNING = frozenset(
    {"absolute", "expanduser", "with_name", "with_suffix", "with_stem"}
    | {"joinpath", "relative_to", "resolve"}
)
# Path methods -> level: reading or writing a file's content is open()'s
# error; one metadata call or a directory listing, a warning. exists(),
# is_file(), stat() are left out, as os.path's checks are.
PATH_METHODS = {
    **dict.fromkeys(
        ("read_text", "read_bytes", "write_text", "write_bytes", "open"), "error"
    ),
    **dict.fromkeys(
        (
            "mkdir",
            "unlink",
            "rmdir",
            "touch",
            "rename",
            "replace",
            "iterdir",
            "glob",
            "rglob",
            "walk",
            "chmod",
            "symlink_to",
            "hardlink_to",
        ),
        "warning",
    ),
}
SETTINGS_BASE_DIR = "django.conf.settings.BASE_DIR"
USER_MODEL = "django.contrib.auth.get_user_model"

# django.contrib.auth's functions that query or write the session -> their
# async twins (Django 5.0+).
AUTH_FUNCTIONS = {
    f"django.contrib.auth.{name}": f"a{name}"
    for name in (
        "authenticate",
        "login",
        "logout",
        "get_user",
        "update_session_auth_hash",
    )
}

# Django 5.2's aauthenticate() hashes the password on the event loop (6.1
# hashes in a thread): an awaited call that still blocks, on that line only.
LOOP_HASHING = "django.contrib.auth.aauthenticate" if django.VERSION < (6, 1) else None
LOOP_HASHING_FIX = (
    "On Django < 6.1: await sync_to_async(authenticate)(request, **credentials), "
    "one thread hop."
)

# Celery's (and rq's) task decorators: their functions get .delay(); Django's
# (django.tasks, 6.0; the django-tasks backport on 5.2) get .enqueue().
TASK_DECORATORS = frozenset(
    {"celery.shared_task", "celery.task", "django_rq.job", "rq.job"}
    | {"rq.decorators.job", "django.tasks.task", "django_tasks.task"}
)
TASK_PUBLISH = frozenset({"delay", "apply_async"})
# django.tasks' sync methods and their async twins.
DJANGO_TASK_METHODS = {"enqueue": "aenqueue", "get_result": "aget_result"}

SIGNAL_CLASSES = frozenset(
    {"django.dispatch.Signal", "django.dispatch.dispatcher.Signal"}
)
SIGNAL_SEND = {"send": "asend", "send_robust": "asend_robust"}

STORAGE = "django.core.files.storage.default_storage"
STORAGES = "django.core.files.storage.storages"
STORAGE_METHODS = frozenset(
    {"save", "open", "exists", "delete", "size", "listdir", "get_available_name"}
    | {"get_modified_time", "get_created_time", "get_accessed_time"}
)

# Manager methods that keep a QuerySet lazy, or are no query at all.
LAZY_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "select_related",
        "prefetch_related",
        "annotate",
        "alias",
        "values",
        "values_list",
        "only",
        "defer",
        "using",
        "none",
        "distinct",
        "reverse",
        "extra",
        "raw",
        "select_for_update",
        "union",
        "intersection",
        "difference",
        "dates",
        "datetimes",
        "complex_filter",
        "get_queryset",
        "db_manager",
        "normalize_email",
        "make_random_password",
    }
)
# UserManager has acreate_user(), acreate_superuser(); every manager
# aget_by_natural_key().
ASYNC_MANAGER_METHODS = frozenset(
    {"create_user", "create_superuser", "get_by_natural_key"}
)
# A reverse related manager (`author.book_set`) queried by these; Python's
# set, list and dict share count(), get(), update() (with a positional
# argument, where a manager takes none).
RELATED_SYNC = SYNC_METHODS - {"delete", "iterator", "bulk_create", "bulk_update"}
SHARED_WITH_BUILTINS = frozenset({"count", "get", "update"})


# The module-level callees this module reports, to resolve only those.
_RESOLVED = (
    frozenset(BLOCKING_MORE) | frozenset(AUTH_FUNCTIONS) | {LOOP_HASHING} - {None}
)


def _text(node: ast.expr) -> str:
    """short(node), in parentheses when it is an operation: (BASE_DIR / "x")."""
    text = short(node)
    return f"({text})" if isinstance(node, ast.BinOp) else text


class BlockingChecks(OrmChecks):
    """The sync cache API (code.sync-cache), more blocking calls
    (code.blocking-call) and more sync ORM (code.sync-orm), in async code."""

    def _check_more_blocking(self, call: ast.Call) -> None:
        """Every check of this module on one call inside an async def."""
        func = call.func
        name = self._resolve(func, _RESOLVED)
        if id(call) in self.awaited:
            # Awaited: someone's async API, whatever it is named; one of Django's
            # still hashes on the loop.
            if name is not None and name == LOOP_HASHING:
                self._report(
                    call,
                    "warning",
                    BLOCKING,
                    f"{short(func)}() hashes the password on the event loop "
                    f"{self._where()} (Django {django.get_version()}; 6.1 hashes "
                    "in a thread).",
                    LOOP_HASHING_FIX,
                )
            return
        if name is not None:
            if name in BLOCKING_MORE:
                level, fix = BLOCKING_MORE[name]
                self._report_blocking(call, name, level, fix.format(call=short(func)))
            elif name in AUTH_FUNCTIONS:
                self._report_auth(call, name)
        if not isinstance(func, ast.Attribute):
            return
        method, receiver = func.attr, func.value
        if method in CACHE_METHODS and self._is_cache(receiver):
            self._report_cache(call)
        elif method == "run_until_complete":
            # Any event loop's: the running one raises, another cannot start.
            # (run_forever() is left out: websocket clients have one, which
            # blocks rather than raises.)
            self._report(
                call,
                "error",
                BLOCKING,
                f"{short(func)}() cannot run inside the running event loop "
                f"{self._where()}.",
                BRIDGE_FIX,
            )
        elif method in PATH_METHODS and self._is_path(receiver):
            self._report(
                call,
                PATH_METHODS[method],
                BLOCKING,
                f"{_text(receiver)}.{method}() does file I/O on the event loop "
                f"{self._where()}.",
                f"await asyncio.to_thread({_text(receiver)}.{method}, ...), or do "
                "the file work in one sync function run that way.",
            )
        elif method in SOCKET_METHODS and self._bound_to(
            receiver, lambda v: self._calls(v, {"socket.socket"})
        ):
            self._report(
                call,
                "error",
                BLOCKING,
                f"{short(call)} is a blocking socket call {self._where()}.",
                SOCKET_FIX,
            )
        elif method == "send" and self._is_email(receiver):
            self._report(
                call,
                "error",
                BLOCKING,
                f"{short(call)} sends mail, blocking on the mail server, "
                f"{self._where()}.",
                MAIL_FIX.format(call=f"{_text(receiver)}.send"),
            )
        elif method in SIGNAL_SEND and self._is_signal(receiver):
            self._report_signal(call)
        elif method in TASK_PUBLISH and self._is_task(receiver):
            self._report(
                call,
                "warning",
                BLOCKING,
                f"{short(call)} publishes to the task broker with sync network "
                f"I/O {self._where()}.",
                TASK_PUBLISH_FIX.format(call=short(func)),
            )
        elif method in DJANGO_TASK_METHODS and self._is_task(receiver):
            self._report(
                call,
                "error",
                BLOCKING,
                f"{short(call)} is django.tasks' sync API {self._where()}: a "
                "query with a database backend (SynchronousOnlyOperation), the "
                "whole task with Django's default ImmediateBackend.",
                f"await {_text(receiver)}.{DJANGO_TASK_METHODS[method]}(...) "
                "(Django 6.0; the django-tasks backport on 5.2).",
            )
        elif method in STORAGE_METHODS and self._is_storage(receiver):
            self._report(
                call,
                "warning",
                BLOCKING,
                f"{short(call)} is sync storage I/O (a network call with S3 and "
                f"other remote storages) {self._where()}.",
                STORAGE_FIX.format(call=short(func)),
            )
        else:
            self._check_manager_method(call, func)
            self._check_reverse_manager(call, func)

    # Reporting.

    def _report_blocking(self, call: ast.Call, name: str, level: str, fix: str) -> None:
        written = short(call.func)
        callee = f"{written}()" if written == name else f"{written}() ({name})"
        self._report(
            call,
            level,
            BLOCKING,
            f"{callee} blocks the event loop {self._where()}.",
            fix,
        )

    def _report_auth(self, call: ast.Call, name: str) -> None:
        twin = AUTH_FUNCTIONS[name]
        self._report(
            call,
            "error",
            SYNC_ORM,
            f"{short(call.func)}() queries the database or the session the sync "
            f"way {self._where()}.",
            f"await {twin}(...) instead (django.contrib.auth, Django 5.0+).",
        )

    def _report_cache(self, call: ast.Call) -> None:
        func = call.func
        assert isinstance(func, ast.Attribute)
        message = (
            f"{short(call)} is the sync cache API {self._where()}: with Redis or "
            "Memcached it blocks the loop on the network."
        )
        fix = f"await {short(func.value)}.a{func.attr}(...) instead."
        default = call.args[1] if len(call.args) > 1 else None
        if func.attr == "get_or_set" and isinstance(default, ast.Lambda):
            # aget_or_set() calls a callable default on the loop, too.
            if any(
                queryset_chain(node, {}) is not None
                for node in ast.walk(default.body)
                if isinstance(node, ast.Call)
            ):
                message += " Its default runs a sync query too."
            fix = (
                f"await {short(func.value)}.aget(...), and on a miss compute the "
                "value with await and aset() it: aget_or_set() calls a callable "
                "default on the loop, sync code and all."
            )
        self._report(call, "warning", SYNC_CACHE, message, fix)

    def _report_signal(self, call: ast.Call) -> None:
        """Django's own signals have receivers in most projects; another is
        reported only where the project connects one to it (calls.py)."""
        func = call.func
        assert isinstance(func, ast.Attribute)
        message = (
            f"{short(call)} runs the signal's sync receivers on the loop (and an "
            f"async receiver through async_to_sync(), which raises here) "
            f"{self._where()}."
        )
        fix = (
            f"await {short(func.value)}.{SIGNAL_SEND[func.attr]}(...) (Django 5.0+): "
            "sync receivers then run in a thread."
        )
        name = self._resolve(func.value) or ""
        if name.startswith("django."):
            self._report(call, "warning", BLOCKING, message, fix)
            return
        signal = self._call_target(func.value)
        if signal is None or not self.on_loop:
            return
        finding = Finding(
            level="warning",
            code=BLOCKING,
            area=AREA,
            location=f"{self.path}:{call.lineno}",
            message=message,
            fix=fix,
            column=call.col_offset + 1,
        )
        self.calls.sends.append((signal, finding))

    # What a receiver is.

    def _values(self, name: str) -> list[ast.expr | None] | None:
        """What a name is bound to, in the scope that binds it (its function's,
        or the module's); None when it is not bound in this module."""
        scope = self._binding_scope(name)
        if scope is not None:
            return [v if isinstance(v, ast.expr) else None for v in scope.bound[name]]
        return self._module_values.get(name)

    @cached_property
    def _module_values(self) -> dict[str, list[ast.expr | None]]:
        """Each name bound at module level -> its values (None: not a plain `=`)."""
        values: dict[str, list[ast.expr | None]] = {}
        plain: dict[int, ast.expr] = {}
        nodes = list(walk_scope(self.tree.body))
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                plain[id(node.targets[0])] = node.value
        for node in nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                values.setdefault(node.id, []).append(plain.get(id(node)))
            elif isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                values.setdefault(node.name, []).append(None)
        return values

    def _bound_to(
        self, node: ast.expr, test: Callable[[ast.expr], bool], depth: int = 0
    ) -> bool:
        """`node` passes `test`, or is a name only ever bound to what does."""
        if test(node):
            return True
        if not isinstance(node, ast.Name) or depth > 2:
            return False
        values = self._values(node.id)
        return bool(values) and all(
            value is not None
            and not (isinstance(value, ast.Name) and value.id == node.id)
            and self._bound_to(value, test, depth + 1)
            for value in values
        )

    def _calls(self, node: ast.expr, names: frozenset[str] | set[str]) -> bool:
        return (
            isinstance(node, ast.Call) and self._resolve(node.func, names) is not None
        )

    def _is_cache(self, node: ast.expr) -> bool:
        """django.core.cache.cache, caches["alias"], or a name bound to them."""

        def test(value: ast.expr) -> bool:
            if isinstance(value, ast.Subscript):
                return self._resolve(value.value, {CACHES}) is not None
            return self._resolve(value, {CACHE}) is not None

        return self._bound_to(node, test)

    def _is_path(self, node: ast.expr) -> bool:
        """A pathlib.Path: Path(...), settings.BASE_DIR / "x", p.parent, or a
        name bound to them."""

        def test(value: ast.expr) -> bool:
            match value:
                case ast.Call(func=ast.Attribute(value=inner, attr=attr)):
                    if attr in ("home", "cwd"):
                        return self._resolve(inner, PATH_CLASSES) is not None
                    return attr in PATH_RETURNING and self._is_path(inner)
                case ast.Call(func=func):
                    return self._resolve(func, PATH_CLASSES) is not None
                case ast.Attribute(value=inner, attr="parent"):
                    return self._is_path(inner)
                case ast.Subscript(value=ast.Attribute(value=inner, attr="parents")):
                    return self._is_path(inner)
                case ast.BinOp(left=left, op=ast.Div()):
                    return self._is_path(left)
                case ast.Attribute():
                    # Django's startproject writes BASE_DIR as a Path (since
                    # 3.1); an old str one has none of Path's methods.
                    return self._resolve(value, {SETTINGS_BASE_DIR}) is not None
            return False

        return self._bound_to(node, test)

    def _is_email(self, node: ast.expr) -> bool:
        return self._bound_to(node, lambda v: self._calls(v, EMAIL_CLASSES))

    def _is_signal(self, node: ast.expr) -> bool:
        """Django's signals (post_save...), a module's `x = Signal()`, or a name
        imported from a project's `signals` module."""
        name = self._resolve(node)
        if name is not None:
            parts = name.split(".")
            if name.startswith("django.") and "signals" in parts[:-1]:
                return True
            if len(parts) > 1 and parts[-2] == "signals":
                return True
        return self._bound_to(node, lambda v: self._calls(v, SIGNAL_CLASSES))

    def _is_task(self, node: ast.expr) -> bool:
        """A function of this module decorated as a task, a name imported from
        a `tasks` module (where Celery's autodiscovery looks for them), or one
        named as a task (`task`, `send_email_task`)."""
        if isinstance(node, ast.Name) and node.id in self._task_functions:
            return self._binding_scope(node.id) is None
        match node:
            # A task handed in: `async def dispatch(task, *args): task.delay(*args)`.
            case ast.Name(id=written) | ast.Attribute(attr=written) if (
                written == "task" or written.endswith("_task")
            ):
                return True
        name = self._resolve(node)
        if name is None or name.startswith("builtins."):
            return False
        module = name.split(".")[:-1]
        return any(part == "tasks" or part.endswith("_tasks") for part in module)

    @cached_property
    def _task_functions(self) -> frozenset[str]:
        """Names of the module's functions decorated as Celery (or rq) tasks."""
        names = set()
        for node in walk_scope(self.tree.body):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                target = (
                    decorator.func if isinstance(decorator, ast.Call) else decorator
                )
                if self._resolve(target, TASK_DECORATORS) is not None or (
                    isinstance(target, ast.Attribute)
                    and target.attr == "task"
                    and isinstance(target.value, ast.Name)
                ):
                    names.add(node.name)
        return frozenset(names)

    def _is_storage(self, node: ast.expr) -> bool:
        def test(value: ast.expr) -> bool:
            if isinstance(value, ast.Subscript):
                return self._resolve(value.value, {STORAGES}) is not None
            return self._resolve(value, {STORAGE}) is not None

        return self._bound_to(node, test)

    # The ORM, beyond QuerySet chains.

    def _check_manager_method(self, call: ast.Call, func: ast.Attribute) -> None:
        """User.objects.create_user(...): a custom manager method named for a
        query (a QuerySet-returning one would be lazy: not reported)."""
        method = func.attr
        match func.value:
            case ast.Attribute(value=model, attr="objects" | "_default_manager"):
                pass
            case _:
                return
        match model:
            case ast.Name(id=model_name) | ast.Attribute(attr=model_name):
                if not (model_name[:1].isupper() or model_name == "model"):
                    return
            case ast.Call(func=factory) if self._resolve(factory, {USER_MODEL}):
                pass
            case _:
                return
        if (
            method in SYNC_METHODS
            or method in LAZY_METHODS
            or not (
                method in QUERYING_MANAGER_METHODS
                or method.startswith(QUERYING_PREFIXES)
            )
        ):
            return
        parent = self.parents.get(id(call))
        if isinstance(parent, ast.Attribute):
            return  # chained on: it returned a QuerySet
        if method in ASYNC_MANAGER_METHODS:
            fix = (
                f"await {short(func.value)}.a{method}(...) where the manager has it "
                "(Django's UserManager does), or one sync_to_async."
            )
        else:
            fix = (
                f"await sync_to_async({short(func)})(...), or an async variant "
                "of the method."
            )
        self._report(
            call,
            "warning",
            SYNC_ORM,
            f"{short(call)} is a manager method that probably queries, sync, "
            f"{self._where()}.",
            fix,
        )

    def _check_reverse_manager(self, call: ast.Call, func: ast.Attribute) -> None:
        """author.book_set.count(), author.book_set.filter(...).first(): a
        reverse related manager (Django's default `<model>_set` name) queried."""
        if func.attr not in RELATED_SYNC or self._chain(func.value) is not None:
            return  # a chain through all() is orm.py's
        if func.attr in SHARED_WITH_BUILTINS and call.args:
            return  # list.count(x), dict.get(k), set.update(s)
        node, lazy = func.value, []
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in LAZY_METHODS:
                return
            lazy.append(node.func.attr)
            node = node.func.value
        match node:
            case ast.Attribute(value=ast.Name() | ast.Attribute(), attr=rel):
                if not rel.endswith("_set") or len(rel) <= 4:
                    return
            case _:
                return
        what = f"{short(call)}"
        args = "(...)" if call.args or call.keywords else "()"
        fix = f"await {short(func.value)}.a{func.attr}{args}"
        if lazy:
            # filter(), order_by()...: a query, prefetched or not; a warning, as
            # the `_set` name is a convention, not a type.
            self._report(
                call,
                "warning",
                SYNC_ORM,
                f"{what} runs a sync query on a related manager {self._where()}.",
                f"{fix} (or one sync_to_async for the whole unit of work).",
            )
        else:
            # As obj.rel.all().count(): free once the relation is prefetched.
            everything = ast.Call(ast.Attribute(node, "all", ast.Load()), [], [])
            self._report_related(call, everything, what, fix)
