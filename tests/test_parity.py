"""Parity, generated from the registry: every twin answers every example alike,
served by Django's ASGI handler and by its WSGI handler."""

import json
import re
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import AsyncClient, Client, TestCase

from project.demo.seeding import (
    seed_bookmarks,
    seed_demo_exports,
    seed_demo_user,
    seed_editor_user,
    seed_topics,
)
from tests.asgi import whole_body
from tests.wsgi import WSGIResponse, wsgi_request
from topics.exportfiles import CHUNK_ROWS
from topics.models import Topic
from topics.pairs import PAIRS
from topics.registry import PLACEHOLDER, Example, Pair, Twin
from topics.upstream.client import http_session

# Django 6.1 renamed transaction.savepoint() to savepoint_create().
savepoint_create = (
    getattr(transaction, "savepoint_create", None) or transaction.savepoint
)


@pytest.mark.usefixtures("upstream")
class TwinParityTests(TestCase):
    """The same request to each twin gives the same status, headers and body."""

    @classmethod
    def setUpTestData(cls):
        # More rows than one export chunk: a stream cut after its first chunk
        # shows as a shorter body.
        seed_topics(count=CHUNK_ROWS + 30)
        seed_bookmarks()
        seed_demo_exports()
        # With its password: the login pair's examples authenticate with it.
        seed_demo_user()
        seed_editor_user(password=None)


# {% csrf_token %}'s value is masked anew for every response.
CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def _masked(value: Any, keys: tuple[str, ...]) -> Any:
    """The JSON value with the values of `keys` replaced, at any depth."""
    if isinstance(value, dict):
        return {
            key: "<volatile>" if key in keys else _masked(item, keys)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item, keys) for item in value]
    return value


def _resolve(path: str) -> str:
    return PLACEHOLDER.sub(lambda match: str(Topic.objects.get(slug=match[1]).pk), path)


async def _send(twin: Twin, example: Example) -> tuple[HttpResponse, bytes]:
    """Send the example to one twin, then undo whatever it wrote."""
    client = AsyncClient()
    if example.user:
        user = await get_user_model().objects.aget(username=example.user)
        await client.aforce_login(user)
    body = {}
    if example.json is not None or example.body is not None:
        data = example.body if example.body is not None else json.dumps(example.json)
        body = {"data": data, "content_type": example.content_type}
    path = await sync_to_async(_resolve)(example.path)
    # Each twin starts from the same data: a savepoint, rolled back afterwards.
    savepoint = await sync_to_async(savepoint_create)()
    try:
        async with http_session():
            response = await client.generic(
                example.method, f"/{twin.prefix}/{path}", **body
            )
            return response, await whole_body(response)
    finally:
        await sync_to_async(transaction.savepoint_rollback)(savepoint)


def _send_wsgi(twin: Twin, example: Example) -> tuple[WSGIResponse, bytes]:
    """See _send(); through the WSGI handler, from this thread, with no event loop."""
    cookies = {}
    if example.user:
        client = Client()
        client.force_login(get_user_model().objects.get(username=example.user))
        cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    body = b""
    if example.json is not None or example.body is not None:
        data = example.body if example.body is not None else json.dumps(example.json)
        body = data.encode()
    path = f"/{twin.prefix}/{_resolve(example.path)}"
    savepoint = savepoint_create()
    try:
        response = wsgi_request(
            example.method,
            path,
            body=body,
            content_type=example.content_type if body else "",
            cookies=cookies,
        )
        return response, response.body
    finally:
        transaction.savepoint_rollback(savepoint)


def _comparable(
    sent: tuple[HttpResponse | WSGIResponse, bytes], twin: Twin, example: Example
) -> dict:
    """Status, type, location and body, with the twin's own prefix as /sync/."""
    response, body = sent
    content = body.decode().replace(f"/{twin.prefix}/", "/sync/")
    location = response.get("Location", "").replace(f"/{twin.prefix}/", "/sync/")
    if response.get("Content-Type") == "application/json":
        data = json.loads(content)
        # A Location naming what the request created carries its volatile id.
        if "id" in example.volatile and isinstance(data, dict) and "id" in data:
            location = location.replace(str(data["id"]), "<volatile>")
        content = _masked(data, example.volatile)
    else:
        content = CSRF_INPUT.sub(r'\1<masked>"', content)
    return {
        "status": response.status_code,
        "type": response.get("Content-Type"),
        "location": location,
        "allow": response.get("Allow"),
        "body": content,
    }


def _parity_test(pair: Pair, example: Example):
    async def test(self: TwinParityTests) -> None:
        sync_twin, *other_twins = pair.twins()
        expected = _comparable(await _send(sync_twin, example), sync_twin, example)

        # 502 and 504 are answers; a 500 is a crash.
        self.assertNotEqual(expected["status"], 500, example.label)
        for twin in other_twins:
            actual = _comparable(await _send(twin, example), twin, example)
            self.assertEqual(actual, expected, f"/{twin.prefix}/")

    test.__doc__ = f"Every twin of {pair.name} answers {example.label} alike."
    return test


def _wsgi_parity_test(pair: Pair, example: Example):
    # Sync: under WSGI no event loop runs around the handler, so each async
    # view gets one of its own, as under gunicorn's sync workers.
    def test(self: TwinParityTests) -> None:
        sync_twin = pair.twins()[0]
        expected = _comparable(
            async_to_sync(_send)(sync_twin, example), sync_twin, example
        )

        for twin in pair.twins():
            with self.subTest(twin=twin.prefix):
                actual = _comparable(_send_wsgi(twin, example), twin, example)
                # 502 and 504 are answers; a 500 is a crash.
                self.assertNotEqual(actual["status"], 500, actual["body"])
                self.assertEqual(actual, expected)

    test.__doc__ = (
        f"Under WSGI every twin of {pair.name} answers {example.label} as under ASGI."
    )
    return test


for _pair in PAIRS:
    for _number, _example in enumerate(_pair.requests, start=1):
        setattr(
            TwinParityTests,
            f"test_{_pair.name}_example_{_number}",
            _parity_test(_pair, _example),
        )
        setattr(
            TwinParityTests,
            f"test_{_pair.name}_example_{_number}_wsgi",
            _wsgi_parity_test(_pair, _example),
        )
