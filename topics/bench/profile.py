"""`bench --profile`: py-spy samples a server while the load runs, and the samples
are summed up by component — the evidence for where a request's CPU goes.

Only samples holding the GIL are kept (`py-spy record --gil`): with one event
loop per process that is the Python work the core does, not threads waiting.
A sample belongs to the innermost frame that names a component: a session
lookup inside SessionMiddleware is middleware, the JSON a view's response
encodes is Django's, a thread start asgiref asks for is the threads'.
"""

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RATE = 200  # samples per second
# (component, how its frames' paths begin), tried in this order on each frame:
# py-spy names a frame "function (path/from/sys/path.py:line)".
COMPONENTS = (
    ("the app (topics/, project/)", ("(topics/", "(project/")),
    ("aiohttp (the upstream calls)", ("(aiohttp/", "(yarl/", "(multidict/")),
    (
        "Django middleware",
        ("(django/utils/deprecation.py", "(django/middleware/", "/middleware.py"),
    ),
    ("URL resolving", ("(django/urls/",)),
    ("the framework (django/, starlette/)", ("(django/", "(starlette/")),
    ("asgiref sync_to_async", ("(asgiref/",)),
    ("threads: start, hand over, join", ("(concurrent/futures/", "(threading.py")),
    ("uvicorn and the event loop", ("(uvicorn/", "(asyncio/")),
)
OTHER = "other"


def _owner(frames: list[str]) -> str:
    for frame in reversed(frames):  # from the leaf up
        for name, fragments in COMPONENTS:
            if any(fragment in frame for fragment in fragments):
                return name
    return OTHER


def py_spy() -> str | None:
    """The py-spy executable beside this Python, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def record(pid: int, seconds: float, out: Path) -> Iterator[Path]:
    """Sample the process for `seconds` while the body runs; raw stacks in `out`."""
    executable = py_spy()
    if executable is None:
        raise RuntimeError(
            "--profile needs py-spy: pip install -r requirements-bench.txt"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        *(executable, "record", "--pid", str(pid), "--duration", str(seconds)),
        *("--rate", str(RATE), "--format", "raw", "--gil", "--nonblocking"),
        *("--output", str(out)),
    ]
    spy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield out
    finally:
        output, _ = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed (ptrace allowed?):\n{output.decode()}")


def breakdown(path: Path, *, requests: float) -> dict[str, Any]:
    """Each component's share of the GIL-holding samples in a raw py-spy file,
    and its milliseconds per request over the `requests` served meanwhile."""
    found: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            found[_owner(stack.split(";"))] += int(count)
    total = sum(found.values())
    names = [name for name, _ in COMPONENTS] + [OTHER]
    per_request = 1000 / RATE / requests if requests else 0.0
    return {
        "file": str(path),
        "samples": total,
        "requests": round(requests),
        "ms_total": round(total * per_request, 3),
        "shares": {
            name: round(found[name] / total, 3) if total else 0.0 for name in names
        },
        "ms_per_request": {name: round(found[name] * per_request, 3) for name in names},
    }
