"""Django's seven default middleware, with no thread hop in front of an async view.

Drop-ins: replace the dotted path of each of Django's defaults in MIDDLEWARE::

    "topics.hopfree.SecurityMiddleware",
    "topics.hopfree.SessionMiddleware",
    "topics.hopfree.CommonMiddleware",
    "topics.hopfree.CsrfViewMiddleware",
    "topics.hopfree.AuthenticationMiddleware",
    "topics.hopfree.MessageMiddleware",
    "topics.hopfree.XFrameOptionsMiddleware",

Each class is Django's own, subclassed. Under ASGI, Django's MiddlewareMixin
runs every process_request()/process_response() in a worker thread
(sync_to_async), and the handler adapts a sync process_view() the same way: 13
hops per request for these seven (MiddlewareMixin.__acall__,
BaseHandler.adapt_method_mode). Here, in async mode, each hook is still
Django's own code, called inline when it does no I/O, and in the same one hop
Django takes when it does: a session to save, a session not yet loaded that a
hook must read (CSRF_USE_SESSIONS, messages kept in the session), a multipart
body to parse, a CSRF rejection (the failure view is the project's, and may
query). Under WSGI nothing changes: MiddlewareMixin's sync path runs.

A subclass that overrides a hook, or a method a hook calls, gets Django's hop
back for that hook: only code this module knows runs on the event loop.

Django has no async-capable variant of its defaults yet (ticket #36797). Needs
Django 5.2 or later and asgiref only.
"""

import contextvars
from typing import Any, ClassVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions import middleware as sessions_middleware
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, security

__all__ = [
    "AuthenticationMiddleware",
    "CommonMiddleware",
    "CsrfViewMiddleware",
    "MessageMiddleware",
    "SecurityMiddleware",
    "SessionMiddleware",
    "XFrameOptionsMiddleware",
]


def session_loaded(request: HttpRequest) -> bool:
    """Whether reading or writing request.session now does no I/O.

    True when there is no session, when its key is None (a new session starts
    empty without a load) or when it is loaded already (SessionBase caches the
    data in _session_cache, on Django 5.2 and 6.1 alike).
    """
    session = getattr(request, "session", None)
    return (
        not isinstance(session, SessionBase)
        or session.session_key is None
        or hasattr(session, "_session_cache")
    )


