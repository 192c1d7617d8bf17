"""Each route's row names the function or class that runs, through the wrappers
of DRF, adrf and django-ninja (stand-ins shaped as theirs: fake_frameworks)."""

from django.http import JsonResponse
from django.test import SimpleTestCase
from django.views import View

from topics.audit.handlers import handlers
from topics.audit.routes import DRF_SYNC_FIX, audit_urls

FRAMEWORK_URLS = "tests.audit.framework_views"
VIEWS = "tests.audit.framework_views"


class WrappedViewTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.rows, cls.findings = audit_urls(FRAMEWORK_URLS, packages=["tests.audit"])

    def rows_at(self, route: str) -> list[tuple[str, str]]:
        return [(row.view, row.mode) for row in self.rows if row.route == route]

    def test_drf_class_and_viewset_name_their_class(self):
        """APIView.as_view() and a router's viewset view (which carries `cls`,
        not `view_class`) are their class."""
        self.assertEqual(self.rows_at("class/"), [(f"{VIEWS}.ItemView", "sync")])
        self.assertEqual(self.rows_at("viewset/"), [(f"{VIEWS}.ItemViewSet", "sync")])

    def test_api_view_is_the_decorated_function(self):
        """@api_view builds a class named WrappedAPIView: the row names the
        function, in the mode Django runs it."""
        self.assertEqual(self.rows_at("drf/"), [(f"{VIEWS}.drf_items", "sync")])
        self.assertEqual(self.rows_at("adrf/"), [(f"{VIEWS}.adrf_items", "async")])

    def test_drf_api_view_on_an_async_function_is_an_error(self):
        """DRF's own @api_view calls an async function without awaiting it."""
        [finding] = [f for f in self.findings if f.code == "urls.sync-decorator"]

        self.assertEqual(finding.target, f"drf-async/ → {VIEWS}.drf_async_items")
        # Located at the function itself, where an annotation can land.
        self.assertRegex(finding.location, r"tests/audit/framework_views\.py:\d+$")
        self.assertEqual(finding.fix, DRF_SYNC_FIX)
        self.assertEqual(
            self.rows_at("drf-async/"), [(f"{VIEWS}.drf_async_items", "sync")]
        )

    def test_drf_apiview_with_an_async_handler_is_an_error(self):
        """DRF's APIView.dispatch() calls an async get() and never awaits it
        (a 500 on every request: "Expected a Response … received a coroutine");
        adrf's APIView, a subclass of it, awaits."""
        drf_base = type("APIView", (View,), {"__module__": "rest_framework.views"})
        adrf_base = type("APIView", (drf_base,), {"__module__": "adrf.views"})

        async def get(self, request):
            return JsonResponse({})

        drf_view = type("AsyncApi", (drf_base,), {"get": get})
        adrf_view = type("AsyncApi", (adrf_base,), {"get": get})

        [drf] = handlers(drf_view.as_view())
        [adrf] = handlers(adrf_view.as_view())

        self.assertIs(drf.hidden_coroutine, drf_view.get)
        self.assertIsNone(adrf.hidden_coroutine)

    def test_ninja_operations_each_with_their_own_mode(self):
        """Not ninja's async_view_wrapper: each operation's function, once,
        from ninja 1.7's closure and ninja 1.3's bound method alike."""
        expected = [(f"{VIEWS}.ninja_list", "sync"), (f"{VIEWS}.ninja_create", "async")]

        self.assertEqual(self.rows_at("ninja/items"), expected)
        self.assertEqual(self.rows_at("ninja-1.3/items"), expected)
