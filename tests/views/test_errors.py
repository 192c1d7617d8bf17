"""Errors as data: the Idempotency-Key on create, JSON 405/404/500, and the 503
with Retry-After when the database is unavailable, logged once."""

import json
import logging
from unittest import mock
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import (
    AsyncClient,
    SimpleTestCase,
    TestCase,
    TransactionTestCase,
    override_settings,
)
from django.urls import path

from project import urls as project_urls
from tests.factories import make_topic
from tests.servers import uvicorn_server
from tests.twins import prefixes, urls
from tests.views.test_writes import new_topic
from topics import services
from topics.api import (
    BAD_REQUEST,
    IDEMPOTENCY_KEY_REUSED,
    INVALID,
    INVALID_HEADER,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    SERVER_ERROR,
    SERVICE_UNAVAILABLE,
    api_view,
)
from topics.middleware import database_unavailable
from topics.models import IdempotencyKey, Topic


class IdempotencyKeyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="taken", tags=("orm", "django"))

    async def create(self, prefix: str, data: dict, key: str | None):
        headers = {} if key is None else {"Idempotency-Key": key}
        return await self.async_client.post(
            f"/{prefix}/create/",
            json.dumps(data),
            content_type="application/json",
            headers=headers,
        )

    async def test_a_retry_gets_the_first_answer_and_no_second_row(self):
        """Same key, same body → 201 again with the same topic, marked replayed."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                data = new_topic(f"once-{prefix}")

                first = await self.create(prefix, data, key=f"key-{prefix}")
                retry = await self.create(prefix, data, key=f"key-{prefix}")

                self.assertEqual((first.status_code, retry.status_code), (201, 201))
                self.assertEqual(retry.json(), first.json())
                self.assertNotIn("Idempotent-Replayed", first.headers)
                self.assertEqual(retry.headers["Idempotent-Replayed"], "true")
                self.assertEqual(
                    await Topic.objects.filter(slug=f"once-{prefix}").acount(), 1
                )

    async def test_without_a_key_a_retry_is_refused(self):
        """No key: the retry is a new request, and its slug is taken."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                data = new_topic(f"nokey-{prefix}")
                await self.create(prefix, data, key=None)

                retry = await self.create(prefix, data, key=None)

                self.assertEqual(retry.status_code, 400)
                self.assertEqual(retry.json()["error"]["code"], INVALID)

    async def test_a_key_reused_for_another_body_is_422(self):
        """The key names one request: another body under it is refused, not created."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                await self.create(
                    prefix, new_topic(f"first-{prefix}"), key=f"k-{prefix}"
                )

                other = await self.create(
                    prefix, new_topic(f"second-{prefix}"), key=f"k-{prefix}"
                )

                self.assertEqual(other.status_code, 422)
                self.assertEqual(other.json()["error"]["code"], IDEMPOTENCY_KEY_REUSED)
                self.assertIs(
                    await Topic.objects.filter(slug=f"second-{prefix}").aexists(), False
                )

    async def test_a_failed_create_stores_no_key(self):
        """Only a success is remembered: fixing the body and retrying works."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                bad = new_topic(f"fixed-{prefix}", author="Nobody")

                refused = await self.create(prefix, bad, key=f"fix-{prefix}")
                self.assertEqual(refused.status_code, 400)
                self.assertIs(
                    await IdempotencyKey.objects.filter(key=f"fix-{prefix}").aexists(),
                    False,
                )

    async def test_malformed_keys_are_400(self):
        """A key with spaces, non-ASCII or over 255 characters → 400 invalid_header."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                for key in ("has space", "clé", "k" * 256):
                    response = await self.create(prefix, new_topic("bad-key"), key=key)

                    self.assertEqual(response.status_code, 400, key)
                    self.assertEqual(response.json()["error"]["code"], INVALID_HEADER)
        self.assertIs(await Topic.objects.filter(slug="bad-key").aexists(), False)

    def test_a_retry_racing_its_first_attempt_gets_its_answer(self):
        """The first attempt commits between the retry's key check and its insert."""
        data = new_topic("raced")
        first_attempt = services._create

        def first_commits_meanwhile(data, key, fingerprint):
            # The retry found no key; now the first attempt commits, then the
            # retry's own insert meets the taken slug.
            first_attempt(data, key, fingerprint)
            return first_attempt(data, key, fingerprint)

        with mock.patch.object(services, "_create", first_commits_meanwhile):
            created = services.topic_create(data=data, idempotency_key="raced-key")

        self.assertIs(created.replayed, True)
        self.assertEqual(json.loads(created.body)["slug"], "raced")
        self.assertEqual(Topic.objects.filter(slug="raced").count(), 1)


