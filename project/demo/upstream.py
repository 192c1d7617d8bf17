"""A fake upstream service: a local httpbin whose behaviour each request chooses.

GET /sources/{name} and /replicas/{replica}/sources/{name} answer
{"source", "value", ...} after ?delay= ms (plus up to ?jitter= ms), with
?status=, ?size= bytes of padding, and ?fail= one of: reset (drop the
connection before answering), close (drop it mid-body), stall (send part of
the body, then nothing until the client leaves), badjson, html (a 200 that is
not JSON), redirect (302 to --redirect-to). ?fail_times=N&key=K fails the
first N requests with that key (503), then answers with the attempt number.
?chunked=1 sends the answer in chunks, with no Content-Length.
/_stats and POST /_reset tell the tests what the service saw.

The demo's scenario comes in the X-Fake-Scenario header instead (sent by
project/demo/scenario.py, so that no view carries it): the knobs of a whole
request to the demo (?delay=&stagger=&broken=orders:500...), which
scenario_knobs() turns into this call's parameters above.
"""

import asyncio
import hashlib
import json
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

MAX_DELAY_MS = 60_000
MAX_SIZE = 10_000_000
CHUNK_SIZE = 64 * 1024

SCENARIO_HEADER = "X-Fake-Scenario"
# The demo's sources, in the order a stagger delays them when ?sources= is absent.
SOURCES = ("profile", "orders", "recommendations")
SLOW_MS = 2000
HUGE_BYTES = 4_000_000
# What ?broken=source:failure asks of that source, as this service's parameters.
FAILURES = {
    "500": {"status": 500},
    "reset": {"fail": "reset"},
    "close": {"fail": "close"},
    "badjson": {"fail": "badjson"},
    "redirect": {"fail": "redirect"},
    "slow": {"delay": SLOW_MS},
    # Over the client's 1 MiB cap: with a Content-Length, then chunked.
    "huge": {"size": HUGE_BYTES},
    "huge_chunked": {"size": HUGE_BYTES, "chunked": 1},
}
# What ?fail= asks of every call in the errors pair; "connect": the connection
# is dropped before any answer, as a refused one would fail.
CALL_FAILURES = {
    "connect": {"fail": "reset"},
    "timeout": {"delay": SLOW_MS},
    "status": {"status": 503},
    "badjson": {"fail": "badjson"},
    "html": {"fail": "html"},
}


def scenario_knobs(scenario: Mapping[str, str], name: str, replica: str) -> dict:
    """One call's parameters from the scenario of the request that made it:
    ?delay= for every call, plus ?stagger= times the source's rank in ?sources=;
    ?primary_delay= and ?backup_delay= for replicas 1 and 2; ?broken= and ?fail=
    failures; ?fail_times= and ?key= as they are."""
    delay = int(scenario.get("delay", 0))
    if replica:
        key = "primary_delay" if replica == "1" else "backup_delay"
        delay = int(scenario.get(key, delay))
    order = scenario.get("sources", ",".join(SOURCES)).split(",")
    if name in order:
        delay += int(scenario.get("stagger", 0)) * (order.index(name) + 1)
    broken = dict(
        item.partition(":")[::2] for item in scenario.get("broken", "").split(",")
    )
    return {
        "delay": delay,
        **{knob: scenario[knob] for knob in ("fail_times", "key") if knob in scenario},
        **FAILURES.get(broken.get(name, ""), {}),
        **CALL_FAILURES.get(scenario.get("fail", ""), {}),
    }


@dataclass
class Stats:
    """What the service saw since the last reset."""

    counts: Counter = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0
    attempts: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "requests": 0,
            "completed": 0,
            "cancelled": 0,
            **self.counts,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
        }


STATS = web.AppKey("stats", Stats)
REDIRECT_TO = web.AppKey("redirect_to", str)


KNOBS = web.RequestKey("knobs", dict)


def _knobs(request: web.Request) -> dict:
    """The call's parameters: its query's, over its scenario's."""
    scenario = dict(parse_qsl(request.headers.get(SCENARIO_HEADER, "")))
    name = request.match_info["name"]
    replica = request.match_info.get("replica", "")
    knobs = scenario_knobs(scenario, name, replica) if scenario else {}
    return {**knobs, **request.query}


