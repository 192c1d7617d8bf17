"""Root URLconf: the topics app, with the index page and the generated twin routes."""

from django.urls import include, path

# No admin here: under ASGI, Django's static file view serves a sync iterator,
# which Django must buffer whole (it warns); the pages need no static files.
urlpatterns = [
    path("", include("topics.urls")),
]
