"""Django's tasks framework on both supported lines: django.tasks since Django
6.0; on 5.2 the django-tasks backport, the same API under another package (and
two exception names). Needs `pip install django-tasks` on Django < 6.0 only.
Copy the file."""

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
    "IMMEDIATE_BACKEND",
    "InvalidTaskBackend",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultMismatch",
    "TaskResultStatus",
    "task",
    "task_backends",
]
