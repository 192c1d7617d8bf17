"""The thread hops one request through Django's ASGI handler takes, counted."""

from unittest import mock

from asgiref.sync import AsyncToSync, SyncToAsync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from tests.asgi import http_scope

PLANTED_URLS = "tests.audit.planted"


async def measured_hops(middleware: list[str], **overrides: object) -> int:
    """The sync_to_async and async_to_sync calls of one anonymous GET through
    `middleware`, with `overrides` as settings."""
    calls = []
    real_sta, real_ats = SyncToAsync.__call__, AsyncToSync.__call__

    def sta(self, *args, **kwargs):
        calls.append("sync_to_async")
        return real_sta(self, *args, **kwargs)

    def ats(self, *args, **kwargs):
        calls.append("async_to_sync")
        return real_ats(self, *args, **kwargs)

    with (
        override_settings(
            MIDDLEWARE=middleware, ROOT_URLCONF=PLANTED_URLS, **overrides
        ),
        mock.patch.object(SyncToAsync, "__call__", sta),
        mock.patch.object(AsyncToSync, "__call__", ats),
    ):
        app = ApplicationCommunicator(ASGIHandler(), http_scope("/async/"))
        await app.send_input({"type": "http.request", "body": b""})
        start = await app.receive_output(5)
        await app.receive_output(5)
        await app.wait(5)
    assert start["status"] == 200, start
    return len(calls)
