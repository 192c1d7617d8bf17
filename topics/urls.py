"""/<prefix>/<route> for each twin of the registry."""

from django.urls import path

from topics.pairs import PAIRS

app_name = "topics"

urlpatterns = [
    path(f"{twin.prefix}/{pair.route}", twin.view, name=twin.view_name)
    for pair in PAIRS
    for twin in pair.twins()
]
