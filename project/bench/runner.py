"""The scenarios: start what each needs, drive the load client, keep medians."""

import itertools
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from tqdm import tqdm

from project.bench import profile, report, servers
from project.bench.servers import Cores, Server

SCENARIOS = ("fanout", "orm", "overhead", "export", "workers")
SOURCES = 3  # K: every source the fan-out knows
# The database of every scenario but the export: `make run`'s demo size, so
# that the ORM pair measures hops and queries, not a scan of a million rows.
DEMO_TOPICS = 1_000
# The middleware stacks the fan-out and the overhead compare, by their rows' names.
STACKS = {
    "default middleware": "project.bench.settings_default",  # Django's seven
    "hop-free middleware": "project.bench.settings_hopfree",  # the project's
    "no middleware": "project.bench.settings_bare",
}
# The fan-out variants --profile samples, at the concurrency of the Starlette target.
PROFILED = (
    "async",
    "async, hop-free middleware",
    "async, no middleware",
    "starlette",
)


@dataclass(frozen=True)
class Plan:
    """How long and how often: --quick shrinks every knob."""

    duration: float
    warmup: float
    runs: int
    sweep: tuple[int, ...]
    delay: int  # L, ms per upstream call
    rows: int  # of the streaming export's own database
    workers: int = 2

    @classmethod
    def make(cls, *, quick: bool, rows: int | None, delay: int) -> "Plan":
        """The quick plan (under 2 minutes) or the full one."""
        if quick:
            return cls(
                duration=1.0,
                warmup=0.3,
                runs=1,
                sweep=(1, 10),
                delay=delay,
                rows=rows or 20_000,
            )
        return cls(
            duration=5.0,
            warmup=2.0,
            runs=3,
            sweep=(1, 10, 50, 200),
            delay=delay,
            rows=rows or 1_000_000,
        )


