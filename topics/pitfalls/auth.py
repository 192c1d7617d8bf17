"""Pitfall 38: Django 5.2's aauthenticate() hashes the password on the event loop."""

from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from topics import compat
from topics.pitfalls.registry import Pitfall


async def wrong_login_check(
    request: HttpRequest | None, *, username: str, password: str
) -> AbstractBaseUser | None:
    """On Django 5.2 the password hash (PBKDF2, about 0.3 s) runs on the loop."""
    return await auth.aauthenticate(request, username=username, password=password)


async def right_login_check(
    request: HttpRequest | None, *, username: str, password: str
) -> AbstractBaseUser | None:
    """See wrong_login_check(); the hash runs in a thread on both lines."""
    return await compat.aauthenticate(request, username=username, password=password)


PITFALLS = [
    Pitfall(
        number=38,
        slug="aauthenticate-hashes-on-the-loop",
        title="`aauthenticate()` on Django 5.2",
        symptom=(
            "Nothing fails, but every async login holds the event loop for its "
            "password hash (PBKDF2, 1,000,000 iterations): `acheck_password()`, and "
            "for an unknown username `set_password()`, hash on the loop's thread, "
            "so every other request of the worker waits"
        ),
        fix=(
            "On 5.2, `await sync_to_async(authenticate)(request, **credentials)`: "
            "one hop (`topics.compat.aauthenticate`); on 6.1 Django's own."
        ),
        wrong=wrong_login_check,
        right=right_login_check,
        test="tests/pitfalls/test_auth.py::AuthenticateTests"
        "::test_the_hash_runs_on_the_loop_on_5_2",
        versions=(
            "5.2 only: 6.0 moved `acheck_password()`'s hash to a thread (ticket "
            "#36439), and on 6.1 both paths hash in one."
        ),
    ),
]
