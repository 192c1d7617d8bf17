"""WSGI entry point (gunicorn's sync workers): Django's handler, with a
Content-Type charset that decodes no text set aside, as under ASGI."""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def _decodes_text(charset: str) -> bool:
    try:
        "a".encode(charset)  # not "": an empty string skips the codec check
    except LookupError:  # unknown, or bytes to bytes: base64, zlib, rot13…
        return False
    return True


def text_charset_only(app: WSGIApp) -> WSGIApp:
    """Drop a Content-Type charset that names no text encoding ("; charset=base64").

    Django's WSGIRequest decodes the query string with it at once, and a
    LookupError is a 500 before any middleware runs; ASGIRequest never decodes
    with it. Dropping it gives both modes the same answer.
    """

    def guarded(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        content_type, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        if not _decodes_text(params.get("charset", "utf-8")):
            environ["CONTENT_TYPE"] = content_type
        return app(environ, start_response)

    return guarded


application = text_charset_only(get_wsgi_application())
