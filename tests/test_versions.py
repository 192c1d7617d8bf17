"""docs/versions.md, "Django version differences", names each Django async API
called."""

import inspect
import re

from asgiref.sync import iscoroutinefunction
from django.apps import apps
from django.conf import settings
from django.test import SimpleTestCase

# The code searched: the patterns and the project, not the audit, whose
# messages name APIs to suggest them.
SEARCHED = ("topics", "project")
SKIPPED = "topics/audit/"
# Names Django shares with other libraries the code calls: aclose() here is an
# AsyncExitStack's, an async generator's or an aiohttp session's.
NOT_DJANGO = {"aclose"}
PAGE = "docs/versions.md"


def django_async_apis() -> set[str]:
    """The public coroutine functions Django offers where this project looks."""
    from django import shortcuts
    from django.contrib import auth
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
    from django.contrib.auth.models import AnonymousUser, PermissionsMixin, UserManager
    from django.contrib.sessions.backends.base import SessionBase
    from django.core import paginator
    from django.core.cache.backends.base import BaseCache
    from django.db import models
    from django.dispatch import Signal

    owners: list[object] = [
        models.QuerySet,
        models.Model,
        models,
        shortcuts,
        auth,
        AbstractBaseUser,
        BaseUserManager,
        UserManager,
        PermissionsMixin,
        AnonymousUser,
        ModelBackend,
        SessionBase,
        BaseCache,
        Signal,
        paginator,
        *(
            getattr(paginator, name)
            for name in ("AsyncPaginator", "AsyncPage")
            if hasattr(paginator, name)
        ),
    ]
    try:
        from django.tasks.base import Task
    except ImportError:  # Django < 6.0: the django-tasks backport
        from django_tasks.base import Task
    from topics.tasks_compat import TaskResult

    owners += [Task, TaskResult]
    # Every related manager class of the installed models (aadd(), aset() …).
    for model in apps.get_models():
        for attribute in vars(model).values():
            if manager := getattr(attribute, "related_manager_cls", None):
                owners.append(manager)
    names = {
        name
        for owner in owners
        for name, value in inspect.getmembers(owner)
        if name.startswith("a") and iscoroutinefunction(value)
    }
    # AuthenticationMiddleware sets request.auser per request.
    return names | {"auser"}


def called_names() -> set[str]:
    """Every `aname(` in the searched code."""
    names: set[str] = set()
    for folder in SEARCHED:
        for path in sorted((settings.BASE_DIR / folder).rglob("*.py")):
            if SKIPPED not in path.relative_to(settings.BASE_DIR).as_posix():
                names |= set(re.findall(r"\b(a\w+)\(", path.read_text()))
    return names


class VersionTableTests(SimpleTestCase):
    def test_every_django_async_api_called_is_in_the_table(self):
        """A Django coroutine function the code calls is named in the section."""
        page = (settings.BASE_DIR / PAGE).read_text()
        named = {
            name
            for code in re.findall(r"`([^`]+)`", page)
            for name in re.findall(r"\b(a\w+)\b", code)
        }

        used = (django_async_apis() & called_names()) - NOT_DJANGO

        self.assertIn("aget", used)  # the search sees the code at all
        self.assertEqual(sorted(used - named), [])
