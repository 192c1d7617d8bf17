"""Paginator for the sync twins, AsyncPaginator (Django >= 6.0) for the async ones.

Django and asgiref only: copy the file. A page past the end raises Http404,
which Django (or a JSON error decorator such as topics.api.api_view) answers.
"""

from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import Http404

try:
    from django.core.paginator import AsyncPaginator
except ImportError:  # Django < 6.0: the page is built in one sync_to_async call
    AsyncPaginator = None


@dataclass(frozen=True, kw_only=True)
class PageData:
    """One page, fully materialised: safe to hand to async code or a template."""

    number: int
    count: int
    num_pages: int
    rows: list[dict[str, Any]]

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _page_not_found(number: object, num_pages: int) -> Http404:
    return Http404(f"Page {number} does not exist: there are {num_pages} pages.")


def page_data(
    rows: QuerySet, *, per_page: int, number: int | str | None, lenient: bool = False
) -> PageData:
    """Count, then fetch one page; lenient clamps a bad number as get_page() does."""
    paginator = Paginator(rows, per_page)
    try:
        page = paginator.get_page(number) if lenient else paginator.page(number)
    except EmptyPage:
        raise _page_not_found(number, paginator.num_pages) from None
    return PageData(
        number=page.number,
        count=paginator.count,
        num_pages=paginator.num_pages,
        rows=list(page.object_list),
    )


async def apage_data(
    rows: QuerySet, *, per_page: int, number: int | str | None, lenient: bool = False
) -> PageData:
    """See page_data()."""
    if AsyncPaginator is None:
        # Django 5.2 has no AsyncPaginator: the same unit of work in one hop.
        return await sync_to_async(page_data)(
            rows, per_page=per_page, number=number, lenient=lenient
        )
    paginator = AsyncPaginator(rows, per_page)
    try:
        page = await (
            paginator.aget_page(number) if lenient else paginator.apage(number)
        )
    except EmptyPage:
        raise _page_not_found(number, await paginator.anum_pages()) from None
    return PageData(
        number=page.number,
        count=await paginator.acount(),
        num_pages=await paginator.anum_pages(),
        rows=await page.aget_object_list(),
    )
