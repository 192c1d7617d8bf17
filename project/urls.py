"""Root URLconf: the twin routes (topics), the demo harness (index, pitfalls)."""

import re

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from topics.api import not_found
from topics.pairs import PAIRS

# No admin here: under ASGI, Django's static file view serves a sync iterator,
# which Django must buffer whole (it warns); the pages need no static files.
# Errors outside any view are JSON too, like the API's own.
handler400 = "topics.api.bad_request"
handler403 = "topics.api.permission_denied"
handler404 = "topics.api.not_found"
handler500 = "topics.api.server_error"

TWIN_PREFIXES = sorted({twin.prefix for pair in PAIRS for twin in pair.twins()})
ASYNC_PREFIXES = {
    twin.prefix for pair in PAIRS for twin in pair.twins() if twin.mode == "async"
}


async def anot_found(request: HttpRequest) -> HttpResponse:
    """See not_found(): under an async twin's prefix, answered on the event loop
    rather than in a thread, as the twin it stands in for would be."""
    return not_found(request)


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("project.demo.urls")),
    path("", include("topics.urls")),
]
# With DEBUG on, Django answers a URL no pattern matches with its HTML technical
# 404 and never calls handler404; API clients of the twins get the JSON 404 in
# both modes. Exempt from CSRF, as handler404 is: an unknown URL is a 404 for a
# POST too, not a 403. (APPEND_SLASH is off, so this hides no slash redirect.)
urlpatterns += [
    re_path(
        rf"^{re.escape(prefix)}/",
        csrf_exempt(anot_found if prefix in ASYNC_PREFIXES else not_found),
    )
    for prefix in TWIN_PREFIXES
]
