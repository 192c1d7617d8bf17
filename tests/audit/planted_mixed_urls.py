"""Planted: a URLconf that routes a view mixing async and sync handlers."""

from django.urls import path

from tests.audit.planted import MixedView

urlpatterns = [path("", MixedView.as_view())]
