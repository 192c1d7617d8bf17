"""Async views behind sync-only parts: form and serializer validation, sync
iterables streamed, class-based views behind a sync dispatch(), sync decorators.

Each check reads only the module it is in: a form class, a generator, a mixin or a
decorator defined elsewhere is judged by its name, or not at all.
"""

import ast
from collections.abc import Callable
from functools import cached_property
from typing import NamedTuple

from topics.audit.code.base import ScannerBase
from topics.audit.code.rules import MANAGERS, SYNC_ORM
from topics.audit.code.syntax import short, walk_scope

SYNC_ITERATOR = "code.sync-iterator"
SYNC_DISPATCH = "code.sync-dispatch"
SYNC_DECORATOR = "code.sync-decorator"

# Forms and serializers.

# Methods that validate (or save) a bound form or serializer, and the keywords
# Django's and DRF's take; a call passing anything else is some other API's
# (jsonschema's validator.is_valid(instance)).
VALIDATING = {
    "is_valid": frozenset({"raise_exception"}),
    "full_clean": frozenset(),
    "validate_unique": frozenset(),
    "save": None,  # a serializer's save(**kwargs) takes any keyword
}
# Base classes whose validation checks the model: unique fields, relations.
MODEL_BASES = frozenset(
    {"ModelForm", "BaseModelForm", "ModelSerializer", "HyperlinkedModelSerializer"}
)
PLAIN_BASES = frozenset({"Form", "BaseForm", "Serializer", "BaseSerializer"})
# Fields and validators that look their value up in the database when validated.
QUERYING_FIELDS = frozenset(
    {
        "ModelChoiceField",
        "ModelMultipleChoiceField",
        "PrimaryKeyRelatedField",
        "SlugRelatedField",
        "HyperlinkedRelatedField",
        "ManyRelatedField",
        "UniqueValidator",
        "UniqueTogetherValidator",
        "UniqueForDateValidator",
        "UniqueForMonthValidator",
        "UniqueForYearValidator",
    }
)
# django.contrib.auth's forms that query when validated -> (kind, whether a
# ModelForm, what shows it): AuthenticationForm authenticates, the user creation
# forms check that the username is free.
AUTH_FORMS = {
    "django.contrib.auth.forms.AuthenticationForm": ("fields", False, "clean()"),
    **{
        f"django.contrib.auth.forms.{name}": ("fields", True, "clean_username()")
        for name in (
            "BaseUserCreationForm",
            "UserCreationForm",
            "AdminUserCreationForm",
        )
    },
    "django.contrib.auth.forms.UserChangeForm": ("model", True, "ModelForm"),
}
# A model instance's own validation that queries (full_clean() is the ORM
# checks'): how many positional arguments it takes, and its keywords.
MODEL_VALIDATION = {
    "validate_unique": (1, frozenset({"exclude"})),
    "validate_constraints": (1, frozenset({"exclude"})),
}
FORM_FIX = (
    "Django has no async form API: do the validation and the save in one sync "
    "function and await sync_to_async(that_function)(...)."
)
SERIALIZER_FIX = (
    "With adrf's serializers, await serializer.ais_valid() and "
    "serializer.asave(); else validate and save in one sync function awaited "
    "with sync_to_async."
)


def _dual_mode(node: ast.FunctionDef) -> bool:
    """Whether a sync dispatch() first hands async views to code of their own:
    `if self.view_is_async: return ...`, as Django's View.options() and
    http_method_not_allowed() do. What follows then serves sync handlers only."""
    for statement in node.body:
        if (
            isinstance(statement, ast.If)
            and isinstance(statement.test, ast.Attribute)
            and statement.test.attr == "view_is_async"
            and isinstance(statement.test.value, ast.Name)
            and statement.test.value.id == "self"
            and any(isinstance(item, ast.Return) for item in statement.body)
        ):
            return True
    return False


