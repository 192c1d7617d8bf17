"""Server-rendered HTML: the template gets materialised data from either twin."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from topics.api import api_view
from topics.models import Topic
from topics.pagination import apage_data, page_data

TEMPLATE = "topics/topic_page.html"
PER_PAGE = 20


@api_view
def topic_page(request: HttpRequest) -> HttpResponse:
    """Topics as HTML; a bad ?page= falls back as Paginator.get_page() does."""
    page = page_data(
        Topic.objects.listing(),
        per_page=PER_PAGE,
        number=request.GET.get("page"),
        lenient=True,
    )
    return render(request, TEMPLATE, {"page": page})


@api_view
async def atopic_page(request: HttpRequest) -> HttpResponse:
    """See topic_page()."""
    # The rows are a list, so the template itself runs no query; the render is
    # still one hop, as a copied page's would need: the context processors may
    # query (auth's lazy {{ user }}, messages in a database session).
    page = await apage_data(
        Topic.objects.listing(),
        per_page=PER_PAGE,
        number=request.GET.get("page"),
        lenient=True,
    )
    return await sync_to_async(render)(request, TEMPLATE, {"page": page})
