"""The HTML pair: a template fed a materialised page renders alike from both twins."""

from django.core.exceptions import SynchronousOnlyOperation
from django.template.loader import render_to_string
from django.test import TestCase

from tests.factories import make_topic
from tests.twins import prefixes
from topics.models import Topic
from topics.pagination import page_data
from topics.pitfalls.orm import SYNC_ONLY_MESSAGE
from topics.views.pages import PER_PAGE, TEMPLATE


class TopicPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        for number in range(PER_PAGE + 3):
            make_topic(slug=f"page-topic-{number}", title=f"Title {number}")

    async def test_page_lists_topics_and_links_the_next_page(self):
        """Page 1 shows the newest topics and an 'older' link; page 2 the rest."""
        for prefix in prefixes("topic_page"):
            with self.subTest(twin=prefix):
                first = await self.async_client.get(f"/{prefix}/html/topics/")
                second = await self.async_client.get(
                    f"/{prefix}/html/topics/", {"page": 2}
                )

                self.assertContains(first, "Title 22")
                self.assertContains(first, 'href="?page=2"')
                self.assertContains(second, "Title 0")
                self.assertContains(second, f"{PER_PAGE + 3} topics, page 2 of 2.")

    async def test_bad_page_numbers_show_the_nearest_page(self):
        """As Paginator.get_page(): not a number → page 1, too big → the last."""
        for prefix in prefixes("topic_page"):
            with self.subTest(twin=prefix):
                not_a_number = await self.async_client.get(
                    f"/{prefix}/html/topics/", {"page": "abc"}
                )
                too_big = await self.async_client.get(
                    f"/{prefix}/html/topics/", {"page": 99}
                )

                self.assertContains(not_a_number, "page 1 of 2.")
                self.assertContains(too_big, "page 2 of 2.")

    def test_rendering_a_materialised_page_runs_no_query(self):
        """The template reads a list: no query happens while it renders."""
        page = page_data(Topic.objects.listing(), per_page=PER_PAGE, number=1)

        with self.assertNumQueries(0):
            render_to_string(TEMPLATE, {"page": page})

    async def test_rendering_a_queryset_in_async_code_fails(self):
        """Handing the template a QuerySet makes it query from the event loop."""
        page = {"rows": Topic.objects.listing(), "number": 1, "num_pages": 1}

        with self.assertRaisesMessage(SynchronousOnlyOperation, SYNC_ONLY_MESSAGE):
            render_to_string(TEMPLATE, {"page": page})
