"""What differs between the supported Django lines, 5.2 LTS and 6.1, in one place."""

try:
    from django.core.paginator import AsyncPaginator
except ImportError:  # Django < 6.0
    AsyncPaginator = None

try:
    from django.db.models import FETCH_RAISE
except ImportError:  # Django < 6.1
    FETCH_RAISE = None

# Background tasks: django.tasks since Django 6.0; on 5.2 the django-tasks
# backport, the same API under another package (and two exception names).
try:
    from django.tasks import TaskResult, TaskResultStatus, task, task_backends
    from django.tasks.exceptions import (
        InvalidTaskBackend,
        TaskResultDoesNotExist,
        TaskResultMismatch,
    )

    IMMEDIATE_BACKEND = "django.tasks.backends.immediate.ImmediateBackend"
except ImportError:  # Django < 6.0
    from django_tasks import TaskResult, TaskResultStatus, task, task_backends
    from django_tasks.exceptions import (
        InvalidTaskBackendError as InvalidTaskBackend,
    )
    from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

    IMMEDIATE_BACKEND = "django_tasks.backends.immediate.ImmediateBackend"

__all__ = [
    "FETCH_RAISE",
    "IMMEDIATE_BACKEND",
    "AsyncPaginator",
    "InvalidTaskBackend",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultMismatch",
    "TaskResultStatus",
    "task",
    "task_backends",
]
