"""The middleware stack as Django's ASGI handler builds it: modes and thread hops.

Mirrors BaseHandler.load_middleware(is_async=True): a middleware runs async
only if it can and everything inside it does; each change of mode, each
MiddlewareMixin hook and each sync process_view() costs a thread hop; one that
raises MiddlewareNotUsed is left out. A hop-free drop-in (topics.hopfree's,
known by its hooks_inline()) costs none for the hooks it runs inline.
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

from topics.audit.defaults import (
    DROP_IN,
    IO_HOPS,
    StackEntry,
    dotted,
    hopfree_available,
    inline_hooks,
    io_hops,
)
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


def _mixin_hops(middleware: Any, inline: frozenset[str]) -> list[str]:
    """The hooks MiddlewareMixin.__acall__ runs through sync_to_async: each it
    has, but those a hop-free middleware runs inline."""
    return [
        hook for hook in MIXIN_HOOKS if hasattr(middleware, hook) and hook not in inline
    ]


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


def _built(middleware: Any, *, is_async: bool) -> tuple[bool, Any]:
    """Built as load_middleware() builds it, with a get_response in its mode:
    whether Django drops it (it raises MiddlewareNotUsed), and the instance
    (None when building it failed)."""

    async def aget_response(request: Any) -> None:
        return None

    def get_response(request: Any) -> None:
        return None

    try:
        # Built only to ask; what its __init__ warns about (WhiteNoise's missing
        # static folder, say) is the project's business, not the report's.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return False, middleware(aget_response if is_async else get_response)
    except MiddlewareNotUsed:
        return True, None
    except Exception:  # noqa: BLE001
        return False, None


def _mixin_hops_finding(path: str, middleware: Any, hopping: list[str]) -> Finding:
    """The hops a MiddlewareMixin-based middleware costs in async mode, and the
    way out: a drop-in for Django's defaults, both modes for your own."""
    message = (
        f"{path} is MiddlewareMixin-based: {len(hopping)} sync_to_async hop(s) "
        "per request in async mode"
    )
    if hasattr(middleware, "hooks_inline"):
        # A drop-in runs inline only its own code (a subclass's override takes
        # Django's hop back) on what it knows does no I/O (its instance says).
        allowed = middleware.hooks_inline()
        reasons = []
        if overridden := [hook for hook in hopping if hook not in allowed]:
            reasons.append(
                f"{', '.join(overridden)}: the class overrides the hook or a method "
                "it calls, and only the drop-in's own code runs on the event loop"
            )
        if unknown := [hook for hook in hopping if hook in allowed]:
            reasons.append(
                f"{', '.join(unknown)}: the drop-in cannot tell it does no I/O with "
                "this configuration (a session store not Django's)"
            )
        return Finding(
            "info",
            "middleware.mixin-hops",
            "middleware",
            path,
            f"{message}, in {'; '.join(reasons)}.",
            "Leave the drop-in's methods as it has them (a setting may do what an "
            "override does), or move the change into a middleware of your own that "
            f"runs in both modes ({BOTH_MODES_DOC}).",
        )
    if dotted(middleware) in IO_HOPS:
        fix = (
            f"Its drop-in, {DROP_IN.format(name=middleware.__name__)}, runs the same "
            "hooks with no hop (see middleware.hopfree-available)."
        )
    else:
        fix = (
            f"For your own middleware, write __call__ in both modes ({BOTH_MODES_DOC})"
            "; Django's own cost what they cost."
        )
    return Finding(
        "info", "middleware.mixin-hops", "middleware", path, f"{message}.", fix
    )


def audit_middleware(paths: Sequence[str]) -> tuple[list[MiddlewareRow], list[Finding]]:
    """The stack's rows, outermost first, and what stands in async's way."""
    rows: list[MiddlewareRow] = []
    entries: list[StackEntry] = []
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
        not_used, instance = _built(middleware, is_async=is_async)
        if not_used:
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
        # The instance's process_view, as Django reads it: a drop-in of
        # topics.hopfree sets an async one in async mode.
        view_hops = _view_hook_hops(middleware if instance is None else instance)
        hopping = []
        if mixin and is_async:
            hopping = _mixin_hops(middleware, inline_hooks(middleware, instance))
        hops = int(is_async != handler_is_async) + view_hops + len(hopping)
        rows.append(
            MiddlewareRow(
                path, can_sync, can_async, mixin, "async" if is_async else "sync", hops
            )
        )
        installed = _installed(middleware)
        entries.append(
            StackEntry(path, middleware, instance, rows[-1].mode, hops, installed)
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
                    if installed
                    else "Make it sync- and async-capable (sync_capable = "
                    f"async_capable = True, and an async __call__: {BOTH_MODES_DOC}) "
                    "or drop it.",
                )
            )
        elif mixin and is_async:
            # Run sync (inside a sync-only one), its hooks cost no hop: none here.
            if view_hops and hasattr(middleware, "hooks_inline"):
                hopping.append("process_view")  # a drop-in's own is async
            if hopping:
                findings.append(_mixin_hops_finding(path, middleware, hopping))
        handler_is_async = is_async
    rows.reverse()
    entries.reverse()
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
            f"async view runs (a sync view adds one more){io_hops(entries)}.",
        )
    )
    findings += hopfree_available(entries)
    return rows, findings
