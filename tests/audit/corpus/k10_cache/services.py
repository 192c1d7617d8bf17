import django.core.cache
from asgiref.sync import sync_to_async
from django.core import cache as cache_module


async def warm(keys):
    values = django.core.cache.cache.get_many(keys)  # planted: code.sync-cache (warning)
    stored = cache_module.cache.set_many(values)  # planted: code.sync-cache (warning)
    await django.core.cache.cache.aset_many(values)  # control
    return stored


async def flush():
    cache_module.cache.clear()  # planted: code.sync-cache (warning)
    await cache_module.cache.aclear()  # control
    await sync_to_async(cache_module.cache.clear)()  # control


def cached_title(pk):
    """A sync helper: fine in sync code, blocking when async code calls it."""
    return cache_module.cache.get(f"title:{pk}")  # control
