"""`manage.py bench --quick` end to end: sane numbers, files written, and no
process left behind, after a normal run and after Ctrl-C."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
MISSING = [
    name
    for name in ("matplotlib", "starlette")
    if importlib.util.find_spec(name) is None
]
# Locally the bench requirements are optional; CI installs them, so there a
# missing one fails the test instead of skipping it.
if MISSING and os.environ.get("CI") != "true":
    pytestmark = pytest.mark.skip(
        reason=f"needs requirements-bench.txt ({', '.join(MISSING)} missing)"
    )


def _tagged(marker: str) -> list[psutil.Process]:
    """Every process started with BENCH_TEST_MARKER=marker, the bench's included."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("BENCH_TEST_MARKER") == marker:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def _bench(out: Path, *args: str) -> list[str]:
    return [
        *(sys.executable, "manage.py", "bench", "--quick", "--out", str(out)),
        *args,
    ]


def _env(marker: str) -> dict[str, str]:
    return {**os.environ, "BENCH_TEST_MARKER": marker}


@pytest.mark.timeout(150)
def test_quick_bench(tmp_path: Path) -> None:
    assert not MISSING, f"CI installs requirements-bench.txt: {MISSING} missing"
    marker = uuid.uuid4().hex
    done = subprocess.run(
        _bench(tmp_path, "--rows", "3000", "--profile"),
        cwd=BASE_DIR,
        env=_env(marker),
        capture_output=True,
        text=True,
        timeout=140,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((tmp_path / "latest.json").read_text())
    scenarios = document["scenarios"]
    assert set(scenarios) == {"fanout", "orm", "overhead", "export", "workers"}
    for name, scenario in scenarios.items():
        assert scenario["rows"], name
        for row in scenario["rows"]:
            where = f"{name}/{row['name']} c={row['concurrency']}"
            assert row["errors"] == 0, (where, row["error_samples"])
            assert row["rps"] > 0, where
            assert row["p50_ms"] > 0, where
            assert row["p99_ms"] >= row["p50_ms"], where
            assert row["server_cpu_s"] >= 0, where
    # Each fan-out takes at least one upstream delay; the sync twin three.
    fanout = {(r["name"], r["concurrency"]): r for r in scenarios["fanout"]["rows"]}
    delay = scenarios["fanout"]["delay_ms"]
    assert fanout["async", 1]["p50_ms"] >= delay
    assert fanout["async, hop-free middleware", 1]["p50_ms"] >= delay
    assert fanout["async, no middleware", 1]["p50_ms"] >= delay
    assert fanout["sync", 1]["p50_ms"] >= 3 * delay
    # --profile sampled the four servers at the top of the sweep.
    sampled = {r["name"] for r in scenarios["fanout"]["rows"] if "profile" in r}
    assert sampled == {
        "async",
        "async, hop-free middleware",
        "async, no middleware",
        "starlette",
    }
    for name in sampled:
        found = fanout[name, 10]["profile"]
        assert found["samples"] > 0, name
        assert abs(sum(found["shares"].values()) - 1) < 0.01, found
    # The real py-spy frames are recognised (over all four: a 1 s run is few
    # samples), the hops of Django's handler among them.
    for component in (
        "aiohttp (the upstream calls)",
        "request_started: its receivers' hop",
        "response.close(): request_finished's hop",
    ):
        assert sum(
            fanout[name, 10]["profile"]["ms_per_request"][component] for name in sampled
        ), component
    assert [row["name"] for row in scenarios["overhead"]["rows"]] == [
        f"{mode}, {stack} middleware"
        for stack in ("default", "hop-free", "no")
        for mode in ("sync", "async")
    ]
    assert "Where the server's time goes" in done.stdout
    assert document["machine"]["pinning"]
    assert len(document["checks"]) == 8
    assert (tmp_path / "latest.png").stat().st_size > 0
    assert "Targets" in done.stdout
    assert _tagged(marker) == []


@pytest.mark.timeout(90)
def test_ctrl_c_stops_every_server(tmp_path: Path) -> None:
    assert not MISSING, f"CI installs requirements-bench.txt: {MISSING} missing"
    marker = uuid.uuid4().hex
    log = tmp_path / "bench.log"
    with log.open("w") as output:
        bench = subprocess.Popen(
            _bench(tmp_path, "--scenario", "fanout"),
            cwd=BASE_DIR,
            env=_env(marker),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # The bench, the fake upstream, three Django servers and Starlette.
        deadline = time.monotonic() + 60
        while len(_tagged(marker)) < 6:
            assert bench.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(0.5)
        bench.send_signal(signal.SIGINT)
        returncode = bench.wait(timeout=45)
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    assert returncode != 0
    assert "Interrupted" in log.read_text()
    assert _tagged(marker) == []


def _rows(*rows: tuple[str, int, dict]) -> dict:
    return {"rows": [{"name": n, "concurrency": c, **values} for n, c, values in rows]}


def test_targets_are_met_or_missed_by_their_limits():
    """The eight targets against made-up numbers, each a little either side."""
    from topics.bench.report import checks  # here: the module-level skip guards it

    results = {
        "fanout": {
            "delay_ms": 100,
            **_rows(
                ("async", 1, {"p50_ms": 104.9, "rps": 9.5}),
                ("async", 50, {"p50_ms": 120.0, "rps": 94.0}),
                ("async, hop-free middleware", 50, {"p50_ms": 112.0, "rps": 113.0}),
                ("async, no middleware", 50, {"p50_ms": 110.0, "rps": 120.0}),
                ("starlette", 50, {"p50_ms": 110.0, "rps": 100.0}),
                ("async", 200, {"p50_ms": 900.0, "rps": 100.0}),
                ("async, hop-free middleware", 200, {"p50_ms": 700.0, "rps": 139.0}),
            ),
        },
        "orm": _rows(
            ("sync", 1, {"p50_ms": 10.0}), ("async, one hop", 1, {"p50_ms": 11.4})
        ),
        "export": _rows(("async", 1, {"rss_growth_mb": 64.5})),
    }

    found = [(item["met"], item["value"], item["limit"]) for item in checks(results)]

    assert found == [
        (True, 104.9, 105.0),  # p50 within 1.05 x 100 ms
        (False, 94.0, 95.0),  # under 0.95 x Starlette's req/s
        (True, 113.0, 112.8),  # hop-free over 1.2 x Django's default stack at c=50
        (False, 139.0, 140.0),  # and under 1.4 x at c=200
        (True, 113.0, 90.0),  # hop-free over 0.90 x Starlette's req/s
        (False, 113.0, 114.0),  # hop-free more than 5 % under no middleware
        (True, 11.4, 11.5),  # one hop within 1.15 x sync
        (False, 64.5, 64.0),  # RSS growth over 64 MB
    ]


def test_a_fanout_without_200_leaves_its_target_unmeasured():
    """--quick sweeps c=1 and c=10: the c=200 target is not measured, not missed."""
    from topics.bench.report import checks

    results = {
        "fanout": {
            "delay_ms": 100,
            **_rows(
                ("async", 10, {"p50_ms": 101.0, "rps": 90.0}),
                ("async, hop-free middleware", 10, {"p50_ms": 101.0, "rps": 95.0}),
            ),
        }
    }

    found = {item["target"]: item["met"] for item in checks(results)}

    assert found["hop-free middleware >= 1.4 x Django's default req/s at c=200"] is None
    assert found["hop-free middleware >= 1.2 x Django's default req/s at c=10"] is False


def test_the_hop_free_stack_is_the_projects_and_djangos_defaults_one_for_one():
    """The bench's hop-free stack is the project's MIDDLEWARE; each of its
    classes subclasses the one in Django's default stack at the same place."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from topics.bench import settings_bare, settings_default, settings_hopfree

    pairs = zip(settings_default.MIDDLEWARE, settings_hopfree.MIDDLEWARE, strict=True)

    assert settings_hopfree.MIDDLEWARE == settings.MIDDLEWARE
    assert (
        settings_default.MIDDLEWARE[0]
        == "django.middleware.security.SecurityMiddleware"
    )
    for default, hopfree in pairs:
        assert issubclass(import_string(hopfree), import_string(default)), hopfree
    assert settings_bare.MIDDLEWARE == []


SNAPSHOT = BASE_DIR / "topics" / "bench" / "results" / "results.json"


def _report(saved: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "bench", "--from", str(saved), *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _fanout_row(document: dict, name: str, concurrency: int) -> dict:
    rows = document["scenarios"]["fanout"]["rows"]
    return next(r for r in rows if (r["name"], r["concurrency"]) == (name, concurrency))


def test_check_exits_1_when_a_saved_run_missed_a_target(tmp_path: Path) -> None:
    """--from reports the committed snapshot again; --check's exit code follows
    the targets, which are computed anew from the saved numbers."""
    document = json.loads(SNAPSHOT.read_text())
    _fanout_row(document, "async", 1)["p50_ms"] = 100.0
    starlette = _fanout_row(document, "starlette", 50)["rps"]
    busiest = _fanout_row(document, "async", 200)["rps"]
    for name, concurrency, rps in (
        ("async", 50, starlette),
        ("async, hop-free middleware", 50, 1.3 * starlette),
        ("async, no middleware", 50, 1.3 * starlette),
        ("async, hop-free middleware", 200, 1.5 * busiest),
    ):
        _fanout_row(document, name, concurrency)["rps"] = rps
    met = tmp_path / "met.json"
    met.write_text(json.dumps(document))
    _fanout_row(document, "async", 1)["p50_ms"] = 105.1
    missed = tmp_path / "missed.json"
    missed.write_text(json.dumps(document))

    passed = _report(met, "--check", "--no-chart")
    failed = _report(missed, "--check", "--no-chart")
    unchecked = _report(missed, "--no-chart")

    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.count("  met ") == 8, passed.stdout
    assert failed.returncode == 1
    assert "A target was missed." in failed.stderr
    assert "MISSED       async fan-out p50 at c=1" in failed.stdout
    assert unchecked.returncode == 0, unchecked.stderr
    assert "Machine: " in unchecked.stdout


def test_a_file_that_is_not_a_bench_result_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"scenarios": {}}')

    done = _report(broken, "--no-chart")

    assert done.returncode == 1
    assert "not a bench results file" in done.stderr
    assert "Traceback" not in done.stderr


def _stack(*frames: str) -> str:
    return ";".join(frames)


LOOP = "Runner.run (asyncio/runners.py:118)"
THREAD = _stack(
    "Thread._bootstrap (threading.py:995)",
    "Thread._bootstrap_inner (threading.py:1038)",
    "Thread.run (threading.py:975)",
)
BETWEEN_CALLS = _stack(THREAD, "_worker (concurrent/futures/thread.py:83)")
WORKER = _stack(
    BETWEEN_CALLS,
    "_WorkItem.run (concurrent/futures/thread.py:58)",
    "SyncToAsync.thread_handler (asgiref/sync.py:600)",
)
HANDLE = _stack(
    LOOP,
    "ASGIHandler.__call__ (django/core/handlers/asgi.py:166)",
    "ASGIHandler.handle (django/core/handlers/asgi.py:233)",
)
HOP = _stack(
    "SyncToAsync.__call__ (asgiref/sync.py:557)",
    "ThreadPoolExecutor.submit (concurrent/futures/thread.py:175)",
)
CHAIN = _stack(
    LOOP,
    "BaseHandler.get_response_async (django/core/handlers/base.py:162)",
    "convert_exception_to_response.<locals>.inner"
    " (django/core/handlers/exception.py:42)",
)


def test_a_sample_belongs_to_its_hop_or_thread_then_its_innermost_component(
    tmp_path: Path,
) -> None:
    """Stacks as py-spy reads them from Django's ASGI handler (abridged)."""
    from topics.bench.profile import breakdown

    raw = tmp_path / "raw.txt"
    raw.write_text(
        "\n".join(
            [
                # The handler enters a ThreadSensitiveContext; the first hop
                # starts the request's thread; asgiref joins it at the end.
                _stack(
                    LOOP,
                    "ASGIHandler.__call__ (django/core/handlers/asgi.py:165)",
                    "ThreadSensitiveContext.__aenter__ (asgiref/sync.py:173) 1",
                ),
                _stack(
                    LOOP,
                    HOP,
                    "ThreadPoolExecutor._adjust_thread_count"
                    " (concurrent/futures/thread.py:199)",
                    "Thread.start (threading.py:964) 3",
                ),
                _stack(
                    THREAD,
                    "ThreadSensitiveContext.__aexit__.<locals>.join"
                    " (asgiref/sync.py:195)",
                    "ThreadPoolExecutor.shutdown (concurrent/futures/thread.py:235) 1",
                ),
                # Signal.asend's sync_to_async runs as a task: at the stack's root.
                _stack(LOOP, HOP + " 4"),
                _stack(
                    WORKER,
                    "Signal.asend.<locals>.sync_send"
                    " (django/dispatch/dispatcher.py:241)",
                    "close_old_connections (django/db/__init__.py:61) 1",
                ),
                # The handler awaits response.close() in a hop of its own.
                _stack(HANDLE, HOP + " 5"),
                _stack(
                    WORKER,
                    "HttpResponseBase.close (django/http/response.py:335)",
                    "Signal.send (django/dispatch/dispatcher.py:189) 1",
                ),
                # A MiddlewareMixin hook's hop, and a hop-free hook inline.
                _stack(
                    CHAIN,
                    "MiddlewareMixin.__acall__ (django/utils/deprecation.py:148)",
                    HOP + " 2",
                ),
                _stack(
                    CHAIN,
                    "HopFreeMixin.__acall__ (topics/hopfree/__init__.py:117)",
                    "HopFreeMixin._arun (topics/hopfree/__init__.py:110)",
                    "MessageMiddleware.process_request"
                    " (django/contrib/messages/middleware.py:12)",
                    "LazyObject.__getattribute__ (django/utils/functional.py:280) 2",
                ),
                # The view behind the stack: its innermost component, aiohttp.
                _stack(
                    CHAIN,
                    "MiddlewareMixin.__acall__ (django/utils/deprecation.py:150)",
                    "convert_exception_to_response.<locals>.inner"
                    " (django/core/handlers/exception.py:42)",
                    "aupstream_fanout (topics/views/fanout.py:40)",
                    "ClientResponse.json (aiohttp/client_reqrep.py:1) 2",
                ),
                # An asgiref Local read while resolving is the resolver's.
                _stack(
                    CHAIN,
                    "URLResolver.resolve (django/urls/resolvers.py:660)",
                    "_DefaultLocal.__getattr__ (asgiref/local.py:1) 1",
                ),
                # A worker thread between calls: which hop, the stack cannot tell.
                BETWEEN_CALLS + " 1",
                "mystery (elsewhere.py:1) 1",
            ]
        )
    )

    found = breakdown(raw, requests=10)

    assert found["samples"] == 25
    assert {name: ms for name, ms in found["ms_per_request"].items() if ms} == {
        "ThreadSensitiveContext: the request's thread": 2.5,  # 5 x 5 ms / 10
        "request_started: its receivers' hop": 2.5,
        "response.close(): request_finished's hop": 3.0,
        "Django middleware: hooks, their hops": 2.0,
        "aiohttp (the upstream calls)": 1.0,
        "URL resolving": 0.5,
        "threads: hand over, unattributed": 0.5,
        "other": 0.5,
    }
    assert found["ms_total"] == 12.5
    assert found["shares"]["response.close(): request_finished's hop"] == 0.24
