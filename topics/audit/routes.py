"""Every URL pattern's view: sync or async, and the mistakes Django finds too late."""

import functools
import inspect
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import import_module
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.views import View

from topics.audit.findings import Finding
from topics.audit.handlers import Handler, handlers


@dataclass(frozen=True)
class RouteRow:
    route: str
    view: str  # dotted path of what runs (a class-based view's class)
    mode: str  # "async" or "sync"
    urlconf: str = ""  # the URLconf's dotted path

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dotted(obj: Any) -> str:
    while isinstance(obj, functools.partial):  # django-ninja's docs views
        obj = obj.func
    if not hasattr(obj, "__qualname__"):  # a callable object
        obj = type(obj)
    return f"{getattr(obj, '__module__', '?')}.{obj.__qualname__}"


def _wrapped_coroutine(view: Any) -> Any | None:
    """The async function a sync wrapper hides, following __wrapped__."""
    seen = set()
    while (view := getattr(view, "__wrapped__", None)) is not None and id(
        view
    ) not in seen:
        seen.add(id(view))
        if inspect.iscoroutinefunction(view):
            return view
    return None


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def mixed_handler_views(packages: Sequence[str] | None = None) -> list[Finding]:
    """Class-based views, imported so far, that mix async and sync handlers.

    Django refuses them in as_view(), so the URLconf that routes one fails to
    load; this names the class itself. Only classes in `packages`, if given.
    """
    findings = []
    for view_class in _subclasses(View):
        module = view_class.__module__
        if module.startswith("django.") or (
            packages is not None
            and not any(module == p or module.startswith(f"{p}.") for p in packages)
        ):
            continue
        names = [
            name
            for name in view_class.http_method_names
            if name != "options" and callable(getattr(view_class, name, None))
        ]
        modes = {name: iscoroutinefunction(getattr(view_class, name)) for name in names}
        if len(set(modes.values())) < 2:
            continue
        async_ones = ", ".join(sorted(n for n, is_async in modes.items() if is_async))
        sync_ones = ", ".join(
            sorted(n for n, is_async in modes.items() if not is_async)
        )
        try:
            file = inspect.getsourcefile(view_class)
            line = inspect.getsourcelines(view_class)[1]
        except (OSError, TypeError):  # no source: the dotted path is all there is
            file = None
        findings.append(
            Finding(
                "error",
                "urls.mixed-handlers",
                "urls",
                f"{file}:{line}" if file else _dotted(view_class),
                f"{view_class.__name__} mixes async ({async_ones}) and sync "
                f"({sync_ones}) handlers: Django refuses it in as_view().",
                "Make every handler async, or every one sync.",
                target=_dotted(view_class) if file else None,
            )
        )
    return findings


DRF_SYNC_FIX = (
    "Use adrf's api_view or APIView, which await it, or make the handler sync."
)
DECORATOR_FIX = (
    "Use a decorator Django documents as async-capable (https://docs."
    "djangoproject.com/en/stable/topics/async/#decorators), or write the wrapper "
    "in both modes: when iscoroutinefunction(view), return an async def wrapper."
)


def _hidden_coroutine_finding(route: str, hidden: Any, fix: str) -> Finding:
    """An async function that a sync wrapper calls and never awaits; located at
    the function (an absolute path, made relative to the project's root later),
    the route kept as its target."""
    target = f"{route} → {_dotted(hidden)}"
    code = getattr(inspect.unwrap(hidden), "__code__", None)
    return Finding(
        "error",
        "urls.sync-decorator",
        "urls",
        f"{code.co_filename}:{code.co_firstlineno}" if code else target,
        f"The async view {hidden.__qualname__} (at {route}) is wrapped by a "
        "sync-only decorator or dispatch: it is called as sync, and returns an "
        "unawaited coroutine.",
        fix,
        target=target if code else None,
    )


def _pattern_rows(
    route: str, callback: Any, urlconf: str
) -> tuple[list[RouteRow], list[Handler], list[Finding]]:
    route = route or "/"
    found = handlers(callback)
    rows = [RouteRow(route, _dotted(h.target), h.mode, urlconf) for h in found]
    findings = [
        _hidden_coroutine_finding(route, h.hidden_coroutine, DRF_SYNC_FIX)
        for h in found
        if h.hidden_coroutine is not None
    ]
    if (
        found == [Handler(callback, "sync")]
        and (hidden := _wrapped_coroutine(callback)) is not None
    ):
        findings.append(_hidden_coroutine_finding(route, hidden, DECORATOR_FIX))
    return rows, found, findings


