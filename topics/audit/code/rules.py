"""What the code scan looks for: finding codes, fix texts, the names it knows."""

from typing import NamedTuple

AREA = "code"

BLOCKING = "code.blocking-call"
SYNC_ORM = "code.sync-orm"
NOT_AWAITED = "code.not-awaited"
DROPPED_TASK = "code.dropped-task"
UNPARSABLE = "code.unparsable"
SYNC_CACHE = "code.sync-cache"
# What breaks or blocks only when it runs on the loop: in a sync function, kept
# as its effects for the calls into it from async code (calls.py), not reported.
LOOP_CODES = frozenset({BLOCKING, SYNC_ORM, SYNC_CACHE})

# Fixes, one per kind of blocking call.
SLEEP_FIX = "await asyncio.sleep(...) instead."
HTTP_FIX = (
    "Use an async HTTP client (one aiohttp.ClientSession or httpx.AsyncClient "
    "shared across requests) and await it."
)
FILE_FIX = (
    "Use aiofiles.open(...), or do the file work in a sync function run with "
    "await asyncio.to_thread(...)."
)
SUBPROCESS_FIX = (
    "await asyncio.create_subprocess_exec(...), then await its communicate()."
)
BRIDGE_FIX = "await the coroutine directly: this code already runs on the loop."

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": SLEEP_FIX,
    "urllib.request.urlopen": HTTP_FIX,
    "builtins.open": FILE_FIX,
    "io.open": FILE_FIX,
    "os.system": SUBPROCESS_FIX,
    "os.popen": SUBPROCESS_FIX,
    "asgiref.sync.async_to_sync": BRIDGE_FIX,
    "asyncio.run": BRIDGE_FIX,
    **{
        f"subprocess.{name}": SUBPROCESS_FIX
        for name in ("run", "call", "check_call", "check_output", "Popen")
    },
    # httpx's module-level functions and Client are its sync API.
    **{f"httpx.{name}": HTTP_FIX for name in (*HTTP_VERBS, "stream", "Client")},
}
# Every call into requests is sync: requests.get(), requests.Session(), ...
BLOCKING_PREFIXES: dict[str, str] = {"requests.": HTTP_FIX}

MANAGERS = frozenset({"objects", "_default_manager"})
SYNC_METHODS = frozenset(
    [
        "get",
        "create",
        "get_or_create",
        "update_or_create",
        "count",
        "exists",
        "first",
        "last",
        "latest",
        "earliest",
        "update",
        "delete",
        "aggregate",
        "in_bulk",
        "bulk_create",
        "bulk_update",
        "iterator",
        "explain",
        "contains",
    ]
)
ASYNC_METHODS = frozenset(f"a{name}" for name in SYNC_METHODS)
# A custom manager method with one of these names writes or loads rows: what it
# returns is no lazy QuerySet (User.objects.create_user() is a user).
QUERYING_MANAGER_METHODS = frozenset(
    {"create_user", "create_superuser", "get_by_natural_key"}
    | {"get_for_model", "get_for_models", "get_for_id"}
)
QUERYING_PREFIXES = ("create_", "get_or_create_", "update_or_create_", "bulk_")
QUERYING_PREFIXES += ("get_by_",)
# Awaited, these load one instance from the QuerySet they are called on.
INSTANCE_LOADS = frozenset({"aget", "afirst", "alast", "aearliest", "alatest"})
SYNC_INSTANCE_LOADS = frozenset(name[1:] for name in INSTANCE_LOADS)
# The model fields whose attribute loads another row: a forward relation.
RELATION_FIELDS = ("ForeignKey", "OneToOneField", "ParentalKey")
STR = frozenset({"builtins.str"})
RECEIVER = frozenset(
    {"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"}
)
# A QuerySet that holds its rows (a prefetched relation's all()) answers these
# from them, without a query.
CACHED_CALLS = frozenset({"count", "exists", "contains"})


class InstanceMethod(NamedTuple):
    """A model instance's method that queries, and the arguments it takes."""

    async_name: str  # "" when there is none
    positional: int  # how many positional arguments it can take
    keywords: frozenset[str]


