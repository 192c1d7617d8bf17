"""Which of Django's decorators wrap an async view: the migration guide's list
(docs/guide.md), checked against the installed Django, and cache_page, which is
not on it."""

import importlib
import json
import re
import threading
from collections.abc import Callable

import django
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import SynchronousOnlyOperation
from django.http import HttpRequest, HttpResponse
from django.test import AsyncRequestFactory, SimpleTestCase, override_settings
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_http_methods

from topics.api import METHOD_NOT_ALLOWED, api_view

LIST = re.compile(
    r"<!-- async-decorators:start -->\n(.*?)<!-- async-decorators:end -->", re.S
)
# - `django.views.decorators.cache`: `cache_control`, `never_cache` (5.0)
ENTRY = re.compile(r"^- `(?P<module>[\w.]+)`: (?P<names>.+?) \((?P<since>\d+\.\d+)")
NAME = re.compile(r"`(\w+)`")

# How each decorator that takes arguments is applied; the others are bare.
ARGUMENTS: dict[str, tuple] = {
    "cache_control": ((), {"max_age": 60}),
    "condition": ((), {"etag_func": lambda request: "v1"}),
    "etag": ((lambda request: "v1",), {}),
    "last_modified": ((lambda request: None,), {}),
    "require_http_methods": ((["GET"],), {}),
    "vary_on_headers": (("Accept",), {}),
    "sensitive_variables": ((), {}),
    "sensitive_post_parameters": ((), {}),
    "permission_required": (("topics.change_topic",), {}),
    "user_passes_test": ((lambda user: True,), {}),
    "csp_override": (({},), {}),
    "csp_report_only_override": (({},), {}),
}


async def aview(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def documented() -> list[tuple[str, str, tuple[int, ...]]]:
    """(module, decorator, Django version that made it async) from the guide."""
    guide = (settings.BASE_DIR / "docs" / "guide.md").read_text()
    entries = []
    for line in LIST.search(guide)[1].splitlines():
        entry = ENTRY.match(line)
        assert entry, line
        since = tuple(int(part) for part in entry["since"].split("."))
        entries += [
            (entry["module"], name, since) for name in NAME.findall(entry["names"])
        ]
    return entries


def _find(module: str, name: str) -> Callable | None:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def applied(decorator: Callable, name: str) -> Callable:
    if name in ARGUMENTS:
        args, kwargs = ARGUMENTS[name]
        decorator = decorator(*args, **kwargs)
    return decorator(aview)


class DocumentedDecoratorTests(SimpleTestCase):
    def test_each_listed_decorator_wraps_an_async_view_in_a_coroutine_function(self):
        """On this Django line: present from its version on, and async."""
        for module, name, since in documented():
            with self.subTest(name):
                found = _find(module, name)
                if django.VERSION[:2] < since:
                    # Listed with a later version: this line lacks it.
                    self.assertIsNone(found)
                    continue
                self.assertIs(iscoroutinefunction(applied(found, name)), True)

    def test_the_list_names_the_documented_decorators_and_not_cache_page(self):
        names = {name for _, name, _ in documented()}

        self.assertNotIn("cache_page", names)
        self.assertLessEqual({"login_required", "never_cache", "csrf_exempt"}, names)
        self.assertEqual(len(names), 28)

    def test_method_decorator_keeps_an_async_method_async(self):
        """Django 5.2: method_decorator() on an async def handler."""

        class TopicView:
            @method_decorator(require_http_methods(["GET"]))
            async def get(self, request: HttpRequest) -> HttpResponse:
                return HttpResponse("ok")

        self.assertIs(iscoroutinefunction(TopicView.get), True)


class LoopThreadCache(LocMemCache):
    """LocMemCache that notes the thread of each get() and set()."""

    threads: list[int] = []

    def get(self, *args, **kwargs):
        self.threads.append(threading.get_ident())
        return super().get(*args, **kwargs)

    def set(self, *args, **kwargs):
        self.threads.append(threading.get_ident())
        return super().set(*args, **kwargs)


@override_settings(
    CACHES={
        "default": {"BACKEND": "tests.test_decorators.LoopThreadCache"},
        "db": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "no_such_table",
        },
    }
)
class CachePageTests(SimpleTestCase):
    """cache_page is CacheMiddleware as a decorator: an async wrapper around an
    async view, whose sync cache get() and set() run on the event loop."""

    async def test_cache_page_reads_and_writes_the_cache_on_the_loop(self):
        LoopThreadCache.threads.clear()
        view = cache_page(60)(aview)

        response = await view(AsyncRequestFactory().get("/cached/"))

        self.assertIs(iscoroutinefunction(view), True)
        self.assertEqual(response.status_code, 200)
        # A get() for the page, a set() for the page and its header list.
        self.assertGreaterEqual(len(LoopThreadCache.threads), 2)
        self.assertEqual(set(LoopThreadCache.threads), {threading.get_ident()})

    async def test_cache_page_with_a_database_cache_raises(self):
        """The database cache's query, on the loop: Django refuses it."""
        view = cache_page(60, cache="db")(aview)

        with self.assertRaisesMessage(
            SynchronousOnlyOperation, "You cannot call this from an async context"
        ):
            await view(AsyncRequestFactory().get("/cached/"))


class MethodNotAllowedTests(SimpleTestCase):
    """What topics.api.api_view adds to Django's require_http_methods()."""

    async def test_require_http_methods_answers_an_empty_405(self):
        view = require_http_methods(["GET"])(aview)

        response = await view(AsyncRequestFactory().post("/"))

        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Allow"], "GET")
        self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(response.content, b"")

    async def test_api_view_answers_a_json_405(self):
        view = api_view(methods=["GET"])(aview)

        response = await view(AsyncRequestFactory().post("/"))

        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Allow"], "GET")
        self.assertEqual(
            json.loads(response.content)["error"]["code"], METHOD_NOT_ALLOWED
        )
