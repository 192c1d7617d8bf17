"""Topic exports: their columns, and the folder they go to, read from settings.

The writing, reading and streaming are topics/exportfiles.py's, which reads no
setting: this module is the edge where EXPORT_* become its arguments.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from django.conf import settings

from topics.exportfiles import ExportFolder, remove_abandoned_temporaries

# The fields of Topic.objects.listing() an export writes, in this order.
COLUMNS = ("id", "slug", "title", "author_name", "created")


def export_folder() -> ExportFolder:
    """EXPORT_ROOT and its quota; no I/O (the writer makes the folder)."""
    return ExportFolder(
        Path(settings.EXPORT_ROOT),
        max_files=settings.EXPORT_MAX_FILES,
        max_bytes=settings.EXPORT_MAX_BYTES,
    )


@contextlib.asynccontextmanager
async def abandoned_temporaries_removed() -> AsyncIterator[None]:
    """ASGI lifespan: at startup, remove the temporaries a killed writer left
    (idle for EXPORT_TEMPORARY_MAX_AGE seconds)."""
    max_age = settings.EXPORT_TEMPORARY_MAX_AGE
    await asyncio.to_thread(
        remove_abandoned_temporaries, export_folder().root, max_age=max_age
    )
    yield
