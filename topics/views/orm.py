"""ORM pairs: each sync view, then its async twin; only the I/O lines differ."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.shortcuts import aget_object_or_404, get_object_or_404

from topics.api import api_view
from topics.models import Topic
from topics.params import ListParams
from topics.payloads import page_payload, topic_payload


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
def topic_detail(request: HttpRequest, slug: str) -> JsonResponse:
    """One topic with its author and tags; unknown slug → 404 JSON."""
    topic = get_object_or_404(Topic.objects.for_detail(), slug=slug)
    return JsonResponse(topic_payload(topic))


@api_view
async def atopic_detail(request: HttpRequest, slug: str) -> JsonResponse:
    """See topic_detail()."""
    topic = await aget_object_or_404(Topic.objects.for_detail(), slug=slug)
    return JsonResponse(topic_payload(topic))
