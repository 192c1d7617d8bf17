"""What the export tests share: the temporary files an export left behind, a
streamed body read whole, the warning Django gives for a sync iterator."""

from topics.exports import export_root

SYNC_ITERATOR_WARNING = (
    "StreamingHttpResponse must consume synchronous iterators in order to serve "
    "them asynchronously. Use an asynchronous iterator instead."
)


def leftovers() -> list[str]:
    """Temporary files still in the export folder."""
    return [path.name for path in export_root().iterdir() if path.name.endswith(".tmp")]


async def body_of(response) -> bytes:
    return b"".join([part async for part in response])
