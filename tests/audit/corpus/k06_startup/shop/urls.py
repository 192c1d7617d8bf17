from django.urls import path

from . import views
from .models import Category, Product

FEATURED = Product.objects.filter(name__startswith="A")  # control
DEFAULT_CATEGORY = Category.objects.first()  # planted: code.startup-query (warning)

urlpatterns = [
    path("", views.index, name="index"),  # control
    path(
        "categories/",
        views.categories,
        kwargs={"choices": list(Category.objects.all())},  # planted: code.startup-query (warning)
    ),
]
