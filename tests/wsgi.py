"""Raw WSGI for the tests: a request served by project.wsgi.application, the
Django WSGI handler gunicorn's sync workers run, and read to its end as they do."""

import io
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

# Imported here, not in a test: get_wsgi_application() sets logging up anew,
# which would drop the handler of an assertLogs() around the first request.
from project.wsgi import application

# A CSRF secret sent as both the cookie and the header, as a browser's form would.
CSRF_SECRET = "wsgitestsecretwsgitestsecret0123"


@dataclass
class WSGIResponse:
    status_code: int
    headers: dict[str, str]  # lowercase names
    body: bytes

    def get(self, name: str, default: str | None = None) -> str | None:
        """A header's value, as HttpResponse.get() gives it."""
        return self.headers.get(name.lower(), default)


@contextmanager
def _connections_kept() -> Iterator[None]:
    # A test's transaction lives on its connection: keep Django from closing it
    # at request start and end, as its test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def wsgi_environ(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    content_type: str = "",
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A WSGI environ for one request, as a server builds it."""
    url = urlsplit(path)
    cookies = {"csrftoken": CSRF_SECRET, **(cookies or {})}
    environ = {
        "REQUEST_METHOD": method,
        # WSGI's PATH_INFO holds the raw bytes as latin-1, as a server passes it.
        "PATH_INFO": unquote_to_bytes(url.path).decode("iso-8859-1"),
        "QUERY_STRING": url.query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "HTTP_X_CSRFTOKEN": CSRF_SECRET,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
    return environ


@contextmanager
def wsgi_response(
    environ: dict[str, Any],
) -> Iterator[tuple[int, dict[str, str], Iterable[bytes]]]:
    """Start one request through project.wsgi.application, from this thread; yield
    its status, headers and body iterable, closed on exit as a server closes it."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list, exc_info=None) -> None:
        started.append((status, response_headers))

    with _connections_kept():
        result = application(environ, start_response)
        try:
            status, response_headers = started[-1]
            headers = {name.lower(): value for name, value in response_headers}
            yield int(status.split()[0]), headers, result
        finally:
            result.close()


def wsgi_request(method: str, path: str, **request: Any) -> WSGIResponse:
    """Serve one request, reading its body to the end; `request` as wsgi_environ()."""
    with wsgi_response(wsgi_environ(method, path, **request)) as (
        status,
        headers,
        body,
    ):
        return WSGIResponse(status_code=status, headers=headers, body=b"".join(body))
