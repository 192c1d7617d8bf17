"""What the export tests share: the export folder, the temporary files an export
left behind, a streamed body read whole, the warning Django gives for a sync
iterator."""

from pathlib import Path

from topics.exportfiles import write_export
from topics.exports import COLUMNS, export_folder
from topics.models import Topic

SYNC_ITERATOR_WARNING = (
    "StreamingHttpResponse must consume synchronous iterators in order to serve "
    "them asynchronously. Use an asynchronous iterator instead."
)


def export_root() -> Path:
    """The export folder the settings name (EXPORT_ROOT)."""
    return export_folder().root


def export_all_topics(export_id: str) -> bytes:
    """Every topic written to export_id (name.csv or name.jsonl), as the views
    write it; the file's bytes."""
    fmt = export_id.rpartition(".")[2]
    rows = Topic.objects.listing()
    folder = export_folder()
    write_export(rows, folder=folder, export_id=export_id, fmt=fmt, columns=COLUMNS)
    return (folder.root / export_id).read_bytes()


def leftovers() -> list[str]:
    """Temporary files still in the export folder."""
    return [path.name for path in export_root().iterdir() if path.name.endswith(".tmp")]


async def body_of(response) -> bytes:
    return b"".join([part async for part in response])
