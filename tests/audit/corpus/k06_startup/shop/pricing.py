"""A module imported by the views: its module-level code runs at import too."""

from django.core.cache import caches

from .models import Product

TOTAL = Product.objects.count()  # planted: code.startup-query (warning)
RATES = caches["default"].get("rates")  # planted: code.startup-query (warning)


def price(product, rates=None):
    return Product.objects.filter(pk=product.pk).count()  # control