class HopFreeMixin:
    """Run a MiddlewareMixin's hooks inline in async mode, where that is safe.

    inline_hooks maps each hook to the methods it calls: the hook runs inline
    only if none of them is overridden below the class that declares them.
    hook_is_io_free() then decides per request (Django's hop when it is False).
    """

    inline_hooks: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Set by __init__, from inline_hooks and the class's overrides.
    inline: frozenset[str]

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        self.inline = self.hooks_inline()
        if self.async_mode and "process_view" in self.inline:
            # The handler calls an async process_view() as it is, and wraps a
            # sync one in sync_to_async; under WSGI the class's sync one stays.
            self.process_view = self.aprocess_view

    @classmethod
    def hooks_inline(cls) -> frozenset[str]:
        """The hooks this class runs inline in async mode: those whose code,
        and the code of every method they call, is the declaring class's."""
        known = next(klass for klass in cls.__mro__ if "inline_hooks" in vars(klass))
        return frozenset(
            hook
            for hook, calls in known.inline_hooks.items()
            if all(
                getattr(cls, name) is getattr(known, name) for name in (hook, *calls)
            )
        )

    def hook_is_io_free(self, hook: str, request: HttpRequest, *args: Any) -> bool:
        """Whether the hook does no I/O for this request (Django's hop if not)."""
        return True

    async def _arun(self, hook: str, request: HttpRequest, *args: Any) -> Any:
        method = getattr(self, hook)
        if hook in self.inline and self.hook_is_io_free(hook, request, *args):
            return method(request, *args)
        return await sync_to_async(method, thread_sensitive=True)(request, *args)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        """MiddlewareMixin.__acall__, with _arun() in place of sync_to_async."""
        response = None
        if hasattr(self, "process_request"):
            response = await self._arun("process_request", request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = await self._arun("process_response", request, response)
        return response


class SecurityMiddleware(HopFreeMixin, security.SecurityMiddleware):
    """Django's SecurityMiddleware: both hooks inline (settings and headers)."""

    inline_hooks: ClassVar = {"process_request": (), "process_response": ()}


class SessionMiddleware(HopFreeMixin, sessions_middleware.SessionMiddleware):
    """Django's SessionMiddleware: one hop only to save a session.

    The store is built lazily (no load) and the response's cookie and Vary
    header are set inline; a save, and the expiry read before it, run in
    Django's one hop.
    """

    inline_hooks: ClassVar = {"process_request": (), "process_response": ()}

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        store = self.SessionStore
        # Only Django's engines are known to build a store, and to tell it is
        # empty, without I/O.
        if not (
            store.__init__.__module__.startswith("django.contrib.sessions.")
            and store.is_empty is SessionBase.is_empty
        ):
            self.inline = frozenset()

    def hook_is_io_free(self, hook: str, request: HttpRequest, *args: Any) -> bool:
        if hook == "process_request":
            return True
        session = getattr(request, "session", None)
        if not isinstance(session, SessionBase):
            return True  # Django returns the response as it is
        saving = session.modified or settings.SESSION_SAVE_EVERY_REQUEST
        return not saving or session.is_empty()


class CommonMiddleware(HopFreeMixin, common.CommonMiddleware):
    """Django's CommonMiddleware: both hooks inline (settings, URL resolving,
    headers)."""

    inline_hooks: ClassVar = {
        "process_request": ("should_redirect_with_slash", "get_full_path_with_slash"),
        "process_response": ("should_redirect_with_slash", "get_full_path_with_slash"),
    }


class _Rejected(Exception):
    # Raised by _reject() in an inline process_view(), caught by aprocess_view().
    def __init__(self, reason: str) -> None:
        self.reason = reason


# Set while process_view() runs inline: a rejection then leaves the loop.
_rejection_deferred = contextvars.ContextVar("rejection_deferred", default=False)


class CsrfViewMiddleware(HopFreeMixin, csrf.CsrfViewMiddleware):
    """Django's CsrfViewMiddleware: every check inline, the same checks.

    Hops: a rejection (CSRF_FAILURE_VIEW is the project's code), a multipart
    POST (its parsers may write uploads to disk), and with CSRF_USE_SESSIONS a
    session not loaded yet.
    """

    _checks = (
        "_get_secret",
        "_check_token",
        "_check_referer",
        "_origin_verified",
        "_bad_token_message",
        "_accept",
        "_reject",
        "csrf_trusted_origins_hosts",
        "allowed_origins_exact",
        "allowed_origin_subdomains",
    )
    inline_hooks: ClassVar = {
        "process_request": ("_get_secret",),
        "process_view": _checks,
        "process_response": ("_set_csrf_cookie",),
    }

    def hook_is_io_free(self, hook: str, request: HttpRequest, *args: Any) -> bool:
        if hook == "process_response" and not request.META.get(
            "CSRF_COOKIE_NEEDS_UPDATE"
        ):
            return True  # no cookie to set, no session to write
        if settings.CSRF_USE_SESSIONS and not session_loaded(request):
            return False
        if hook == "process_view":
            # request.POST not parsed yet, for a multipart body.
            return not (
                request.method == "POST"
                and request.content_type == "multipart/form-data"
                and not hasattr(request, "_post")
            )
        return True

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponseBase:
        if _rejection_deferred.get():
            raise _Rejected(reason)
        return super()._reject(request, reason)

    async def aprocess_view(
        self,
        request: HttpRequest,
        callback: Any,
        callback_args: tuple,
        callback_kwargs: dict,
    ) -> HttpResponseBase | None:
        """process_view() in async mode: Django's checks inline; a rejection's
        failure view in one hop."""
        args = (callback, callback_args, callback_kwargs)
        process_view = csrf.CsrfViewMiddleware.process_view.__get__(self)
        if not self.hook_is_io_free("process_view", request, *args):
            return await sync_to_async(process_view, thread_sensitive=True)(
                request, *args
            )
        deferred = _rejection_deferred.set(True)
        try:
            return process_view(request, *args)
        except _Rejected as rejected:
            reason = rejected.reason
        finally:
            _rejection_deferred.reset(deferred)
        return await sync_to_async(self._reject, thread_sensitive=True)(request, reason)


class AuthenticationMiddleware(HopFreeMixin, auth_middleware.AuthenticationMiddleware):
    """Django's AuthenticationMiddleware: inline, as it only sets lazy
    request.user and request.auser; the view's first read loads the user."""

    inline_hooks: ClassVar = {"process_request": ()}


class MessageMiddleware(HopFreeMixin, messages_middleware.MessageMiddleware):
    """Django's MessageMiddleware: inline unless storing the messages must load
    the session (messages added or read, a session cookie, not loaded yet)."""

    inline_hooks: ClassVar = {"process_request": (), "process_response": ()}

    def hook_is_io_free(self, hook: str, request: HttpRequest, *args: Any) -> bool:
        if hook == "process_request":
            # Django's storages read nothing when built; others are unknown.
            return settings.MESSAGE_STORAGE.startswith("django.contrib.messages.")
        storage = getattr(request, "_messages", None)
        if storage is None:
            return True
        if not (storage.used or storage.added_new):
            return True  # update() stores nothing
        known = type(storage).__module__.startswith("django.contrib.messages.")
        return known and (type(storage) is CookieStorage or session_loaded(request))


class XFrameOptionsMiddleware(HopFreeMixin, clickjacking.XFrameOptionsMiddleware):
    """Django's XFrameOptionsMiddleware: inline (a header from a setting)."""

    inline_hooks: ClassVar = {"process_response": ("get_xframe_options_value",)}


# Django's deploy checks find its middleware by dotted path (security.W001,
# W002, W003), and skip the HSTS, SSL-redirect, nosniff… checks without it.
DJANGO_PATHS = {
    f"{__name__}.{cls.__name__}": f"{base.__module__}.{base.__name__}"
    for cls in (
        SecurityMiddleware,
        SessionMiddleware,
        CommonMiddleware,
        CsrfViewMiddleware,
        AuthenticationMiddleware,
        MessageMiddleware,
        XFrameOptionsMiddleware,
    )
    for base in (cls.__mro__[2],)
}
BY_PATH = ("security.W001", "security.W002", "security.W003")


def check_deploy(app_configs: Any = None, **kwargs: Any) -> list:
    """Django's security checks as they would run with Django's own classes.

    Register it (checks.register(check_deploy, Tags.security, deploy=True), in
    an AppConfig.ready()) and add BY_PATH to SILENCED_SYSTEM_CHECKS: it returns
    what Django's checks say with the drop-ins mapped back to Django's paths and
    do not say as is (HSTS, SSL redirect…), and a middleware truly missing as
    hopfree.security.W00x. Returns a list of django.core.checks.CheckMessage.
    """
    from django.core.checks import registry
    from django.test.utils import override_settings

    mapped = [DJANGO_PATHS.get(path, path) for path in settings.MIDDLEWARE]
    if mapped == list(settings.MIDDLEWARE):
        return []
    security = [
        check
        for check in registry.registry.get_checks(include_deployment_checks=True)
        if "security" in check.tags and check is not check_deploy
    ]

    def run() -> list:
        return [m for check in security for m in check(app_configs=app_configs)]

    as_is = run()
    with override_settings(MIDDLEWARE=mapped):
        as_django = run()
    found = [m for m in as_django if m not in as_is]
    for message in as_django:
        if message.id in BY_PATH:
            message.id = f"hopfree.{message.id}"
            found.append(message)
    return found
