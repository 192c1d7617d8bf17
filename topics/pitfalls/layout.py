"""A layout that queries, rendered from an async view: pitfall 13's fix (a loaded
`user`, see orm.wrong_render_lazy) is not enough."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from topics.context_processors import aload_layout
from topics.pitfalls.orm import SYNC_ONLY
from topics.pitfalls.registry import Pitfall

TEMPLATE = "pitfalls/layout_page.html"


# 24. A base layout, context processor or inclusion tag that queries.


async def wrong_layout_render(request: HttpRequest) -> HttpResponse:
    """Passes a loaded user (pitfall 13's fix); the layout still queries."""
    # user.profile, the processor's tag_menu and {% recent_topics %} all query
    # as render() reads them: here, on the loop.
    return render(request, TEMPLATE, {"user": await request.auser()})


async def right_layout_render(request: HttpRequest) -> HttpResponse:
    """See wrong_layout_render(); the whole render in one hop, any layout."""
    return await sync_to_async(render)(request, TEMPLATE)


async def right_layout_loaded(request: HttpRequest) -> HttpResponse:
    """See wrong_layout_render(); all the layout reads is loaded first."""
    return render(request, TEMPLATE, await aload_layout(request))


TEST = "tests/pitfalls/test_layout.py::"

PITFALLS = [
    Pitfall(
        number=24,
        slug="layout-queries-in-async-view",
        title="A base layout, context processor or inclusion tag that reads `user` "
        "or queries, rendered from an async view",
        symptom=(
            f"{SYNC_ONLY} although the view passes `await request.auser()`: at a "
            "context processor's QuerySet, at `user.profile` once logged in, at an "
            "inclusion tag that queries"
        ),
        fix=(
            "Render in one `sync_to_async(render)` hop, or load all the layout "
            "reads first (`aload_layout()`) and pass it in the context."
        ),
        wrong=wrong_layout_render,
        right=right_layout_render,
        test=TEST + "LayoutTests::test_each_part_of_the_layout_queries_on_the_loop",
        demo=wrong_layout_render,
    ),
]
