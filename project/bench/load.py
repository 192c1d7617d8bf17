"""The load client, run as a process of its own so that its CPU is not the
server's: N workers on one aiohttp session request a URL for a duration or a
request count, and one JSON line reports latencies, errors and CPU seconds.

    python -m project.bench.load URL --concurrency 10 --duration 5 [--cpu 1]
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

import aiohttp

# A request still unanswered after this long counts as an error.
REQUEST_TIMEOUT = 60.0
ERROR_SAMPLES = 5


@dataclass
class Tally:
    """What the workers saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    bytes: int = 0

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(what)


@dataclass
class Result:
    """The run's numbers, as the JSON line says them."""

    url: str
    concurrency: int
    requests: int
    errors: int
    error_samples: list[str]
    duration_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    bytes: int
    client_cpu_s: float


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _worker(
    session: aiohttp.ClientSession,
    url: str,
    tally: Tally,
    *,
    deadline: float,
    budget: list[int],
) -> None:
    while time.monotonic() < deadline:
        if budget:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        started = time.perf_counter()
        try:
            async with session.get(url) as response:
                # Read the whole body: a streamed answer is done when it ends.
                async for chunk in response.content.iter_any():
                    tally.bytes += len(chunk)
                if not 200 <= response.status < 300:
                    tally.error(f"HTTP {response.status}")
                    continue
        except (aiohttp.ClientError, TimeoutError) as error:
            tally.error(f"{type(error).__name__}: {error}")
            continue
        tally.latencies.append(time.perf_counter() - started)


async def run(
    url: str,
    *,
    concurrency: int,
    duration: float,
    requests: int = 0,
    warmup: float = 0.0,
) -> Result:
    """Warm up, then load `url` for `duration` seconds or `requests` requests."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if warmup > 0:
            await _wave(session, url, Tally(), concurrency, warmup, [])
        tally = Tally()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        budget = [requests] if requests else []
        await _wave(session, url, tally, concurrency, duration, budget)
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    latencies = tally.latencies
    return Result(
        url=url,
        concurrency=concurrency,
        requests=len(latencies),
        errors=tally.errors,
        error_samples=tally.error_samples,
        duration_s=round(elapsed, 4),
        rps=round(len(latencies) / elapsed, 3) if elapsed else 0.0,
        p50_ms=round(percentile(latencies, 0.5) * 1000, 3),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 3),
        mean_ms=round(statistics.fmean(latencies) * 1000, 3) if latencies else 0.0,
        max_ms=round(max(latencies, default=0.0) * 1000, 3),
        bytes=tally.bytes,
        client_cpu_s=round(cpu, 4),
    )


async def _wave(
    session: aiohttp.ClientSession,
    url: str,
    tally: Tally,
    concurrency: int,
    duration: float,
    budget: list[int],
) -> None:
    # With a request count the deadline is only a safety net.
    deadline = time.monotonic() + (duration if not budget else REQUEST_TIMEOUT * 10)
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(
                _worker(session, url, tally, deadline=deadline, budget=budget)
            )


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, pin to --cpu, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--concurrency", "-c", type=int, default=1)
    parser.add_argument("--duration", "-d", type=float, default=5.0)
    parser.add_argument("--requests", "-n", type=int, default=0)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    result = asyncio.run(
        run(
            args.url,
            concurrency=args.concurrency,
            duration=args.duration,
            requests=args.requests,
            warmup=args.warmup,
        )
    )
    sys.stdout.write(json.dumps(asdict(result)) + "\n")


if __name__ == "__main__":
    main()
