"""Pitfall 38: where aauthenticate() runs the password hash, on each line."""

import threading

import django
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import TestCase, override_settings

from topics.pitfalls.auth import right_login_check, wrong_login_check


class ThreadNotingHasher(PBKDF2PasswordHasher):
    """PBKDF2 that notes the thread of each hash; few iterations, for speed."""

    iterations = 1_000
    # A class attribute: Django makes its own instances of the hasher.
    threads: list[int] = []

    def encode(self, password, salt, iterations=None):
        ThreadNotingHasher.threads.append(threading.get_ident())
        return super().encode(password, salt, iterations)


@override_settings(PASSWORD_HASHERS=["tests.pitfalls.test_auth.ThreadNotingHasher"])
class AuthenticateTests(TestCase):
    async def test_the_hash_runs_on_the_loop_on_5_2(self):
        """Django 5.2's aauthenticate() hashes on the loop's thread, for a known
        user (acheck_password) and an unknown one (set_password); the one-hop
        fix, and 6.1's own, hash elsewhere."""
        user = await get_user_model().objects.acreate_user("ada", password="s3cret")
        loop_thread = threading.get_ident()
        seen = {}
        for name, check in (("wrong", wrong_login_check), ("right", right_login_check)):
            ThreadNotingHasher.threads.clear()
            known = await check(None, username="ada", password="s3cret")
            unknown = await check(None, username="nobody", password="s3cret")
            seen[name] = list(ThreadNotingHasher.threads)

            self.assertEqual((known.pk, unknown), (user.pk, None))

        self.assertEqual(len(seen["wrong"]), 2)
        self.assertEqual(len(seen["right"]), 2)
        self.assertNotIn(loop_thread, seen["right"])
        if django.VERSION < (6, 1):
            self.assertEqual(seen["wrong"], [loop_thread, loop_thread])
        else:
            self.assertNotIn(loop_thread, seen["wrong"])
