"""Background tasks: enqueue an export, then poll its status; enqueue() and
get_result() in the sync twins, aenqueue() and aget_result() in the async ones."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from topics.api import ApiError, NotFound, api_view
from topics.params import ExportParams
from topics.tasks import export_topics
from topics.tasks_compat import (
    TaskResult,
    TaskResultDoesNotExist,
    TaskResultMismatch,
    TaskResultStatus,
)

# The URL names (the views' names) each twin links to: its own side's.
SYNC_LINKS = ("task_status", "export_download")
ASYNC_LINKS = ("atask_status", "aexport_download")


def _payload(result: TaskResult, links: tuple[str, str]) -> dict:
    """{"id", "status", "status_url"}; once finished, the export and its
    download URL, or the class of the exception that failed it."""
    status_view, download_view = links
    payload: dict[str, Any] = {
        "id": str(result.id),
        "status": result.status,
        "status_url": reverse(f"topics:{status_view}", args=[result.id]),
    }
    if result.status == TaskResultStatus.SUCCESSFUL:
        export = result.return_value
        url = reverse(f"topics:{download_view}", args=[export["id"]])
        payload["result"] = {**export, "download_url": url}
    elif result.status == TaskResultStatus.FAILED:
        # The traceback stays in the task store, for the operator, not the client.
        payload["exception"] = result.errors[-1].exception_class_path
    return payload


TASK_RESULTS_UNAVAILABLE = "task_results_unavailable"


class TaskResultsUnavailable(ApiError):
    """The TASKS backend keeps no results to poll (Django's default,
    ImmediateBackend, runs the task inside enqueue() and keeps nothing)."""

    def __init__(self) -> None:
        super().__init__(
            TASK_RESULTS_UNAVAILABLE,
            "This server's task backend keeps no results to poll.",
            status=501,
        )


@contextmanager
def _task_or_404(task_id: str) -> Iterator[None]:
    # get_result() would raise NotImplementedError: a 500.
    if not export_topics.get_backend().supports_get_result:
        raise TaskResultsUnavailable()
    # A malformed id is one that names no task: the backend says so too.
    try:
        yield
    except (TaskResultDoesNotExist, TaskResultMismatch):
        raise NotFound(f"No export task has the id {task_id!r}.") from None


def _accepted(payload: dict) -> JsonResponse:
    # 202 Accepted, Location: where to poll (RFC 9110, 15.3.3).
    return JsonResponse(
        payload, status=202, headers={"Location": payload["status_url"]}
    )


@api_view(methods=["POST"])
def export_enqueue(request: HttpRequest) -> JsonResponse:
    """Queue an export for the worker; 202 with the task's id, status and URL."""
    params = ExportParams.from_query(request.GET)
    result = export_topics.enqueue(
        fmt=params.fmt, export_id=params.export_id, filters=params.filters
    )
    return _accepted(_payload(result, SYNC_LINKS))


@api_view(methods=["POST"])
async def aexport_enqueue(request: HttpRequest) -> JsonResponse:
    """See export_enqueue()."""
    params = ExportParams.from_query(request.GET)
    result = await export_topics.aenqueue(
        fmt=params.fmt, export_id=params.export_id, filters=params.filters
    )
    return _accepted(_payload(result, ASYNC_LINKS))


@api_view(methods=["GET"])
def task_status(request: HttpRequest, task_id: str) -> JsonResponse:
    """An export task's status; when it succeeded, the export and its URL."""
    with _task_or_404(task_id):
        result = export_topics.get_result(task_id)
    return JsonResponse(_payload(result, SYNC_LINKS))


@api_view(methods=["GET"])
async def atask_status(request: HttpRequest, task_id: str) -> JsonResponse:
    """See task_status()."""
    with _task_or_404(task_id):
        result = await export_topics.aget_result(task_id)
    return JsonResponse(_payload(result, ASYNC_LINKS))
