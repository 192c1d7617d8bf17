"""The middleware stack as Django's ASGI handler builds it: modes and thread hops.

Mirrors BaseHandler.load_middleware(is_async=True): a middleware runs async
only if it can and everything inside it does; each change of mode, each
MiddlewareMixin hook and each sync process_view() costs a thread hop; one that
raises MiddlewareNotUsed is left out.
"""

import inspect
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from topics.audit.findings import Finding

MIXIN_HOOKS = ("process_request", "process_response")
# Django's own recipe for a middleware that runs in both modes, hop-free.
BOTH_MODES_DOC = (
    "https://docs.djangoproject.com/en/stable/topics/http/middleware/"
    "#asynchronous-support"
)


@dataclass(frozen=True)
class MiddlewareRow:
    path: str
    sync_capable: bool
    async_capable: bool
    mixin: bool  # MiddlewareMixin-based
    mode: str  # how an ASGI stack runs it: "async" or "sync"
    hops: int  # thread hops it adds to each request

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mixin_hops(middleware: Any) -> int:
    # MiddlewareMixin.__acall__ runs each hook it has through sync_to_async.
    return sum(hasattr(middleware, hook) for hook in MIXIN_HOOKS)


def _view_hook_hops(middleware: Any) -> int:
    # process_view is adapted to the handler's mode: a sync one is one hop.
    hook = getattr(middleware, "process_view", None)
    return int(hook is not None and not iscoroutinefunction(hook))


# A middleware from an installed package is not the user's to rewrite.
THIRD_PARTY_FIX = (
    "It comes from an installed package, not yours to rewrite: look for a "
    "release that is async-capable, or weigh what it does against a thread "
    "per request, and replace or drop it."
)


def _installed(middleware: Any) -> bool:
    """Whether the middleware's code lives in an installed package."""
    try:
        parts = Path(inspect.getfile(middleware)).parts
    except TypeError:  # built in, or defined where no file is known
        return False
    return bool({"site-packages", "dist-packages"} & set(parts))


def _not_used(middleware: Any, *, is_async: bool) -> bool:
    """Whether Django drops it: built as load_middleware() builds it, with a
    get_response in its mode, it raises MiddlewareNotUsed."""

    async def aget_response(request: Any) -> None:
        return None

    def get_response(request: Any) -> None:
        return None

    try:
        # Built only to ask; what its __init__ warns about (WhiteNoise's missing
        # static folder, say) is the project's business, not the report's.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            middleware(aget_response if is_async else get_response)
    except MiddlewareNotUsed:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


def audit_middleware(paths: Sequence[str]) -> tuple[list[MiddlewareRow], list[Finding]]:
    """The stack's rows, outermost first, and what stands in async's way."""
    rows: list[MiddlewareRow] = []
    findings: list[Finding] = []
    handler_is_async = True  # the ASGI handler's innermost _get_response_async
    for path in reversed(paths):
        try:
            middleware = import_string(path)
        except Exception as exc:  # noqa: BLE001 — any import error is a finding
            findings.append(
                Finding(
                    "warning",
                    "import.middleware",
                    "import",
                    path,
                    f"Cannot import {path}: {exc!r}; skipped.",
                )
            )
            continue
        can_sync = getattr(middleware, "sync_capable", True)
        can_async = getattr(middleware, "async_capable", False)
        is_async = can_async if handler_is_async or not can_sync else False
        if _not_used(middleware, is_async=is_async):
            findings.append(
                Finding(
                    "info",
                    "middleware.not-used",
                    "middleware",
                    path,
                    f"{path} raises MiddlewareNotUsed: Django leaves it out of the "
                    "stack, so it costs no hop.",
                )
            )
            continue
        mixin = inspect.isclass(middleware) and issubclass(middleware, MiddlewareMixin)
        hops = int(is_async != handler_is_async) + _view_hook_hops(middleware)
        if mixin and is_async:
            hops += _mixin_hops(middleware)
        rows.append(
            MiddlewareRow(
                path, can_sync, can_async, mixin, "async" if is_async else "sync", hops
            )
        )
        if not can_async:
            findings.append(
                Finding(
                    "warning",
                    "middleware.sync-only",
                    "middleware",
                    path,
                    f"{path} is sync-only: under ASGI every request holds a thread "
                    "from here outwards.",
                    THIRD_PARTY_FIX
                    if _installed(middleware)
                    else "Make it sync- and async-capable (sync_capable = "
                    f"async_capable = True, and an async __call__: {BOTH_MODES_DOC}) "
                    "or drop it.",
                )
            )
        elif mixin and is_async and _mixin_hops(middleware):
            # Run sync (inside a sync-only one), its hooks cost no hop: no row.
            findings.append(
                Finding(
                    "info",
                    "middleware.mixin-hops",
                    "middleware",
                    path,
                    f"{path} is MiddlewareMixin-based: {_mixin_hops(middleware)} "
                    "sync_to_async hop(s) per request in async mode.",
                    "For your own middleware, write __call__ in both modes "
                    f"({BOTH_MODES_DOC}); Django's own cost what they cost.",
                )
            )
        handler_is_async = is_async
    rows.reverse()
    if rows and not handler_is_async:
        # The ASGI handler adapts the outermost sync middleware with one more hop.
        first = rows[0]
        rows[0] = MiddlewareRow(**{**first.as_dict(), "hops": first.hops + 1})
    hops = sum(row.hops for row in rows)
    findings.append(
        Finding(
            "info",
            "middleware.hops",
            "middleware",
            "MIDDLEWARE",
            f"{len(rows)} middleware: {hops} thread hop(s) per request before an "
            "async view runs (a sync view adds one more).",
        )
    )
    return rows, findings
