"""DEBUG-only pages that run a pitfall's wrong snippet, to show its real traceback."""

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from topics.pitfalls.registry import Pitfall

DEBUG_ONLY = "Pitfall pages are served only while DEBUG is on."


def demo_view(pitfall: Pitfall) -> Callable:
    """The page for one pitfall: its demo when DEBUG is on, 404 otherwise."""
    demo = pitfall.demo
    # Checked per request, not at import, so that a test can turn DEBUG on.
    if iscoroutinefunction(demo):

        async def view(request: HttpRequest) -> HttpResponse:
            if not settings.DEBUG:
                raise Http404(DEBUG_ONLY)
            return await demo(request)

    else:

        def view(request: HttpRequest) -> HttpResponse:
            if not settings.DEBUG:
                raise Http404(DEBUG_ONLY)
            return demo(request)

    view.__name__ = view.__qualname__ = f"pitfall_{pitfall.number}"
    view.__doc__ = f"Pitfall {pitfall.number}: {pitfall.title}"
    return view
