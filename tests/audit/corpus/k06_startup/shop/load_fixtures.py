"""A script run by hand: django.setup() then queries at module level."""

import django

django.setup()

from shop.models import Category  # noqa: E402

for category in Category.objects.all():  # control
    print(category.name)
