"""Root URLconf: the admin, and the topics app with its generated twin routes."""

from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("topics.urls")),
]

# Serves the admin's static files when DEBUG is on; uvicorn serves no files.
urlpatterns += staticfiles_urlpatterns()
