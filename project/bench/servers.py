"""The processes the bench starts: the app under uvicorn or gunicorn, the fake
upstream and the bare Starlette app, each on a free port, pinned to the server
core, and always stopped (SIGTERM, then SIGKILL) when its context exits."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60
SHUTDOWN_TIMEOUT = 15
# Demo settings without DEBUG's query log and without the HTTPS redirect, so
# that plain http on loopback measures the views, not a 301.
BENCH_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_HSTS_SECONDS": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "LOG_LEVEL": "WARNING",
    "DJANGO_LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class Cores:
    """Which core the servers run on and which the load client does."""

    server: int | None
    client: int | None

    @classmethod
    def split(cls) -> "Cores":
        """Servers on the first allowed core, the client on the second."""
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            return cls(server=None, client=None)
        return cls(server=allowed[0], client=allowed[1])

    def describe(self) -> str:
        """One line for the report."""
        if self.server is None:
            return "not pinned (fewer than 2 cores available)"
        return (
            f"servers pinned to core {self.server}, load client to core {self.client}"
        )


@dataclass
class Server:
    """A running server process, with its log file."""

    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def tree(self) -> list[psutil.Process]:
        """The process and its children (gunicorn's workers), alive now."""
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the process tree so far."""
        total = 0.0
        for process in self.tree():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def rss(self) -> int:
        """Resident memory of the process tree, in bytes."""
        total = 0
        for process in self.tree():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total


def free_port(host: str = HOST) -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited early:\n{log.read_text()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"No server listened on {port} within {STARTUP_TIMEOUT} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process (gunicorn passes it to its workers), then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        # Kill the whole session: a stuck master must not leave workers behind.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def serve(
    name: str,
    command: list[str],
    *,
    port: int,
    env: dict[str, str],
    logs: Path,
    core: int | None,
    ready: str = "",
    ready_count: int = 1,
) -> Iterator[Server]:
    """Run the command, pinned to `core`; yield once it listens; stop it on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    with log_path.open("w") as log:
        # A session of its own: Ctrl-C reaches only the bench, which then stops
        # each server in order instead of all of them dying mid-request.
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if core is not None:
            # Before it forks its workers, which inherit the affinity.
            os.sched_setaffinity(process.pid, {core})
        _wait_until_listening(port, process, log_path)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while ready and log_path.read_text().count(ready) < ready_count:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{name} did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield Server(
            name=name, url=f"http://{HOST}:{port}", process=process, log_path=log_path
        )
    finally:
        stop(process)


@contextmanager
def unpinned(server: Server, *, back_to: int | None) -> Iterator[Server]:
    """Let a running server use every allowed core; pin it back afterwards."""
    os.sched_setaffinity(server.process.pid, os.sched_getaffinity(0))
    try:
        yield server
    finally:
        if back_to is not None and server.process.poll() is None:
            os.sched_setaffinity(server.process.pid, {back_to})


def app_env(database_url: str, var_dir: Path, upstream_url: str, **extra: str) -> dict:
    """The environment of an app server: the bench's database and folders."""
    return {
        **BENCH_ENV,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var_dir),
        "EXPORT_ROOT": str(var_dir / "exports"),
        "UPSTREAM_URL": upstream_url,
        **extra,
    }


def _uvicorn(target: str, port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", target),
        *("--host", HOST, "--port", str(port)),
        *("--no-access-log", "--log-level", "warning"),
    ]


@contextmanager
def uvicorn_app(
    name: str, env: dict[str, str], *, logs: Path, core: int | None
) -> Iterator[Server]:
    """project.asgi:application under one uvicorn process."""
    port = free_port()
    with serve(
        name,
        _uvicorn("project.asgi:application", port),
        port=port,
        env=env,
        logs=logs,
        core=core,
    ) as server:
        yield server


@contextmanager
def gunicorn_app(
    name: str, env: dict[str, str], *, workers: int, logs: Path, core: int | None
) -> Iterator[Server]:
    """The app under gunicorn with uvicorn workers (project/gunicorn.conf.py)."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", "project/gunicorn.conf.py"),
        *("--access-logfile", "/dev/null", "project.asgi:application"),
    ]
    environment = {**env, "BIND": f"{HOST}:{port}", "WEB_CONCURRENCY": str(workers)}
    # Listening means the master is up; wait for every worker's lifespan too.
    with serve(
        name,
        command,
        port=port,
        env={**environment, "LOG_LEVEL": "INFO"},
        logs=logs,
        core=core,
        ready="Application startup complete",
        ready_count=workers,
    ) as server:
        yield server


@contextmanager
def gunicorn_wsgi_app(
    name: str, env: dict[str, str], *, logs: Path, core: int | None
) -> Iterator[Server]:
    """project.wsgi:application under one gunicorn sync worker: WSGI."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "project.wsgi:application"),
        *("--worker-class", "sync", "--workers", "1", "--timeout", "600"),
        "--no-control-socket",
        *("--bind", f"{HOST}:{port}", "--access-logfile", "/dev/null"),
    ]
    with serve(name, command, port=port, env=env, logs=logs, core=core) as server:
        yield server


@contextmanager
def fake_upstream(*, logs: Path, core: int | None) -> Iterator[Server]:
    """The fake upstream service (`manage.py runupstream`)."""
    port = free_port()
    command = [sys.executable, "manage.py", "runupstream", "--host", HOST]
    with serve(
        "upstream",
        [*command, "--port", str(port)],
        port=port,
        env=BENCH_ENV,
        logs=logs,
        core=core,
    ) as server:
        yield server


@contextmanager
def starlette_app(
    upstream_url: str, *, logs: Path, core: int | None
) -> Iterator[Server]:
    """The bare Starlette fan-out (project.bench.starlette_app) under uvicorn."""
    port = free_port()
    with serve(
        "starlette",
        _uvicorn("project.bench.starlette_app:app", port),
        port=port,
        env={"UPSTREAM_URL": upstream_url},
        logs=logs,
        core=core,
    ) as server:
        yield server


def prepare_database(var_dir: Path, topics: int, *, logs: Path) -> str:
    """Migrate and seed the bench's own SQLite database once; return its URL."""
    var_dir.mkdir(parents=True, exist_ok=True)
    # One file per size: a quick run must not stream a full run's million rows.
    database_url = f"sqlite:///{var_dir / f'db-{topics}.sqlite3'}"
    marker = var_dir / f"db-{topics}.seeded"
    if marker.exists():
        return database_url
    env = {**os.environ, **app_env(database_url, var_dir, "http://127.0.0.1:9")}
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "prepare.log").open("w") as log:
        for command in (
            ["migrate", "--verbosity", "0"],
            ["seed_demo", "--topics", str(topics)],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
    marker.touch()
    return database_url