class FormClass(NamedTuple):
    """What the scan knows of a form's or serializer's class."""

    name: str
    kind: str  # "fields" (it shows a querying field), "model", "plain", "unknown"
    model_base: bool  # a ModelForm or ModelSerializer: save() writes the model
    shown: str  # the querying field or the model base it shows, for the message

    @property
    def elsewhere(self) -> str:
        """Where the unknown part of an "unknown" class is."""
        if self.shown:
            return f"its base {self.shown} is defined elsewhere"
        return "defined elsewhere"

    @property
    def serializer(self) -> bool:
        return "Serializer" in self.name or "Serializer" in self.shown


# Streaming responses.

STREAMING = frozenset(
    {"django.http.StreamingHttpResponse", "django.http.response.StreamingHttpResponse"}
)
FILE_RESPONSES = frozenset(
    {"django.http.FileResponse", "django.http.response.FileResponse"}
)
SYNC_ITERATOR_FUNCTIONS = frozenset(
    {
        *(f"builtins.{name}" for name in ("iter", "map", "filter", "zip")),
        *(f"itertools.{name}" for name in ("chain", "islice", "starmap", "cycle")),
    }
)
CONSUMED = (
    "under ASGI Django cannot iterate it on the event loop, so it reads it whole, "
    "in a thread (sync_to_async(list)), before sending the first byte, and warns "
    '"StreamingHttpResponse must consume synchronous iterators": nothing streams, '
    "and the whole body is held in memory"
)
STREAM_FIX = (
    "Pass an async iterator: an async def generator (async for over the query, "
    "each slow step awaited), or (x async for x in ...)."
)
FILE_FIX = (
    "For a large file, stream an async generator that reads it in chunks "
    "(aiofiles, or asyncio.to_thread per chunk) with StreamingHttpResponse, or let "
    "the web server send it (X-Sendfile, X-Accel-Redirect); for a small file, "
    "accept it."
)

# Class-based views.

HTTP_HANDLERS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
)
AUTH_MIXINS = frozenset(
    f"django.contrib.auth.mixins.{name}"
    for name in ("LoginRequiredMixin", "PermissionRequiredMixin", "UserPassesTestMixin")
)
METHOD_DECORATOR = "django.utils.decorators.method_decorator"
# Decorators that, given the sync dispatch(), read request.user or the response
# it returns (a coroutine there); csrf_exempt only marks it, and is fine.
DISPATCH_BREAKERS = frozenset(
    {
        *(
            f"django.contrib.auth.decorators.{name}"
            for name in ("login_required", "permission_required", "user_passes_test")
        ),
        "django.contrib.admin.views.decorators.staff_member_required",
        *(
            f"django.views.decorators.cache.{name}"
            for name in ("never_cache", "cache_control", "cache_page")
        ),
        *(
            f"django.views.decorators.vary.{name}"
            for name in ("vary_on_cookie", "vary_on_headers")
        ),
    }
)
DISPATCH_FIX = (
    "Check access in the async handlers (user = await request.auser(), then raise "
    "PermissionDenied or return redirect_to_login(...)), or decorate each handler: "
    'method_decorator(login_required, name="get") (the auth decorators are '
    "async-capable on async functions since Django 5.1); or use async-capable "
    "drop-in mixins (the reference project's topics/mixins.py); or make every "
    "handler sync."
)
DECORATOR_FIX = (
    "Use a decorator Django documents as async-capable (https://docs."
    "djangoproject.com/en/stable/topics/async/#decorators), or write the wrapper "
    "in both modes: when iscoroutinefunction(view), return an async def wrapper "
    "(asgiref.sync.iscoroutinefunction, markcoroutinefunction)."
)
# Names that show a decorator knows about coroutines: its async branch.
ASYNC_AWARE = frozenset(
    {"iscoroutinefunction", "markcoroutinefunction", "async_to_sync", "sync_to_async"}
)

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _last_name(node: ast.expr) -> str | None:
    match node:
        case ast.Name(id=name) | ast.Attribute(attr=name):
            return name
        case ast.Call(func=func):
            return _last_name(func)
        case ast.Subscript(value=value):
            return _last_name(value)
    return None


