"""Stand-ins shaped as Django REST framework 3.18, adrf 0.1 and django-ninja 1.3
and 1.7 build their views (rest_framework/decorators.py, adrf/decorators.py,
ninja/operation.py), since the test environments install none of them."""

from asgiref.sync import iscoroutinefunction
from django.urls import path
from django.views import View
from django.views.decorators.csrf import csrf_exempt


class APIView(View):
    """DRF's as_view(): Django's view, with `cls` set, made csrf_exempt."""

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.cls = cls
        view.initkwargs = initkwargs
        return csrf_exempt(view)


class ViewSet(APIView):
    """DRF's router view: a plain function with `cls` and `actions`, no
    `view_class` (ViewSetMixin.as_view does not call View.as_view)."""

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        def view(request, *args, **kwargs):
            return cls(**initkwargs).dispatch(request, *args, **kwargs)

        view.cls = cls
        view.initkwargs = initkwargs
        view.actions = actions
        return csrf_exempt(view)


def api_view(http_method_names, *, awaits=False):
    """DRF's @api_view; adrf's with `awaits`, whose handler awaits the function."""

    def decorator(func):
        wrapped = type("WrappedAPIView", (APIView,), {"__doc__": func.__doc__})
        wrapped.http_method_names = [
            method.lower() for method in {*http_method_names, "options"}
        ]
        if awaits and iscoroutinefunction(func):

            async def handler(self, *args, **kwargs):
                return await func(*args, **kwargs)

        else:

            def handler(self, *args, **kwargs):
                return func(*args, **kwargs)

        for method in http_method_names:
            setattr(wrapped, method.lower(), handler)
        wrapped.__name__ = func.__name__
        wrapped.__module__ = func.__module__
        return wrapped.as_view()

    return decorator


class Operation:
    def __init__(self, methods, view_func):
        self.methods = methods
        self.view_func = view_func


class PathView:
    """ninja's: the operations of one path, async if one of them is."""

    def __init__(self):
        self.operations = []
        self.is_async = False

    def add_operation(self, methods, view_func):
        self.is_async = self.is_async or iscoroutinefunction(view_func)
        self.operations.append(Operation(methods, view_func))

    def get_view(self):
        """ninja 1.7: a closure over the PathView."""
        if self.is_async:

            async def async_view_wrapper(request, *args, **kwargs):
                return await self._async_view(request, *args, **kwargs)

            return async_view_wrapper

        def sync_view_wrapper(request, *args, **kwargs):
            return self._sync_view(request, *args, **kwargs)

        return sync_view_wrapper

    def get_bound_view(self):
        """ninja 1.3: the PathView's bound method."""
        return self._async_view if self.is_async else self._sync_view

    def _sync_view(self, request, *args, **kwargs):
        raise NotImplementedError

    async def _async_view(self, request, *args, **kwargs):
        raise NotImplementedError


class NinjaAPI:
    """A pattern per operation, each routing to all of its path's (as ninja's
    BoundRouter.urls_paths yields them)."""

    def __init__(self, *, bound_methods=False):
        self.paths = {}
        self.bound_methods = bound_methods

    def route(self, route, methods):
        def decorator(view_func):
            self.paths.setdefault(route, PathView()).add_operation(methods, view_func)
            return view_func

        return decorator

    @property
    def urls(self):
        patterns = [
            path(
                route,
                path_view.get_bound_view()
                if self.bound_methods
                else path_view.get_view(),
            )
            for route, path_view in self.paths.items()
            for _ in path_view.operations
        ]
        return patterns, "ninja", f"api-{id(self)}"
