"""What differs between the supported Django lines, 5.2 LTS and 6.1, for the
fetch modes and aauthenticate(). Django only: copy the file. (The tasks
framework's switch is topics/tasks_compat.py, which needs the django-tasks
backport on 5.2; AsyncPaginator is imported where it is used,
topics/pagination.py.)"""

from typing import TYPE_CHECKING, Any

import django
from asgiref.sync import sync_to_async
from django.contrib import auth
from django.http import HttpRequest

if TYPE_CHECKING:  # topics.models imports this module: no model import here
    from django.contrib.auth.base_user import AbstractBaseUser

try:
    from django.db.models import FETCH_PEERS, FETCH_RAISE
except ImportError:  # Django < 6.1
    FETCH_PEERS = FETCH_RAISE = None

if django.VERSION >= (6, 1):
    aauthenticate = auth.aauthenticate
else:

    async def aauthenticate(
        request: HttpRequest | None = None, **credentials: Any
    ) -> "AbstractBaseUser | None":
        """Django's authenticate() in one thread hop.

        Django 5.2's aauthenticate() hashes the password on the event loop
        (acheck_password() and the unknown-user path both call the hasher
        directly): a login blocks every other request for the hash, about a
        third of a second of PBKDF2. Django 6.0 moved acheck_password()'s hash
        to a thread (ticket #36439); in 6.1 both paths hash in one.
        """
        return await sync_to_async(auth.authenticate)(request, **credentials)


__all__ = [
    "FETCH_PEERS",
    "FETCH_RAISE",
    "aauthenticate",
]