@dataclass
class UrlAudit:
    """What walking the URLconfs found: a row per view, what each runs, the
    problems, and the URLconfs (or includes) that would not load."""

    rows: list[RouteRow] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    not_loaded: list[dict[str, str]] = field(default_factory=list)

    def cannot_load(self, urlconf: str, route: str, exc: Exception) -> None:
        where = f"{urlconf} at {route or '/'}" if route else urlconf
        self.findings.append(
            # Django fails to load it the same way: every request is a 500.
            Finding(
                "error",
                "import.urls",
                "import",
                route or urlconf,
                f"Cannot load the URLconf {where}: {exc!r}; its views were not "
                "audited.",
                "Fix what it raises: Django raises it too, at the first request.",
            )
        )
        self.not_loaded.append({"target": where, "reason": f"would not load: {exc!r}"})


def _walk(patterns: list, prefix: str, urlconf: str, audit: UrlAudit) -> None:
    seen = {(row.route, row.view) for row in audit.rows if row.urlconf == urlconf}
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            try:
                children = entry.url_patterns
            except Exception as exc:  # noqa: BLE001 — a broken include is a finding
                audit.cannot_load(urlconf, route or "/", exc)
                continue
            _walk(children, route, urlconf, audit)
        elif isinstance(entry, URLPattern):
            rows, found, findings = _pattern_rows(route, entry.callback, urlconf)
            # django-ninja adds a pattern per operation, each for all of the
            # path's operations: Django only ever matches the first.
            if {(row.route, row.view) for row in rows} <= seen:
                continue
            seen |= {(row.route, row.view) for row in rows}
            audit.rows += rows
            audit.handlers += found
            audit.findings += findings


def urlconfs_to_walk(extra: Sequence[str] = ()) -> tuple[list[str], UrlAudit]:
    """ROOT_URLCONF, each host's URLconf when django-hosts' ROOT_HOSTCONF is
    set, then `extra` (--urlconf), each once. A ROOT_HOSTCONF that will not
    load is in the UrlAudit returned, as a finding and as not loaded."""
    found = UrlAudit()
    names = [settings.ROOT_URLCONF]
    if hostconf := getattr(settings, "ROOT_HOSTCONF", None):
        try:
            hosts = import_module(hostconf).host_patterns
            names += [_module_name(host.urlconf) for host in hosts]
        except Exception as exc:  # noqa: BLE001 — report, never crash
            found.cannot_load(f"{hostconf} (ROOT_HOSTCONF)", "", exc)
    return list(dict.fromkeys([*names, *extra])), found


def _module_name(urlconf: Any) -> str:
    return urlconf if isinstance(urlconf, str) else urlconf.__name__


def walk_urlconfs(
    urlconfs: Sequence[str],
    *,
    packages: Sequence[str] | None = None,
    audit: UrlAudit | None = None,
) -> UrlAudit:
    """Every pattern of each URLconf (dotted paths), with its view's mode, into
    `audit` (a new one by default); then the summary finding.

    `packages` limits the class-based view check to the project's own code. A
    URLconf, or an include, that will not load is a warning: never an error.
    """
    audit = UrlAudit() if audit is None else audit
    for urlconf in urlconfs:
        try:
            patterns = get_resolver(urlconf).url_patterns
        except Exception as exc:  # noqa: BLE001 — report, never crash
            audit.cannot_load(urlconf, "", exc)
            continue
        _walk(patterns, "", urlconf, audit)
    mixed = mixed_handler_views(packages)
    if not audit.not_loaded:
        # Every URLconf loaded, so none routes these yet: a latent error.
        mixed = [
            replace(
                f,
                level="warning",
                message=f"{f.message.removesuffix('.')}, once it is routed.",
            )
            for f in mixed
        ]
    audit.findings += mixed
    rows = audit.rows
    sync_count = sum(row.mode == "sync" for row in rows)
    across = f" (in {len(urlconfs)} URLconfs)" if len(urlconfs) > 1 else ""
    if sync_count:
        audit.findings.append(
            Finding(
                "info",
                "urls.sync-views",
                "urls",
                "ROOT_URLCONF",
                f"{sync_count} of {len(rows)} views{across} are sync: under ASGI "
                "each holds a thread while it runs.",
                "Convert those that wait on I/O (HTTP calls, many queries) and are "
                "called often; the rest can stay sync, at one thread hop each.",
            )
        )
    return audit


def audit_urls(
    urlconf: str | None = None, *, packages: Sequence[str] | None = None
) -> tuple[list[RouteRow], list[Finding]]:
    """Every pattern of the URLconf (ROOT_URLCONF by default), with its view's
    mode; the problems found. See walk_urlconfs()."""
    audit = walk_urlconfs([urlconf or settings.ROOT_URLCONF], packages=packages)
    return audit.rows, audit.findings
