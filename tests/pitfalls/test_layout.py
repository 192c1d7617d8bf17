"""Pitfall 24: a layout that queries fails from an async view that passes a
loaded user; rendering in one hop, or with everything loaded, works."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation
from django.test import AsyncClient, TestCase, override_settings
from django.urls import path

from project import urls as project_urls
from project.demo.seeding import DEMO_DISPLAY_NAME, DEMO_USERNAME, seed_demo_user
from tests.factories import make_topic
from topics.pitfalls import layout
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE

LAYOUT_PROCESSOR = "topics.context_processors.layout"


def _templates(*, processor: bool) -> list[dict]:
    """The project's engine, in debug mode (the exception names the tag that
    raised), with or without the layout's context processor."""
    engines = []
    for engine in settings.TEMPLATES:
        options = engine["OPTIONS"]
        processors = [
            name
            for name in options["context_processors"]
            if processor or name != LAYOUT_PROCESSOR
        ]
        engines.append(
            {
                **engine,
                "OPTIONS": {
                    **options,
                    "debug": True,
                    "context_processors": processors,
                },
            }
        )
    return engines


urlpatterns = [
    path("wrong/", layout.wrong_layout_render),
    path("right/one-hop/", layout.right_layout_render),
    path("right/loaded/", layout.right_layout_loaded),
    # The layout links to the login and logout pages.
    *project_urls.urlpatterns,
]


@override_settings(ROOT_URLCONF=__name__)
class LayoutTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="in-the-sidebar", title="In the sidebar", tags=("django",))
        seed_demo_user(password=None)
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def failing_tag(self, client: AsyncClient, *, processor: bool) -> str:
        """The template text that raised SynchronousOnlyOperation, as Django's
        message says."""
        with (
            override_settings(TEMPLATES=_templates(processor=processor)),
            self.assertRaisesMessage(
                SynchronousOnlyOperation, SYNC_ONLY_MESSAGE
            ) as raised,
        ):
            await client.get("/wrong/")
        return raised.exception.template_debug["during"]

    async def test_each_part_of_the_layout_queries_on_the_loop(self):
        """With `user` loaded by auser(), the processor's QuerySet still fails for
        everyone; without it, `user.profile` fails once logged in, and the
        inclusion tag for a visitor. One hop, or all loaded first, renders."""
        member = AsyncClient()
        await member.aforce_login(self.user)

        at_processor = await self.failing_tag(self.async_client, processor=True)
        at_profile = await self.failing_tag(member, processor=False)
        at_tag = await self.failing_tag(self.async_client, processor=False)
        pages = [
            await client.get(url)
            for client in (self.async_client, member)
            for url in ("/right/one-hop/", "/right/loaded/")
        ]

        self.assertEqual(at_processor, "{% for tag in tag_menu %}")
        self.assertEqual(
            at_profile, "{{ user.profile.display_name|default:user.get_username }}"
        )
        self.assertEqual(at_tag, "{% recent_topics %}")
        for page in pages[:2]:
            self.assertContains(page, "Log in</a>")
            self.assertContains(page, "#django</a>")
            self.assertContains(page, "<li>In the sidebar</li>")
        for page in pages[2:]:
            self.assertContains(page, f"Signed in as {DEMO_DISPLAY_NAME}")
            self.assertContains(page, "<li>In the sidebar</li>")
