"""The index page: every pair, its lesson, and a live comparison of its twins."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from topics.pairs import PAIRS
from topics.registry import by_family


def index(request: HttpRequest) -> HttpResponse:
    """List the pairs by family; the page's script compares the twins."""
    return render(request, "topics/index.html", {"families": by_family(PAIRS)})
