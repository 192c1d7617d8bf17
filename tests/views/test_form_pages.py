"""The ModelForm page: GET the form, errors shown again with 200, success
redirects with a message the layout shows; visitors are sent to log in."""

from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.test import AsyncClient, TestCase

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.factories import make_topic
from tests.queries import hops_counted
from tests.twins import prefixes
from topics.forms import TopicPageForm
from topics.models import Topic
from topics.views.form_pages import _saved

PAGE = "html/topics/new/"
VALID = {
    "title": "Forms in async views",
    "slug": "forms-in-async-views",
    "body": "Validate and save in one hop.",
    "author": "Ada Lovelace",
}
# Django's messages for the unique slug and the unknown author.
SLUG_TAKEN = "Topic with this Slug already exists."
INVALID_CHOICE = (
    "Select a valid choice. That choice is not one of the available choices."
)


def _named(hops: list) -> list[str]:
    """The view's own hops: validate-and-save, and render."""
    return [hop.__name__ for hop in hops if hop in (_saved, render)]


class TopicFormPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken", author_name="Ada Lovelace")
        seed_demo_user(password=None)
        cls.user = get_user_model().objects.get(username=DEMO_USERNAME)

    async def member(self) -> AsyncClient:
        client = AsyncClient()
        await client.aforce_login(self.user)
        return client

    async def test_form_lists_the_authors_in_the_layout(self):
        """GET: the form, its select of authors by name, the layout around it."""
        member = await self.member()
        for prefix in prefixes("topic_form_page"):
            with self.subTest(twin=prefix):
                page = await member.get(f"/{prefix}/{PAGE}")

                self.assertContains(
                    page, '<option value="Ada Lovelace">Ada Lovelace</option>'
                )
                self.assertContains(page, 'name="slug"')
                self.assertContains(page, "<aside>")

    async def test_valid_post_redirects_and_the_layout_shows_the_message(self):
        """302 back to the form; the next page shows the success message."""
        member = await self.member()
        for prefix in prefixes("topic_form_page"):
            with self.subTest(twin=prefix):
                data = {**VALID, "slug": f"{VALID['slug']}-{prefix}"}

                created = await member.post(f"/{prefix}/{PAGE}", data)
                after = await member.get(created["Location"])

                self.assertEqual(created.status_code, 302)
                self.assertEqual(created["Location"], f"/{prefix}/{PAGE}")
                self.assertContains(
                    after, 'class="success">Topic “Forms in async views” created.'
                )
                self.assertIs(
                    await Topic.objects.filter(slug=data["slug"]).aexists(), True
                )

    async def test_invalid_posts_show_the_errors_with_200(self):
        """As FormView.form_invalid(): the form again, with its errors, status 200."""
        member = await self.member()
        for prefix in prefixes("topic_form_page"):
            with self.subTest(twin=prefix):
                duplicate = await member.post(
                    f"/{prefix}/{PAGE}", {**VALID, "slug": "taken"}
                )
                unknown = await member.post(
                    f"/{prefix}/{PAGE}", {**VALID, "author": "Nobody"}
                )
                empty = await member.post(f"/{prefix}/{PAGE}")

                self.assertContains(duplicate, SLUG_TAKEN, status_code=200)
                self.assertContains(unknown, INVALID_CHOICE, status_code=200)
                self.assertContains(empty, "This field is required.", status_code=200)
        self.assertEqual(await Topic.objects.acount(), 1)

    async def test_visitors_are_sent_to_log_in(self):
        """login_required: a GET or a POST from a visitor is a 302 to the login."""
        for prefix in prefixes("topic_form_page"):
            with self.subTest(twin=prefix):
                for method in ("get", "post"):
                    response = await getattr(self.async_client, method)(
                        f"/{prefix}/{PAGE}"
                    )

                    self.assertRedirects(
                        response,
                        f"/accounts/login/?next=/{prefix}/{PAGE}",
                        fetch_redirect_response=False,
                    )

    async def test_async_twin_validates_and_saves_in_one_hop(self):
        """A valid POST: one hop to validate and save, none to render; an invalid
        one: the same hop, then one to render the form and the layout."""
        member = await self.member()

        with hops_counted() as valid:
            await member.post(f"/async/{PAGE}", VALID)
        with hops_counted() as invalid:
            await member.post(f"/async/{PAGE}", {**VALID, "slug": "taken"})

        self.assertEqual(_named(valid), ["_saved"])
        self.assertEqual(_named(invalid), ["_saved", "render"])

    def test_a_slug_taken_after_validation_is_a_form_error_not_a_500(self):
        """The race validate_unique() cannot see: the INSERT's IntegrityError
        becomes the same slug error, and nothing is written."""
        form = TopicPageForm({**VALID, "slug": "raced"})
        self.assertIs(form.is_valid(), True)
        make_topic(slug="raced", author_name="Ada Lovelace")

        self.assertIsNone(_saved(form))
        self.assertEqual(form.errors["slug"], [SLUG_TAKEN])
        self.assertEqual(Topic.objects.filter(slug="raced").count(), 1)
