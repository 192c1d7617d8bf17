"""`bench --profile`: py-spy samples a server while the load runs, and the samples
are summed up by component — the evidence for where a request's CPU goes.

Only samples holding the GIL are kept (`py-spy record --gil`): with one event
loop per process that is the Python work the core does, not threads waiting.
A sample first goes to the hop or thread it belongs to, wherever in its stack
that shows: the request's own thread (Django's ThreadSensitiveContext makes
asgiref start one per request, and join it in another), request_started's hop,
response.close()'s hop (request_finished), URL resolving, a middleware hook or
its hop. Any other sample belongs to the innermost frame that names a
component: the JSON a view's response encodes is Django's, the JSON aiohttp
decodes is aiohttp's.
"""

import itertools
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RATE = 200  # samples per second
APP = "the app (topics/, project/)"
AIOHTTP = "aiohttp (the upstream calls)"
MIDDLEWARE = "Django middleware: hooks, their hops"
URLS = "URL resolving"
REQUEST_STARTED = "request_started: its receivers' hop"
RESPONSE_CLOSE = "response.close(): request_finished's hop"
REQUEST_THREAD = "ThreadSensitiveContext: the request's thread"
FRAMEWORK = "the framework (django/, starlette/)"
ASGIREF = "asgiref sync_to_async, unattributed"
THREADS = "threads: hand over, unattributed"
EVENT_LOOP = "uvicorn and the event loop"
OTHER = "other"
NAMES = (
    APP,
    AIOHTTP,
    MIDDLEWARE,
    URLS,
    REQUEST_STARTED,
    RESPONSE_CLOSE,
    REQUEST_THREAD,
    FRAMEWORK,
    ASGIREF,
    THREADS,
    EVENT_LOOP,
    OTHER,
)
# (component, how its frames' paths begin), tried in this order on each frame
# from the leaf up, for a sample no hop or thread claimed.
INNERMOST = (
    (APP, ("topics/", "project/")),
    (AIOHTTP, ("aiohttp/", "yarl/", "multidict/")),
    (FRAMEWORK, ("django/", "starlette/")),
    (ASGIREF, ("asgiref/",)),
    (THREADS, ("concurrent/futures/", "threading.py")),
    (EVENT_LOOP, ("uvicorn/", "asyncio/")),
)
RUNNER = "asyncio/runners.py"  # uvloop's loop runs the tasks below it
EXECUTOR = "concurrent/futures/thread.py"
ASGIREF_SYNC = "asgiref/sync.py"
DISPATCHER = "django/dispatch/dispatcher.py"
MIDDLEWARE_PATHS = (
    "django/utils/deprecation.py",  # MiddlewareMixin
    "django/middleware/",
    "topics/hopfree/",
)


Frame = tuple[str, str]  # (function, path)


def _frame(text: str) -> Frame:
    # py-spy names a frame "function (path/from/sys/path.py:line)".
    name, _, where = text.rpartition(" (")
    return name, where.rpartition(":")[0]


def _is(frame: Frame, function: str, path: str) -> bool:
    # Python 3.11+ names a method by its qualified name: "Signal.asend".
    return frame[1] == path and frame[0].rpartition(".")[2] == function


def _calls(frames: list[Frame], caller: tuple[str, str], callee: str) -> bool:
    """Whether the function `caller` calls straight into a module under `callee`."""
    return any(
        _is(frame, *caller) and below[1].startswith(callee)
        for frame, below in itertools.pairwise(frames)
    )


def _is_middleware(path: str) -> bool:
    return path.startswith(MIDDLEWARE_PATHS) or path.endswith("/middleware.py")


def _in_middleware(frames: list[Frame]) -> bool:
    """Whether the innermost middleware frame is a hook's own work or its hop,
    rather than the next layer of the stack (which the handler's frames call)."""
    for index in range(len(frames) - 1, -1, -1):
        if _is_middleware(frames[index][1]):
            below = frames[index + 1 : index + 2]
            return not (below and below[0][1].startswith("django/core/handlers/"))
    return False


def _task_root(frames: list[Frame]) -> Frame | None:
    """The coroutine the event loop runs at the root of the stack, if any."""
    loop = [index for index, (_, path) in enumerate(frames) if path == RUNNER]
    if loop and loop[-1] + 1 < len(frames):
        return frames[loop[-1] + 1]
    return None


def _hop_or_thread(frames: list[Frame]) -> str | None:
    """The hop or thread a sample belongs to, from anywhere in its stack."""
    on_thread = bool(frames) and frames[0][0].endswith("_bootstrap")
    worker = any(_is(frame, "_worker", EXECUTOR) for frame in frames)
    if (on_thread and not worker) or any(
        _is(frame, "_adjust_thread_count", EXECUTOR)
        or (
            frame[1] == ASGIREF_SYNC
            and ("__aenter__" in frame[0] or "__aexit__" in frame[0])
        )
        for frame in frames
    ):
        # A thread starting or ending; the handler's ThreadSensitiveContext
        # entered, or left (asgiref then joins the request's thread).
        return REQUEST_THREAD
    root = _task_root(frames)
    # Signal.asend runs the sync receivers' sync_to_async as a task of its own.
    if any("asend" in name and path == DISPATCHER for name, path in frames) or (
        root is not None and _is(root, "__call__", ASGIREF_SYNC)
    ):
        return REQUEST_STARTED
    if _calls(frames, ("handle", "django/core/handlers/asgi.py"), "asgiref/") or any(
        _is(frame, "close", "django/http/response.py") for frame in frames
    ):
        return RESPONSE_CLOSE
    if any(path.startswith("django/urls/") for _, path in frames):
        return URLS
    # A process_view() hop; a sync view's own hop would look the same, but
    # the profile samples async views only.
    if _in_middleware(frames) or _calls(
        frames, ("_get_response_async", "django/core/handlers/base.py"), "asgiref/"
    ):
        return MIDDLEWARE
    return None


def _owner(stack: list[str]) -> str:
    frames = [_frame(text) for text in stack]
    found = _hop_or_thread(frames)
    if found:
        return found
    for _, path in reversed(frames):  # from the leaf up
        for name, beginnings in INNERMOST:
            if path.startswith(beginnings):
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
    per_request = 1000 / RATE / requests if requests else 0.0
    return {
        "file": str(path),
        "samples": total,
        "requests": round(requests),
        "ms_total": round(total * per_request, 3),
        "shares": {
            name: round(found[name] / total, 3) if total else 0.0 for name in NAMES
        },
        "ms_per_request": {name: round(found[name] * per_request, 3) for name in NAMES},
    }