def _unavailable(request):
    raise OperationalError("connection to server at 127.0.0.1 failed: refused")


async def _aunavailable(request):
    raise OperationalError("couldn't get a connection after 5.00 sec")


def _bug(request):
    raise ZeroDivisionError("a bug")


# The project's own error handlers, for this URLconf too.
handler404, handler500 = project_urls.handler404, project_urls.handler500
urlpatterns = [
    path("sync/down/", api_view(_unavailable)),
    path("async/down/", api_view(_aunavailable)),
    path("page/down/", _unavailable),
    path("bug/", _bug),
]


@override_settings(ROOT_URLCONF=__name__, DATABASE_RETRY_AFTER=7)
class DatabaseUnavailableTests(TestCase):
    async def test_database_errors_are_503_with_retry_after_logged_once(self):
        """OperationalError (refused, pool timeout) → 503 JSON, Retry-After, one log."""
        # This URLconf's own pair, not a registered one.
        for prefix in ("sync", "async"):
            with (
                self.subTest(twin=prefix),
                self.assertLogs("django.request", logging.WARNING) as logs,
            ):
                response = await self.async_client.get(
                    f"/{prefix}/down/", headers={"X-Request-ID": f"req-{prefix}"}
                )

                self.assertEqual(response.status_code, 503)
                self.assertEqual(response.headers["Retry-After"], "7")
                self.assertEqual(response.json()["error"]["code"], SERVICE_UNAVAILABLE)
                self.assertEqual(len(logs.records), 1, logs.output)
                self.assertIsInstance(logs.records[0].exc_info[1], OperationalError)

    def test_any_view_gets_the_503_not_only_the_api(self):
        """The middleware answers for every view: an HTML page's outage is a 503 too."""
        response = self.client.get("/page/down/")

        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers["Retry-After"], "7")

    def test_a_bug_is_a_json_500(self):
        """handler500 answers JSON; the traceback goes to the log, not the client."""
        self.client.raise_request_exception = False
        with self.assertLogs("django.request", logging.ERROR):
            response = self.client.get("/bug/")

        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.json()["error"]["code"], SERVER_ERROR)
        self.assertNotIn("ZeroDivisionError", response.content.decode())


class JsonErrorTests(TestCase):
    async def test_wrong_methods_are_json_405_with_allow(self):
        """GET on a write → 405 with Allow and a JSON error, on both twins."""
        writes = (
            ("topic_create", {}, "POST"),
            ("topic_update", {"slug": "x"}, "PATCH"),
            ("topic_delete", {"pk": "1"}, "DELETE"),
        )
        for name, kwargs, allowed in writes:
            for url in urls(name, **kwargs):
                with self.subTest(twin=url):
                    response = await self.async_client.get(url)

                    self.assertEqual(response.status_code, 405)
                    self.assertEqual(response.headers["Allow"], allowed)
                    self.assertEqual(
                        response.json()["error"]["code"], METHOD_NOT_ALLOWED
                    )

    async def test_reads_answer_get_and_head_only(self):
        """POST, PUT or OPTIONS to a read → JSON 405, before the view runs a query
        (or, for the stream, a whole export); HTML pages answer 405 too."""
        for name in ("topic_list", "topic_stats", "export_stream", "upstream_fanout"):
            for url in urls(name):
                with self.subTest(twin=url):
                    for method in ("POST", "PUT", "OPTIONS"):
                        response = await self.async_client.generic(method, url)

                        self.assertEqual(response.status_code, 405, method)
                        self.assertIn("GET", response.headers["Allow"])
                        self.assertEqual(
                            response.json()["error"]["code"], METHOD_NOT_ALLOWED
                        )
        for url in urls("topic_page"):
            with self.subTest(twin=url):
                response = await self.async_client.post(url)
                self.assertEqual(response.status_code, 405)
        for url in urls("export_stream"):
            with self.subTest(twin=url):
                # A HEAD would run the whole export for a body the server drops.
                response = await self.async_client.head(url)
                self.assertEqual(response.status_code, 405)
                self.assertEqual(response.headers["Allow"], "GET")
        self.assertEqual(
            (await self.async_client.head("/sync/topics/")).status_code, 200
        )

    async def test_a_form_post_in_another_charset_is_json_400_not_500(self):
        """Django refuses a form body that is not UTF-8 (BadRequest) while the CSRF
        check reads it; its default 400 view re-ran that check, raising again: a
        500 on every route, for anyone sending a csrftoken cookie."""
        client = AsyncClient(enforce_csrf_checks=True)
        client.cookies["csrftoken"] = "a" * 32
        for url in (*urls("topic_create"), *urls("topic_list")):
            for charset in ("latin-1", "utf-16"):
                with (
                    self.subTest(twin=url, charset=charset),
                    self.assertLogs("django.request", logging.WARNING),
                ):
                    response = await client.post(
                        url,
                        b"csrfmiddlewaretoken=b&title=caf%E9",
                        content_type=(
                            f"application/x-www-form-urlencoded; charset={charset}"
                        ),
                    )

                self.assertEqual(response.status_code, 400, f"{url} {charset}")
                self.assertEqual(response.json()["error"]["code"], BAD_REQUEST)

    async def test_an_unknown_url_is_json_404(self):
        """handler404: JSON even for a URL no pattern matches (with DEBUG off)."""
        response = await self.async_client.get("/nowhere/")

        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json()["error"]["code"], NOT_FOUND)


