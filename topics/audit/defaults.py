"""Django's default middleware, and the hop-free drop-ins of topics.hopfree.

The audit never imports topics.hopfree (a user may have copied it elsewhere,
or not at all): Django's defaults are known by their dotted paths, a drop-in by
the hooks_inline() classmethod its class has, and what a drop-in runs inline
by its built instance's `inline` (or that classmethod's answer).
"""

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from topics.audit.findings import Finding

# Each default, with the I/O for which its drop-in still takes Django's one hop
# (topics/hopfree's docstrings): a count per request cannot hold these.
IO_HOPS = {
    "django.middleware.security.SecurityMiddleware": "",
    "django.contrib.sessions.middleware.SessionMiddleware": "saves a session",
    "django.middleware.common.CommonMiddleware": "",
    "django.middleware.csrf.CsrfViewMiddleware": "rejects a request, reads a "
    "multipart POST or, with CSRF_USE_SESSIONS, loads the session",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "",
    "django.contrib.messages.middleware.MessageMiddleware": "stores messages in "
    "a session not loaded yet, or uses a MESSAGE_STORAGE not Django's",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "",
}
DROP_IN = "topics.hopfree.{name}"


@dataclass(frozen=True)
class StackEntry:
    """One middleware of the stack as audit_middleware() built it."""

    path: str  # as MIDDLEWARE lists it
    middleware: Any  # what the path imports
    instance: Any  # built as load_middleware() builds it; None if that failed
    mode: str  # "async" or "sync"
    hops: int  # the hops its row counts
    installed: bool  # its code is an installed package's


def dotted(middleware: Any) -> str:
    """The module and qualified name of a class or function."""
    name = getattr(middleware, "__qualname__", type(middleware).__qualname__)
    return f"{getattr(middleware, '__module__', '')}.{name}"


def inline_hooks(middleware: Any, instance: Any) -> frozenset[str]:
    """The hooks a hop-free middleware runs inline in async mode; none for others.

    The built instance's `inline` first: its __init__ may take back what the
    class allows (topics.hopfree's SessionMiddleware, with a session store it
    does not know)."""
    hooks_inline = getattr(middleware, "hooks_inline", None)
    if not callable(hooks_inline):
        return frozenset()
    inline = getattr(instance, "inline", None)
    return frozenset(hooks_inline() if inline is None else inline)


def _default_of(middleware: Any) -> str | None:
    """The Django default the class is, or subclasses; None for any other."""
    if not inspect.isclass(middleware):
        return None
    return next((dotted(k) for k in middleware.__mro__ if dotted(k) in IO_HOPS), None)


def _when_io(cases: Sequence[tuple[str, str]]) -> str:
    """ "when X saves a session, when Y ...", for (path, default) pairs."""
    return "; ".join(
        f"when {path} {IO_HOPS[default]}" for path, default in cases if IO_HOPS[default]
    )


def io_hops(entries: Sequence[StackEntry]) -> str:
    """The hops the stack's drop-ins take only when they do I/O, in words
    ("; one more when …"); "" when no drop-in runs a hook inline here."""
    when = _when_io(
        [
            (entry.path, default)
            for entry in entries
            if entry.mode == "async"
            and (default := _default_of(entry.middleware))
            and inline_hooks(entry.middleware, entry.instance)
        ]
    )
    return f"; one more {when}" if when else ""


def _drop_in_hops(instance: Any, hops: int) -> int:
    """The hops the drop-in would still take, of the `hops` Django's class takes."""
    store = getattr(instance, "SessionStore", None)
    # As topics.hopfree.SessionMiddleware decides: inline only with a store
    # that Django's engines build, and that tells it is empty, without I/O.
    if store is not None and not (
        getattr(store.__init__, "__module__", "").startswith("django.contrib.sessions.")
        and store.is_empty is SessionBase.is_empty
    ):
        return hops
    return 0


def hopfree_available(entries: Sequence[StackEntry]) -> list[Finding]:
    """Django's defaults that hop here, each with its drop-in and the hops it saves.

    Only those the stack runs in async mode: in sync mode (outside a sync-only
    middleware) their hooks cost no hop, so a drop-in would save none. A
    subclass of a default is left out of the count: made a subclass of the
    drop-in, each hook it overrides (or a method that hook calls) keeps
    Django's hop, which only a run on the changed class can tell; it is named
    beside the defaults, with no count.
    """
    swaps, subclasses, cases = [], [], []
    cost = saved = 0
    for entry in entries:
        default = _default_of(entry.middleware)
        if default is None or entry.mode != "async" or not entry.hops:
            continue
        if dotted(entry.middleware) != default:
            if not entry.installed and not hasattr(entry.middleware, "hooks_inline"):
                subclasses.append(entry.path)
            continue
        keeps = _drop_in_hops(entry.instance, entry.hops)
        cost, saved = cost + entry.hops, saved + entry.hops - keeps
        name = DROP_IN.format(name=default.rsplit(".", 1)[1])
        spared = str(entry.hops - keeps)
        if keeps:
            spared += f": its session store is not Django's, so it keeps all {keeps}"
        swaps.append(f"{entry.path} → {name} ({spared})")
        cases.append((name.rsplit(".", 1)[1], default))
    if not saved:
        return []
    message = (
        f"{len(swaps)} of Django's default middleware run here in async mode, at "
        f"{cost} thread hop(s) per request; topics.hopfree's drop-ins run the same "
        f"hooks on the event loop and save {saved}: {', '.join(swaps)}."
    )
    if when := _when_io(cases):
        message += f" A drop-in still takes Django's one hop for I/O: {when}."
    if subclasses:
        message += (
            f" Your subclass(es) {', '.join(subclasses)} can subclass the drop-in "
            "instead; a hook one overrides keeps its hop."
        )
    fix = (
        "Put each drop-in's dotted path in MIDDLEWARE in place of Django's: "
        "topics.hopfree is installed with the audit (Django 5.2+ and asgiref "
        "only; or copy topics/hopfree/__init__.py into your project)."
    )
    return [
        Finding(
            "info",
            "middleware.hopfree-available",
            "middleware",
            "MIDDLEWARE",
            message,
            fix,
        )
    ]
