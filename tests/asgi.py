"""Raw ASGI for the tests that drive Django's handler with ApplicationCommunicator."""


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
