"""Clients that leave mid-request, against uvicorn on PostgreSQL: an acknowledged
or unacknowledged write exists once or not at all, and no export is half-written.

Raw sockets, so that the test decides the moment the client leaves.
"""

import json
import socket
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from urllib.request import Request, urlopen

import psycopg
from django.conf import settings
from django.test import TransactionTestCase

from project.demo.seeding import seed_topics
from tests.factories import make_topic
from tests.servers import Server, database_url, requires_postgresql, uvicorn_server
from tests.twins import prefixes
from tests.views.exports_support import leftovers
from tests.views.test_writes import new_topic
from topics.models import Topic

EXPORT_ROWS = 30_000


def eventually(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Wait until condition() holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.05)


def csrf_token(server: Server) -> str:
    with urlopen(f"{server.url}/accounts/login/", timeout=10) as response:
        cookie = response.headers["Set-Cookie"]
    return cookie.split("csrftoken=", 1)[1].split(";", 1)[0]


def raw_request(server: Server, method: str, target: str, body: bytes, **headers):
    """Send a request on a raw socket and return the socket, unread."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    sock.sendall("\r\n".join(lines).encode() + body)
    return sock


def waiting_on_locks() -> int:
    """Server queries in this database that wait for a lock."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


@requires_postgresql
class DisconnectDuringWriteTests(TransactionTestCase):
    def setUp(self):
        make_topic(slug="seed", tags=("orm", "django"))
        self.server = self.enterContext(uvicorn_server())
        self.token = csrf_token(self.server)

    def create(self, prefix: str, data: dict, key: str) -> tuple[int, Message, dict]:
        request = Request(
            f"{self.server.url}/{prefix}/create/",
            data=json.dumps(data).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Cookie": f"csrftoken={self.token}",
                "X-CSRFToken": self.token,
                "Idempotency-Key": key,
            },
        )
        with urlopen(request, timeout=20) as response:
            return response.status, response.headers, json.load(response)

    def test_the_abandoned_write_commits_once_and_the_retry_gets_its_answer(self):
        """The client leaves mid-write; the hop commits anyway; a retry is replayed."""
        for prefix in prefixes("topic_create"):
            with self.subTest(twin=prefix):
                data, key = new_topic(f"left-{prefix}"), f"left-key-{prefix}"
                body = json.dumps(data).encode()
                # The insert of the key row waits on this lock: the write is mid-way,
                # its topic row inserted but not committed, when the client leaves.
                with psycopg.connect(database_url()) as blocker:
                    blocker.execute("LOCK TABLE topics_idempotencykey IN SHARE MODE")
                    client = raw_request(
                        self.server,
                        "POST",
                        f"/{prefix}/create/",
                        body,
                        Content_Type="application/json",
                        Cookie=f"csrftoken={self.token}",
                        X_CSRFToken=self.token,
                        Idempotency_Key=key,
                    )
                    eventually(lambda: waiting_on_locks() == 1)
                    client.close()
                    time.sleep(0.5)  # uvicorn tells Django; Django cancels the view
                    self.assertIs(
                        Topic.objects.filter(slug=data["slug"]).exists(), False
                    )
                # The lock is released: the thread the view left behind commits.
                eventually(lambda d=data: Topic.objects.filter(slug=d["slug"]).exists())
                log = self.server.log_so_far()
                self.assertNotIn(f'"POST /{prefix}/create/ HTTP/1.1" 201', log)

                status, headers, payload = self.create(prefix, data, key)

                self.assertEqual(status, 201)
                self.assertEqual(headers["Idempotent-Replayed"], "true")
                topic = Topic.objects.get(slug=data["slug"])
                self.assertEqual(payload["id"], topic.id)
                self.assertEqual(Topic.objects.filter(slug=data["slug"]).count(), 1)
        self.assertNotIn("Traceback", self.server.log_so_far())


@requires_postgresql
class DisconnectDuringExportTests(TransactionTestCase):
    def setUp(self):
        seed_topics(count=EXPORT_ROWS)
        self.server = self.enterContext(uvicorn_server())
        self.token = csrf_token(self.server)

    def test_no_partial_file_is_left_at_the_final_name(self):
        """The client leaves mid-export: no temporary file; a final file is whole."""
        for prefix in prefixes("export_create"):
            with self.subTest(twin=prefix):
                final = Path(settings.EXPORT_ROOT) / f"gone-{prefix}.jsonl"
                client = raw_request(
                    self.server,
                    "POST",
                    f"/{prefix}/exports/?name=gone-{prefix}&format=jsonl",
                    b"",
                    Cookie=f"csrftoken={self.token}",
                    X_CSRFToken=self.token,
                )
                eventually(lambda: bool(leftovers()))  # the writer has started
                client.close()

                eventually(lambda: not leftovers())
                if prefix == "async":
                    # Cancelled at an await: the temporary file was removed.
                    self.assertIs(final.exists(), False)
                elif final.exists():
                    # The sync writer's thread cannot be cancelled: it finished.
                    self.assertEqual(len(final.read_bytes().splitlines()), EXPORT_ROWS)
        self.assertNotIn("Traceback", self.server.log_so_far())
