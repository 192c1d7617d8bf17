"""Class-based views: a View with async handlers, and the twins of ListView and
DetailView, answer as their sync twins do."""

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, SimpleTestCase, TestCase
from django.views import View

from project.demo.seeding import DEMO_USERNAME, seed_demo_user
from tests.factories import make_topic
from tests.twins import prefixes
from topics.models import Topic
from topics.views.cbv import PER_PAGE, AsyncTopicListView, AsyncTopicView, TopicView


class MixedTopicView(View):
    """One sync handler and one async: Django refuses the class."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    async def delete(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=204)


class ViewModeTests(SimpleTestCase):
    def test_mixed_handlers_are_refused(self):
        """as_view() raises when handlers are not all sync or all async."""
        with self.assertRaisesMessage(
            ImproperlyConfigured,
            "MixedTopicView HTTP handlers must either be all sync or all async.",
        ):
            MixedTopicView.as_view()

    def test_async_handlers_make_a_coroutine_view(self):
        """as_view() of a View with async handlers is a coroutine function:
        Django awaits it on the event loop."""
        self.assertIs(iscoroutinefunction(AsyncTopicView.as_view()), True)
        self.assertIs(iscoroutinefunction(AsyncTopicListView.as_view()), True)
        self.assertIs(iscoroutinefunction(TopicView.as_view()), False)


class TopicViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="views", title="Class-based views", tags=("django",))
        seed_demo_user()
        User = get_user_model()
        cls.member = User.objects.get(username=DEMO_USERNAME)
        cls.editor = User.objects.create_user("editor")
        cls.editor.user_permissions.add(Permission.objects.get(codename="delete_topic"))

    async def test_get_answers_the_topic_as_json(self):
        """GET is open to anyone: the topic with its author and tags."""
        for prefix in prefixes("topic_resource"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/cbv/topics/views/")

                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json()["title"], "Class-based views")
                self.assertEqual(response.json()["tags"], ["django"])

    async def test_unknown_slug_is_404_json(self):
        """Http404 from a class-based view is JSON, with its message, as a
        function view's under @api_view."""
        for prefix in prefixes("topic_resource"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/cbv/topics/nope/")

                self.assertEqual(response.status_code, 404)
                self.assertEqual(
                    response.json()["error"],
                    {
                        "code": "not_found",
                        "message": "No Topic matches the given query.",
                    },
                )

    async def test_delete_without_the_permission_is_403(self):
        """raise_exception: a visitor and a member without delete_topic get 403
        JSON (handler403), and the topic stays."""
        member = AsyncClient()
        await member.aforce_login(self.member)

        for prefix in prefixes("topic_resource"):
            with self.subTest(twin=prefix):
                for client in (self.async_client, member):
                    response = await client.delete(f"/{prefix}/cbv/topics/views/")

                    self.assertEqual(response.status_code, 403)
                    self.assertEqual(
                        response.json()["error"]["code"], "permission_denied"
                    )
        self.assertIs(await Topic.objects.filter(slug="views").aexists(), True)

    async def test_delete_with_the_permission_is_204_then_404(self):
        """An editor deletes the topic; a second DELETE finds nothing."""
        editor = AsyncClient()
        await editor.aforce_login(self.editor)

        for prefix in prefixes("topic_resource"):
            with self.subTest(twin=prefix):
                await sync_to_async(make_topic)(slug=f"delete-{prefix}")

                deleted = await editor.delete(f"/{prefix}/cbv/topics/delete-{prefix}/")
                again = await editor.delete(f"/{prefix}/cbv/topics/delete-{prefix}/")

                self.assertEqual(deleted.status_code, 204)
                self.assertEqual(again.status_code, 404)
                self.assertIs(
                    await Topic.objects.filter(slug=f"delete-{prefix}").aexists(), False
                )

    async def test_other_methods_are_405_and_options_lists_them(self):
        """View answers OPTIONS itself, and a 405 (JSON here), in async mode as
        in sync."""
        for prefix in prefixes("topic_resource"):
            with self.subTest(twin=prefix):
                post = await self.async_client.post(f"/{prefix}/cbv/topics/views/")
                options = await self.async_client.options(
                    f"/{prefix}/cbv/topics/views/"
                )

                self.assertEqual(post.status_code, 405)
                self.assertEqual(post.json()["error"]["code"], "method_not_allowed")
                self.assertEqual(post["Allow"], "GET, DELETE, HEAD, OPTIONS")
                self.assertEqual(options.status_code, 200)
                self.assertEqual(options["Allow"], "GET, DELETE, HEAD, OPTIONS")
                self.assertEqual(options["Content-Length"], "0")


class TopicListViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        for number in range(PER_PAGE + 3):
            make_topic(slug=f"list-topic-{number}", title=f"Title {number}")

    async def test_async_twin_builds_listviews_context(self):
        """The same page, paginator and flags as ListView; the rows a list."""
        for page in ("1", "2", "last"):
            sync = await self.async_client.get("/sync/cbv/html/topics/", {"page": page})
            async_ = await self.async_client.get(
                "/async/cbv/html/topics/", {"page": page}
            )

            self.assertEqual(
                async_.context["is_paginated"], sync.context["is_paginated"]
            )
            self.assertEqual(
                async_.context["page_obj"].number, sync.context["page_obj"].number
            )
            self.assertEqual(async_.context["paginator"].count, PER_PAGE + 3)
            self.assertEqual(
                async_.context["object_list"], list(sync.context["object_list"])
            )
            self.assertIs(type(async_.context["object_list"]), list)

    async def test_last_is_the_last_page(self):
        """?page=last shows the last page, as ListView does."""
        for prefix in prefixes("topic_list_view"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/cbv/html/topics/", {"page": "last"}
                )

                self.assertContains(response, f"{PER_PAGE + 3} topics, page 2 of 2.")
                self.assertContains(response, "Title 0")

    async def test_bad_page_is_404(self):
        """ListView's rule: not a number (nor "last"), or past the end → 404,
        JSON for this HTML page too, with ListView's own message."""
        for prefix in prefixes("topic_list_view"):
            with self.subTest(twin=prefix):
                for page in ("abc", "0", "3", "1.5"):
                    response = await self.async_client.get(
                        f"/{prefix}/cbv/html/topics/", {"page": page}
                    )

                    self.assertEqual(response.status_code, 404, page)
                    self.assertRegex(
                        response.json()["error"]["message"],
                        r"^(Invalid page \(\w+\): |Page is not “last”)",
                    )


class TopicDetailViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="detail", title="Detail views", tags=("async", "django"))
        seed_demo_user()
        cls.member = get_user_model().objects.get(username=DEMO_USERNAME)

    async def test_visitor_is_redirected_to_login(self):
        """LoginRequiredMixin: Django's in the sync twin, ours in the async one."""
        for prefix in prefixes("topic_detail_view"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/cbv/html/topics/detail/"
                )

                self.assertEqual(response.status_code, 302)
                self.assertEqual(
                    response["Location"],
                    f"/accounts/login/?next=/{prefix}/cbv/html/topics/detail/",
                )

    async def test_member_sees_the_topic_and_the_layout(self):
        """DetailView's `object` and `topic`, rendered in the layout, which reads
        the member's profile."""
        await self.async_client.aforce_login(self.member)

        for prefix in prefixes("topic_detail_view"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/cbv/html/topics/detail/"
                )

                self.assertContains(response, "<h1>Detail views</h1>")
                self.assertContains(response, "Tags: #async, #django.")
                self.assertContains(response, "Signed in as Demo User")
                self.assertEqual(response.context["object"], response.context["topic"])

    async def test_unknown_slug_is_404(self):
        """A missing object is Http404 in both twins, with DetailView's message."""
        await self.async_client.aforce_login(self.member)

        for prefix in prefixes("topic_detail_view"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(
                    f"/{prefix}/cbv/html/topics/nope/"
                )

                self.assertEqual(response.status_code, 404)
                self.assertEqual(
                    response.json()["error"],
                    {
                        "code": "not_found",
                        "message": "No topic found matching the query",
                    },
                )
