"""A small project with planted problems: middleware, views and a URLconf."""

from functools import wraps

from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.middleware import csrf
from django.urls import URLResolver, path
from django.urls.resolvers import RoutePattern
from django.utils.deprecation import MiddlewareMixin
from django.views import View

from topics import hopfree


class SyncOnlyMiddleware:
    """Planted: sync-only, so an ASGI request holds a thread from here out."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class NotUsedMiddleware(MiddlewareMixin):
    """Sync-only, and off here: Django leaves it out of the stack, so no hop."""

    async_capable = False

    def __init__(self, get_response):
        raise MiddlewareNotUsed("off in this configuration")


class OldStyleMiddleware(MiddlewareMixin):
    """Planted: MiddlewareMixin with both hooks, two hops in async mode."""

    def process_request(self, request) -> None:
        return None

    def process_response(self, request, response):
        return response


def sync_only_decorator(view):
    """Planted: a wrapper that calls the view as sync, whatever it is."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapper


async def async_view(request) -> HttpResponse:
    return HttpResponse("async")


def sync_view(request) -> HttpResponse:
    return HttpResponse("sync")


@sync_only_decorator
async def hidden_async_view(request) -> HttpResponse:
    return HttpResponse("never awaited")


class MixedView(View):
    """Planted: an async get() beside a sync post()."""

    async def get(self, request) -> HttpResponse:
        return HttpResponse("get")

    def post(self, request) -> HttpResponse:
        return HttpResponse("post")


class AsyncOnlyView(View):
    async def get(self, request) -> HttpResponse:
        return HttpResponse("get")


urlpatterns = [
    path("async/", async_view),
    path("sync/", sync_view),
    path("hidden/", hidden_async_view),
    path("class/", AsyncOnlyView.as_view()),
    # Loaded lazily, and missing: reported, never a crash.
    URLResolver(RoutePattern("broken/"), "tests.audit.no_such_urls"),
    # Its as_view() raises: that URLconf cannot load.
    URLResolver(RoutePattern("mixed/"), "tests.audit.planted_mixed_urls"),
]


class FramedXFrameOptionsMiddleware(hopfree.XFrameOptionsMiddleware):
    """Planted: a drop-in's subclass overriding a method process_response
    calls, so that hook takes Django's hop back."""

    def get_xframe_options_value(self, request, response) -> str:
        return "SAMEORIGIN"


class OriginCsrfViewMiddleware(hopfree.CsrfViewMiddleware):
    """Planted: a drop-in's subclass overriding a check process_view calls,
    so process_view takes its hop back; its other hooks stay inline."""

    def _origin_verified(self, request) -> bool:
        return super()._origin_verified(request)


class OwnCsrfViewMiddleware(csrf.CsrfViewMiddleware):
    """Planted: the project's own subclass of one of Django's defaults."""

    def _reject(self, request, reason):
        return super()._reject(request, reason)


# startproject's MIDDLEWARE, as most projects still have it.
DJANGO_DEFAULT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

PLANTED_MIDDLEWARE = [
    # Clean, in both modes: the project's own.
    "topics.middleware.DatabaseUnavailableMiddleware",
    "tests.audit.planted.SyncOnlyMiddleware",
    "tests.audit.planted.OldStyleMiddleware",
    # Raises MiddlewareNotUsed: not in the stack at all (counted, as a sync-only
    # middleware innermost, it would change every mode outside it).
    "tests.audit.planted.NotUsedMiddleware",
    "tests.audit.no_such_module.Middleware",
]


class ThirdPartyCache(LocMemCache):
    """Planted: a cache backend outside Django that keeps BaseCache's aget()."""


class NativeAsyncCache(LocMemCache):
    """Planted: a cache backend with an async API of its own."""

    async def aget(self, key, default=None, version=None):
        return default
