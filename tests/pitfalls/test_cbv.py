"""Class-based views: Django's auth mixins, and login_required on dispatch(),
in front of async handlers fail; topics.mixins and login_required(as_view())
redirect a visitor and let a member in."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation
from django.test import AsyncClient, Client, SimpleTestCase, TestCase, override_settings
from django.urls import path

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.wsgi import wsgi_request
from topics.audit.code import scan_source
from topics.pitfalls import cbv
from topics.pitfalls.cbv import AWAIT_REDIRECT_MESSAGE
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE

urlpatterns = [
    path("wrong/", cbv.wrong_dashboard),
    path("wrong-decorated/", cbv.WrongDecoratedDashboardView.as_view()),
    path("right/", cbv.right_dashboard),
    path("right-decorated/", cbv.right_decorated_dashboard),
]
# The same async handler behind each: only what runs before it differs.
WRONG = ("/wrong/", "/wrong-decorated/")
RIGHT = ("/right/", "/right-decorated/")


@override_settings(ROOT_URLCONF=__name__)
class DispatchMixinTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_demo_user(password=None)
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def test_django_mixins_fail_in_front_of_async(self):
        """Under ASGI, a member meets SynchronousOnlyOperation where the sync
        dispatch() reads request.user, a visitor a TypeError where Django awaits
        its redirect; our mixin and login_required(as_view()) redirect and greet."""
        member = AsyncClient()
        await member.aforce_login(self.user)

        for route in WRONG:
            with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
                await member.get(route)
            with self.assertRaisesMessage(TypeError, AWAIT_REDIRECT_MESSAGE):
                await self.async_client.get(route)

        for route in RIGHT:
            visitor = await self.async_client.get(route)
            greeted = await member.get(route)

            self.assertEqual(visitor.status_code, 302)
            self.assertEqual(visitor["Location"], f"/accounts/login/?next={route}")
            self.assertEqual(greeted.content, b"Hello, demo.")

    def test_under_wsgi_only_the_visitor_fails(self):
        """Under WSGI asgiref calls the view, hence dispatch(), in the request's
        thread, with no event loop: request.user loads, a member is greeted; a
        visitor's redirect still reaches an await: 500."""
        member = Client()
        member.force_login(self.user)
        cookies = {name: morsel.value for name, morsel in member.cookies.items()}

        for route in WRONG:
            with self.assertLogs("django.request", "ERROR") as logs:
                visitor = wsgi_request("GET", route)
            greeted = wsgi_request("GET", route, cookies=cookies)

            self.assertEqual(visitor.status_code, 500)
            error = logs.records[0].exc_info[1]
            self.assertIsInstance(error, TypeError)
            self.assertEqual(str(error), AWAIT_REDIRECT_MESSAGE)
            self.assertEqual(
                (greeted.status_code, greeted.body), (200, b"Hello, demo.")
            )


class DispatchMixinAuditTests(SimpleTestCase):
    def test_audit_flags_the_wrong_views_only(self):
        """code.sync-dispatch: Django's mixin and method_decorator(login_required,
        name="dispatch") are errors; our mixin and the URLconf's wrapper are not."""
        source = Path(settings.BASE_DIR, "topics/pitfalls/cbv.py").read_text()

        findings = scan_source(source, "topics/pitfalls/cbv.py")

        flagged = [
            (f.code, f.level, f.message.partition(" ")[0])
            for f in findings
            if f.level != "info"
        ]
        self.assertEqual(
            flagged,
            [
                ("code.sync-dispatch", "error", "WrongDashboardView"),
                ("code.sync-dispatch", "error", "WrongDecoratedDashboardView"),
            ],
        )
