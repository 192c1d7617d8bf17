"""A task run inline: Django's default backend runs it inside enqueue(), so the
request waits for it; the database backend only queues it, for the worker."""

import time

from django.conf import global_settings, settings
from django.test import TestCase, override_settings

from project.demo.seeding import seed_topics
from tests.views.exports_support import export_root
from topics.pitfalls.tasks_inline import (
    REPORT_SECONDS,
    build_report,
    right_tasks_setting,
    wrong_tasks_setting,
)
from topics.tasks_compat import IMMEDIATE_BACKEND, TaskResultStatus, task_backends


def default_tasks_setting() -> dict:
    """TASKS as Django 6.x (its global default) or the 5.2 backport (its
    handler, when the project sets none) fill it in."""
    if hasattr(global_settings, "TASKS"):
        return global_settings.TASKS
    with override_settings():
        del settings.TASKS
        return type(task_backends)().settings


class InlineTaskTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_topics(count=3)

    def test_the_wrong_setting_is_djangos_default(self):
        """With no TASKS setting, every task runs on ImmediateBackend."""
        self.assertEqual(default_tasks_setting(), wrong_tasks_setting())
        self.assertEqual(
            wrong_tasks_setting(), {"default": {"BACKEND": IMMEDIATE_BACKEND}}
        )

    async def test_the_default_backend_runs_the_task_in_enqueue(self):
        """aenqueue() takes the task's whole second and returns it SUCCESSFUL;
        on the database backend it returns at once, the task READY for a worker."""
        with override_settings(TASKS=wrong_tasks_setting()):
            started = time.monotonic()
            inline = await build_report.aenqueue(seconds=REPORT_SECONDS)
            inline_seconds = time.monotonic() - started
        with override_settings(TASKS=right_tasks_setting()):
            started = time.monotonic()
            queued = await build_report.aenqueue(seconds=REPORT_SECONDS)
            queued_seconds = time.monotonic() - started

        self.assertEqual(inline.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(inline.return_value, {"slept": REPORT_SECONDS})
        self.assertGreaterEqual(inline_seconds, REPORT_SECONDS)
        self.assertEqual(queued.status, TaskResultStatus.READY)
        self.assertLess(queued_seconds, REPORT_SECONDS / 2)

    async def test_the_export_endpoint_answers_once_the_file_is_written(self):
        """Under ImmediateBackend the enqueue endpoint's 202 says SUCCESSFUL: the
        export was written inside the request, and the file is already there."""
        with override_settings(TASKS=wrong_tasks_setting()):
            response = await self.async_client.post(
                "/async/exports/tasks/?name=inline&format=csv"
            )

        payload = response.json()
        self.assertEqual(response.status_code, 202)
        self.assertEqual(payload["status"], "SUCCESSFUL")
        self.assertEqual(
            payload["result"],
            {
                "id": "inline.csv",
                "rows": 3,
                "bytes": (export_root() / "inline.csv").stat().st_size,
                "download_url": "/async/exports/files/inline.csv/",
            },
        )
