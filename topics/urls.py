"""The index page, /<prefix>/<route> for each twin, and the DEBUG-only pitfall pages."""

from django.urls import path

from topics.api import api_view
from topics.pairs import PAIRS
from topics.pitfalls.catalogue import PITFALLS
from topics.views.index import index
from topics.views.pitfall_pages import demo_view

app_name = "topics"

urlpatterns = [path("", index, name="index")]
urlpatterns += [
    path(f"{twin.prefix}/{pair.route}", twin.view, name=twin.view_name)
    for pair in PAIRS
    for twin in pair.twins()
]
urlpatterns += [
    path(
        f"pitfalls/{pitfall.slug}/",
        api_view(demo_view(pitfall)),
        name=f"pitfall_{pitfall.number}",
    )
    for pitfall in PITFALLS
    if pitfall.demo is not None
]
