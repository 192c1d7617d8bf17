"""topics.mixins: Django's auth mixins in front of sync handlers, and the same
answers, checked awaited, in front of async ones."""

from django.contrib.auth import get_user_model
from django.contrib.auth import mixins as django_mixins
from django.contrib.auth.models import Permission
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient, TestCase, override_settings
from django.urls import path
from django.views import View

from topics import mixins

PERMISSION = "topics.delete_topic"


def _hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"Hello, {request.user.get_username()}.")


class SyncHello(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _hello(request)


class AsyncHello(View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        # request.user is the user our mixin loaded: no query here.
        return _hello(request)


class DjangoLogin(django_mixins.LoginRequiredMixin, SyncHello):
    pass


class SyncLogin(mixins.LoginRequiredMixin, SyncHello):
    pass


class AsyncLogin(mixins.LoginRequiredMixin, AsyncHello):
    pass


class DjangoPermission(django_mixins.PermissionRequiredMixin, SyncHello):
    permission_required = PERMISSION


class SyncPermission(mixins.PermissionRequiredMixin, SyncHello):
    permission_required = PERMISSION


class AsyncPermission(mixins.PermissionRequiredMixin, AsyncHello):
    permission_required = PERMISSION


class AsyncStaffOrPermission(AsyncPermission):
    """An override of has_permission() is honoured with async handlers too."""

    def has_permission(self) -> bool:
        return self.request.user.username == "staff" or super().has_permission()


def _named_demo(view: View) -> bool:
    return view.request.user.get_username() == "demo"


class DjangoDemoOnly(django_mixins.UserPassesTestMixin, SyncHello):
    def test_func(self) -> bool:
        return _named_demo(self)


class SyncDemoOnly(mixins.UserPassesTestMixin, SyncHello):
    def test_func(self) -> bool:
        return _named_demo(self)


class AsyncDemoOnly(mixins.UserPassesTestMixin, AsyncHello):
    def test_func(self) -> bool:
        return _named_demo(self)


class AsyncDemoOnlyAwaited(mixins.UserPassesTestMixin, AsyncHello):
    async def test_func(self) -> bool:
        user = await self.request.auser()
        return user.get_username() == "demo"


# Stacked, as real apps write them: login first, then the author check.
class DjangoLoginDemoOnly(
    django_mixins.LoginRequiredMixin, django_mixins.UserPassesTestMixin, SyncHello
):
    test_func = DjangoDemoOnly.test_func


class SyncLoginDemoOnly(
    mixins.LoginRequiredMixin, mixins.UserPassesTestMixin, SyncHello
):
    test_func = SyncDemoOnly.test_func


class AsyncLoginDemoOnly(
    mixins.LoginRequiredMixin, mixins.UserPassesTestMixin, AsyncHello
):
    test_func = AsyncDemoOnly.test_func


class AsyncLoginRaising(AsyncLogin):
    raise_exception = True


class AsyncLoginAnswering401(AsyncLogin):
    """A handle_no_permission() that reads request.user, as overrides do."""

    def handle_no_permission(self) -> JsonResponse:
        signed_in = self.request.user.is_authenticated
        return JsonResponse({"signed_in": signed_in}, status=401)


class SyncLoginAnswering401(SyncLogin):
    handle_no_permission = AsyncLoginAnswering401.handle_no_permission


VIEWS = {
    "django-login": DjangoLogin,
    "sync-login": SyncLogin,
    "async-login": AsyncLogin,
    "django-permission": DjangoPermission,
    "sync-permission": SyncPermission,
    "async-permission": AsyncPermission,
    "async-staff-or-permission": AsyncStaffOrPermission,
    "django-test": DjangoDemoOnly,
    "sync-test": SyncDemoOnly,
    "async-test": AsyncDemoOnly,
    "async-test-awaited": AsyncDemoOnlyAwaited,
    "django-login-test": DjangoLoginDemoOnly,
    "sync-login-test": SyncLoginDemoOnly,
    "async-login-test": AsyncLoginDemoOnly,
    "async-login-raising": AsyncLoginRaising,
    "sync-login-401": SyncLoginAnswering401,
    "async-login-401": AsyncLoginAnswering401,
}
urlpatterns = [path(f"{name}/", view.as_view()) for name, view in VIEWS.items()]


def _answer(response: HttpResponse, name: str) -> tuple:
    """Status, login redirect (its ?next= made the same) and body."""
    location = response.get("Location", "").replace(f"/{name}/", "/<view>/")
    return response.status_code, location, response.content


@override_settings(ROOT_URLCONF=__name__)
class MixinTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        User = get_user_model()
        cls.demo = User.objects.create_user("demo")
        cls.editor = User.objects.create_user("editor")
        cls.editor.user_permissions.add(Permission.objects.get(codename="delete_topic"))
        cls.staff = User.objects.create_user("staff")

    def setUp(self):
        self.clients = {"visitor": self.async_client}
        for user in (self.demo, self.editor, self.staff):
            self.clients[user.username] = client = AsyncClient()
            client.force_login(user)
        # A visitor whose session holds data: request.user would query.
        self.clients["visitor with a session"] = client = AsyncClient()
        session = client.session
        session["theme"] = "dark"
        session.save()

    async def answers(self, name: str) -> dict[str, tuple]:
        return {
            who: _answer(await client.get(f"/{name}/"), name)
            for who, client in self.clients.items()
        }

    async def test_ours_answer_as_djangos_in_both_modes(self):
        """For every user, each of our mixins answers as Django's: in front of
        sync handlers, and in front of async ones."""
        for kind in ("login", "permission", "test", "login-test"):
            django = await self.answers(f"django-{kind}")

            for mode in ("sync", "async"):
                with self.subTest(kind=kind, mode=mode):
                    self.assertEqual(await self.answers(f"{mode}-{kind}"), django)

    async def test_login_required_redirects_a_visitor(self):
        """A visitor goes to the login page; anyone logged in passes."""
        answers = await self.answers("async-login")

        login = "/accounts/login/?next=/<view>/"
        self.assertEqual(answers["visitor"], (302, login, b""))
        self.assertEqual(answers["visitor with a session"], (302, login, b""))
        self.assertEqual(answers["demo"], (200, "", b"Hello, demo."))

    async def test_permission_required_is_403_once_logged_in(self):
        """Without the permission: a visitor is sent to log in, a member gets 403;
        with it (ahas_perms()), the handler runs."""
        answers = await self.answers("async-permission")

        self.assertEqual(
            answers["visitor"][:2], (302, "/accounts/login/?next=/<view>/")
        )
        self.assertEqual(answers["demo"][0], 403)
        self.assertEqual(answers["editor"], (200, "", b"Hello, editor."))

    async def test_overridden_has_permission_is_honoured(self):
        """A sync has_permission() override decides, in one thread hop."""
        answers = await self.answers("async-staff-or-permission")

        self.assertEqual(answers["staff"], (200, "", b"Hello, staff."))
        self.assertEqual(answers["editor"], (200, "", b"Hello, editor."))
        self.assertEqual(answers["demo"][0], 403)

    async def test_user_passes_test_sync_or_async_test_func(self):
        """test_func() runs in a thread hop, or is awaited when it is async."""
        for name in ("async-test", "async-test-awaited"):
            answers = await self.answers(name)

            self.assertEqual(answers["demo"], (200, "", b"Hello, demo."), name)
            self.assertEqual(answers["editor"][0], 403, name)
            self.assertEqual(answers["visitor"][0], 302, name)

    async def test_raise_exception_makes_a_visitor_403(self):
        """raise_exception=True: PermissionDenied for a visitor too, no redirect."""
        answers = await self.answers("async-login-raising")

        self.assertEqual(answers["visitor"][:2], (403, ""))
        self.assertEqual(answers["demo"], (200, "", b"Hello, demo."))

    async def test_overridden_handle_no_permission_reads_request_user(self):
        """An override of handle_no_permission() reads request.user: the loaded
        user, with no query on the event loop, even with a session."""
        for mode in ("sync", "async"):
            with self.subTest(mode=mode):
                answers = await self.answers(f"{mode}-login-401")

                for who in ("visitor", "visitor with a session"):
                    self.assertEqual(
                        answers[who], (401, "", b'{"signed_in": false}'), who
                    )
                self.assertEqual(answers["demo"], (200, "", b"Hello, demo."))

    async def test_stacked_mixins_check_in_order(self):
        """LoginRequiredMixin then UserPassesTestMixin, both ours: a visitor is
        sent to log in before test_func() runs, a member who fails it gets 403."""
        answers = await self.answers("async-login-test")

        login = "/accounts/login/?next=/<view>/"
        self.assertEqual(answers["visitor"], (302, login, b""))
        self.assertEqual(answers["visitor with a session"], (302, login, b""))
        self.assertEqual(answers["editor"][0], 403)
        self.assertEqual(answers["demo"], (200, "", b"Hello, demo."))
