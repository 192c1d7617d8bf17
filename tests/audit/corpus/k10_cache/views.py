from django.core.cache import cache, caches
from django.core.cache import cache as default_cache
from django.http import JsonResponse

from .models import Article
from .services import cached_title

sessions_cache = caches["sessions"]


async def article_detail(request, pk):
    data = cache.get(f"article:{pk}")  # planted: code.sync-cache (warning)
    if data is None:
        article = await Article.objects.aget(pk=pk)
        data = {"title": article.title}
        cache.set(f"article:{pk}", data, 300)  # planted: code.sync-cache (warning)
    return JsonResponse(data)


async def article_detail_async(request, pk):
    data = await cache.aget(f"article:{pk}")  # control
    if data is None:
        article = await Article.objects.aget(pk=pk)
        data = {"title": article.title}
        await cache.aset(f"article:{pk}", data, 300)  # control
    return JsonResponse(data)


async def hit_counter(request, pk):
    cache.add(f"hits:{pk}", 0)  # planted: code.sync-cache (warning)
    hits = cache.incr(f"hits:{pk}")  # planted: code.sync-cache (warning)
    await cache.aadd(f"seen:{pk}", 0)  # control
    seen = await cache.aincr(f"seen:{pk}")  # control
    return JsonResponse({"hits": hits, "seen": seen})


async def popular(request):
    titles = default_cache.get_or_set(  # planted: code.sync-cache (warning)
        "popular", lambda: list(Article.objects.values_list("title", flat=True)), 60
    )
    many = caches["default"].get_many(["a", "b"])  # planted: code.sync-cache (warning)
    others = await caches["default"].aget_many(["a", "b"])  # control
    return JsonResponse({"titles": titles, "many": many, "others": others})


async def logout_everywhere(request):
    sessions_cache.delete(f"user:{request.GET['id']}")  # planted: code.sync-cache (warning)
    await sessions_cache.adelete(f"user:{request.GET['id']}")  # control
    local = caches["throttle"]
    local.touch("window", 30)  # planted: code.sync-cache (warning)
    if default_cache.has_key("flag"):  # planted: code.sync-cache (warning)
        default_cache.delete_many(["a", "b"])  # planted: code.sync-cache (warning)
    return JsonResponse({})


class RateLimiter:
    """A look-alike: its own cache attribute, a dict."""

    def __init__(self):
        self.cache = {}

    async def allow(self, key):
        count = self.cache.get(key, 0)  # control
        self.cache[key] = count + 1
        return count < 10


async def local_dict(request):
    cache = {}  # a local dict that shadows the import
    cache.get("x")  # control
    cache.setdefault("y", 1)  # control
    return JsonResponse(cache)


def sync_view(request):
    return JsonResponse({"v": cache.get("v")})  # control


async def in_a_thread(request):
    def compute():
        return cache.get("v")  # control

    return JsonResponse({"v": compute()})


async def title(request, pk):
    return JsonResponse({"title": cached_title(pk)})  # planted: code.sync-cache (warning)
