"""Many-to-many reads: every row's tags loaded up front, in an order that is set."""

from django.http import HttpRequest, JsonResponse

from topics.api import api_view
from topics.models import Bookmark, Topic
from topics.params import ListParams
from topics.payloads import bookmark_row, page_payload, tagged_topic_row


@api_view
def topic_tags(request: HttpRequest) -> JsonResponse:
    """One page of topics, newest first, each with its tags by name; ?tag= filters."""
    params = ListParams.from_query(request.GET)
    topics = list(Topic.objects.tag_listing(tag=params.tag)[params.window])
    return JsonResponse(page_payload([tagged_topic_row(t) for t in topics], params))


@api_view
async def atopic_tags(request: HttpRequest) -> JsonResponse:
    """See topic_tags(); `async for` runs both queries, the prefetch too, in one hop."""
    params = ListParams.from_query(request.GET)
    topics = [
        topic
        async for topic in Topic.objects.tag_listing(tag=params.tag)[params.window]
    ]
    return JsonResponse(page_payload([tagged_topic_row(t) for t in topics], params))


@api_view
def bookmark_list(request: HttpRequest) -> JsonResponse:
    """One page of bookmarks, newest first, with their taggit tags; ?tag= a slug."""
    params = ListParams.from_query(request.GET)
    bookmarks = list(Bookmark.objects.listing(tag=params.tag)[params.window])
    return JsonResponse(page_payload([bookmark_row(b) for b in bookmarks], params))


@api_view
async def abookmark_list(request: HttpRequest) -> JsonResponse:
    """See bookmark_list()."""
    params = ListParams.from_query(request.GET)
    bookmarks = [
        bookmark
        async for bookmark in Bookmark.objects.listing(tag=params.tag)[params.window]
    ]
    return JsonResponse(page_payload([bookmark_row(b) for b in bookmarks], params))
