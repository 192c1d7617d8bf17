"""The project's receivers: they write and mail, so sending runs them."""

from django.core.mail import mail_admins
from django.dispatch import receiver

from . import services
from .signals import order_paid


@receiver(order_paid)
def tell_admins(sender, **kwargs):
    mail_admins("Order paid", str(kwargs))


def log_stock(sender, product_id, **kwargs):
    print(product_id)


services.stock_changed.connect(log_stock)
