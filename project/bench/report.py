"""What the bench prints and writes: the table, the targets, the JSON, the chart."""

import json
import os
import platform
import re
from pathlib import Path
from typing import Any

import django
import psutil

from project.bench.servers import Cores

# The fan-out's Django variants besides "async", which has Django's default stack.
HOPFREE = "async, hop-free middleware"
BARE = "async, no middleware"

COLUMNS = (
    ("name", "variant", "<28"),
    ("concurrency", "c", ">4"),
    ("requests", "reqs", ">6"),
    ("rps", "req/s", ">9.1f"),
    ("ratio", "x ref", ">6.2f"),
    ("p50_ms", "p50 ms", ">9.1f"),
    ("p99_ms", "p99 ms", ">9.1f"),
    ("errors", "errs", ">5"),
    ("server_cpu_s", "srv CPU s", ">9.2f"),
    ("client_cpu_s", "cli CPU s", ">9.2f"),
)


def _width(spec: str) -> str:
    # ">9.1f" -> ">9": the header and a missing cell take the column's width.
    return re.match(r"[<>]\d+", spec).group()


def machine(cores: Cores) -> dict[str, Any]:
    """The machine, as the output describes it."""
    frequency = psutil.cpu_freq()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cpu_mhz": round(frequency.max or frequency.current) if frequency else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "pinning": cores.describe(),
    }


def describe_machine(found: dict[str, Any]) -> str:
    """The machine in one line."""
    speed = f" at {found['cpu_mhz']} MHz" if found.get("cpu_mhz") else ""
    return (
        f"{found['cpus']} x {found['processor']}{speed}, {found['memory_gb']} GB,"
        f" {found['platform']}; Python {found['python']},"
        f" Django {found.get('django', '?')}; {found['pinning']}"
    )


def add_ratios(results: dict[str, Any]) -> None:
    """Each row's req/s over its scenario's reference at the same concurrency."""
    for scenario in results.values():
        reference = {
            row["concurrency"]: row["rps"]
            for row in scenario["rows"]
            if row["name"] == scenario["reference"]
        }
        for row in scenario["rows"]:
            base = reference.get(row["concurrency"])
            row["ratio"] = round(row["rps"] / base, 3) if base else None


def table(results: dict[str, Any]) -> str:
    """Plain-text tables, one per scenario."""
    lines = []
    for scenario in results.values():
        lines += [
            "",
            f"{scenario['title']}  (x ref: req/s over {scenario['reference']!r})",
        ]
        lines.append(" ".join(f"{title:{_width(spec)}}" for _, title, spec in COLUMNS))
        for row in scenario["rows"]:
            cells = []
            for key, _, spec in COLUMNS:
                value = row.get(key)
                cells.append(
                    f"{'-':{_width(spec)}}" if value is None else f"{value:{spec}}"
                )
            extra = ""
            if "rss_growth_mb" in row:
                extra = f"  {row['seconds']:.2f} s, RSS +{row['rss_growth_mb']:.1f} MB"
            lines.append(" ".join(cells) + extra)
    return "\n".join(lines)


def _sampled(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        row
        for scenario in results.values()
        for row in scenario["rows"]
        if "profile" in row
    ]


def profiles(results: dict[str, Any]) -> str:
    """The --profile breakdowns side by side: GIL ms per request by component."""
    sampled = _sampled(results)
    if not sampled:
        return ""
    width = max(len(name) for name in sampled[0]["profile"]["ms_per_request"])
    column = max(22, *(len(row["name"]) for row in sampled))  # a cell is 22 wide
    lines = [
        "",
        "Where the server's time goes (py-spy, samples holding the GIL),"
        f" ms per request at c={sampled[0]['concurrency']}",
        f"{'component':<{width}} "
        + " ".join(f"{row['name']:>{column}}" for row in sampled),
    ]
    for name in sampled[0]["profile"]["ms_per_request"]:
        cells = []
        for row in sampled:
            ms, share = (
                row["profile"][key][name] for key in ("ms_per_request", "shares")
            )
            cells.append(f"{ms:>13.3f} ({share:>5.1%})")
        lines.append(f"{name:<{width}} " + " ".join(f"{c:>{column}}" for c in cells))
    totals = " ".join(f"{row['profile']['ms_total']:>{column}.3f}" for row in sampled)
    lines.append(f"{'total':<{width}} {totals}")
    return "\n".join(lines)


def compared_at(sweep: list[int] | tuple[int, ...]) -> int:
    """The concurrency Django meets Starlette at: 50, or (--quick) the sweep's top."""
    return 50 if 50 in sweep else max(sweep)


