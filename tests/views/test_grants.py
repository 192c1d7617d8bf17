"""The permission pair: permission_required on a sync and an async view,
has_perm() and ahas_perm() inside them, and the hops the auth checks take."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import AsyncClient, TestCase, TransactionTestCase, override_settings

from project.demo.seeding import (
    DEMO_USERNAME,
    EDITOR_USERNAME,
    seed_demo_user,
    seed_editor_user,
)
from tests.factories import make_topic
from tests.hopfree_support import HANDLER_CLOSE, HOPFREE_STACK, hops_of
from tests.twins import prefixes
from topics.api import NOT_FOUND, PERMISSION_DENIED

LOGIN_REQUIRED_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"


class GrantTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="grants")
        seed_demo_user(password=None)
        seed_editor_user(password=None)
        User = get_user_model()
        cls.member = User.objects.get(username=DEMO_USERNAME)
        cls.editor = User.objects.get(username=EDITOR_USERNAME)
        cls.changer = User.objects.create_user("changer")
        cls.changer.user_permissions.add(
            Permission.objects.get(codename="change_topic")
        )

    async def grants(self, prefix: str, user=None, slug: str = "grants"):
        client = AsyncClient()
        if user is not None:
            await client.aforce_login(user)
        return await client.get(f"/{prefix}/auth/topics/{slug}/grants/")

    async def test_without_the_permission_is_a_json_403(self):
        """raise_exception=True: handler403's JSON, for a visitor too, no login page."""
        for prefix in prefixes("topic_grants"):
            with self.subTest(twin=prefix):
                for user in (None, self.member):
                    response = await self.grants(prefix, user)

                    self.assertEqual(response.status_code, 403)
                    self.assertEqual(
                        response.json()["error"]["code"], PERMISSION_DENIED
                    )

    async def test_with_the_permission_the_view_checks_another(self):
        """has_perm() / `await user.ahas_perm()` inside the view: can_delete."""
        for prefix in prefixes("topic_grants"):
            with self.subTest(twin=prefix):
                editor = await self.grants(prefix, self.editor)
                changer = await self.grants(prefix, self.changer)

                self.assertEqual(
                    editor.json(),
                    {"topic": "grants", "can_change": True, "can_delete": True},
                )
                self.assertIs(changer.json()["can_delete"], False)

    async def test_unknown_topic_is_404_after_the_permission(self):
        for prefix in prefixes("topic_grants"):
            with self.subTest(twin=prefix):
                editor = await self.grants(prefix, self.editor, slug="no-such-topic")
                member = await self.grants(prefix, self.member, slug="no-such-topic")

                self.assertEqual(editor.json()["error"]["code"], NOT_FOUND)
                self.assertEqual(member.status_code, 403)


class AuthHopTests(TransactionTestCase):
    """Counted hops through Django's ASGI handler (see tests/test_hopfree_hops.py)."""

    def setUp(self) -> None:
        make_topic(slug="grants")
        seed_editor_user(password=None)
        self.editor = get_user_model().objects.get(username=EDITOR_USERNAME)

    async def cookie(self) -> str:
        client = AsyncClient()
        await client.aforce_login(self.editor)
        return f"sessionid={client.cookies['sessionid'].value}"

    @override_settings(MIDDLEWARE=HOPFREE_STACK)
    async def test_permission_required_hops_once_per_permission_query(self):
        """The async permission_required awaits user.ahas_perms(): no hop for
        its test, one per query (the user's permissions, its groups'); the
        view's ahas_perm() reads what that check cached."""
        hops = await hops_of(
            "/async/auth/topics/grants/grants/", cookie=await self.cookie()
        )

        self.assertEqual(
            hops,
            [
                200,
                "Signal.asend.<locals>.sync_send",
                "QuerySet.get",  # the session
                "QuerySet.get",  # the user
                "QuerySet._fetch_all",  # the user's permissions
                "QuerySet._fetch_all",  # its groups' permissions
                "QuerySet.get",  # the topic
                HANDLER_CLOSE,
            ],
        )

    @override_settings(MIDDLEWARE=HOPFREE_STACK)
    async def test_a_visitor_is_refused_in_djangos_exception_hops(self):
        """AnonymousUser has no permissions: ahas_perms() asks no database. The
        PermissionDenied it raises takes Django's exception path, three hops:
        its process_exception hooks, handler403, the log line; an error
        api_view answers takes only the last."""
        hops = await hops_of("/async/auth/topics/grants/grants/")
        api_error = await hops_of("/async/topics/?page=0")  # answered by api_view

        self.assertEqual(
            hops,
            [
                403,
                "Signal.asend.<locals>.sync_send",
                "BaseHandler.process_exception_by_middleware",
                "response_for_exception",
                "log_response",
                HANDLER_CLOSE,
            ],
        )
        # Django logs every 4xx in a thread: the one hop an api_view error takes.
        self.assertEqual(
            api_error,
            [400, "Signal.asend.<locals>.sync_send", "log_response", HANDLER_CLOSE],
        )

    async def test_login_required_middleware_runs_in_a_hop(self):
        """LoginRequiredMiddleware (Django 5.1) is a sync MiddlewareMixin: its
        process_view runs in a thread, where request.user loads the session and
        the user. A view that reads no user pays one more hop. login_required's
        auser() then loads the user again (its own cache), not the session: the
        same hops for /me/, and one more query."""
        cookie = await self.cookie()
        hops = {}
        for stack in ("without", "with"):
            extra = [LOGIN_REQUIRED_MIDDLEWARE] if stack == "with" else []
            with override_settings(MIDDLEWARE=[*HOPFREE_STACK, *extra]):
                for path in ("/async/topics/", "/async/me/"):
                    hops[stack, path] = await hops_of(path, cookie=cookie)

        signal = "Signal.asend.<locals>.sync_send"
        process_view = "LoginRequiredMiddleware.process_view"
        self.assertEqual(
            hops["without", "/async/topics/"], [200, signal, "list", HANDLER_CLOSE]
        )
        self.assertEqual(
            hops["with", "/async/topics/"],
            [200, signal, process_view, "list", HANDLER_CLOSE],
        )
        test_func = "login_required.<locals>.<lambda>"
        self.assertEqual(
            hops["without", "/async/me/"],
            [200, signal, "QuerySet.get", "QuerySet.get", test_func, HANDLER_CLOSE],
        )
        self.assertEqual(
            hops["with", "/async/me/"],
            [200, signal, process_view, "QuerySet.get", test_func, HANDLER_CLOSE],
        )