class OutageOnRealPairsTests(TestCase):
    """Every query fails, as when PostgreSQL is down: the real pairs answer 503."""

    def setUp(self):
        down = OperationalError("server closed the connection unexpectedly")
        self.enterContext(mock.patch.object(CursorWrapper, "execute", side_effect=down))

    async def test_api_html_and_streams_answer_503_not_200_or_500(self):
        """A list, the HTML page, the export stream: 503 before any byte is sent."""
        for name in ("topic_list", "topic_page", "export_stream"):
            for url in urls(name):
                with self.subTest(twin=url):
                    with self.assertLogs("django.request", logging.WARNING):
                        response = await self.async_client.get(url)

                    self.assertEqual(response.status_code, 503)
                    self.assertIn("Retry-After", response.headers)

    async def test_an_outage_inside_a_task_group_is_503(self):
        """The pipelined export reads in a TaskGroup task: the error arrives in an
        ExceptionGroup, and must still be a 503, as for its siblings."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                url = f"/{prefix}/exports/?name=outage"
                with self.assertLogs("django.request", logging.WARNING):
                    response = await self.async_client.post(url)

                self.assertEqual(response.status_code, 503, url)
                self.assertIn("Retry-After", response.headers)


class ExceptionGroupOutageTests(SimpleTestCase):
    def test_a_group_is_an_outage_only_when_every_error_in_it_is_one(self):
        down = OperationalError("connection refused")
        self.assertIs(database_unavailable(ExceptionGroup("g", [down, down])), True)
        self.assertIs(
            database_unavailable(ExceptionGroup("g", [ExceptionGroup("h", [down])])),
            True,
        )
        self.assertIs(
            database_unavailable(ExceptionGroup("g", [down, ZeroDivisionError()])),
            False,
        )


class LoggedOnceTests(TransactionTestCase):
    def test_each_error_is_one_log_line_with_the_request_id(self):
        """Under uvicorn: the id comes back in X-Request-ID and tags one log line."""
        with uvicorn_server() as server:
            for path, request_id in (
                ("/nowhere/", "trace-404"),
                ("/async/topics/?page=x", "trace-400"),
                ("/sync/create/", "trace-405"),
            ):
                request = Request(
                    server.url + path, headers={"X-Request-ID": request_id}
                )
                with self.assertRaises(HTTPError) as raised:
                    urlopen(request, timeout=10)
                self.assertEqual(raised.exception.headers["X-Request-ID"], request_id)
                raised.exception.close()
            log = server.log_so_far()

        for request_id, message in (
            ("trace-404", "Not Found: /nowhere/"),
            ("trace-400", "Bad Request: /async/topics/"),
            ("trace-405", "Method Not Allowed: /sync/create/"),
        ):
            lines = [line for line in log.splitlines() if f"[{request_id}]" in line]
            self.assertEqual(len(lines), 1, lines)
            self.assertIn(message, lines[0])
