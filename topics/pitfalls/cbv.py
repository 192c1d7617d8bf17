"""Pitfalls of class-based views: async handlers behind a sync dispatch()."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View

from topics import mixins
from topics.pitfalls.orm import SYNC_ONLY
from topics.pitfalls.registry import Pitfall

# Python's own message, raised where Django awaits the view.
AWAIT_REDIRECT_MESSAGE = (
    "object HttpResponseRedirect can't be used in 'await' expression"
)


# 23. An async handler behind a sync dispatch mixin (LoginRequiredMixin & co.).


async def _greeting(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(f"Hello, {user.get_username()}.")


class WrongDashboardView(LoginRequiredMixin, View):
    """Django's mixin: its dispatch() is sync, and checks request.user."""

    async def get(self, request: HttpRequest) -> HttpResponse:
        return await _greeting(request)


@method_decorator(login_required, name="dispatch")
class WrongDecoratedDashboardView(View):
    """login_required on dispatch(), a sync method: it wraps it the sync way."""

    async def get(self, request: HttpRequest) -> HttpResponse:
        return await _greeting(request)


class RightDashboardView(mixins.LoginRequiredMixin, View):
    """See WrongDashboardView; topics.mixins' mixin awaits request.auser()."""

    async def get(self, request: HttpRequest) -> HttpResponse:
        return await _greeting(request)


class DashboardView(View):
    """No mixin: login_required(DashboardView.as_view()) in the URLconf."""

    async def get(self, request: HttpRequest) -> HttpResponse:
        return await _greeting(request)


wrong_dashboard = WrongDashboardView.as_view()
right_dashboard = RightDashboardView.as_view()
# as_view() of a View with async handlers is a coroutine function: since Django
# 5.1, login_required wraps it the async way.
right_decorated_dashboard = login_required(DashboardView.as_view())

TEST = "tests/pitfalls/test_cbv.py::"

PITFALLS = [
    Pitfall(
        number=23,
        slug="async-handler-behind-sync-dispatch",
        title="An async handler behind a sync `dispatch` mixin "
        "(`LoginRequiredMixin` & co.)",
        symptom=f"Under ASGI, logged in: {SYNC_ONLY} from the mixin's "
        f"`request.user`; a visitor: `TypeError: {AWAIT_REDIRECT_MESSAGE}`, a 500 "
        "instead of the login redirect. Under WSGI (`runserver`) only the visitor "
        'fails. `method_decorator(login_required, name="dispatch")` fails alike',
        fix="Use an async-capable mixin (`topics.mixins.LoginRequiredMixin`, "
        "`PermissionRequiredMixin`, `UserPassesTestMixin`), or "
        "`login_required(View.as_view())` in the URLconf.",
        wrong=wrong_dashboard,
        right=right_dashboard,
        test=TEST + "DispatchMixinTests::test_django_mixins_fail_in_front_of_async",
        demo=wrong_dashboard,
    ),
]