def _row(
    results: dict, scenario: str, name: str, concurrency: int | None
) -> dict | None:
    for row in results.get(scenario, {}).get("rows", []):
        if row["name"] == name and row["concurrency"] == concurrency:
            return row
    return None


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets: met, missed, or not measured in this run."""
    found = []

    def check(
        target: str,
        value: float | None,
        limit: float | None,
        note: str,
        *,
        at_least: bool = False,
    ) -> None:
        if value is None or limit is None:
            met = None
        else:
            met = value >= limit if at_least else value <= limit
        found.append(
            {"target": target, "value": value, "limit": limit, "met": met, "note": note}
        )

    def fanout(name: str, concurrency: int | None, key: str) -> float | None:
        row = _row(results, "fanout", name, concurrency)
        return row[key] if row else None

    def share(name: str, concurrency: int | None, fraction: float) -> float | None:
        rps = fanout(name, concurrency, "rps")
        return round(fraction * rps, 3) if rps is not None else None

    if "fanout" in results:
        sweep = [row["concurrency"] for row in results["fanout"]["rows"]]
        top = compared_at(sweep)
        busiest = 200 if 200 in sweep else None
        delay = results["fanout"]["delay_ms"]
    else:
        top = busiest = delay = None

    def others(concurrency: int | None, key: str, unit: str) -> str:
        # The same view behind the other stacks: how much of a miss is the stack's.
        values = [
            f"{name.removeprefix('async, ')} {value}"
            for name in (HOPFREE, BARE)
            if (value := fanout(name, concurrency, key)) is not None
        ]
        return "; ".join([unit, *values]) if delay else "not run"

    check(
        "async fan-out p50 at c=1 <= 1.05 x slowest upstream",
        fanout("async", 1, "p50_ms"),
        round(1.05 * delay, 3) if delay else None,
        others(1, "p50_ms", "ms"),
    )
    check(
        f"Django async fan-out >= 0.95 x Starlette req/s at c={top}",
        fanout("async", top, "rps"),
        share("starlette", top, 0.95),
        others(top, "rps", "req/s"),
        at_least=True,
    )
    for concurrency, fraction in ((top, 1.2), (busiest, 1.4)):
        check(
            f"hop-free middleware >= {fraction} x Django's default req/s"
            f" at c={concurrency or 200}",
            fanout(HOPFREE, concurrency, "rps"),
            share("async", concurrency, fraction),
            "req/s" if concurrency else "not run",
            at_least=True,
        )
    check(
        f"Django async, hop-free middleware >= 0.90 x Starlette req/s at c={top}",
        fanout(HOPFREE, top, "rps"),
        share("starlette", top, 0.90),
        "req/s" if delay else "not run",
        at_least=True,
    )
    check(
        f"hop-free middleware within 5 % of no middleware, req/s at c={top}",
        fanout(HOPFREE, top, "rps"),
        share(BARE, top, 0.95),
        "req/s" if delay else "not run",
        at_least=True,
    )
    sync = _row(results, "orm", "sync", 1)
    hop = _row(results, "orm", "async, one hop", 1)
    check(
        "async ORM read, one hop, p50 <= 1.15 x sync at c=1",
        hop and hop["p50_ms"],
        sync and round(1.15 * sync["p50_ms"], 3),
        "ms" if sync else "not run",
    )
    export = _row(results, "export", "async", 1)
    check(
        "async streaming export: server RSS growth <= 64 MB",
        export and export["rss_growth_mb"],
        64.0 if export else None,
        "MB" if export else "not run",
    )
    return found


def format_checks(found: list[dict[str, Any]]) -> str:
    """One line per target."""
    lines = ["", "Targets"]
    for item in found:
        state = {True: "met", False: "MISSED", None: "not measured"}[item["met"]]
        lines.append(
            f"  {state:<12} {item['target']}: {item['value']} vs {item['limit']}"
            f" ({item['note']})"
        )
    return "\n".join(lines)


def write_json(document: dict[str, Any], out_dir: Path, stamp: str) -> Path:
    """results-<stamp>.json, and latest.json beside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"results-{stamp}.json"
    text = json.dumps(document, indent=2)
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return path


def chart(results: dict[str, Any], out_dir: Path, stamp: str) -> Path:
    """A PNG with one panel per scenario; chart-<stamp>.png and latest.png."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot

    panels = list(results.items())
    sampled = _sampled(results)
    if sampled:
        panels.append(("profile", {"rows": sampled}))
    figure, axes = pyplot.subplots(
        len(panels), 1, figsize=(9, 3.2 * len(panels)), squeeze=False
    )
    for axis, (key, scenario) in zip(axes[:, 0], panels, strict=True):
        rows = scenario["rows"]
        if key == "profile":
            _profile_panel(axis, rows)
            continue
        if key == "fanout":
            for name in dict.fromkeys(row["name"] for row in rows):
                points = [row for row in rows if row["name"] == name]
                axis.plot(
                    [row["concurrency"] for row in points],
                    [row["rps"] for row in points],
                    marker="o",
                    label=name,
                )
            axis.set_xscale("log")
            axis.set_xlabel("concurrency")
            axis.set_ylabel("req/s")
            axis.legend()
        else:
            labels = [row["name"] for row in rows]
            if key == "export":
                values = [row["rss_growth_mb"] for row in rows]
                axis.set_ylabel("server RSS growth, MB")
            elif key == "orm":
                values = [row["p50_ms"] for row in rows]
                axis.set_ylabel("p50, ms")
            else:
                values = [row["rps"] for row in rows]
                axis.set_ylabel("req/s")
            axis.barh(labels, values)
            axis.set_xlabel(axis.get_ylabel())
            axis.set_ylabel("")
        axis.set_title(scenario["title"])
    figure.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"chart-{stamp}.png"
    figure.savefig(path, dpi=100)
    figure.savefig(out_dir / "latest.png", dpi=100)
    pyplot.close(figure)
    return path


def _profile_panel(axis: Any, rows: list[dict[str, Any]]) -> None:
    """One stacked bar per sampled server: its ms per request, by component."""
    from matplotlib import colormaps

    labels = [row["name"] for row in rows]
    left = [0.0] * len(rows)
    # Twenty colours: the default cycle's ten would repeat across the components.
    palette = colormaps["tab20"].colors
    for index, name in enumerate(rows[0]["profile"]["ms_per_request"]):
        widths = [row["profile"]["ms_per_request"][name] for row in rows]
        axis.barh(labels, widths, left=left, label=name, color=palette[index % 20])
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axis.set_xlabel("server CPU (GIL held) per request, ms")
    axis.set_xlim(0, 2 * max(left))  # the right half holds the legend
    axis.legend(fontsize="x-small", loc="center right")
    axis.set_title(f"Where the time goes at c={rows[0]['concurrency']} (py-spy)")
