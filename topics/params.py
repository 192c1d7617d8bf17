"""Query parameters of the topic list, validated once for every twin."""

import uuid
from dataclasses import dataclass
from typing import Self

from django.http import QueryDict

from topics.api import (
    PK_MAX,
    InvalidParameter,
    choice_param,
    int_param,
    slug_param,
    text_param,
)
from topics.exportfiles import EXPORT_NAME, FORMATS, NAME_RULE
from topics.models import NEWEST_FIRST

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
# Offset pagination gets slower with depth; a cap keeps one request cheap.
PAGE_MAX = 10_000
SEARCH_TEXT_MAX = 100
# Every ordering ends with a unique column, so pages never overlap.
ORDERINGS = {
    "newest": NEWEST_FIRST,
    "oldest": ("created", "id"),
    "title": ("title", "id"),
}


def _search_filters(query: QueryDict) -> dict[str, str | int | None]:
    """?q=, ?tag=, ?author=: listing()'s filters, for the search and exports."""
    return {
        "text": text_param(query, "q", max_length=SEARCH_TEXT_MAX),
        "tag": slug_param(query, "tag"),
        "author_id": int_param(query, "author", default=None, low=1, high=PK_MAX),
    }


def _paging(query: QueryDict) -> dict[str, int]:
    """?page= and ?per_page=, shared by every paged list."""
    return {
        "page": int_param(query, "page", default=1, low=1, high=PAGE_MAX),
        "per_page": int_param(
            query, "per_page", default=PER_PAGE_DEFAULT, low=1, high=PER_PAGE_MAX
        ),
    }


@dataclass(frozen=True, kw_only=True)
class ListParams:
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    tag: str | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """Parse ?page=&per_page=&tag=, raising InvalidParameter on bad input."""
        return cls(**_paging(query), tag=slug_param(query, "tag"))

    @property
    def window(self) -> slice:
        """The rows of this page plus one, which tells whether a next page exists."""
        start = (self.page - 1) * self.per_page
        return slice(start, start + self.per_page + 1)


@dataclass(frozen=True, kw_only=True)
class SearchParams:
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    text: str | None = None
    tag: str | None = None
    author_id: int | None = None
    ordering: str = "newest"

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """Parse ?q=&tag=&author=&ordering=&page=&per_page=; raise InvalidParameter."""
        return cls(
            **_paging(query),
            **_search_filters(query),
            ordering=choice_param(
                query, "ordering", choices=ORDERINGS, default="newest"
            ),
        )

    def filters(self) -> dict:
        """Keyword arguments for Topic.objects.listing()."""
        return {
            "text": self.text,
            "tag": self.tag,
            "author_id": self.author_id,
            "ordering": ORDERINGS[self.ordering],
        }


@dataclass(frozen=True, kw_only=True)
class ExportParams:
    fmt: str
    export_id: str
    filters: dict  # for Topic.objects.listing(); JSON-able, for a task

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """?format=csv|jsonl, an optional ?name=, and the search's filters
        (?q=, ?tag=, ?author=); ?ordering= may only be newest."""
        fmt = choice_param(query, "format", choices=tuple(FORMATS), default="csv")
        # Exports are newest first, listing()'s default: another order is a 400.
        choice_param(query, "ordering", choices=("newest",), default="newest")
        name = query.get("name") or f"topics-{uuid.uuid4().hex[:12]}"
        # Checked by pattern only: the disk is looked at off the event loop.
        if not EXPORT_NAME.fullmatch(name):
            raise InvalidParameter("name", f"must be {NAME_RULE}.")
        return cls(fmt=fmt, export_id=f"{name}.{fmt}", filters=_search_filters(query))
