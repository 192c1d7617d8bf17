"""A page in the site's layout (topics/base.html), whose user, profile, context
processor and inclusion tag query: rendered in one hop, or with all of it loaded."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, render

from topics.api import api_view, int_param
from topics.context_processors import aload_layout
from topics.models import Tag, Topic

TEMPLATE = "topics/tag_page.html"
PER_PAGE = 10
MAX_PER_PAGE = 50


def _limit(request: HttpRequest) -> int:
    return int_param(request.GET, "limit", default=PER_PAGE, low=1, high=MAX_PER_PAGE)


@api_view
def tag_page(request: HttpRequest, tag: str) -> HttpResponse:
    """The newest topics carrying a tag, as HTML in the layout; ?limit= 1 to 50."""
    limit = _limit(request)
    tag = get_object_or_404(Tag, name=tag)
    topics = list(Topic.objects.listing(tag=tag.name)[:limit])
    return render(request, TEMPLATE, {"tag": tag, "topics": topics})


@api_view
async def atag_page(request: HttpRequest, tag: str) -> HttpResponse:
    """See tag_page()."""
    limit = _limit(request)
    tag = await aget_object_or_404(Tag, name=tag)
    topics = [topic async for topic in Topic.objects.listing(tag=tag.name)[:limit]]
    # The layout queries as it renders (user, profile, tag menu, sidebar): one
    # hop runs them all in a thread, whatever tags and processors it uses.
    return await sync_to_async(render)(
        request, TEMPLATE, {"tag": tag, "topics": topics}
    )


@api_view
async def atag_page_loaded(request: HttpRequest, tag: str) -> HttpResponse:
    """See tag_page(); everything the layout reads is loaded first."""
    limit = _limit(request)
    tag = await aget_object_or_404(Tag, name=tag)
    topics = [topic async for topic in Topic.objects.listing(tag=tag.name)[:limit]]
    # Plain data only: the render runs no query, on the event loop.
    layout = await aload_layout(request)
    return render(request, TEMPLATE, {"tag": tag, "topics": topics, **layout})
