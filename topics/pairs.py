"""The pair registry: every pattern declared once.

The URLconf, the index page, the parity tests, the system checks and the
benchmark all read PAIRS. Adding a pattern = one entry here and two views.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from asgiref.sync import AsyncToSync, SyncToAsync

from topics.views import orm

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
        """The view function's name, which is also its URL name."""
        return self.view.__name__


@dataclass(frozen=True, kw_only=True)
class Variant:
    """Another way to write one side of a pair, served at /<mode>-<name>/<route>."""

    name: str
    mode: Mode
    view: Callable
    lesson: str


@dataclass(frozen=True, kw_only=True)
class Pair:
    name: str
    family: str
    route: str
    sync_view: Callable
    async_view: Callable
    lesson: str
    # Concrete paths under the prefix, error cases included; the first is the
    # index page's link. They rely on `manage.py seed_demo` data (topic-1, …).
    examples: tuple[str, ...]
    variants: tuple[Variant, ...] = ()

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
    """The function behind a view, seen through decorators and asgiref adapters."""
    view = inspect.unwrap(view)
    if isinstance(view, AsyncToSync):
        return view_function(view.awaitable)
    if isinstance(view, SyncToAsync):
        return view_function(view.func)
    return view


def by_family(pairs: list[Pair]) -> dict[str, list[Pair]]:
    """Group pairs by family, keeping registry order."""
    families: dict[str, list[Pair]] = {}
    for pair in pairs:
        families.setdefault(pair.family, []).append(pair)
    return families


PAIRS: list[Pair] = [
    Pair(
        name="topic_list",
        family="ORM",
        route="topics/",
        sync_view=orm.topic_list,
        async_view=orm.atopic_list,
        lesson=(
            "Evaluate the QuerySet inside one sync_to_async(list) call: one thread "
            "hop, plain dicts back, never a lazy QuerySet."
        ),
        examples=(
            "topics/",
            "topics/?page=2&per_page=5",
            "topics/?tag=django",
            "topics/?page=0",
            "topics/?per_page=lots",
            "topics/?tag=Not%20A%20Slug",
        ),
        variants=(
            Variant(
                name="native",
                mode="async",
                view=orm.atopic_list_native,
                lesson=(
                    "Django's `async for` over the QuerySet: the same single hop, "
                    "taken inside the ORM."
                ),
            ),
        ),
    ),
    Pair(
        name="topic_detail",
        family="ORM",
        route="topics/<slug:slug>/",
        sync_view=orm.topic_detail,
        async_view=orm.atopic_detail,
        lesson=(
            "aget_object_or_404 on a QuerySet that loads the author and tags up front: "
            "nothing lazy is touched after the await."
        ),
        examples=("topics/topic-1/", "topics/no-such-topic/"),
    ),
]