@dataclass
class Bench:
    """The state of one bench run: plan, cores, folders, progress bar, results."""

    plan: Plan
    cores: Cores
    var_dir: Path
    progress: tqdm
    profile: bool = False
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.var_dir / "logs"

    def load(
        self,
        url: str,
        concurrency: int,
        *,
        duration: float,
        requests: int = 0,
        pinned: bool = True,
    ) -> dict[str, Any]:
        """One load-client process; its JSON line."""
        command = [
            *(sys.executable, "-m", "project.bench.load", url),
            *("--concurrency", str(concurrency), "--duration", str(duration)),
            *("--requests", str(requests)),
        ]
        if pinned and self.cores.client is not None:
            command += ["--cpu", str(self.cores.client)]
        # A session of its own, like the servers: Ctrl-C reaches the bench
        # only, and subprocess.run kills the client on the way out.
        done = subprocess.run(
            command,
            cwd=servers.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"The load client failed:\n{done.stderr}")
        return json.loads(done.stdout)

    def measure(
        self,
        label: str,
        target: Server,
        path: str,
        concurrency: int,
        *,
        watch: list[Server],
        requests: int = 0,
        settle: Callable[[], None] | None = None,
        memory: bool = False,
        warmup_path: str = "",
        pinned: bool = True,
        profile_as: str = "",
    ) -> dict[str, Any]:
        """Warm up, then plan.runs measured runs; the medians, and each run."""
        self.progress.set_postfix_str(f"{label} c={concurrency}")
        url = target.url + path
        warmup = self.plan.warmup
        if warmup_path:
            # A cheap request: the export's own would grow the RSS baseline.
            self.load(target.url + warmup_path, 1, duration=0, requests=1)
        elif requests:
            self.load(url, 1, duration=warmup, requests=1, pinned=pinned)
        else:
            self.load(url, concurrency, duration=warmup, pinned=pinned)
        runs = []
        baseline_rss = target.rss()
        seconds = max(1, round(self.plan.duration))
        sampled = None
        if self.profile and profile_as:
            sampled = self.var_dir / f"profile-{profile_as}.txt"
        for number in range(self.plan.runs):
            if settle:
                settle()
            cpu_before = {server.name: server.cpu_seconds() for server in watch}
            spy = (
                profile.record(target.process.pid, seconds, sampled)
                if sampled and number == 0
                else nullcontext()
            )
            with spy, _peak_rss(target) if memory else _no_peak() as peak:
                run = self.load(
                    url,
                    concurrency,
                    duration=self.plan.duration,
                    requests=requests,
                    pinned=pinned,
                )
            run["cpu_s"] = {
                server.name: round(server.cpu_seconds() - cpu_before[server.name], 3)
                for server in watch
            }
            run["server_cpu_s"] = run["cpu_s"][target.name]
            if memory:
                run["rss_growth_mb"] = round((peak[0] - baseline_rss) / 2**20, 1)
            runs.append(run)
        self.progress.update(1)
        row = {
            "name": label,
            "server": target.name,
            "path": path,
            "concurrency": concurrency,
            "requests": sum(run["requests"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
            "error_samples": [s for run in runs for s in run["error_samples"]][:5],
            "runs": runs,
        }
        for key in ("rps", "p50_ms", "p99_ms", "server_cpu_s", "client_cpu_s"):
            row[key] = round(statistics.median(run[key] for run in runs), 3)
        if sampled:
            # Sampled during the first run: its rate gives the requests sampled.
            row["profile"] = profile.breakdown(
                sampled, requests=runs[0]["rps"] * seconds
            )
        if memory:
            row["rss_growth_mb"] = max(run["rss_growth_mb"] for run in runs)
            row["seconds"] = round(statistics.median(r["duration_s"] for r in runs), 3)
        return row


@contextmanager
def _no_peak() -> Iterator[list[int]]:
    yield [0]


@contextmanager
def _peak_rss(server: Server, interval: float = 0.02) -> Iterator[list[int]]:
    """Sample the server's RSS in a thread; the peak is in the yielded list."""
    peak = [server.rss()]
    stopped = threading.Event()

    def sample() -> None:
        while not stopped.wait(interval):
            peak[0] = max(peak[0], server.rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stopped.set()
        sampler.join()
        peak[0] = max(peak[0], server.rss())


def _idle(upstream: Server, timeout: float = 120) -> Callable[[], None]:
    """Wait until the fake upstream has no call in flight: the last run is over."""

    def settle() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urlopen(f"{upstream.url}/_stats", timeout=5) as response:
                if json.load(response)["in_flight"] == 0:
                    return
            time.sleep(0.05)

    return settle


def count_points(plan: Plan, scenarios: tuple[str, ...]) -> int:
    """How many measurements the progress bar will see."""
    sweep = len(plan.sweep)
    points = {
        "fanout": 6 * sweep,
        "orm": 3,
        "overhead": 2 * len(STACKS),
        "export": 4,
        "workers": 2,
    }
    return sum(points[name] for name in scenarios)


def run_scenarios(bench: Bench, scenarios: tuple[str, ...]) -> dict[str, Any]:
    """Run the chosen scenarios; every server is stopped before this returns."""
    plan = bench.plan
    core = bench.cores.server
    database_urls = {}
    for size in dict.fromkeys(
        plan.rows if name == "export" else DEMO_TOPICS for name in scenarios
    ):
        bench.progress.set_postfix_str(f"seeding {size:,} topics (once)")
        database_urls[size] = servers.prepare_database(
            bench.var_dir, size, logs=bench.logs
        )
    with ExitStack() as stack:
        upstream = stack.enter_context(
            servers.fake_upstream(logs=bench.logs, core=core)
        )

        def app_env(size: int) -> dict[str, str]:
            return servers.app_env(
                database_urls.get(size, ""), bench.var_dir, upstream.url
            )

        env = app_env(DEMO_TOPICS)
        settle = _idle(upstream)
        if "fanout" in scenarios:
            bench.results["fanout"] = _fanout(bench, env, upstream, settle)
        if "orm" in scenarios:
            bench.results["orm"] = _orm(bench, env, upstream)
        if "overhead" in scenarios:
            bench.results["overhead"] = _overhead(bench, env, upstream)
        if "workers" in scenarios:
            bench.results["workers"] = _workers(bench, env, upstream, settle)
        if "export" in scenarios:
            bench.results["export"] = _export(bench, app_env(plan.rows), upstream)
    return bench.results


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def _fanout_query(plan: Plan) -> str:
    return f"upstream/fanout/?delay={plan.delay}"


def _fanout(
    bench: Bench,
    env: dict,
    upstream: Server,
    settle: Callable[[], None],
) -> dict[str, Any]:
    plan = bench.plan
    core = bench.cores.server

    def django_app(name: str, stack: str) -> AbstractContextManager[Server]:
        # The same views behind each middleware stack: what each stack costs.
        stack_env = {**env, "DJANGO_SETTINGS_MODULE": STACKS[stack]}
        return servers.uvicorn_app(name, stack_env, logs=bench.logs, core=core)

    with (
        django_app("django", "default middleware") as django,
        django_app("django-hopfree", "hop-free middleware") as hopfree,
        django_app("django-bare", "no middleware") as bare,
        servers.starlette_app(upstream.url, logs=bench.logs, core=core) as starlette,
    ):
        query = _fanout_query(plan)
        variants = [
            ("sync", django, f"/sync/{query}"),
            ("sync-threads", django, f"/sync-threads/{query}"),
            ("async", django, f"/async/{query}"),
            ("async, hop-free middleware", hopfree, f"/async/{query}"),
            ("async, no middleware", bare, f"/async/{query}"),
            ("starlette", starlette, f"/fanout/?delay={plan.delay}"),
        ]
        profiled = report.compared_at(plan.sweep)
        rows = [
            bench.measure(
                label,
                server,
                path,
                concurrency,
                watch=[server, upstream],
                settle=settle,
                profile_as=_slug(label)
                if concurrency == profiled and label in PROFILED
                else "",
            )
            for concurrency in plan.sweep
            for label, server, path in variants
        ]
    return {
        "title": f"Fan-out: {SOURCES} calls x {plan.delay} ms",
        "reference": "async",
        "calls": SOURCES,
        "delay_ms": plan.delay,
        "rows": rows,
    }


def _orm(bench: Bench, env: dict, upstream: Server) -> dict[str, Any]:
    path = "topics/topic-7/overview/"
    with servers.uvicorn_app(
        "django-orm", env, logs=bench.logs, core=bench.cores.server
    ) as django:
        rows = [
            bench.measure(label, django, f"/{prefix}/{path}", 1, watch=[django])
            for label, prefix in (
                ("sync", "sync"),
                ("async, one hop", "async"),
                ("async, five hops", "async-hops"),
            )
        ]
    return {
        "title": f"ORM read: topic_overview (five queries, {DEMO_TOPICS:,} topics)",
        "reference": "sync",
        "rows": rows,
    }


def _overhead(bench: Bench, env: dict, upstream: Server) -> dict[str, Any]:
    rows = []
    concurrency = 10
    for stack_name, settings_module in STACKS.items():
        server_env = {**env, "DJANGO_SETTINGS_MODULE": settings_module}
        name = "django-" + _slug(stack_name)
        with servers.uvicorn_app(
            name, server_env, logs=bench.logs, core=bench.cores.server
        ) as django:
            rows += [
                bench.measure(
                    f"{mode}, {stack_name}",
                    django,
                    f"/bench/{mode}/ping/",
                    concurrency,
                    watch=[django],
                )
                for mode in ("sync", "async")
            ]
    return {
        "title": f"Per-request overhead: a trivial view at c={concurrency}",
        "reference": "sync, default middleware",
        "rows": rows,
    }


def _workers(
    bench: Bench, env: dict, upstream: Server, settle: Callable[[], None]
) -> dict[str, Any]:
    # Every process on both cores: pinned to one core, two workers would only
    # take turns on it (the first full run measured 0.72 x one worker).
    plan = bench.plan
    concurrency = max(plan.sweep)
    path = f"/async/{_fanout_query(plan)}"
    setups = (
        ("uvicorn, 1 worker", partial(servers.uvicorn_app, "uvicorn-1")),
        (
            f"gunicorn, {plan.workers} uvicorn workers",
            partial(servers.gunicorn_app, "gunicorn", workers=plan.workers),
        ),
    )
    rows = []
    with servers.unpinned(upstream, back_to=bench.cores.server):
        for label, start in setups:
            with start(env, logs=bench.logs, core=None) as server:
                rows.append(
                    bench.measure(
                        label,
                        server,
                        path,
                        concurrency,
                        watch=[server, upstream],
                        settle=settle,
                        pinned=False,
                    )
                )
    return {
        "title": f"Workers: async fan-out at c={concurrency}, nothing pinned",
        "reference": "uvicorn, 1 worker",
        "rows": rows,
    }


def _export(bench: Bench, env: dict, upstream: Server) -> dict[str, Any]:
    rows = []
    # Under WSGI (a gunicorn sync worker) Django reads an async body whole.
    setups = (
        ("", "", servers.uvicorn_app),
        (" (WSGI)", "-wsgi", servers.gunicorn_wsgi_app),
    )
    for (label, suffix, start), mode in itertools.product(setups, ("sync", "async")):
        # A fresh server per side: memory freed by one export stays mapped.
        name = f"django-export-{mode}{suffix}"
        with start(name, env, logs=bench.logs, core=bench.cores.server) as django:
            rows.append(
                bench.measure(
                    f"{mode}{label}",
                    django,
                    f"/{mode}/exports/stream/?format=csv",
                    1,
                    watch=[django],
                    requests=1,
                    memory=True,
                    warmup_path=f"/{mode}/topics/",
                )
            )
    return {
        "title": f"Streaming export of {bench.plan.rows:,} rows (CSV)",
        "reference": "sync",
        "rows": rows,
    }
