"""Time the layout page's twins under uvicorn: one render hop, or all loaded first.

    python -m project.bench.layout [--requests N] [--concurrency C]

Seeds its own SQLite database (VAR_DIR/bench-layout), serves the app with one
uvicorn process, and sends each twin N requests, C at a time, as a visitor and
logged in as the demo user; prints the median and 90th percentile latency.
"""

import argparse
import asyncio
import re
import statistics
import time
from pathlib import Path

import aiohttp

from project.bench.servers import BASE_DIR, app_env, prepare_database, uvicorn_app

TWINS = ("sync", "async", "async-loaded")
ROUTE = "html/tags/django/"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def _logged_in(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(f"{url}/accounts/login/") as response:
        token = CSRF_INPUT.search(await response.text())[1]
    form = {"username": "demo", "password": "demo", "csrfmiddlewaretoken": token}
    async with session.post(
        f"{url}/accounts/login/", data=form, allow_redirects=False
    ) as response:
        if response.status != 302:
            raise RuntimeError(f"Logging in as demo answered {response.status}.")


async def _timed(session: aiohttp.ClientSession, url: str, count: int, at_once: int):
    limit = asyncio.Semaphore(at_once)
    times: list[float] = []

    async def one() -> None:
        async with limit:
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}.")
            times.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.perf_counter() - started
    return statistics.median(times), statistics.quantiles(times, n=10)[-1], elapsed


async def _measure(url: str, count: int, at_once: int) -> None:
    print(f"{count} requests per twin, {at_once} at a time: median / p90 ms, req/s")
    for who in ("visitor", "demo"):
        # unsafe: keep the cookies of an IP address (the server is 127.0.0.1).
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            if who == "demo":
                await _logged_in(session, url)
            for twin in TWINS:
                page = f"{url}/{twin}/{ROUTE}"
                await _timed(session, page, 20, at_once)  # warm-up
                median, p90, elapsed = await _timed(session, page, count, at_once)
                print(
                    f"{who:8} {twin:13} {median:6.2f} {p90:6.2f} {count / elapsed:7.0f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    var_dir = Path(BASE_DIR / "var" / "bench-layout")
    database_url = prepare_database(var_dir, 1000, logs=var_dir / "logs")
    env = app_env(database_url, var_dir, "http://127.0.0.1:9")
    with uvicorn_app("layout", env, logs=var_dir / "logs", core=None) as server:
        asyncio.run(_measure(server.url, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
