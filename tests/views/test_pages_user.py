"""The HTML pair in someone else's project: a template that reads {{ user }}."""

import copy

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings

from tests.twins import prefixes
from topics.views.pages import TEMPLATE


def templates_reading_the_user() -> list[dict]:
    """The project's TEMPLATES, with the page's template replaced by one that
    reads {{ user }}, as a startproject base template with a login link does."""
    templates = copy.deepcopy(settings.TEMPLATES)
    options = templates[0]["OPTIONS"]
    templates[0]["APP_DIRS"] = False
    options["loaders"] = [
        (
            "django.template.loaders.locmem.Loader",
            {TEMPLATE: "{{ user.username }}: {{ page.count }} topics"},
        )
    ]
    return templates


class PageWithTheUserTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = get_user_model().objects.create_user("reader", password="x")

    async def test_a_template_reading_the_user_renders_for_a_logged_in_reader(self):
        # auth's context processor hands the template a lazy user: reading it
        # queries, which on the event loop is SynchronousOnlyOperation (a 500).
        await self.async_client.aforce_login(self.user)
        with override_settings(TEMPLATES=templates_reading_the_user()):
            for prefix in prefixes("topic_page"):
                with self.subTest(twin=prefix):
                    response = await self.async_client.get(f"/{prefix}/html/topics/")

                    self.assertEqual(response.status_code, 200)
                    self.assertEqual(response.content, b"reader: 0 topics")
