"""Raw ASGI for the tests that drive Django's handler with ApplicationCommunicator,
and reading a response's whole body as ASGI would."""

from asgiref.sync import sync_to_async
from django.http import HttpResponse


def http_scope(path: str, query: bytes = b"") -> dict:
    """An HTTP GET scope, as uvicorn would pass it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def whole_body(response: HttpResponse) -> bytes:
    """The whole body, read the way ASGI reads it, minus Django's warning."""
    if not response.streaming:
        return response.content
    if response.is_async:
        return b"".join([part async for part in response])
    # A sync iterator: ASGI would read it whole in a thread, with a warning
    # that tests/views/test_exports_download.py asserts; read it so here, silently.
    return b"".join(await sync_to_async(list)(response.streaming_content))
