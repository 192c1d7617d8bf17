"""Django's auth mixins, for class-based views with async handlers too.

django.contrib.auth.mixins check access in a sync dispatch(): in front of async
handlers they read request.user on the event loop (SynchronousOnlyOperation once
logged in) and return their redirect where Django awaits the handler's coroutine
(TypeError). These subclasses are drop-ins: with sync handlers they are Django's,
line for line; with async handlers, dispatch() returns a coroutine that checks
access awaited, as View.options() does. Each mixin's coroutine is private to it
(__adispatch): stacked, LoginRequiredMixin then UserPassesTestMixin, each runs
its own check once. Django and asgiref only: copy the file.
"""

from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth import mixins
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase


async def _auser(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    # Django's handle_no_permission() reads request.user.is_authenticated, here
    # on the event loop: a query once there is a session (SynchronousOnlyOperation).
    # Handlers and templates read request.user too, which caches apart from
    # auser() (_cached_user, _acached_user) and would load the user again. So
    # request.user becomes the user auser() loaded, as login() sets it.
    request.user = await request.auser()
    return request.user


class LoginRequiredMixin(mixins.LoginRequiredMixin):
    """Django's LoginRequiredMixin, for sync and async handlers alike."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.view_is_async:
            return self.__adispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    async def __adispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """See dispatch(); a visitor gets handle_no_permission()'s answer."""
        user = await _auser(request)
        if not user.is_authenticated:
            return self.handle_no_permission()
        # The dispatch() after Django's mixin, whose sync check this one replaces.
        return await super(mixins.LoginRequiredMixin, self).dispatch(
            request, *args, **kwargs
        )


class PermissionRequiredMixin(mixins.PermissionRequiredMixin):
    """Django's PermissionRequiredMixin, for sync and async handlers alike."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.view_is_async:
            return self.__adispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    async def ahas_permission(self) -> bool:
        """See has_permission(); the user's ahas_perms() (Django 5.2+). An
        override of has_permission() is honoured, run in one thread hop."""
        if (
            type(self).has_permission
            is not mixins.PermissionRequiredMixin.has_permission
        ):
            return await sync_to_async(self.has_permission)()
        user = await self.request.auser()
        return await user.ahas_perms(self.get_permission_required())

    async def __adispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """See dispatch()."""
        await _auser(request)
        if not await self.ahas_permission():
            return self.handle_no_permission()
        return await super(mixins.PermissionRequiredMixin, self).dispatch(
            request, *args, **kwargs
        )


class UserPassesTestMixin(mixins.UserPassesTestMixin):
    """Django's UserPassesTestMixin, for sync and async handlers alike; with
    async handlers, test_func() may be an async def."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.view_is_async:
            return self.__adispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    async def __adispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """See dispatch(); a sync test_func() runs in one thread hop, as
        Django's user_passes_test() runs it for an async view."""
        await _auser(request)
        test_func = self.get_test_func()
        if iscoroutinefunction(test_func):
            passed = await test_func()
        else:
            passed = await sync_to_async(test_func)()
        if not passed:
            return self.handle_no_permission()
        return await super(mixins.UserPassesTestMixin, self).dispatch(
            request, *args, **kwargs
        )
