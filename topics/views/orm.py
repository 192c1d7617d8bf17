"""ORM reads: each sync view, then its async twin; only the I/O lines differ."""

from asgiref.sync import sync_to_async
from django.db.models import Count, Max, Min
from django.http import HttpRequest, JsonResponse
from django.shortcuts import aget_object_or_404, get_object_or_404

from topics import selectors
from topics.api import api_view
from topics.models import Author, Tag, Topic
from topics.pagination import apage_data, page_data
from topics.params import ListParams, SearchParams
from topics.payloads import (
    overview_payload,
    page_payload,
    search_payload,
    stats_payload,
    topic_payload,
)

# Aggregate expressions are copied when a query resolves them: safe to share.
TOPIC_TOTALS = {
    "topics": Count("id"),
    "first_created": Min("created"),
    "last_created": Max("created"),
}


@api_view
def topic_list(request: HttpRequest) -> JsonResponse:
    """One page of topics, newest first, optionally filtered by ?tag=."""
    params = ListParams.from_query(request.GET)
    rows = list(Topic.objects.listing(tag=params.tag)[params.window])
    return JsonResponse(page_payload(rows, params))


@api_view
async def atopic_list(request: HttpRequest) -> JsonResponse:
    """See topic_list()."""
    params = ListParams.from_query(request.GET)
    # The query runs inside list(), in one thread hop; dicts come back.
    rows = await sync_to_async(list)(
        Topic.objects.listing(tag=params.tag)[params.window]
    )
    return JsonResponse(page_payload(rows, params))


@api_view
async def atopic_list_native(request: HttpRequest) -> JsonResponse:
    """See topic_list(); Django's async iteration instead of sync_to_async."""
    params = ListParams.from_query(request.GET)
    rows = [row async for row in Topic.objects.listing(tag=params.tag)[params.window]]
    return JsonResponse(page_payload(rows, params))


@api_view
def topic_search(request: HttpRequest) -> JsonResponse:
    """Search, filter and order topics; a Paginator page with its totals."""
    params = SearchParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters())
    page = page_data(rows, per_page=params.per_page, number=params.page)
    return JsonResponse(search_payload(page))


@api_view
async def atopic_search(request: HttpRequest) -> JsonResponse:
    """See topic_search()."""
    params = SearchParams.from_query(request.GET)
    rows = Topic.objects.listing(**params.filters())
    page = await apage_data(rows, per_page=params.per_page, number=params.page)
    return JsonResponse(search_payload(page))


@api_view
def topic_detail(request: HttpRequest, slug: str) -> JsonResponse:
    """One topic with its author, tags and counts; unknown slug → 404 JSON."""
    topic = get_object_or_404(Topic.objects.for_detail(), slug=slug)
    return JsonResponse(topic_payload(topic))


@api_view
async def atopic_detail(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_detail()."""
    topic = await aget_object_or_404(Topic.objects.for_detail(), slug=slug)
    return JsonResponse(topic_payload(topic))


@api_view
def topic_stats(request: HttpRequest) -> JsonResponse:
    """Totals, the number of authors, and topics per tag: three queries."""
    totals = Topic.objects.aggregate(**TOPIC_TOTALS)
    authors = Author.objects.count()
    tags = list(Tag.objects.with_topic_counts())
    return JsonResponse(stats_payload(totals=totals, authors=authors, tags=tags))


@api_view
async def atopic_stats(request: HttpRequest) -> JsonResponse:
    """See topic_stats()."""
    totals = await Topic.objects.aaggregate(**TOPIC_TOTALS)
    authors = await Author.objects.acount()
    tags = [row async for row in Tag.objects.with_topic_counts()]
    return JsonResponse(stats_payload(totals=totals, authors=authors, tags=tags))


@api_view
def topic_overview(request: HttpRequest, slug: str) -> JsonResponse:
    """A topic, its tags, its author's and its tags' other topics: five queries."""
    return JsonResponse(selectors.topic_overview(slug=slug))


@api_view
async def atopic_overview(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_overview(); the five queries in one thread hop."""
    return JsonResponse(await sync_to_async(selectors.topic_overview)(slug=slug))


@api_view
async def atopic_overview_hops(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_overview(); the same five queries, each awaited: five hops."""
    topic = await aget_object_or_404(selectors.overview_topic(slug))
    tags = [name async for name in selectors.overview_tags(topic)]
    return JsonResponse(
        overview_payload(
            topic=topic,
            tags=tags,
            same_author=[row async for row in selectors.overview_same_author(topic)],
            related=[row async for row in selectors.overview_related(topic, tags)],
            author_topics=await selectors.overview_author_topics(topic).acount(),
        )
    )
