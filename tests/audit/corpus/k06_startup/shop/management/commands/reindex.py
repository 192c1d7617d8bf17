from django.core.management.base import BaseCommand

from shop.models import Product

PRODUCTS = list(Product.objects.all())  # control


class Command(BaseCommand):
    def handle(self, *args, **options):
        for product in Product.objects.all():  # control
            product.save()  # control
