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
    assert fanout["async, no middleware", 1]["p50_ms"] >= delay
    assert fanout["sync", 1]["p50_ms"] >= 3 * delay
    # --profile sampled the three servers at the top of the sweep.
    sampled = {r["name"] for r in scenarios["fanout"]["rows"] if "profile" in r}
    assert sampled == {"async", "async, no middleware", "starlette"}
    for name in sampled:
        found = fanout[name, 10]["profile"]
        assert found["samples"] > 0, name
        assert abs(sum(found["shares"].values()) - 1) < 0.01, found
    # The real py-spy frames are recognised (over all three: a 1 s run is few samples).
    aiohttp = "aiohttp (the upstream calls)"
    assert sum(
        fanout[name, 10]["profile"]["ms_per_request"][aiohttp] for name in sampled
    )
    assert "Where the server's time goes" in done.stdout
    assert document["machine"]["pinning"]
    assert len(document["checks"]) == 4
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
        # The bench, the fake upstream, Django and Starlette: the servers are up.
        deadline = time.monotonic() + 60
        while len(_tagged(marker)) < 4:
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
    """The four targets against made-up numbers: each side of each limit."""
    from topics.bench.report import checks  # here: the module-level skip guards it

    results = {
        "fanout": {
            "delay_ms": 100,
            **_rows(
                ("async", 1, {"p50_ms": 104.9, "rps": 9.5}),
                ("async", 50, {"p50_ms": 120.0, "rps": 94.0}),
                ("starlette", 50, {"p50_ms": 110.0, "rps": 100.0}),
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
        (True, 11.4, 11.5),  # one hop within 1.15 x sync
        (False, 64.5, 64.0),  # RSS growth over 64 MB
    ]


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
    _fanout_row(document, "async", 50)["rps"] = _fanout_row(document, "starlette", 50)[
        "rps"
    ]
    met = tmp_path / "met.json"
    met.write_text(json.dumps(document))
    _fanout_row(document, "async", 1)["p50_ms"] = 105.1
    missed = tmp_path / "missed.json"
    missed.write_text(json.dumps(document))

    passed = _report(met, "--check", "--no-chart")
    failed = _report(missed, "--check", "--no-chart")
    unchecked = _report(missed, "--no-chart")

    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.count("  met ") == 4, passed.stdout
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


def test_a_sample_belongs_to_its_innermost_component(tmp_path: Path) -> None:
    from topics.bench.profile import breakdown

    raw = tmp_path / "raw.txt"
    raw.write_text(
        "\n".join(
            [
                # A session lookup inside a MiddlewareMixin hook: middleware.
                "run (asyncio/runners.py:1);__acall__ (django/utils/deprecation.py:2);"
                "process_request (django/contrib/sessions/middleware.py:3) 4",
                # The event loop blocked starting asgiref's thread: threads.
                "run (asyncio/runners.py:1);__call__ (asgiref/sync.py:2);"
                "start (threading.py:3);wait (threading.py:4) 3",
                # JSON decoded for an upstream answer: aiohttp, not the view.
                "afetch (topics/upstream/client.py:1);json (aiohttp/client.py:2);"
                "loads (json/__init__.py:3) 2",
                "mystery (elsewhere.py:1) 1",
            ]
        )
    )

    found = breakdown(raw, requests=10)

    assert found["samples"] == 10
    assert found["ms_per_request"]["Django middleware"] == 2.0  # 4 x 5 ms / 10
    assert found["ms_per_request"]["threads: start, hand over, join"] == 1.5
    assert found["ms_per_request"]["aiohttp (the upstream calls)"] == 1.0
    assert found["ms_per_request"]["other"] == 0.5
    assert found["ms_per_request"]["the app (topics/, project/)"] == 0.0
    assert found["ms_total"] == 5.0
    assert found["shares"]["Django middleware"] == 0.4
