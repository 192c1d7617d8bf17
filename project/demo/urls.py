"""The index page and the DEBUG-only pitfall pages."""

from django.urls import path

from project.demo.pitfall_pages import demo_view
from project.demo.views import index
from topics.api import api_view
from topics.pitfalls.catalogue import PITFALLS

app_name = "demo"

urlpatterns = [path("", index, name="index")]
urlpatterns += [
    path(
        f"pitfalls/{pitfall.slug}/",
        api_view(demo_view(pitfall)),
        name=f"pitfall_{pitfall.number}",
    )
    for pitfall in PITFALLS
    if pitfall.demo is not None
]
