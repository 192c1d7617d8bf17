"""The login and logout pairs: authenticate()/aauthenticate(), login()/alogin(),
logout()/alogout(), with Django's session key cycling and CSRF rotation."""

import threading
from importlib import import_module

import django
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import alogin, get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import AsyncClient, AsyncRequestFactory, TestCase, override_settings

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.twins import prefixes
from topics.api import INVALID, INVALID_JSON, METHOD_NOT_ALLOWED
from topics.views.auth import (
    FIELD_REQUIRED,
    INVALID_CREDENTIALS,
    NULL_CHARACTERS,
    WRONG_CREDENTIALS,
)

DEMO = {"username": DEMO_USERNAME, "password": DEMO_USERNAME}
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


class ThreadNotingHasher(PBKDF2PasswordHasher):
    """Django's default hasher, noting the thread of each hash it computes."""

    # A class attribute: Django makes its own instances of the hasher.
    threads: list[int] = []

    def encode(self, *args, **kwargs):
        self.threads.append(threading.get_ident())
        return super().encode(*args, **kwargs)


class LoginTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_demo_user()

    async def login(self, prefix: str, credentials: dict, **kwargs):
        return await self.async_client.post(
            f"/{prefix}/auth/login/",
            credentials,
            content_type="application/json",
            **kwargs,
        )

    async def test_good_credentials_log_in(self):
        """200 with the user, and the session is the user's."""
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                self.async_client = AsyncClient()

                response = await self.login(prefix, DEMO)
                me = await self.async_client.get("/async/me/")

                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json(), {"username": DEMO_USERNAME})
                self.assertEqual(me.json()["username"], DEMO_USERNAME)

    async def test_login_cycles_the_session_key_and_keeps_its_data(self):
        """A visitor's session gets a new key at login (no session fixation);
        what it held stays."""
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                self.async_client = AsyncClient()
                visitor = await self.async_client.asession()
                await visitor.aset("theme", "dark")
                await visitor.asave()

                await self.login(prefix, DEMO)
                key = self.async_client.cookies[settings.SESSION_COOKIE_NAME].value
                me = await self.async_client.get("/async/me/")

                self.assertNotEqual(key, visitor.session_key)
                self.assertIs(await SessionStore().aexists(visitor.session_key), False)
                self.assertEqual(me.json()["theme"], "dark")

    async def test_login_rotates_the_csrf_token(self):
        """With CSRF enforced: the token from the login page works once."""
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                self.async_client = AsyncClient(enforce_csrf_checks=True)
                page = await self.async_client.get("/accounts/login/")
                token = page.cookies["csrftoken"].value

                refused = await self.login(prefix, DEMO)
                response = await self.login(
                    prefix, DEMO, headers={"X-CSRFToken": token}
                )

                self.assertEqual(refused.status_code, 403)
                self.assertEqual(response.status_code, 200)
                self.assertNotEqual(response.cookies["csrftoken"].value, token)

    async def test_wrong_password_and_unknown_user_answer_alike(self):
        """Which of the two it was would tell which usernames exist."""
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                for credentials in (
                    {**DEMO, "password": "wrong"},
                    {"username": "nobody", "password": "demo"},
                ):
                    response = await self.login(prefix, credentials)

                    self.assertEqual(response.status_code, 400)
                    self.assertEqual(
                        response.json()["error"],
                        {"code": INVALID_CREDENTIALS, "message": WRONG_CREDENTIALS},
                    )
                    self.assertNotIn(settings.SESSION_COOKIE_NAME, response.cookies)

    async def test_missing_fields_are_named(self):
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                response = await self.login(prefix, {})

                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"]["code"], INVALID)
                self.assertEqual(
                    response.json()["error"]["fields"],
                    {"username": [FIELD_REQUIRED], "password": [FIELD_REQUIRED]},
                )

    async def test_a_nul_in_a_credential_is_refused_before_the_lookup(self):
        """A NUL is a 400 naming the field, never a query (a 500 on PostgreSQL)."""
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                response = await self.login(
                    prefix, {"username": "a\x00b", "password": "demo"}
                )

                self.assertEqual(response.status_code, 400)
                self.assertEqual(
                    response.json()["error"]["fields"], {"username": [NULL_CHARACTERS]}
                )

    async def test_bad_json_and_wrong_method(self):
        for prefix in prefixes("log_in"):
            with self.subTest(twin=prefix):
                bad = await self.async_client.post(
                    f"/{prefix}/auth/login/", "{", content_type="application/json"
                )
                get = await self.async_client.get(f"/{prefix}/auth/login/")

                self.assertEqual(bad.json()["error"]["code"], INVALID_JSON)
                self.assertEqual(get.status_code, 405)
                self.assertEqual(get["Allow"], "POST")
                self.assertEqual(get.json()["error"]["code"], METHOD_NOT_ALLOWED)

    @override_settings(PASSWORD_HASHERS=["tests.views.test_login.ThreadNotingHasher"])
    async def test_async_login_hashes_off_the_event_loop(self):
        """topics.compat.aauthenticate: the hash runs in a thread on both lines,
        for a known user and an unknown one. Django 5.2's own aauthenticate()
        hashes on the loop, 6.1's in a thread."""
        loop_thread = threading.get_ident()
        ThreadNotingHasher.threads.clear()
        for credentials in (DEMO, {"username": "nobody", "password": "demo"}):
            await self.login("async", credentials)
        ours = list(ThreadNotingHasher.threads)
        ThreadNotingHasher.threads.clear()
        for credentials in (DEMO, {"username": "nobody", "password": "demo"}):
            await auth.aauthenticate(**credentials)
        djangos = list(ThreadNotingHasher.threads)

        self.assertEqual(len(ours), 2)
        self.assertNotIn(loop_thread, ours)
        if django.VERSION < (6, 1):
            self.assertEqual(djangos, [loop_thread, loop_thread])
        else:
            self.assertEqual(len(djangos), 2)
            self.assertNotIn(loop_thread, djangos)

    async def test_alogin_with_no_user(self):
        """Django 5.2 falls back to request.auser() with a warning; 6.1 raises.
        The view passes the user aauthenticate() returned, never None."""
        user = await get_user_model().objects.aget(username=DEMO_USERNAME)
        request = AsyncRequestFactory().post("/")
        request.session = SessionStore()

        async def auser():
            return user

        request.auser = auser
        if django.VERSION < (6, 1):
            from django.utils.deprecation import RemovedInDjango61Warning

            with self.assertWarnsMessage(
                RemovedInDjango61Warning,
                "Fallback to request.auser() when user is None will be removed.",
            ):
                await alogin(request, None)
        else:
            with self.assertRaisesMessage(
                AttributeError,
                "'NoneType' object has no attribute 'get_session_auth_hash'",
            ):
                await alogin(request, None)


class LogoutPairTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_demo_user(password=None)
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def test_logout_flushes_the_session(self):
        """204; the session is gone from the store and the cookie is cleared."""
        for prefix in prefixes("log_out"):
            with self.subTest(twin=prefix):
                self.async_client = AsyncClient()
                await self.async_client.aforce_login(self.user)
                key = self.async_client.cookies[settings.SESSION_COOKIE_NAME].value

                response = await self.async_client.post(f"/{prefix}/auth/logout/")
                me = await self.async_client.get("/async/me/")

                self.assertEqual(response.status_code, 204)
                self.assertEqual(
                    response.cookies[settings.SESSION_COOKIE_NAME].value, ""
                )
                self.assertIs(await SessionStore().aexists(key), False)
                self.assertEqual(me.status_code, 302)  # logged out: sent to log in

    async def test_visitor_logout_is_204(self):
        for prefix in prefixes("log_out"):
            with self.subTest(twin=prefix):
                response = await AsyncClient().post(f"/{prefix}/auth/logout/")

                self.assertEqual(response.status_code, 204)

    async def test_logout_is_post_only(self):
        for prefix in prefixes("log_out"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/auth/logout/")

                self.assertEqual(response.status_code, 405)
                self.assertEqual(response["Allow"], "POST")
