"""Root URLconf: the topics app, with the index page and the generated twin routes."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

# No admin here: under ASGI, Django's static file view serves a sync iterator,
# which Django must buffer whole (it warns); the pages need no static files.
# Errors outside any view are JSON too, like the API's own.
handler400 = "topics.api.bad_request"
handler403 = "topics.api.permission_denied"
handler404 = "topics.api.not_found"
handler500 = "topics.api.server_error"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("topics.urls")),
]
