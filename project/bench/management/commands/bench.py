import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from project.bench import profile, report
from project.bench.runner import SCENARIOS, Bench, Plan, count_points, run_scenarios
from project.bench.servers import Cores


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
        parser.add_argument(
            "--profile",
            action="store_true",
            help="Sample the fan-out's servers with py-spy: where the time goes.",
        )
        parser.add_argument(
            "--from",
            dest="saved",
            type=Path,
            default=None,
            help="Report a saved results JSON again; run nothing.",
        )

    def handle(self, *args: object, **options: object) -> None:
        out_dir: Path = options["out"] or settings.VAR_DIR / "bench"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        if options["saved"]:
            document = self._load(options["saved"])
        else:
            document = self._run(options, out_dir)
            path = report.write_json(document, out_dir, stamp)
        results = document["scenarios"]
        self.stdout.write(report.table(results))
        self.stdout.write(report.profiles(results))
        self.stdout.write(report.format_checks(document["checks"]))
        if not options["saved"]:
            self.stdout.write(f"\nWrote {path} (and latest.json)")
        if not options["no_chart"]:
            self.stdout.write(
                f"Wrote {report.chart(results, out_dir, stamp)} (and latest.png)"
            )
        self.stdout.write(f"Machine: {report.describe_machine(document['machine'])}")
        if options["check"] and any(
            item["met"] is False for item in document["checks"]
        ):
            raise CommandError("A target was missed.", returncode=1)

    def _run(self, options: dict[str, object], out_dir: Path) -> dict[str, object]:
        """Start the servers, run the scenarios; the document to report."""
        scenarios = tuple(options["scenario"] or SCENARIOS)
        if options["profile"] and profile.py_spy() is None:
            raise CommandError(
                "--profile needs py-spy: pip install -r requirements-bench.txt"
            )
        plan = Plan.make(
            quick=bool(options["quick"]), rows=options["rows"], delay=options["delay"]
        )
        cores = Cores.split()
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
                    plan=plan,
                    cores=cores,
                    var_dir=out_dir,
                    progress=progress,
                    profile=bool(options["profile"]),
                )
                results = run_scenarios(bench, scenarios)
        except KeyboardInterrupt as interrupt:
            raise CommandError(
                "Interrupted: every server the bench started is stopped."
            ) from interrupt
        except RuntimeError as error:
            raise CommandError(
                f"{error}\nEvery server the bench started is stopped."
            ) from error
        finally:
            signal.signal(signal.SIGTERM, previous)
        report.add_ratios(results)
        return {
            "machine": report.machine(cores),
            "plan": plan.__dict__,
            "scenarios": results,
            "checks": report.checks(results),
            "seconds": round(time.monotonic() - started, 1),
        }

    def _load(self, path: Path) -> dict[str, object]:
        """A saved document, its targets checked again (the limits may have moved)."""
        try:
            document = json.loads(path.read_text())
            document["checks"] = report.checks(document["scenarios"])
            report.describe_machine(document["machine"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(f"{path}: not a bench results file ({error}).") from None
        return document
