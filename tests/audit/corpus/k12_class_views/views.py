import functools

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import (
    LoginRequiredMixin,
    PermissionRequiredMixin,
    UserPassesTestMixin,
)
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from .mixins import StaffOnlyMixin


class DashboardView(LoginRequiredMixin, View):  # planted: code.sync-dispatch
    async def get(self, request):
        return HttpResponse("dashboard")


class ReportView(
    PermissionRequiredMixin,  # planted: code.sync-dispatch
    View,
):
    permission_required = "reports.view_report"

    async def get(self, request):
        return JsonResponse({"rows": []})

    async def post(self, request):
        return JsonResponse({}, status=201)


class OwnerOnlyView(UserPassesTestMixin, View):  # planted: code.sync-dispatch
    def test_func(self):
        return self.request.user.is_superuser

    async def get(self, request):
        return HttpResponse("secret")


class TeamMixin:
    def dispatch(self, request, *args, **kwargs):
        self.team = request.user.team_id
        return super().dispatch(request, *args, **kwargs)


class TeamView(TeamMixin, View):  # planted: code.sync-dispatch
    async def get(self, request):
        return JsonResponse({"team": self.team})


class BetaGateMixin:
    def dispatch(self, request, *args, **kwargs):
        if "beta" not in request.COOKIES:
            return HttpResponseForbidden()
        return super().dispatch(request, *args, **kwargs)


class BetaView(BetaGateMixin, View):  # planted: code.sync-dispatch
    async def get(self, request):
        return HttpResponse("beta")


class TimingView(View):
    async def get(self, request):
        return HttpResponse("ok")

    def dispatch(self, request, *args, **kwargs):  # planted: code.sync-dispatch
        response = super().dispatch(request, *args, **kwargs)
        response["X-Timing"] = "1"
        return response


@method_decorator(login_required, name="dispatch")  # planted: code.sync-dispatch
class SettingsView(View):
    async def get(self, request):
        return HttpResponse("settings")


@method_decorator([csrf_exempt, never_cache], name="dispatch")  # planted: code.sync-dispatch
class WebhookView(View):
    async def post(self, request):
        return HttpResponse(status=204)


class AuditedView(View):
    @method_decorator(login_required)  # planted: code.sync-dispatch
    def dispatch(self, *args, **kwargs):
        return super().dispatch(*args, **kwargs)

    async def get(self, request):
        return HttpResponse("audited")


class TracingMixin:
    def dispatch(self, request, *args, **kwargs):
        self.trace_id = request.headers.get("X-Trace")
        return super().dispatch(request, *args, **kwargs)


class TracedView(TracingMixin, View):  # control
    async def get(self, request):
        return HttpResponse(self.trace_id)


class MethodOverrideMixin:
    def dispatch(self, request, *args, **kwargs):
        method = request.POST.get("_method", request.method).lower()
        handler = getattr(self, method, self.http_method_not_allowed)
        return handler(request, *args, **kwargs)


class FormMethodView(MethodOverrideMixin, View):  # control
    async def post(self, request):
        return HttpResponse(status=204)

    async def delete(self, request):
        return HttpResponse(status=204)


@method_decorator(csrf_exempt, name="dispatch")  # control
class CallbackView(View):
    async def post(self, request):
        return HttpResponse(status=204)


@method_decorator(login_required, name="get")  # control
class ProfileView(View):
    async def get(self, request):
        return HttpResponse("profile")


class AsyncLoginRequiredMixin:
    async def dispatch(self, request, *args, **kwargs):
        user = await request.auser()
        if not user.is_authenticated:
            raise PermissionDenied
        return await super().dispatch(request, *args, **kwargs)


class InboxView(AsyncLoginRequiredMixin, View):  # control
    async def get(self, request):
        return HttpResponse("inbox")


class AwaitingLoginRequiredMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if self.view_is_async:
            return self.adispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    async def adispatch(self, request, *args, **kwargs):
        user = request.user = await request.auser()
        if not user.is_authenticated:
            return self.handle_no_permission()
        return await super(LoginRequiredMixin, self).dispatch(request, *args, **kwargs)


class OutboxView(AwaitingLoginRequiredMixin, View):  # control
    async def get(self, request):
        return HttpResponse("outbox")


class PlainAsyncView(View):  # control
    async def get(self, request):
        user = await request.auser()
        return HttpResponse(user.get_username())


class SyncDashboardView(LoginRequiredMixin, TemplateView):  # control
    template_name = "dashboard.html"


class SyncTeamView(TeamMixin, View):  # control
    def get(self, request):
        return JsonResponse({"team": self.team})


class StaffView(StaffOnlyMixin, View):
    async def get(self, request):
        return HttpResponse("staff")


def require_header(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if "X-Key" not in request.headers:
            return HttpResponseForbidden()
        return view(request, *args, **kwargs)

    return wrapper


def require_role(role):
    def decorator(view_func):
        def _wrapped(request, *args, **kwargs):
            if request.headers.get("X-Role") != role:
                return HttpResponseForbidden()
            return view_func(request, *args, **kwargs)

        return _wrapped

    return decorator


def either_mode(view):
    if iscoroutinefunction(view):

        async def async_wrapper(request, *args, **kwargs):
            return await view(request, *args, **kwargs)

        return markcoroutinefunction(async_wrapper)

    def wrapper(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapper


def log_calls(func):
    def wrapper(*args, **kwargs):
        print(func.__name__)
        return func(*args, **kwargs)

    return wrapper


@require_header  # planted: code.sync-decorator
async def api_status(request):
    return JsonResponse({"ok": True})


@require_role("admin")  # planted: code.sync-decorator
async def admin_stats(request):
    return JsonResponse({"users": 0})


@either_mode  # control
async def health(request):
    return HttpResponse("ok")


@login_required  # control
async def account(request):
    return HttpResponse("account")


@log_calls  # control
async def refresh_cache(key):
    return key


@require_header  # control
def legacy_status(request):
    return JsonResponse({"ok": True})


# The reference project's topics/mixins.py, copied: request.user is loaded
# before the handlers and test_func() run.
from . import amixins


class DraftView(amixins.LoginRequiredMixin, amixins.UserPassesTestMixin, View):  # control
    async def test_func(self):
        return self.request.user.is_staff  # control

    async def get(self, request):
        return HttpResponse(request.user.get_username())  # control
