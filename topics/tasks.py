"""Background tasks: the topic export, run by a worker instead of the request.

Enqueued by the export_enqueue pair (topics/views/tasks.py) and run by
`manage.py db_worker` (django-tasks-db's DatabaseBackend, settings.TASKS). The
task writes the file export_create writes, with the same writer; arguments and
return value are plain JSON, as every task backend requires.
Source: https://docs.djangoproject.com/en/6.0/topics/tasks/
"""

from typing import Any

from topics.exportfiles import write_export
from topics.exports import COLUMNS, export_folder
from topics.models import Topic
from topics.tasks_compat import task


@task
def export_topics(*, fmt: str, export_id: str, filters: dict[str, Any]) -> dict:
    """Write the (filtered) topics to the export's file, newest first.

    Returns {"id": "<name>.<fmt>", "rows": int, "bytes": int}; raises what
    write_export() raises (a full disk, a folder of that name), which the
    worker records as the task's failure.
    """
    rows = Topic.objects.listing(**filters)
    result = write_export(
        rows, folder=export_folder(), export_id=export_id, fmt=fmt, columns=COLUMNS
    )
    return result.payload()
