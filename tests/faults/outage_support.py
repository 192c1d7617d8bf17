"""What the outage tests share: a client's recorded answers and the checks made
on them (503s well formed, the server's log free of unexpected tracebacks).

A fault may cost a client a 503 with Retry-After, never a 500 and never an
acknowledged write; the server's connections stay within its pools.
"""

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from django.conf import settings
from multidict import CIMultiDict

# Django's log message for an unhandled exception, that is for every 500.
UNHANDLED = "Internal Server Error"
# What topics.api logs, with the cause's traceback, for each 503.
SERVICE_UNAVAILABLE = "Service Unavailable ("
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)
# The first line of a log record: the app's format, gunicorn's, uvicorn's.
LOG_RECORD = re.compile(
    r"\d{4}-\d\d-\d\d [\d:,]+ [A-Z]+ |\[[^]]+\] \[\d+\] \[[A-Z]+\] |[A-Z]+: "
)
ACCESS_LOG = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" \d{3}')


@dataclass(frozen=True)
class Answer:
    """One response as the client saw it, and when (time.monotonic())."""

    phase: str
    method: str
    path: str
    status: int  # 0: no response (the connection broke, or the client timed out)
    headers: CIMultiDict
    body: object  # the decoded JSON, or the text when it is not JSON
    slug: str | None
    sent: float
    done: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.done - self.sent

    @property
    def outcome(self) -> str:
        """2xx, 503 or other: the three outcomes the counts report."""
        return "2xx" if self.ok else "503" if self.status == 503 else "other"


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    phase: Callable[[], str],
    slug: str | None = None,
    **kwargs,
) -> Answer:
    """Send one request; record its answer, tagged with the phase it ended in."""
    sent = time.monotonic()
    try:
        async with session.request(method, path, **kwargs) as response:
            raw = await response.read()
            status, headers = response.status, CIMultiDict(response.headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        # Recorded, not raised: the assertions show it beside the other answers.
        status, headers, raw = 0, CIMultiDict(), repr(exc).encode()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")
    done = time.monotonic()
    return Answer(phase(), method, path, status, headers, body, slug, sent, done)


def malformed_503s(answers: list[Answer]) -> list[Answer]:
    """The 503s without Retry-After or without the service_unavailable error."""
    retry_after = str(settings.DATABASE_RETRY_AFTER)
    return [
        answer
        for answer in answers
        if answer.status == 503
        and not (
            answer.headers.get("Retry-After") == retry_after
            and isinstance(answer.body, dict)
            and answer.body.get("error", {}).get("code") == "service_unavailable"
        )
    ]


def shown(answers: list[Answer], limit: int = 5) -> list[tuple]:
    """A few answers, compactly, for an assertion message."""
    return [(a.phase, a.method, a.path, a.status, a.body) for a in answers[:limit]]


def unexpected_tracebacks(log: str) -> list[str]:
    """The log records with a traceback, other than those of the 503s."""
    record, found = "", []
    for line in log.splitlines():
        if LOG_RECORD.match(line) and not ACCESS_LOG.search(line):
            record = line
        elif (
            line.startswith("Traceback (most recent call last)")
            and SERVICE_UNAVAILABLE not in record
            and record not in found
        ):
            found.append(record)
    return found


def logged_503s(log: str, cause: str) -> int:
    """How many 503s the server logged with this cause."""
    return sum(
        SERVICE_UNAVAILABLE in line and cause in line for line in log.splitlines()
    )
