"""`manage.py bench --quick` end to end: sane numbers, files written, and no
process left behind, after a normal run and after Ctrl-C."""

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

from tests.bench_support import BASE_DIR, MISSING, NEEDS_BENCH_REQUIREMENTS

pytestmark = NEEDS_BENCH_REQUIREMENTS


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
