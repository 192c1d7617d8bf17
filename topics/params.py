"""Query parameters of the topic list, validated once for every twin."""

from dataclasses import dataclass
from typing import Self

from django.http import QueryDict

from topics.api import int_param, slug_param

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
# Offset pagination gets slower with depth; a cap keeps one request cheap.
PAGE_MAX = 10_000


@dataclass(frozen=True, kw_only=True)
class ListParams:
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    tag: str | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        """Parse ?page=&per_page=&tag=, raising InvalidParameter on bad input."""
        return cls(
            page=int_param(query, "page", default=1, low=1, high=PAGE_MAX),
            per_page=int_param(
                query, "per_page", default=PER_PAGE_DEFAULT, low=1, high=PER_PAGE_MAX
            ),
            tag=slug_param(query, "tag"),
        )

    @property
    def window(self) -> slice:
        """The rows of this page plus one, which tells whether a next page exists."""
        start = (self.page - 1) * self.per_page
        return slice(start, start + self.per_page + 1)
