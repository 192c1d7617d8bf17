from django.apps import AppConfig
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_save


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        from .models import SiteSetting
        from .signals import product_saved

        post_save.connect(product_saved, sender="shop.Product")  # control
        self.settings = {s.key: s.value for s in SiteSetting.objects.all()}  # planted: code.startup-query (warning)
        if not SiteSetting.objects.filter(key="currency").exists():  # planted: code.startup-query (warning)
            SiteSetting.objects.create(key="currency", value="EUR")  # planted: code.startup-query (warning)
        with connection.cursor() as cursor:  # planted: code.startup-query (warning)
            cursor.execute("SELECT 1")
        cache.set("shop-ready", True)  # planted: code.startup-query (warning)

        def later():
            return SiteSetting.objects.count()  # control


class SignalsOnlyConfig(AppConfig):
    name = "shop.signals_only"

    def ready(self):
        from . import signals  # noqa: F401  # control


class NotAnAppConfig:
    def ready(self):
        return SiteSettingLike.objects.count()  # control


class SiteSettingLike:
    objects = None


class GuardedConfig(AppConfig):
    name = "shop.guarded"

    def ready(self):
        from django.db.utils import OperationalError

        try:
            cache.clear()  # control
        except Exception:
            pass
        try:
            connection.cursor().execute("SELECT 1")  # control
        except OperationalError:
            pass
