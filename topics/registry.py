"""The shapes of the registry: a pair, its twins and variants, its example requests."""

import inspect
import re
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal

from asgiref.sync import AsyncToSync, SyncToAsync

Mode = Literal["sync", "async"]


@dataclass(frozen=True, kw_only=True)
class Twin:
    """One served side of a pair: /<prefix>/<route>."""

    prefix: str
    mode: Mode
    view: Callable
    lesson: str = ""

    @property
    def view_name(self) -> str:
        """The view's name (a class-based view's class name), also its URL name."""
        return view_name(self.view)


@dataclass(frozen=True, kw_only=True)
class Variant:
    """Another way to write one side of a pair, served at /<mode>-<name>/<route>."""

    name: str
    mode: Mode
    view: Callable
    lesson: str


@dataclass(frozen=True)
class Example:
    """One request the twins must answer alike; error cases are examples too."""

    path: str  # under the prefix; "{pk:topic-1}" stands for that topic's id
    method: str = "GET"
    _: KW_ONLY
    json: Any = None  # sent as the JSON body
    body: str | None = None  # sent as is, for malformed bodies
    content_type: str = "application/json"
    user: str | None = None  # the username logged in for the request
    volatile: tuple[str, ...] = ()  # JSON keys whose values differ per request

    @property
    def browsable(self) -> bool:
        """Whether the index page can send it: an anonymous GET, no placeholder."""
        return (
            self.method == "GET"
            and self.user is None
            and not PLACEHOLDER.search(self.path)
        )

    @property
    def label(self) -> str:
        who = f" as {self.user}" if self.user else ""
        return f"{self.method} {self.path}{who}"


PLACEHOLDER = re.compile(r"\{pk:([-\w]+)\}")


@dataclass(frozen=True, kw_only=True)
class Pair:
    name: str
    family: str
    route: str
    sync_view: Callable
    async_view: Callable
    lesson: str
    # Requests under the prefix, error cases included; a string is a GET. They
    # rely on `manage.py seed_demo` data (topic-1 …, the user "demo").
    examples: tuple[str | Example, ...]
    variants: tuple[Variant, ...] = ()

    @property
    def requests(self) -> list[Example]:
        """The examples, each as an Example."""
        return [
            Example(example) if isinstance(example, str) else example
            for example in self.examples
        ]

    @property
    def browsable(self) -> list[Example]:
        """The examples the index page can send from the browser."""
        return [example for example in self.requests if example.browsable]

    def twins(self) -> list[Twin]:
        """Every served side: sync, async, then the variants."""
        return [
            Twin(prefix="sync", mode="sync", view=self.sync_view),
            Twin(prefix="async", mode="async", view=self.async_view),
            *(
                Twin(
                    prefix=f"{variant.mode}-{variant.name}",
                    mode=variant.mode,
                    view=variant.view,
                    lesson=variant.lesson,
                )
                for variant in self.variants
            ),
        ]


def view_function(view: object) -> object:
    """The function behind a view, seen through decorators and asgiref adapters;
    for a class-based view, its first HTTP handler (Django requires them all of
    one kind, sync or async)."""
    view = inspect.unwrap(view)
    if isinstance(view, AsyncToSync):
        return view_function(view.awaitable)
    if isinstance(view, SyncToAsync):
        return view_function(view.func)
    if (view_class := getattr(view, "view_class", None)) is not None:
        # View.options() is Django's own, written for both kinds.
        handlers = [
            getattr(view_class, method)
            for method in view_class.http_method_names
            if method != "options" and hasattr(view_class, method)
        ]
        return handlers[0] if handlers else view
    return view


def view_name(view: object) -> str:
    """A function view's name, or a class-based view's class name."""
    view = inspect.unwrap(view)
    view_class = getattr(view, "view_class", None)
    return view_class.__name__ if view_class is not None else view.__name__


def by_family(pairs: list[Pair]) -> dict[str, list[Pair]]:
    """Group pairs by family, keeping registry order."""
    families: dict[str, list[Pair]] = {}
    for pair in pairs:
        families.setdefault(pair.family, []).append(pair)
    return families