def _int(request: web.Request, name: str, high: int) -> int:
    try:
        return max(0, min(high, int(request[KNOBS].get(name, 0))))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an integer") from None


def _value(name: str) -> int:
    # Deterministic, so that a sync and an async twin see the same data.
    return int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 1000


async def source(request: web.Request) -> web.StreamResponse:
    stats = request.app[STATS]
    name = request.match_info["name"]
    stats.counts["requests"] += 1
    stats.counts[f"{request.method} {name}"] += 1
    request[KNOBS] = _knobs(request)
    stats.in_flight += 1
    stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
    try:
        delay = _int(request, "delay", MAX_DELAY_MS) + random.randint(
            0, _int(request, "jitter", MAX_DELAY_MS)
        )
        await asyncio.sleep(delay / 1000)
        response = await _answer(request, name)
        stats.counts["completed"] += 1
        return response
    except asyncio.CancelledError:
        # aiohttp cancels the handler when the client goes away.
        stats.counts["cancelled"] += 1
        raise
    finally:
        stats.in_flight -= 1


async def _answer(request: web.Request, name: str) -> web.StreamResponse:
    fail = request[KNOBS].get("fail", "")
    if fail == "reset":
        request.transport.abort()
        raise web.HTTPInternalServerError()  # never sent: the connection is gone
    if fail == "redirect":
        raise web.HTTPFound(request.app[REDIRECT_TO] or "/sources/elsewhere")
    attempts = request.app[STATS].attempts
    if key := request[KNOBS].get("key"):
        attempts[key] += 1
        if attempts[key] <= _int(request, "fail_times", 100):
            raise web.HTTPServiceUnavailable(text="failing on purpose")
    payload = {"source": name, "value": _value(name)}
    if replica := request.match_info.get("replica"):
        payload["replica"] = int(replica)
    if key:
        payload["attempt"] = attempts[key]
    if size := _int(request, "size", MAX_SIZE):
        payload["padding"] = "x" * size
    status = _int(request, "status", 599) or 200
    if fail == "badjson":
        return web.Response(
            status=status, text='{"source": ', content_type="application/json"
        )
    if fail == "html":
        return web.Response(
            status=status, text="<p>Not JSON</p>", content_type="text/html"
        )
    if fail == "close":
        return await _close_mid_body(request, status)
    if fail == "stall":
        return await _stall_mid_body(request, status)
    if _int(request, "chunked", 1):
        return await _chunked(request, status, json.dumps(payload).encode())
    return web.json_response(payload, status=status)


async def _chunked(
    request: web.Request, status: int, body: bytes
) -> web.StreamResponse:
    response = web.StreamResponse(status=status)
    response.content_type = "application/json"
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), CHUNK_SIZE):
        await response.write(body[start : start + CHUNK_SIZE])
    await response.write_eof()
    return response


async def _close_mid_body(request: web.Request, status: int) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers={"Content-Length": "1000"})
    response.content_type = "application/json"
    await response.prepare(request)
    await response.write(b'{"source": "')
    request.transport.abort()
    return response


async def _stall_mid_body(request: web.Request, status: int) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers={"Content-Length": "1000"})
    response.content_type = "application/json"
    await response.prepare(request)
    await response.write(b'{"source": "')
    await asyncio.sleep(MAX_DELAY_MS / 1000)  # cancelled when the client leaves
    return response


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATS].as_dict())


async def reset(request: web.Request) -> web.Response:
    request.app[STATS] = Stats()
    return web.json_response({"reset": True})


def make_app(*, redirect_to: str = "") -> web.Application:
    app = web.Application()
    app[STATS] = Stats()
    app[REDIRECT_TO] = redirect_to
    app.router.add_route("*", "/sources/{name}", source)
    app.router.add_route("*", "/replicas/{replica:[0-9]+}/sources/{name}", source)
    app.router.add_get("/_stats", stats)
    app.router.add_post("/_reset", reset)
    return app


async def serve(*, host: str, port: int, redirect_to: str = "") -> None:
    """Serve until cancelled; handlers are cancelled when their client leaves."""
    runner = web.AppRunner(make_app(redirect_to=redirect_to), handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
