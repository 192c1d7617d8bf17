"""The authenticated pair: login_required, request.auser() and the async session API."""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient, TestCase

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.twins import prefixes


class MeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_demo_user()
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def test_visitor_is_redirected_to_login(self):
        """login_required sends a visitor to the login page, in both twins."""
        for prefix in prefixes("me"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/me/")

                self.assertEqual(response.status_code, 302)
                self.assertEqual(
                    response["Location"], f"/accounts/login/?next=/{prefix}/me/"
                )

    async def test_logged_in_user_is_named(self):
        """The user comes from request.user or `await request.auser()`."""
        await self.async_client.aforce_login(self.user)

        for prefix in prefixes("me"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/me/")

                self.assertEqual(
                    response.json(), {"username": "demo", "theme": "light"}
                )

    async def test_session_written_by_one_twin_is_read_by_the_other(self):
        """session.aset() and session["…"] = … write the same session."""
        await self.async_client.aforce_login(self.user)

        await self.async_client.get("/async/me/", {"theme": "dark"})
        from_sync = await self.async_client.get("/sync/me/")
        await self.async_client.get("/sync/me/", {"theme": "light"})
        from_async = await self.async_client.get("/async/me/")

        self.assertEqual(from_sync.json()["theme"], "dark")
        self.assertEqual(from_async.json()["theme"], "light")

    async def test_unknown_theme_is_400(self):
        """?theme= must be light or dark."""
        await self.async_client.aforce_login(self.user)

        for prefix in prefixes("me"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/me/", {"theme": "neon"}
                )

                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"]["parameter"], "theme")

    async def test_demo_user_logs_in_through_the_login_page(self):
        """The login form, with CSRF enforced, leads back to the async twin."""
        client = AsyncClient(enforce_csrf_checks=True)
        form = await client.get("/accounts/login/", {"next": "/async/me/"})
        token = form.cookies["csrftoken"].value

        response = await client.post(
            "/accounts/login/",
            {"username": "demo", "password": "demo", "next": "/async/me/"},
            headers={"X-CSRFToken": token},
        )
        me = await client.get(response["Location"])

        self.assertEqual(form.status_code, 200)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(me.json()["username"], "demo")


class LogoutTests(TestCase):
    async def test_logout_flushes_the_session_and_redirects(self):
        """LogoutView with no LOGOUT_REDIRECT_URL renders a template this app does
        not have: every logout was a 500 (after flushing the session)."""
        await sync_to_async(seed_demo_user)()
        user = await get_user_model().objects.aget(username=DEMO_USERNAME)
        await self.async_client.aforce_login(user)

        response = await self.async_client.post("/accounts/logout/")

        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], "/")
        me = await self.async_client.get("/async/me/")
        self.assertEqual(me.status_code, 302)  # logged out: sent to the login page
