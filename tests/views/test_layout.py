"""The layout page: one render hop, or everything loaded first and rendered on
the loop; the same page, the same queries, a different number of hops."""

from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.test import AsyncClient, TestCase

from project.demo.seeding import DEMO_DISPLAY_NAME, DEMO_USERNAME, seed_demo_user
from tests.factories import make_topic
from tests.queries import asql_of, hops_counted
from tests.twins import prefixes
from topics.context_processors import RECENT_TOPICS

PAGE = "html/tags/django/"
# Django's hops around any view: the request_started signal, each middleware's
# hooks, the response's close(). They are the same for every view.
AROUND_THE_VIEW = ("Middleware.", "sync_send", "HttpResponseBase.close")


def _in_the_view(func: object) -> bool:
    return not any(part in func.__qualname__ for part in AROUND_THE_VIEW)


class TagPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        for number in range(RECENT_TOPICS + 1):
            make_topic(
                slug=f"tagged-{number}", title=f"Tagged {number}", tags=("django",)
            )
        make_topic(slug="untagged", title="Untagged", tags=("redis",))
        seed_demo_user(password=None)
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def member(self) -> AsyncClient:
        client = AsyncClient()
        await client.aforce_login(self.user)
        return client

    async def test_page_shows_the_tag_in_the_layout(self):
        """The tag's topics, the tag menu, the newest topics, and who is signed in."""
        member = await self.member()
        for prefix in prefixes("tag_page"):
            with self.subTest(twin=prefix):
                visitor_page = await self.async_client.get(f"/{prefix}/{PAGE}")
                member_page = await member.get(f"/{prefix}/{PAGE}")

                self.assertContains(visitor_page, "<h1>#django</h1>")
                self.assertContains(visitor_page, "<strong>Tagged 3</strong>")
                self.assertNotContains(visitor_page, "<strong>Untagged</strong>")
                self.assertContains(visitor_page, '<a href="?tag=redis">#redis</a>')
                self.assertContains(visitor_page, "<li>Untagged</li>")  # the sidebar
                self.assertContains(visitor_page, "Log in</a>")
                self.assertContains(member_page, f"Signed in as {DEMO_DISPLAY_NAME}")
                self.assertContains(member_page, 'name="csrfmiddlewaretoken"')

    async def test_a_user_without_a_profile_is_shown_by_username(self):
        """aload_layout() loads a missing profile as missing: no query later."""
        nobody = await get_user_model().objects.acreate(username="no-profile")
        client = AsyncClient()
        await client.aforce_login(nobody)

        pages = [
            await client.get(f"/{prefix}/{PAGE}") for prefix in prefixes("tag_page")
        ]

        for page in pages:
            self.assertContains(page, "Signed in as no-profile")

    async def test_bad_limit_and_unknown_tag_are_json_errors(self):
        """?limit= outside 1..50 is 400 invalid_parameter; an unknown tag is 404."""
        for prefix in prefixes("tag_page"):
            with self.subTest(twin=prefix):
                bad_limit = await self.async_client.get(f"/{prefix}/{PAGE}?limit=0")
                unknown = await self.async_client.get(f"/{prefix}/html/tags/nope/")

                self.assertEqual(bad_limit.status_code, 400)
                self.assertEqual(bad_limit.json()["error"]["code"], "invalid_parameter")
                self.assertEqual(unknown.status_code, 404)

    async def test_both_async_ways_run_the_sync_twins_queries(self):
        """Visitor: the tag, its topics, the tag menu, the sidebar. Logged in: the
        session and the user too, and the profile (alone, or with the user)."""
        member = await self.member()
        counts = {
            (who, prefix): len(
                await asql_of(lambda c=client, p=prefix: c.get(f"/{p}/{PAGE}"))
            )
            for who, client in (("visitor", self.async_client), ("member", member))
            for prefix in prefixes("tag_page")
        }

        self.assertEqual(
            counts,
            {
                (who, prefix): n
                for who, n in (("visitor", 4), ("member", 7))
                for prefix in prefixes("tag_page")
            },
        )

    async def test_one_hop_renders_in_a_thread_loaded_renders_on_the_loop(self):
        """The view's own hops: the one-hop twin takes 3 (tag, topics, render) for
        anyone; the loaded one 4 for a visitor, 7 logged in, and never renders
        in a thread: its render() ran on the event loop, where a query raises."""
        member = await self.member()
        hops = {}
        for who, client in (("visitor", self.async_client), ("member", member)):
            for prefix in ("async", "async-loaded"):
                with hops_counted() as taken:
                    response = await client.get(f"/{prefix}/{PAGE}")
                self.assertEqual(response.status_code, 200)
                hops[who, prefix] = [func for func in taken if _in_the_view(func)]

        self.assertEqual(
            {key: len(taken) for key, taken in hops.items()},
            {
                ("visitor", "async"): 3,
                ("visitor", "async-loaded"): 4,
                ("member", "async"): 3,
                ("member", "async-loaded"): 7,
            },
        )
        self.assertIn(render, hops["member", "async"])
        self.assertNotIn(render, hops["member", "async-loaded"])
