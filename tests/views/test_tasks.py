"""Background export tasks in one process: enqueue answers 202 and writes
nothing; django-tasks-db's worker loop, run here, then runs the task, and the
status pair tells READY, SUCCESSFUL with the download URL, or FAILED."""

import csv
import io

from asgiref.sync import sync_to_async
from django.test import TestCase, override_settings
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tests.factories import make_topic
from tests.twins import prefixes
from tests.views.exports_support import export_root
from topics.api import NOT_FOUND
from topics.pitfalls.tasks_inline import build_report
from topics.tasks_compat import IMMEDIATE_BACKEND, InvalidTaskBackend, task_backends
from topics.views.tasks import TASK_RESULTS_UNAVAILABLE


def run_queued_tasks() -> None:
    """The steps of `manage.py db_worker`'s loop for each queued task: claim it,
    run it, record the outcome. The loop itself closes connections between
    tasks, which would close the test's transaction (test_tasks_worker.py runs
    the real command)."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    for queued in DBTaskResult.objects.ready():
        queued.claim(worker.worker_id)
        worker.run_task(queued)


class ExportEnqueueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="older", tags=("django",))
        make_topic(slug="newer")

    def test_enqueue_is_202_ready_and_writes_nothing_yet(self):
        """The answer comes before the export: the task is READY, no file yet."""
        for prefix in prefixes("export_enqueue"):
            with self.subTest(twin=prefix):
                response = self.client.post(
                    f"/{prefix}/exports/tasks/?name=queued-{prefix}&format=jsonl"
                )

                payload = response.json()
                queued = DBTaskResult.objects.get(id=payload["id"])
                self.assertEqual(response.status_code, 202)
                self.assertEqual(payload["status"], "READY")
                self.assertEqual(payload["status_url"], f"/{prefix}/tasks/{queued.id}/")
                self.assertEqual(response["Location"], payload["status_url"])
                self.assertEqual(queued.task_path, "topics.tasks.export_topics")
                self.assertEqual(
                    queued.args_kwargs,
                    {
                        "args": [],
                        "kwargs": {
                            "fmt": "jsonl",
                            "export_id": f"queued-{prefix}.jsonl",
                            "filters": {
                                "text": None,
                                "tag": None,
                                "author_id": None,
                            },
                        },
                    },
                )
                self.assertIs(
                    (export_root() / f"queued-{prefix}.jsonl").exists(), False
                )

    async def test_enqueue_async_view(self):
        """aenqueue() writes the same row from the event loop."""
        response = await self.async_client.post("/async/exports/tasks/?tag=django")

        queued = await DBTaskResult.objects.aget(id=response.json()["id"])
        self.assertEqual(response.status_code, 202)
        self.assertEqual(queued.status, "READY")
        self.assertEqual(queued.args_kwargs["kwargs"]["filters"]["tag"], "django")

    def test_bad_parameters_are_400_and_enqueue_nothing(self):
        """Parameters are checked in the request, before a task exists."""
        for prefix in prefixes("export_enqueue"):
            with self.subTest(twin=prefix):
                for query in ("format=xml", "name=../../etc/passwd", "ordering=title"):
                    with self.subTest(query=query):
                        response = self.client.post(f"/{prefix}/exports/tasks/?{query}")

                        self.assertEqual(response.status_code, 400)
                        self.assertEqual(
                            response.json()["error"]["code"], "invalid_parameter"
                        )
        self.assertIs(DBTaskResult.objects.exists(), False)


class TaskStatusTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="older", title="=HYPERLINK()")
        make_topic(slug="newer", title="Newer")

    def enqueue(self, query: str) -> str:
        response = self.client.post(f"/sync/exports/tasks/?{query}")
        self.assertEqual(response.status_code, 202)
        return response.json()["id"]

    def test_a_queued_task_is_ready(self):
        """Before a worker takes it, the task is READY, with no result."""
        task_id = self.enqueue("name=waiting")

        for prefix in prefixes("task_status"):
            with self.subTest(twin=prefix):
                response = self.client.get(f"/{prefix}/tasks/{task_id}/")

                self.assertEqual(response.status_code, 200)
                self.assertEqual(
                    response.json(),
                    {
                        "id": task_id,
                        "status": "READY",
                        "status_url": f"/{prefix}/tasks/{task_id}/",
                    },
                )

    def test_a_finished_task_links_its_file(self):
        """Once the worker ran it: SUCCESSFUL, the export, and its download URL,
        which serves the rows the task wrote."""
        task_id = self.enqueue("name=finished&format=csv")
        run_queued_tasks()

        for prefix in prefixes("task_status"):
            with self.subTest(twin=prefix):
                response = self.client.get(f"/{prefix}/tasks/{task_id}/")
                result = response.json()["result"]
                download = self.client.get(result["download_url"])
                rows = list(csv.reader(io.StringIO(b"".join(download).decode())))

                self.assertEqual(response.json()["status"], "SUCCESSFUL")
                self.assertEqual(
                    result,
                    {
                        "id": "finished.csv",
                        "rows": 2,
                        "bytes": (export_root() / "finished.csv").stat().st_size,
                        "download_url": f"/{prefix}/exports/files/finished.csv/",
                    },
                )
                self.assertEqual(download.status_code, 200)
                self.assertEqual(
                    [row[1:3] for row in rows],
                    [
                        ["slug", "title"],
                        ["newer", "Newer"],
                        ["older", "'=HYPERLINK()"],
                    ],
                )

    async def test_a_finished_task_async_view(self):
        """aenqueue(), the worker, then aget_result(): the same finished task."""
        response = await self.async_client.post("/async/exports/tasks/?name=afinished")
        task_id = response.json()["id"]
        await sync_to_async(run_queued_tasks)()

        response = await self.async_client.get(f"/async/tasks/{task_id}/")

        self.assertEqual(response.json()["status"], "SUCCESSFUL")
        self.assertEqual(
            response.json()["result"]["download_url"],
            "/async/exports/files/afinished.csv/",
        )

    def test_a_failed_task_is_failed_not_500(self):
        """An export that cannot be written (a folder has its name) fails in the
        worker: the status is FAILED with the exception's class, answered 200."""
        folder = export_root() / "taken.csv"
        folder.mkdir()
        self.addCleanup(folder.rmdir)
        task_id = self.enqueue("name=taken&format=csv")
        run_queued_tasks()

        for prefix in prefixes("task_status"):
            with self.subTest(twin=prefix):
                response = self.client.get(f"/{prefix}/tasks/{task_id}/")

                self.assertEqual(response.status_code, 200)
                self.assertEqual(
                    response.json(),
                    {
                        "id": task_id,
                        "status": "FAILED",
                        "status_url": f"/{prefix}/tasks/{task_id}/",
                        "exception": "topics.api.Conflict",
                    },
                )

    def test_unknown_malformed_and_foreign_ids_are_404_json(self):
        """No such task, an id that is no UUID, another task's id: all 404."""
        other = build_report.enqueue(seconds=0).id
        ids = (
            "00000000-0000-0000-0000-000000000000",
            "not-a-task-id",
            "1" * 200,
            other,
        )

        for prefix in prefixes("task_status"):
            with self.subTest(twin=prefix):
                for task_id in ids:
                    with self.subTest(task_id=task_id):
                        response = self.client.get(f"/{prefix}/tasks/{task_id}/")

                        self.assertEqual(response.status_code, 404)
                        self.assertEqual(
                            response.json()["error"],
                            {
                                "code": NOT_FOUND,
                                "message": f"No export task has the id {task_id!r}.",
                            },
                        )

    @override_settings(TASKS={"default": {"BACKEND": IMMEDIATE_BACKEND}})
    def test_a_backend_without_results_is_501_not_500(self):
        """Django's default backend keeps no results: the status is 501 JSON."""
        for prefix in prefixes("task_status"):
            with self.subTest(twin=prefix):
                response = self.client.get(
                    f"/{prefix}/tasks/00000000-0000-0000-0000-000000000000/"
                )

                self.assertEqual(response.status_code, 501)
                self.assertEqual(
                    response.json()["error"]["code"], TASK_RESULTS_UNAVAILABLE
                )


class CompatTests(TestCase):
    def test_an_unknown_backend_raises_compats_invalid_task_backend(self):
        """django.tasks' InvalidTaskBackend on 6.x is the backport's
        InvalidTaskBackendError on 5.2: topics.tasks_compat names both alike."""
        with self.assertRaisesMessage(
            InvalidTaskBackend, "The connection 'nowhere' doesn't exist."
        ):
            task_backends["nowhere"]
