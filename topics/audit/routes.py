"""Every URL pattern's view: sync or async, and the mistakes Django finds too late."""

import inspect
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.urls import URLPattern, URLResolver, get_resolver
from django.views import View

from topics.audit.findings import Finding


@dataclass(frozen=True)
class RouteRow:
    route: str
    view: str  # dotted path of the view (its class for a class-based view)
    mode: str  # "async" or "sync"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dotted(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


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
        findings.append(
            Finding(
                "error",
                "urls.mixed-handlers",
                "urls",
                _dotted(view_class),
                f"{view_class.__name__} mixes async ({async_ones}) and sync "
                f"({sync_ones}) handlers: Django refuses it in as_view().",
                "Make every handler async, or every one sync.",
            )
        )
    return findings


def _pattern_findings(route: str, callback: Any) -> tuple[RouteRow, list[Finding]]:
    view_class = getattr(callback, "view_class", None)
    target = view_class or callback
    mode = "async" if iscoroutinefunction(callback) else "sync"
    row = RouteRow(route or "/", _dotted(target), mode)
    if (
        view_class is None
        and mode == "sync"
        and (hidden := _wrapped_coroutine(callback)) is not None
    ):
        return row, [
            Finding(
                "error",
                "urls.sync-decorator",
                "urls",
                f"{row.route} → {_dotted(hidden)}",
                f"The async view {hidden.__qualname__} is wrapped by a sync-only "
                "decorator: Django calls it as sync and gets an unawaited coroutine.",
                "Use a decorator that supports async views (Django's own do since "
                "5.0), or write the wrapper in both modes, as topics.api.api_view "
                "does.",
            )
        ]
    return row, []


def _walk(
    patterns: list, prefix: str, rows: list[RouteRow], findings: list[Finding]
) -> None:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            try:
                children = entry.url_patterns
            except Exception as exc:  # noqa: BLE001 — a broken include is a finding
                findings.append(
                    Finding(
                        "warning",
                        "import.urls",
                        "import",
                        route or "/",
                        f"Cannot load the URLconf included at {route or '/'}: {exc!r}; "
                        "skipped.",
                    )
                )
                continue
            _walk(children, route, rows, findings)
        elif isinstance(entry, URLPattern):
            row, found = _pattern_findings(route, entry.callback)
            rows.append(row)
            findings += found


def audit_urls(
    urlconf: str | None = None, *, packages: Sequence[str] | None = None
) -> tuple[list[RouteRow], list[Finding]]:
    """Every pattern of the URLconf, with its view's mode; the problems found.

    `packages` limits the class-based view check to the project's own code.
    """
    rows: list[RouteRow] = []
    findings: list[Finding] = []
    try:
        patterns = get_resolver(urlconf).url_patterns
    except Exception as exc:  # noqa: BLE001 — report, never crash
        finding = Finding(
            "warning", "import.urls", "import", str(urlconf), f"Cannot load: {exc!r}."
        )
        return rows, [finding, *mixed_handler_views(packages)]
    _walk(patterns, "", rows, findings)
    findings += mixed_handler_views(packages)
    sync_count = sum(row.mode == "sync" for row in rows)
    findings.append(
        Finding(
            "info",
            "urls.sync-views",
            "urls",
            "ROOT_URLCONF",
            f"{sync_count} of {len(rows)} views are sync: under ASGI each holds a "
            "thread while it runs.",
            "Convert those that wait on I/O; leave the rest (see the guide).",
        )
    )
    return rows, findings
