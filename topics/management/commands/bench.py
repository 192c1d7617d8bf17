import signal
import sys
import time
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from topics.bench import report
from topics.bench.runner import SCENARIOS, Bench, Plan, count_points, run_scenarios
from topics.bench.servers import Cores


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C: every context stops the server it started.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Benchmark sync vs async twins against real servers (uvicorn, gunicorn, "
        "the fake upstream, bare Starlette); print a table, write JSON and a PNG."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quick", action="store_true", help="Short runs, small sweep: < 2 min."
        )
        parser.add_argument(
            "--scenario",
            action="append",
            choices=SCENARIOS,
            help="Run only these (repeatable); all by default.",
        )
        parser.add_argument(
            "--rows", type=int, default=None, help="Rows of the streaming export."
        )
        parser.add_argument(
            "--delay", type=int, default=100, help="ms per upstream call (L)."
        )
        parser.add_argument(
            "--out", type=Path, default=None, help="Folder (default VAR_DIR/bench)."
        )
        parser.add_argument(
            "--no-chart", action="store_true", help="Skip the PNG (no matplotlib)."
        )
        parser.add_argument(
            "--check", action="store_true", help="Exit 1 when a target is missed."
        )

    def handle(self, *args: object, **options: object) -> None:
        scenarios = tuple(options["scenario"] or SCENARIOS)
        plan = Plan.make(
            quick=bool(options["quick"]), rows=options["rows"], delay=options["delay"]
        )
        out_dir: Path = options["out"] or settings.VAR_DIR / "bench"
        cores = Cores.split()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.stdout.write(
            f"Bench ({'quick' if options['quick'] else 'full'}): {cores.describe()}"
        )
        previous = signal.signal(signal.SIGTERM, _terminate)
        started = time.monotonic()
        try:
            with tqdm(
                total=count_points(plan, scenarios), unit="run", file=sys.stderr
            ) as progress:
                bench = Bench(
                    plan=plan, cores=cores, var_dir=out_dir, progress=progress
                )
                results = run_scenarios(bench, scenarios)
        except KeyboardInterrupt as interrupt:
            raise CommandError(
                "Interrupted: every server the bench started is stopped."
            ) from interrupt
        finally:
            signal.signal(signal.SIGTERM, previous)
        report.add_ratios(results)
        found = report.checks(results)
        document = {
            "machine": report.machine(cores),
            "plan": plan.__dict__,
            "scenarios": results,
            "checks": found,
            "seconds": round(time.monotonic() - started, 1),
        }
        self.stdout.write(report.table(results))
        self.stdout.write(report.format_checks(found))
        path = report.write_json(document, out_dir, stamp)
        self.stdout.write(f"\nWrote {path} (and latest.json)")
        if not options["no_chart"]:
            self.stdout.write(
                f"Wrote {report.chart(results, out_dir, stamp)} (and latest.png)"
            )
        self.stdout.write(f"Machine: {document['machine']}")
        if options["check"] and any(item["met"] is False for item in found):
            raise CommandError("A target was missed.", returncode=1)
