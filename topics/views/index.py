"""The index page: every pair, its lesson, and a live comparison of its twins."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from topics.api import api_view
from topics.pairs import PAIRS
from topics.pitfalls.catalogue import PITFALLS
from topics.registry import by_family


@api_view
def index(request: HttpRequest) -> HttpResponse:
    """List the pairs by family, and the pitfall pages while DEBUG is on."""
    pitfalls = (
        [pitfall for pitfall in PITFALLS if pitfall.demo] if settings.DEBUG else []
    )
    context = {"families": by_family(PAIRS), "pitfalls": pitfalls}
    return render(request, "topics/index.html", context)
