"""Async views behind sync-only wrappers: a sync dispatch() in front of async
handlers, sync decorators around async views."""

from unittest import TestCase

from tests.audit.code_support import found, scan


class DispatchTests(TestCase):
    def test_an_auth_mixin_in_front_of_async_handlers(self):
        findings = scan(
            """
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.views import View

            class Dashboard(LoginRequiredMixin, View):
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(found(findings), [(5, "code.sync-dispatch", "error")])
        message = findings[0].message
        self.assertIn("LoginRequiredMixin.dispatch() is sync", message)
        self.assertIn("SynchronousOnlyOperation", message)
        self.assertIn("can't be used in 'await' expression", message)
        self.assertIn("await request.auser()", findings[0].fix)

    def test_a_mixin_of_this_module_through_another_base(self):
        findings = scan(
            """
            from django.views import View

            class TeamMixin:
                def dispatch(self, request, *args, **kwargs):
                    self.team = request.user.team
                    return super().dispatch(request, *args, **kwargs)

            class Base(TeamMixin, View):
                pass

            class Page(Base):
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(found(findings), [(12, "code.sync-dispatch", "error")])
        self.assertIn("TeamMixin.dispatch() is sync", findings[0].message)

    def test_what_is_not_reported(self):
        findings = scan(
            """
            from django.contrib.auth.decorators import login_required
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.utils.decorators import method_decorator
            from django.views import View
            from django.views.decorators.csrf import csrf_exempt

            class Passing:
                def dispatch(self, request, *args, **kwargs):
                    self.started = 1
                    return super().dispatch(request, *args, **kwargs)

            class A(Passing, View):
                async def get(self, request):
                    return None

            @method_decorator(csrf_exempt, name="dispatch")
            @method_decorator(login_required, name="get")
            class B(View):
                async def get(self, request):
                    return None

            class C(LoginRequiredMixin, View):
                def get(self, request):
                    return None

            class Mixed(LoginRequiredMixin, View):  # urls.mixed-handlers' case
                def get(self, request):
                    return None

                async def post(self, request):
                    return None

            class Cache(LoginRequiredMixin):
                async def aget(self, key):
                    return None
            """
        )
        self.assertEqual(found(findings), [])

    def test_a_breaking_decorator_on_dispatch(self):
        findings = scan(
            """
            from django.utils.decorators import method_decorator
            from django.views import View
            from django.views.decorators.cache import never_cache

            @method_decorator(never_cache, name="dispatch")
            class Feed(View):
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(found(findings), [(6, "code.sync-dispatch", "error")])
        self.assertIn("'coroutine' object", findings[0].message)


class DecoratorTests(TestCase):
    def test_a_sync_wrapper_around_an_async_view(self):
        findings = scan(
            """
            import functools

            def require_key(view):
                @functools.wraps(view)
                def wrapper(request, *args, **kwargs):
                    return view(request, *args, **kwargs)
                return wrapper

            def require_role(role):
                def decorator(view):
                    def inner(request):
                        return view(request)
                    return inner
                return decorator

            @require_key
            async def status(request):
                return None

            class Api:
                @require_role("admin")
                async def get(self, request):
                    return None
            """
        )
        self.assertEqual(
            found(findings),
            [
                (17, "code.sync-decorator", "error"),
                (22, "code.sync-decorator", "error"),
            ],
        )
        message = findings[0].message
        self.assertIn(
            "@require_key wraps async def status() in the sync wrapper()", message
        )
        self.assertIn("unawaited coroutine", message)
        self.assertIn("iscoroutinefunction", findings[0].fix)

    def test_what_is_not_reported(self):
        findings = scan(
            """
            from asgiref.sync import iscoroutinefunction, markcoroutinefunction
            from django.contrib.auth.decorators import login_required

            def both(view):
                if iscoroutinefunction(view):
                    async def awrapper(request):
                        return await view(request)
                    return markcoroutinefunction(awrapper)
                def wrapper(request):
                    return view(request)
                return wrapper

            def logged(func):
                def wrapper(*args):
                    return func(*args)
                return wrapper

            @both
            async def a(request):
                return None

            @login_required
            async def b(request):
                return None

            @logged
            async def not_a_view(key):
                return key

            @logged
            def sync_view(request):
                return None
            """
        )
        self.assertEqual(found(findings), [])