def _hands_on(
    node: ast.expr | None, handlers: frozenset[str], coroutines: frozenset[str]
) -> bool:
    """super().dispatch(...), super(View, self).dispatch(...), a handler called
    (`handler = getattr(self, ...)`, then `return handler(request)`), or an
    async method of the class called (`return self.adispatch(request)`): what
    returns a coroutine to Django."""
    match node:
        case ast.Call(
            func=ast.Attribute(
                value=ast.Call(func=ast.Name(id="super")), attr="dispatch"
            )
        ):
            return True
        case ast.Call(func=ast.Name(id=name)):
            return name in handlers
        case ast.Call(func=ast.Attribute(value=ast.Name(id="self"), attr=name)):
            return name in coroutines
    return False


def _returns_own_call(function: Function, names: frozenset[str]) -> bool:
    """A return of `function` calls one of `names` on self: `return self.adispatch(
    request)`, where adispatch is an async method."""
    return any(
        isinstance(node, ast.Return)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == "self"
        and node.value.func.attr in names
        for node in walk_scope(function.body)
    )


def _handler_names(function: ast.FunctionDef) -> frozenset[str]:
    """Names a dispatch() binds to getattr(self, ...): the handler it picks."""
    return frozenset(
        target.id
        for node in walk_scope(function.body)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "getattr"
        for target in node.targets
        if isinstance(target, ast.Name)
    )


def _reads_user(node: ast.AST) -> bool:
    """request.user or self.request.user read somewhere under `node`."""
    for inner in ast.walk(node):
        match inner:
            case ast.Attribute(
                value=ast.Name(id="request")
                | ast.Attribute(value=ast.Name(id="self"), attr="request"),
                attr="user",
                ctx=ast.Load(),
            ):
                return True
    return False


def _is_generator(function: ast.AST) -> bool:
    """A plain def with yield: calling it makes a sync generator."""
    return isinstance(function, ast.FunctionDef) and any(
        isinstance(inner, ast.Yield | ast.YieldFrom)
        for inner in walk_scope(function.body)
    )


