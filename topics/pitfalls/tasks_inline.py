"""Background task pitfalls: a task the default backend runs inside the request."""

import time

from topics.pitfalls.registry import Pitfall
from topics.tasks_compat import IMMEDIATE_BACKEND, task

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
REPORT_SECONDS = 1.0


@task
def build_report(*, seconds: float) -> dict[str, float]:
    """A slow job: the seconds a real one spends on queries, files or an upstream."""
    time.sleep(seconds)
    return {"slept": seconds}


# 35. A task run inline by the default backend.


def wrong_tasks_setting() -> dict:
    """No TASKS setting: Django's default backend, which runs the task in enqueue()."""
    return {"default": {"BACKEND": IMMEDIATE_BACKEND}}


def right_tasks_setting() -> dict:
    """See wrong_tasks_setting(); a queue in the database, which a worker process
    (`manage.py db_worker`) reads."""
    return {"default": {"BACKEND": DATABASE_BACKEND}}


TEST = "tests/pitfalls/test_tasks_inline.py::"

PITFALLS = [
    Pitfall(
        number=35,
        slug="task-run-inline-by-the-default-backend",
        title="A task run inline by the default backend",
        symptom=(
            "`await task.aenqueue()` returns after the task has run, its result "
            "already `SUCCESSFUL`: the request takes as long as the task (1 s task, "
            "1 s request), because with no `TASKS` setting Django's "
            "`ImmediateBackend` runs it inside `enqueue()`, in the request"
        ),
        fix=(
            "A backend with a queue and a worker: `django_tasks_db.DatabaseBackend` "
            "in `TASKS`, `django_tasks_db` in `INSTALLED_APPS`, and "
            "`manage.py db_worker` running beside the server."
        ),
        wrong=wrong_tasks_setting,
        right=right_tasks_setting,
        test=TEST
        + "InlineTaskTests::test_the_default_backend_runs_the_task_in_enqueue",
        versions=(
            "Django 6.0+ ships django.tasks with `ImmediateBackend` as the default "
            "`TASKS`; on 5.2 the django-tasks backport does the same "
            "(`django_tasks.backends.immediate.ImmediateBackend`)."
        ),
    ),
]
