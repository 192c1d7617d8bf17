"""The write pairs: create, update under a lock, delete; and the bad input refused."""

import json
from unittest import mock

from django.test import AsyncClient, SimpleTestCase, TestCase, override_settings

from tests.factories import make_topic
from tests.queries import asql_of
from tests.twins import prefixes
from topics import services
from topics.api import (
    CONFLICT,
    CSRF_FAILED,
    INVALID,
    INVALID_JSON,
    NOT_A_LIST_OF_STRINGS,
    NOT_A_STRING,
    NOT_AN_INTEGER,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    UNKNOWN_FIELD,
    UNSUPPORTED_MEDIA_TYPE,
    ValidationFailed,
)
from topics.forms import MAX_TAGS, TOO_MANY_CHOICES, TopicForm, TopicUpdateForm
from topics.models import Tag, Topic
from topics.views.writes import CREATE_FIELDS, UPDATE_FIELDS


def new_topic(slug: str, **fields) -> dict:
    return {
        "title": "Cancellation",
        "slug": slug,
        "body": "A cancelled sync_to_async call still runs to the end.",
        "author": "Ada Lovelace",
        "tags": ["orm", "django"],
        **fields,
    }


class JsonFieldsTests(SimpleTestCase):
    def test_the_json_fields_are_the_forms_fields(self):
        """Each form field has a declared JSON type, and nothing else is accepted."""
        self.assertEqual(set(CREATE_FIELDS), set(TopicForm.base_fields))
        self.assertEqual(set(UPDATE_FIELDS), set(TopicUpdateForm.base_fields))


class TopicCreateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken", tags=("orm", "django"))

    async def post(self, prefix: str, data, content_type="application/json"):
        body = data if isinstance(data, str) else json.dumps(data)
        return await self.async_client.post(
            f"/{prefix}/create/", body, content_type=content_type
        )

    async def test_create_answers_201_with_the_saved_topic(self):
        """The topic is saved with its author and tags and returned with its id."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                response = await self.post(prefix, new_topic(f"new-{prefix}"))

                self.assertEqual(response.status_code, 201)
                data = response.json()
                saved = await Topic.objects.for_detail().aget(pk=data["id"])
                self.assertEqual(saved.slug, f"new-{prefix}")
                self.assertEqual(
                    [tag.name for tag in saved.tags.all()], ["django", "orm"]
                )
                self.assertEqual(data["author"]["name"], "Ada Lovelace")
                self.assertEqual(data["revision"], 1)

    async def test_invalid_fields_are_400_with_field_errors(self):
        """A taken slug, an unknown author or tag: field errors, nothing saved."""
        cases = {
            "slug": new_topic("taken"),
            "author": new_topic("x", author="Nobody"),
            "tags": new_topic("y", tags=["no-such-tag"]),
            "title": new_topic("z", title=""),
        }
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                for field, data in cases.items():
                    response = await self.post(prefix, data)

                    self.assertEqual(response.status_code, 400, (prefix, field))
                    error = response.json()["error"]
                    self.assertEqual(error["code"], INVALID)
                    self.assertEqual(list(error["fields"]), [field])
        self.assertEqual(await Topic.objects.acount(), 1)

    async def test_malformed_bodies_are_4xx_json(self):
        """Not JSON, not an object, unknown fields, a wrong type: each named."""
        cases = [
            ("{not json", "application/json", 400, "invalid_json"),
            ("[1, 2]", "application/json", 400, "invalid_json"),
            (b"\xff\xfe", "application/json", 400, "invalid_json"),
            (
                json.dumps(new_topic("u", colour="b")),
                "application/json",
                400,
                UNKNOWN_FIELD,
            ),
            ("title=x", "text/plain", 415, UNSUPPORTED_MEDIA_TYPE),
        ]
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                for body, content_type, status, code in cases:
                    response = await self.async_client.post(
                        f"/{prefix}/create/", body, content_type=content_type
                    )

                    self.assertEqual(response.status_code, status, (prefix, body))
                    self.assertEqual(response.json()["error"]["code"], code)

    async def test_fields_of_another_json_type_are_400_per_field(self):
        """An object, a number, null or a list where text goes is not str()'d."""
        odd = new_topic("odd") | {
            "title": {"x": 1},
            "slug": 5,
            "body": None,
            "author": ["Ada Lovelace"],
        }
        expected = {
            name: [NOT_A_STRING] for name in ("title", "slug", "body", "author")
        }
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                for data, fields in [
                    (odd, expected),
                    (
                        new_topic("odd-tags", tags="orm"),
                        {"tags": [NOT_A_LIST_OF_STRINGS]},
                    ),
                    (
                        new_topic("odd-tag", tags=["orm", 1]),
                        {"tags": [NOT_A_LIST_OF_STRINGS]},
                    ),
                ]:
                    response = await self.post(prefix, data)

                    self.assertEqual(response.status_code, 400, (prefix, data))
                    error = response.json()["error"]
                    self.assertEqual(error["code"], INVALID)
                    self.assertEqual(error["fields"], fields)
        self.assertEqual(await Topic.objects.acount(), 1)

    async def test_nan_and_infinity_are_invalid_json(self):
        """Python's json reads NaN and Infinity; JSON has neither: not saved."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                for constant in ("NaN", "Infinity", "-Infinity"):
                    body = json.dumps(new_topic(f"nan-{prefix}"))
                    body = body.replace('"Cancellation"', constant)

                    response = await self.post(prefix, body)

                    self.assertEqual(response.status_code, 400, (prefix, constant))
                    self.assertEqual(response.json()["error"]["code"], INVALID_JSON)
        self.assertEqual(await Topic.objects.acount(), 1)

    async def test_tags_up_to_the_limit_are_accepted_duplicates_counted_once(self):
        """MAX_TAGS distinct names pass, sent twice over; one more is refused."""
        names = [f"tag-{number}" for number in range(MAX_TAGS + 1)]
        await Tag.objects.abulk_create([Tag(name=name) for name in names])
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                allowed = new_topic(f"many-{prefix}", tags=names[:MAX_TAGS] * 2)
                refused = new_topic(f"more-{prefix}", tags=names)

                created = await self.post(prefix, allowed)
                too_many = await self.post(prefix, refused)

                self.assertEqual(created.status_code, 201, prefix)
                self.assertEqual(len(created.json()["tags"]), MAX_TAGS)
                self.assertEqual(too_many.status_code, 400, prefix)
                message = TOO_MANY_CHOICES % {"limit": MAX_TAGS, "count": MAX_TAGS + 1}
                self.assertEqual(
                    too_many.json()["error"]["fields"], {"tags": [message]}
                )

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
    async def test_body_over_the_upload_limit_is_413_json(self):
        """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused, not a 500."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                response = await self.post(prefix, new_topic("big", body="x" * 2000))

                self.assertEqual(response.status_code, 413)
                self.assertEqual(response.json()["error"]["code"], PAYLOAD_TOO_LARGE)

    async def test_get_is_405(self):
        """Create takes POST only."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                response = await self.async_client.get(f"/{prefix}/create/")

                self.assertEqual(response.status_code, 405)
                self.assertEqual(response["Allow"], "POST")

    async def test_missing_csrf_token_is_403_json(self):
        """CSRF protection stays on for the JSON API; its failure is JSON too."""
        client = AsyncClient(enforce_csrf_checks=True)
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                response = await client.post(
                    f"/{prefix}/create/",
                    new_topic("csrf"),
                    content_type="application/json",
                )

                self.assertEqual(response.status_code, 403)
                self.assertEqual(response.json()["error"]["code"], CSRF_FAILED)

    async def test_async_create_validates_and_saves_with_the_sync_queries(self):
        """The ModelForm's queries run in the same single unit of work."""
        sync_sql = await asql_of(lambda: self.post("sync", new_topic("sql-1")))
        async_sql = await asql_of(lambda: self.post("async", new_topic("sql-2")))

        self.assertEqual(len(async_sql), len(sync_sql))
        self.assertIs(any("INSERT" in sql for sql in async_sql), True)

    def test_slug_taken_after_validation_is_a_field_error(self):
        """If another request takes the slug after the check, the answer is 400."""
        # validate_unique() skipped: the insert itself meets the unique index,
        # as when two requests pass the check at the same moment.
        with (
            mock.patch.object(TopicForm, "validate_unique"),
            self.assertRaises(ValidationFailed) as raised,
        ):
            services.topic_create(data=new_topic("taken"))

        self.assertEqual(
            raised.exception.details["fields"], {"slug": [services.SLUG_TAKEN]}
        )
        self.assertEqual(Topic.objects.filter(slug="taken").count(), 1)


class TopicUpdateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="edit-me", title="Before", body="Body stays.")

    async def patch(self, prefix: str, data: dict, slug: str = "edit-me"):
        return await self.async_client.patch(
            f"/{prefix}/topics/{slug}/edit/", data, content_type="application/json"
        )

    async def test_update_changes_only_what_is_sent_and_bumps_revision(self):
        """A title-only PATCH keeps the body; each update adds one to the revision."""
        first = await self.patch("sync", {"title": "After sync"})
        second = await self.patch("async", {"title": "After async"})

        self.assertEqual(first.json()["revision"], 2)
        self.assertEqual(second.json()["revision"], 3)
        topic = await Topic.objects.aget(slug="edit-me")
        self.assertEqual((topic.title, topic.body), ("After async", "Body stays."))

    async def test_stale_revision_is_409_and_changes_nothing(self):
        """Sending an old revision is a conflict: the update is not applied."""
        for prefix in prefixes("topic_update"):
            with self.subTest(twin=prefix):
                response = await self.patch(prefix, {"revision": 5, "title": "Lost"})

                self.assertEqual(response.status_code, 409)
                self.assertEqual(response.json()["error"]["code"], CONFLICT)
        self.assertEqual((await Topic.objects.aget(slug="edit-me")).title, "Before")

    async def test_current_revision_is_accepted(self):
        """The revision the client last saw lets its update through."""
        # Each accepted update raises the revision by one.
        for revision, prefix in enumerate(prefixes("topic_update"), start=1):
            with self.subTest(twin=prefix):
                response = await self.patch(
                    prefix, {"revision": revision, "body": "New."}
                )

                self.assertEqual(response.status_code, 200)

    async def test_fields_of_another_json_type_are_400_and_change_nothing(self):
        """A revision must be an integer, not true, "1" or 1.0; text must be text."""
        cases = [
            ({"revision": True, "title": "Lost"}, {"revision": [NOT_AN_INTEGER]}),
            ({"revision": "1", "title": "Lost"}, {"revision": [NOT_AN_INTEGER]}),
            ({"revision": 1.0, "title": "Lost"}, {"revision": [NOT_AN_INTEGER]}),
            (
                {"title": {"x": 1}, "body": 7},
                {"title": [NOT_A_STRING], "body": [NOT_A_STRING]},
            ),
        ]
        for prefix in prefixes("topic_update"):
            with self.subTest(twin=prefix):
                for data, fields in cases:
                    response = await self.patch(prefix, data)

                    self.assertEqual(response.status_code, 400, (prefix, data))
                    error = response.json()["error"]
                    self.assertEqual(
                        (error["code"], error["fields"]), (INVALID, fields)
                    )
                nan = await self.async_client.patch(
                    f"/{prefix}/topics/edit-me/edit/",
                    '{"title": NaN}',
                    content_type="application/json",
                )
                self.assertEqual(nan.json()["error"]["code"], INVALID_JSON)
        topic = await Topic.objects.aget(slug="edit-me")
        self.assertEqual((topic.title, topic.revision), ("Before", 1))

    async def test_bad_updates_are_400_or_404(self):
        """An empty title, an unknown field, an unknown topic."""
        for prefix in prefixes("topic_update"):
            with self.subTest(twin=prefix):
                empty = await self.patch(prefix, {"title": ""})
                unknown_field = await self.patch(prefix, {"slug": "moved"})
                unknown_topic = await self.patch(prefix, {"title": "x"}, slug="nope")

                self.assertEqual(
                    empty.json()["error"]["fields"],
                    {"title": ["This field is required."]},
                )
                self.assertEqual(unknown_field.json()["error"]["code"], UNKNOWN_FIELD)
                self.assertEqual(unknown_topic.status_code, 404)
                self.assertEqual(unknown_topic.json()["error"]["code"], NOT_FOUND)


class TopicDeleteTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.topics = {
            prefix: make_topic(slug=f"gone-{prefix}", tags=(f"tag-{prefix}",))
            for prefix in prefixes("topic_delete")
        }

    async def test_delete_removes_the_topic_and_its_tag_links(self):
        """204; the topic and its rows in the tags table are gone, the tags stay."""
        for prefix, topic in self.topics.items():
            response = await self.async_client.delete(f"/{prefix}/delete/{topic.pk}/")

            self.assertEqual(response.status_code, 204)
            self.assertIs(await Topic.objects.filter(pk=topic.pk).aexists(), False)
            links = Topic.tags.through.objects.filter(topic_id=topic.pk)
            self.assertIs(await links.aexists(), False)
            self.assertIs(
                await Tag.objects.filter(name=f"tag-{prefix}").aexists(), True
            )

    async def test_unknown_or_malformed_ids_are_404_json(self):
        """Letters, zero, an id past 64 bits, or an id already deleted: 404 JSON."""
        deleted = self.topics["sync"].pk
        await self.async_client.delete(f"/sync/delete/{deleted}/")
        for prefix in prefixes("topic_delete"):
            with self.subTest(twin=prefix):
                for pk in ("abc", "0", "-1", "1e3", "9" * 30, str(deleted)):
                    response = await self.async_client.delete(f"/{prefix}/delete/{pk}/")

                    self.assertEqual(response.status_code, 404, (prefix, pk))
                    self.assertEqual(response.json()["error"]["code"], NOT_FOUND)