class ViewChecks(ScannerBase):
    """Validation that queries (code.sync-orm), sync iterables streamed
    (code.sync-iterator), class-based views behind a sync dispatch()
    (code.sync-dispatch), sync decorators on async views (code.sync-decorator)."""

    # What the module defines at its top level.

    @cached_property
    def _module_classes(self) -> dict[str, ast.ClassDef]:
        return {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}

    @cached_property
    def _module_functions(self) -> dict[str, Function]:
        return {
            n.name: n
            for n in self.tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    @cached_property
    def _view_cache(self) -> dict[tuple[str, int], object]:
        """Answers kept per node (id) and question: classes, functions."""
        return {}

    def _cached(
        self, question: str, node: ast.AST, answer: Callable[[ast.AST], object]
    ) -> object:
        key = (question, id(node))
        if key not in self._view_cache:
            self._view_cache[key] = answer(node)
        return self._view_cache[key]

    # k03: validation that queries.

    def _check_validation(self, call: ast.Call) -> bool:
        """form.is_valid(), full_clean(), validate_unique(), save() on a form or
        serializer in async code. True when the call is a form's (reported, or
        known to run no query), so that the generic save()/full_clean() warning
        of the ORM checks is not given too."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr in MODEL_VALIDATION and self._form_class(func.value) is None:
            self._check_model_validation(call, func)
            return False
        if func.attr not in VALIDATING:
            return False
        keywords = VALIDATING[func.attr]
        if call.args or (
            keywords is not None
            and any(k.arg is not None and k.arg not in keywords for k in call.keywords)
        ):
            return False
        form = self._form_class(func.value)
        if form is None:
            return False
        method = func.attr
        if method == "save" and any(
            k.arg == "commit"
            and isinstance(k.value, ast.Constant)
            and k.value.value is False
            for k in call.keywords
        ):
            return True  # builds the instance, runs no query
        if form.kind == "plain":
            # Its own save() may do anything: the ORM checks' generic warning.
            return method != "save"
        if method == "save" and form.model_base and form.kind != "unknown":
            level = "error"
            base = "ModelSerializer" if form.serializer else "ModelForm"
            why = f"{form.name} is a {base}: save() writes its instance"
        elif method == "save" and form.kind == "unknown":
            level = "warning"
            why = (
                f"if {form.name} ({form.elsewhere}) is a ModelForm or "
                "ModelSerializer, save() writes its instance"
            )
        elif method == "save":
            return False  # a plain form's own save(): the generic warning
        else:
            level, why = self._validation_level(form)
        self._report(
            call,
            level,
            SYNC_ORM,
            f"{short(call)} runs sync queries {self._where()}: {why}.",
            SERIALIZER_FIX if form.serializer else FORM_FIX,
        )
        return True

    def _check_model_validation(self, call: ast.Call, func: ast.Attribute) -> None:
        """instance.validate_unique(), validate_constraints(): queries if a model."""
        positional, keywords = MODEL_VALIDATION[func.attr]
        if len(call.args) > positional or any(
            k.arg is not None and k.arg not in keywords for k in call.keywords
        ):
            return
        self._report(
            call,
            "warning",
            SYNC_ORM,
            f"{short(call)} may be a sync ORM call (if it is a model) {self._where()}.",
            "Do it inside one sync_to_async with the rest of the work.",
        )

    def _validation_level(self, form: FormClass) -> tuple[str, str]:
        """The level of validating `form` in async code, and why it queries."""
        if form.kind == "fields" and form.shown.endswith("()"):
            return "error", f"{form.name}.{form.shown} queries the database"
        if form.kind == "fields":
            return "error", f"{form.name} has a {form.shown}, looked up when validated"
        if form.kind == "model":
            return "warning", (
                f"{form.name} is a {form.shown}, whose validation looks up its "
                "related fields and checks its unique ones (if it has any)"
            )
        return "warning", (
            f"if {form.name} ({form.elsewhere}) has model-backed fields (a "
            "ModelForm or ModelSerializer, a ModelChoiceField, a unique check)"
        )

    def _check_form_errors(self, node: ast.Attribute) -> None:
        """form.errors read before any is_valid(): it runs full_clean() there."""
        if node.attr != "errors" or not isinstance(node.ctx, ast.Load):
            return
        if not isinstance(node.value, ast.Name):
            return
        form = self._form_class(node.value)
        # A serializer's errors need is_valid() first (DRF asserts it): no query.
        if form is None or form.kind == "plain" or form.serializer:
            return
        function = self.scope.node
        if function is None or isinstance(function, ast.ClassDef | ast.Lambda):
            return
        validated = self._cached("validated", function, self._validated_names)
        if node.value.id in validated:  # type: ignore[operator]
            return  # validated first (here, or in sync_to_async): errors are kept
        level, why = self._validation_level(form)
        self._report(
            node,
            level,
            SYNC_ORM,
            f"Reading {short(node)} validates the form (full_clean()), which runs "
            f"sync queries {self._where()}: {why}.",
            FORM_FIX,
        )

    @staticmethod
    def _validated_names(function: ast.AST) -> frozenset[str]:
        """Names whose is_valid or full_clean the function mentions (called, or
        handed to sync_to_async), or that it hands to a call, which may validate
        them (await sync_to_async(save_article)(form))."""
        assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        names = set()
        for node in ast.walk(function):
            match node:
                case ast.Attribute(
                    value=ast.Name(id=name), attr="is_valid" | "full_clean"
                ):
                    names.add(name)
                case ast.Call(args=args, keywords=keywords):
                    values = [*args, *(k.value for k in keywords)]
                    names.update(v.id for v in values if isinstance(v, ast.Name))
        return frozenset(names)

    def _form_class(self, node: ast.expr) -> FormClass | None:
        """The form or serializer class `node` is an instance of, when the
        function shows it: SomeForm(...) itself, or a name only ever bound to it."""
        if isinstance(node, ast.Call):
            return self._class_of_call(node.func)
        if not isinstance(node, ast.Name):
            return None
        values = self.scope.bound.get(node.id)
        if not values or not all(isinstance(v, ast.Call) for v in values):
            return None
        found = {self._class_of_call(v.func) for v in values}  # type: ignore[union-attr]
        return found.pop() if len(found) == 1 else None

    def _class_of_call(self, func: ast.expr) -> FormClass | None:
        if isinstance(func, ast.Name) and func.id in self._module_classes:
            if self._binding_scope(func.id) is not None:
                return None  # a local name shadows the module's class
            klass = self._module_classes[func.id]
            return self._cached("form", klass, self._classify)  # type: ignore[return-value]
        name = self._resolve(func)
        if name is None or name.startswith("builtins."):
            return None
        module, _, last = name.rpartition(".")
        if name in AUTH_FORMS:
            return FormClass(last, *AUTH_FORMS[name])
        if not last[:1].isupper() or module.startswith(("django.", "rest_framework.")):
            return None
        if last.endswith(("Form", "Serializer", "FormSet")) or module.rpartition(".")[
            2
        ] in ("forms", "serializers"):
            return FormClass(last, "unknown", False, "")
        return None

    def _classify(
        self, klass: ast.AST, seen: frozenset[str] = frozenset()
    ) -> FormClass | None:
        """A class of this module, as a form: its bases and the fields it shows;
        None when it is not a form or serializer."""
        assert isinstance(klass, ast.ClassDef)
        kind, model_base, shown = "", False, ""
        for base in klass.bases:
            name = _last_name(base)
            if name in MODEL_BASES:
                kind, model_base, shown = "model", True, name
            elif (
                isinstance(base, ast.Name)
                and base.id in self._module_classes
                and base.id not in seen
            ):
                inner = self._classify(
                    self._module_classes[base.id], seen | {klass.name}
                )
                if inner is not None and inner.kind == "fields":
                    return inner._replace(name=klass.name)
                # A model base found so far stays; a plain one gives way.
                if inner is not None and kind != "model" and inner.kind != "plain":
                    kind, model_base, shown = inner.kind, inner.model_base, inner.shown
                elif inner is not None:
                    kind = kind or "plain"
            elif name in PLAIN_BASES:
                kind = kind or "plain"
            elif kind in ("", "plain"):
                # A base from elsewhere, or not a form at all.
                kind, shown = "unknown", name or ""
        if kind in ("", "unknown") and not self._is_form_name(klass.name):
            return None
        for node in ast.walk(klass):
            field = _last_name(node.func) if isinstance(node, ast.Call) else None
            if field in QUERYING_FIELDS:
                return FormClass(klass.name, "fields", model_base, field)
        for item in klass.body:
            if not isinstance(item, ast.FunctionDef) or not item.name.startswith(
                ("clean", "validate")
            ):
                continue
            if any(
                isinstance(node, ast.Attribute) and node.attr in MANAGERS
                for node in ast.walk(item)
            ):
                return FormClass(klass.name, "fields", model_base, f"{item.name}()")
        return FormClass(klass.name, kind or "unknown", model_base, shown)

    @staticmethod
    def _is_form_name(name: str) -> bool:
        return name.endswith(("Form", "Serializer", "FormSet"))

    # k04: sync iterables into streaming responses.

    def _check_streaming(self, call: ast.Call) -> None:
        name = self._resolve(call.func, STREAMING | FILE_RESPONSES)
        if name is None:
            return
        content = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg == "streaming_content":
                content = keyword.value
        if content is None:
            return
        callee = short(call.func)
        if name in FILE_RESPONSES:
            if self._async_iterable(content):
                return
            self._report(
                call,
                "warning",
                SYNC_ITERATOR,
                f"{callee}({short(content)}) reads the file through a sync iterator "
                f"{self._where()}: under ASGI Django reads it whole, in a thread, "
                "into memory before sending the first byte.",
                FILE_FIX,
            )
            return
        what = self._sync_iterable(content, depth=0)
        if what is None:
            return
        self._report(
            call,
            "warning",
            SYNC_ITERATOR,
            f"{callee}() gets {what} {self._where()}: {CONSUMED}.",
            STREAM_FIX,
        )

    def _sync_iterable(self, node: ast.expr, depth: int) -> str | None:
        """How `node` is visibly a sync iterator (a generator, iter(), map()...),
        or None: an async one, a list (nothing to wait for per chunk), unknown."""
        match node:
            case ast.GeneratorExp(generators=generators):
                if any(g.is_async for g in generators) or any(
                    isinstance(n, ast.Await) for n in ast.walk(node)
                ):
                    return None
                return f"the sync generator expression {short(node)}"
            case ast.Call(func=func):
                function = self._called_function(func)
                if function is not None:
                    if _is_generator(function):
                        return f"{short(node)}, a sync generator"
                    return None
                if self._resolve(func, SYNC_ITERATOR_FUNCTIONS) is not None:
                    return f"{short(node)}, a sync iterator"
            case ast.Name(id=name) if depth == 0:
                values = self.scope.bound.get(name)
                if not values or not all(isinstance(v, ast.expr) for v in values):
                    return None
                found = [self._sync_iterable(v, depth + 1) for v in values]  # type: ignore[arg-type]
                if all(found):
                    return f"{name} = {found[0]}"
        return None

    def _async_iterable(self, node: ast.expr) -> bool:
        """FileResponse(agen()): an async generator, not a file."""
        match node:
            case ast.GeneratorExp(generators=generators):
                return any(g.is_async for g in generators)
            case ast.Call(func=func):
                function = self._called_function(func)
                return isinstance(function, ast.AsyncFunctionDef)
        return False

    def _called_function(self, func: ast.expr) -> Function | None:
        """The def a call calls, when this module shows it: a local def of the
        enclosing functions, a module function, or self.method()."""
        match func:
            case ast.Name(id=name):
                for scope in reversed(self.scopes):
                    if scope.node is None or isinstance(scope.node, ast.ClassDef):
                        continue
                    if name in scope.locals:
                        local = self._cached("defs", scope.node, self._local_defs)
                        return local.get(name)  # type: ignore[attr-defined]
                return self._module_functions.get(name)
            case ast.Attribute(value=ast.Name(id="self" | "cls"), attr=attr):
                klass = self.scope.klass
                if klass is None:
                    return None
                return next(
                    (
                        item
                        for item in klass.body
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                        and item.name == attr
                    ),
                    None,
                )
        return None

    @staticmethod
    def _local_defs(function: ast.AST) -> dict[str, Function]:
        """The defs nested in a function (its own scope)."""
        assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        body = [function.body] if isinstance(function, ast.Lambda) else function.body
        return {
            node.name: node
            for node in walk_scope(body)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    # k12: class-based views behind a sync dispatch().

    def _check_class_view(self, klass: ast.ClassDef) -> None:
        """A class with async handlers whose dispatch() is sync and does more
        than hand on: a Django auth mixin, a mixin of this module, a decorator."""
        methods = self._class_methods(klass, frozenset())
        modes = {
            name: isinstance(node, ast.AsyncFunctionDef)
            for name, (node, _) in methods.items()
            if name in HTTP_HANDLERS and name != "options"
        }
        if not modes or not all(modes.values()):
            return  # sync, mixed (Django refuses it: urls.mixed-handlers), none
        handlers = ", ".join(sorted(modes))
        lead = f"{klass.name} has async handlers ({handlers})"
        for decorator in klass.decorator_list:
            breaker = self._dispatch_breaker(decorator, dispatch_only=True)
            if breaker is not None:
                self._report(
                    decorator,
                    "error",
                    SYNC_DISPATCH,
                    f'{lead}, but @method_decorator({breaker}, name="dispatch") '
                    "wraps the sync View.dispatch(), the sync way: it "
                    + self._breaker_effect(breaker),
                    DISPATCH_FIX,
                )
                return
        dispatch = methods.get("dispatch")
        if dispatch is not None:
            node, owner = dispatch
            coroutines = frozenset(
                name
                for name, (method, _) in methods.items()
                if isinstance(method, ast.AsyncFunctionDef)
            )
            why = self._dispatch_problem(node, coroutines)
            if why is not None:
                where: ast.AST = self._base_for(klass, owner)
                if owner is klass:
                    # At the decorator that breaks it, if one does.
                    where = next(
                        (
                            d
                            for d in node.decorator_list
                            if self._dispatch_breaker(d, dispatch_only=False)
                        ),
                        node,
                    )
                self._report(
                    where,
                    "error",
                    SYNC_DISPATCH,
                    f"{lead}, but {owner.name}.dispatch() is sync and runs on the "
                    f"event loop: {why}.",
                    DISPATCH_FIX,
                )
                return
            if (
                isinstance(node, ast.AsyncFunctionDef)
                or owner is klass
                or _returns_own_call(node, coroutines)
            ):
                # Its own dispatch() comes first in the MRO, or that of a mixin
                # with an async path (topics.mixins' LoginRequiredMixin, copied).
                return
        mixin = self._auth_mixin(klass, frozenset())
        if mixin is not None:
            base, name = mixin
            self._report(
                base,
                "error",
                SYNC_DISPATCH,
                f"{lead}, but {name}.dispatch() is sync and runs on the event "
                "loop: it reads request.user there (SynchronousOnlyOperation for a "
                "logged-in user), and returns its redirect or 403 where Django "
                "awaits the handler (TypeError: object HttpResponseRedirect can't "
                "be used in 'await' expression).",
                DISPATCH_FIX,
            )

    def _class_methods(
        self, klass: ast.ClassDef, seen: frozenset[str]
    ) -> dict[str, tuple[Function, ast.ClassDef]]:
        """Each method name -> (its def, its class), the class's own first, then
        its bases of this module, left to right (an approximation of the MRO)."""
        methods: dict[str, tuple[Function, ast.ClassDef]] = {}
        for item in klass.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                methods.setdefault(item.name, (item, klass))
        for base in klass.bases:
            if (
                isinstance(base, ast.Name)
                and base.id in self._module_classes
                and base.id not in seen
                and base.id != klass.name
            ):
                inner = self._class_methods(
                    self._module_classes[base.id], seen | {klass.name}
                )
                for name, found in inner.items():
                    methods.setdefault(name, found)
        return methods

    def _base_for(self, klass: ast.ClassDef, owner: ast.ClassDef) -> ast.AST:
        """The base in klass's list that brings `owner` (the class line if unsure)."""
        for base in klass.bases:
            if isinstance(base, ast.Name) and base.id == owner.name:
                return base
        return klass

    def _dispatch_problem(
        self, node: Function, coroutines: frozenset[str]
    ) -> str | None:
        """Why a sync dispatch() breaks async handlers, or None: async, or a plain
        hand-on (return super().dispatch(...)), which returns their coroutine;
        `coroutines` names the class's async methods."""
        if isinstance(node, ast.AsyncFunctionDef) or _dual_mode(node):
            return None
        for decorator in node.decorator_list:
            breaker = self._dispatch_breaker(decorator, dispatch_only=False)
            if breaker is not None:
                return f"@method_decorator({breaker}) " + self._breaker_effect(
                    breaker
                ).removesuffix(".")
        problems = []
        if _reads_user(node):
            problems.append(
                "it reads request.user there (SynchronousOnlyOperation for a "
                "logged-in user)"
            )
        returns = [n.value for n in walk_scope(node.body) if isinstance(n, ast.Return)]
        handlers = _handler_names(node)
        if any(not _hands_on(value, handlers, coroutines) for value in returns):
            problems.append(
                "it returns a response of its own where Django awaits the "
                "handler's coroutine (TypeError: object HttpResponse can't be used "
                "in 'await' expression), or handles that coroutine as a response"
            )
        return ", and ".join(problems) or None

    def _dispatch_breaker(
        self, decorator: ast.expr, *, dispatch_only: bool
    ) -> str | None:
        """The Django decorator that method_decorator(...) applies to dispatch()
        and that breaks it: login_required, never_cache..."""
        if not isinstance(decorator, ast.Call) or not decorator.args:
            return None
        if self._resolve(decorator.func, {METHOD_DECORATOR}) is None:
            return None
        if dispatch_only and not any(
            k.arg == "name"
            and isinstance(k.value, ast.Constant)
            and k.value.value == "dispatch"
            for k in decorator.keywords
        ):
            return None
        applied = decorator.args[0]
        many = isinstance(applied, ast.List | ast.Tuple)
        members = applied.elts if many else [applied]
        for member in members:
            target = member.func if isinstance(member, ast.Call) else member
            if self._resolve(target, DISPATCH_BREAKERS) is not None:
                return short(member)
        return None

    @staticmethod
    def _breaker_effect(breaker: str) -> str:
        if breaker.startswith(("login_required", "permission_required", "user_passes")):
            return (
                "reads request.user on the event loop (SynchronousOnlyOperation for a "
                "logged-in user), and returns its redirect where Django awaits the "
                "handler (TypeError)."
            )
        if breaker.startswith("staff_member_required"):
            return "reads request.user on the event loop (SynchronousOnlyOperation)."
        return (
            "handles the handler's coroutine as a response (AttributeError: "
            "'coroutine' object has no attribute ...)."
        )

    def _auth_mixin(
        self, klass: ast.ClassDef, seen: frozenset[str]
    ) -> tuple[ast.expr, str] | None:
        """(the base in klass's list, the mixin's name) for a Django auth mixin
        among its bases, or its bases' of this module."""
        for base in klass.bases:
            name = self._resolve(base, AUTH_MIXINS)
            if name is not None:
                return base, name.rpartition(".")[2]
            if (
                isinstance(base, ast.Name)
                and base.id in self._module_classes
                and base.id not in seen
                and base.id != klass.name
            ):
                inner = self._auth_mixin(
                    self._module_classes[base.id], seen | {klass.name}
                )
                if inner is not None:
                    return base, inner[1]
        return None

    # k12: sync decorators around async views.

    def _check_view_decorators(self, function: ast.AsyncFunctionDef) -> None:
        """@my_decorator on an async view, where my_decorator (of this module)
        returns a sync wrapper: Django calls the view as sync, and gets a
        coroutine."""
        if not function.decorator_list:
            return
        names = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
        if names[:1] != ["request"] and names[:2] != ["self", "request"]:
            return  # not a view: awaiting a sync wrapper's coroutine works
        for decorator in function.decorator_list:
            factory = isinstance(decorator, ast.Call)
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not isinstance(target, ast.Name):
                continue
            if self._binding_scope(target.id) is not None:
                continue
            outer = self._module_functions.get(target.id)
            if outer is None:
                continue
            wrapper = self._cached(
                "factory" if factory else "decorator",
                outer,
                self._sync_wrapper_of_factory if factory else self._sync_wrapper,
            )
            if wrapper is None:
                continue
            self._report(
                decorator,
                "error",
                SYNC_DECORATOR,
                f"@{short(decorator)} wraps async def {function.name}() in the sync "
                f"{wrapper}(): Django sees a sync view, runs it in a thread and gets "
                "an unawaited coroutine back (ValueError: The view ... didn't return "
                "an HttpResponse object. It returned an unawaited coroutine "
                "instead).",
                DECORATOR_FIX,
            )
            return

    def _sync_wrapper(self, decorator: ast.AST) -> str | None:
        """The name of the sync wrapper a decorator returns around the view it
        is given, or None: async-aware, or not that shape."""
        if not isinstance(decorator, ast.FunctionDef) or not decorator.args.args:
            return None
        if self._async_aware(decorator):
            return None
        view = decorator.args.args[0].arg
        local = self._local_defs(decorator)
        for node in walk_scope(decorator.body):
            if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Name)):
                continue
            wrapper = local.get(node.value.id)
            if isinstance(wrapper, ast.FunctionDef) and any(
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id == view
                for inner in walk_scope(wrapper.body)
            ):
                return wrapper.name
        return None

    def _sync_wrapper_of_factory(self, factory: ast.AST) -> str | None:
        """A decorator factory, @my_decorator(arg): the decorator it returns."""
        if not isinstance(factory, ast.FunctionDef) or self._async_aware(factory):
            return None
        local = self._local_defs(factory)
        for node in walk_scope(factory.body):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
                inner = local.get(node.value.id)
                if inner is not None:
                    found = self._sync_wrapper(inner)
                    if found is not None:
                        return found
        return None

    @staticmethod
    def _async_aware(function: ast.FunctionDef) -> bool:
        """The decorator has an async branch, or bridges (async_to_sync)."""
        for node in ast.walk(function):
            if isinstance(node, ast.AsyncFunctionDef | ast.Await):
                return True
            if isinstance(node, ast.Name | ast.Attribute) and _last_name(node) in (
                ASYNC_AWARE
            ):
                return True
        return False
