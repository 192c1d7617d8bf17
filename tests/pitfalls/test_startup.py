"""A query at start-up, under a real uvicorn: each worker dies, or the first
request of each process fails; the query made at first use serves them all."""

import json
import time
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

from django.test import SimpleTestCase, TransactionTestCase

from tests.factories import make_topic
from tests.servers import Server, modules_on_path, uvicorn_server
from topics.audit.code import scan_source
from topics.pitfalls import startup
from topics.pitfalls.startup import SYNC_ONLY_MESSAGE

SYNC_ONLY_ERROR = f"SynchronousOnlyOperation: {SYNC_ONLY_MESSAGE}"
WORKERS = 2
STARTED = "Application startup complete"
# Logged once the socket listens: startup completes before the bind.
LISTENING = "Uvicorn running on"

SLUG_VIEWS = """\
from asgiref.sync import sync_to_async
from django.http import JsonResponse
from django.urls import path

from topics.pitfalls.startup import topic_slugs


def slugs(request):
    return JsonResponse({"slugs": sorted(topic_slugs())})


async def aslugs(request):
    return JsonResponse({"slugs": sorted(await sync_to_async(topic_slugs)())})


urlpatterns = [path("slugs/", slugs), path("aslugs/", aslugs)]
"""
MODULES = {
    # The right twin: the project's own app config, slugs read at first use.
    "slug_urls": SLUG_VIEWS,
    "right_settings": """\
from project.settings import *  # noqa: F403

ROOT_URLCONF = "slug_urls"
""",
    # Wrong: a query in AppConfig.ready().
    "ready_settings": """\
from project.settings import *  # noqa: F403

ROOT_URLCONF = "slug_urls"
INSTALLED_APPS = [  # noqa: F405
    "topics.pitfalls.startup.WrongTopicsConfig" if app == "topics" else app
    for app in INSTALLED_APPS  # noqa: F405
]
""",
    # Wrong: a query at URLconf import.
    "import_urls": """\
from django.http import JsonResponse
from django.urls import path

from topics.pitfalls.startup import topic_slugs

TOPIC_SLUGS = topic_slugs()


def slugs(request):
    return JsonResponse({"slugs": sorted(TOPIC_SLUGS)})


urlpatterns = [path("slugs/", slugs)]
""",
    "import_settings": """\
from project.settings import *  # noqa: F403

ROOT_URLCONF = "import_urls"
""",
}


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    """GET the URL: the status and the body, whatever the status."""
    try:
        with urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except HTTPError as error:
        with error:
            return error.code, error.read()


def wait_for_log(server: Server, text: str, count: int, timeout: float = 20) -> None:
    """Wait until the server has logged `text` `count` times."""
    deadline = time.monotonic() + timeout
    while server.log_so_far().count(text) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{text!r} not logged {count} times:\n{server.log_so_far()}"
            )
        time.sleep(0.1)


class StartupQueryTests(TransactionTestCase):
    def setUp(self):
        make_topic(slug="ada")
        make_topic(slug="grace")
        self.modules = self.enterContext(modules_on_path(MODULES))
        self.slugs = {"slugs": ["ada", "grace"]}

    def serve(self, settings_module: str, *options: str, **kwargs) -> Server:
        return self.enterContext(
            uvicorn_server(
                *options,
                DJANGO_SETTINGS_MODULE=settings_module,
                **self.modules,
                **kwargs,
            )
        )

    def test_a_query_at_startup_fails_one_at_first_use_serves(self):
        """ready()'s query kills each uvicorn worker, one at URLconf import fails
        the first request; read at first use, every first answer is 200."""
        # Three servers start at once: the wait for one is the wait for all.
        in_ready = self.serve(
            "ready_settings", "--workers", str(WORKERS), listening=False
        )
        at_import = self.serve("import_settings", listening=False)
        at_first_use = self.serve("right_settings", "--workers", str(WORKERS))

        wait_for_log(in_ready, SYNC_ONLY_ERROR, WORKERS)
        # The port is bound, but only a worker that started would listen on it.
        with self.assertRaises(URLError) as refused:
            get(f"{in_ready.url}/slugs/")
        wait_for_log(at_import, LISTENING, 1)
        first, second = (get(f"{at_import.url}/slugs/") for _ in range(2))
        answers = [get(f"{at_first_use.url}/{view}/") for view in ("slugs", "aslugs")]

        self.assertIsInstance(refused.exception.reason, ConnectionRefusedError)
        self.assertNotIn(STARTED, in_ready.log_so_far())
        self.assertEqual(first[0], 500)
        self.assertIn(SYNC_ONLY_ERROR, at_import.log_so_far())
        self.assertEqual((second[0], json.loads(second[1])), (200, self.slugs))
        self.assertEqual(
            [(status, json.loads(body)) for status, body in answers],
            [(200, self.slugs)] * 2,
        )
        self.assertNotIn(SYNC_ONLY_ERROR, at_first_use.log_so_far())


class StartupQueryAuditTests(SimpleTestCase):
    def test_the_audit_reports_the_query_in_ready(self):
        """The code scan sees ready()'s query, and nothing in topic_slugs()."""
        source = Path(startup.__file__).read_text()

        findings = scan_source(source, "topics/pitfalls/startup.py")

        self.assertEqual(
            [(f.code, f.level) for f in findings], [("code.startup-query", "warning")]
        )
        self.assertIn(
            "frozenset(Topic.objects.values_list(...)) queries in "
            "WrongTopicsConfig.ready(), at every start",
            findings[0].message,
        )
