"""A generated `startproject` host for end-to-end tests of the audit's
command line, as test_host.py builds one: an async view with a sync ORM call
(an error in code) and CONN_MAX_AGE under ASGI (an error in the settings)."""

import json
import subprocess
from pathlib import Path

from tests.audit.test_host import make_host, run

COMMAND = ["manage.py", "async_audit"]
PYTHON_M = ["-m", "topics.audit", "--settings", "host.settings"]
ENTRY_POINTS = {"manage.py async_audit": COMMAND, "python -m topics.audit": PYTHON_M}


def build_host(root: Path) -> None:
    """Generate the host project in `root` (test_host.make_host's)."""
    make_host(root)


def audit(
    root: Path, *args: str, entry: list[str] = COMMAND
) -> subprocess.CompletedProcess:
    """Run the audit in the host through `entry`, with `args`."""
    return run([*entry, *args], root)


def codes(completed: subprocess.CompletedProcess) -> list[str]:
    """The codes a --format json run reported, sorted."""
    return sorted(f["code"] for f in json.loads(completed.stdout)["findings"])
