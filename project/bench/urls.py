"""The bench's URLconf: the trivial pair beside the whole project."""

from django.urls import include, path

from project.bench.views import aping, ping

urlpatterns = [
    path("bench/sync/ping/", ping),
    path("bench/async/ping/", aping),
    path("", include("project.urls")),
]
