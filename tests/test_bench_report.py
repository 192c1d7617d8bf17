"""The bench's report: targets met or missed by their limits, a saved run reported
again and checked, a file that is not a bench result refused; and the hop-free
stack it measures."""

import json
import subprocess
import sys
from pathlib import Path

from tests.bench_support import BASE_DIR, NEEDS_BENCH_REQUIREMENTS

pytestmark = NEEDS_BENCH_REQUIREMENTS


def _rows(*rows: tuple[str, int, dict]) -> dict:
    return {"rows": [{"name": n, "concurrency": c, **values} for n, c, values in rows]}


def test_targets_are_met_or_missed_by_their_limits():
    """The eight targets against made-up numbers, each a little either side."""
    from project.bench.report import checks  # here: the module-level skip guards it

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
    from project.bench.report import checks

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

    from project.bench import settings_bare, settings_default, settings_hopfree

    pairs = zip(settings_default.MIDDLEWARE, settings_hopfree.MIDDLEWARE, strict=True)

    assert settings_hopfree.MIDDLEWARE == settings.MIDDLEWARE
    assert (
        settings_default.MIDDLEWARE[0]
        == "django.middleware.security.SecurityMiddleware"
    )
    for default, hopfree in pairs:
        assert issubclass(import_string(hopfree), import_string(default)), hopfree
    assert settings_bare.MIDDLEWARE == ["project.demo.scenario.ScenarioMiddleware"]


SNAPSHOT = BASE_DIR / "project" / "bench" / "results" / "results.json"


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
