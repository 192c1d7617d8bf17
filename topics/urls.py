"""The index page, and /<prefix>/<route> for every twin in the registry."""

from django.urls import path

from topics.pairs import PAIRS
from topics.views.index import index

app_name = "topics"

urlpatterns = [path("", index, name="index")]
urlpatterns += [
    path(f"{twin.prefix}/{pair.route}", twin.view, name=twin.view_name)
    for pair in PAIRS
    for twin in pair.twins()
]