# Methods that query whatever they are called on (models, ModelForms), with
# Django's signatures: a call that passes what they never take is something
# else's (image.save(buffer, format="PNG"), cache.delete(key)). Model.save() is
# keyword-only (positional arguments deprecated in 5.0, removed in 6.0), and
# Model.delete(using, keep_parents) is never given them positionally in practice,
# while every cache, storage, Redis and HTTP client's delete(key) is.
INSTANCE_METHODS = {
    "save": InstanceMethod(
        "asave()",
        0,
        frozenset({"force_insert", "force_update", "using", "update_fields", "commit"}),
    ),
    "delete": InstanceMethod("adelete()", 0, frozenset({"using", "keep_parents"})),
    "refresh_from_db": InstanceMethod(
        "arefresh_from_db()", 3, frozenset({"using", "fields", "from_queryset"})
    ),
    "full_clean": InstanceMethod(
        "", 3, frozenset({"exclude", "validate_unique", "validate_constraints"})
    ),
}
# Coroutine methods, whatever the receiver: models, caches, requests.
ASYNC_ANY_RECEIVER = frozenset({"asave", "adelete", "arefresh_from_db", "auser"})
# Builtins that evaluate an iterable they are given.
EVALUATING_BUILTINS = frozenset(
    [
        "len",
        "list",
        "tuple",
        "set",
        "frozenset",
        "sorted",
        "reversed",
        "bool",
        "enumerate",
        "iter",
        "any",
        "all",
        "sum",
        "min",
        "max",
    ]
)
# gather() and shield() return a Future: it runs, but its result and errors
# are lost unless someone awaits it.
FUTURE_FUNCTIONS = frozenset({"asyncio.gather", "asyncio.shield"})
FUTURE = "a Future"
COROUTINE_FUNCTIONS = frozenset(
    {
        *(f"asyncio.{name}" for name in ("sleep", "wait_for", "wait", "to_thread")),
        "django.shortcuts.aget_object_or_404",
        "django.shortcuts.aget_list_or_404",
    }
)
SYNC_TO_ASYNC = frozenset(
    {"asgiref.sync.sync_to_async", "channels.db.database_sync_to_async"}
)
TASK_FACTORIES = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
SYNC_SHORTCUTS = {
    "django.shortcuts.get_object_or_404": "aget_object_or_404",
    "django.shortcuts.get_list_or_404": "aget_list_or_404",
}
PAGINATORS = frozenset({"django.core.paginator.Paginator"})
RENDERERS = frozenset(
    {"django.shortcuts.render", "django.template.loader.render_to_string"}
)
ATOMIC = "django.db.transaction.atomic"
QUERYSET_ANNOTATIONS = frozenset({"QuerySet", "BaseManager", "Manager"})
# How a lazy QuerySet gets evaluated -> (what runs the query, the fix); other
# evaluating builtins read "list(qs)", with the async for fix.
ASYNC_FOR_FIX = "Evaluate it with async for: [x async for x in {qs}]"
EVALUATIONS = {
    "for": ("Iterating {qs}", "Iterate with async for: [x async for x in {qs}]"),
    "len": ("len({qs})", "await {qs}.acount() instead"),
    "bool": ("bool({qs})", "await {qs}.aexists() instead"),
    "truth": ("Testing {qs} for truth", "await {qs}.aexists() instead"),
    "in": ("`... in {qs}`", "await {qs}.acontains(obj) instead"),
    "index": ("Indexing {qs}", "await {qs}.afirst() (or a slice, with async for)"),
}
# Uses of a coroutine object that hand it on to something that may await it.
HAND_ON_METHODS = frozenset({"send", "throw", "close", "__await__"})
# gather() and shield() return a scheduled Future, which these are fine on.
FUTURE_METHODS = frozenset({"add_done_callback", "cancel", "done", "result"})
# The packages whose request types wrap Django's HttpRequest (DRF's Request,
# adrf's, django-ninja's): request.user and request.session on them are Django's.
DJANGO_REQUEST_PACKAGES = frozenset({"django", "rest_framework", "adrf", "ninja"})
# typing.Optional[X], Union[X, None], Annotated[X, ...]: X is the type.
TYPE_WRAPPERS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions")
    for name in ("Optional", "Union", "Annotated")
)
# Annotations that name no request type: Any, object.
UNTYPED_PACKAGES = frozenset({"typing", "typing_extensions", "builtins"})
# Session methods that load the session the sync way (the async API is a*).
SESSION_SYNC = frozenset(
    [
        "get",
        "pop",
        "setdefault",
        "update",
        "clear",
        "items",
        "keys",
        "values",
        "has_key",
        "flush",
        "cycle_key",
        "set_expiry",
        "get_expiry_age",
        "get_expiry_date",
        "save",
        "delete",
    ]
)
# Fixes for a coroutine never awaited, and for a task nobody keeps.
AWAIT_FIX = (
    "await it (or keep the task: asyncio.create_task(...) stored, or a TaskGroup)."
)
TASK_FIX = (
    "Keep a reference until it is done (a set, with add_done_callback(set.discard)),"
    " or use an asyncio.TaskGroup."
)
