"""Real servers in subprocesses: the ASGI app under uvicorn or gunicorn, the WSGI
app under gunicorn's sync workers, against the test database, and the fake
upstream service."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import skipUnless
from urllib.request import Request, urlopen

from django.conf import settings
from django.db import connection

POSTGRESQL_ONLY = "runs on PostgreSQL (DATABASE_URL); CI runs it there"
# For the tests that need PostgreSQL: row locks, pg_stat_activity, the pool.
requires_postgresql = skipUnless(connection.vendor == "postgresql", POSTGRESQL_ONLY)

MANAGE = [sys.executable, "manage.py"]
# Plain uvicorn as the README starts it: with project.serve's limits.
UVICORN = [sys.executable, "-m", "project.serve"]
# uvicorn's own command line, with its defaults: no graceful shutdown timeout.
PLAIN_UVICORN = [sys.executable, "-m", "uvicorn", "project.asgi:application"]
GUNICORN = [
    *(sys.executable, "-m", "gunicorn"),
    *("-c", "project/gunicorn.conf.py", "project.asgi:application"),
]
# gunicorn's sync workers: WSGI, each async view in an event loop of its own.
GUNICORN_WSGI = [
    *(sys.executable, "-m", "gunicorn", "--worker-class", "sync"),
    *("--workers", "1", "--timeout", "120", "--no-control-socket"),
    "project.wsgi:application",
]
STARTUP_TIMEOUT = 30
SHUTDOWN_TIMEOUT = 30


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    output: str = field(default="")  # the whole log, once the server has stopped

    def log_so_far(self) -> str:
        """What the running server has logged until now."""
        return self.log_path.read_text()


class FakeUpstream(Server):
    """The fake upstream, with what it saw (`manage.py runupstream`)."""

    def stats(self) -> dict:
        with urlopen(f"{self.url}/_stats", timeout=5) as response:
            return json.load(response)

    def reset(self) -> None:
        urlopen(Request(f"{self.url}/_reset", method="POST"), timeout=5).close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """A DATABASE_URL for the database the test run created."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_until_listening(
    host: str, port: int, process: subprocess.Popen, log: Path
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited early:\n{log.read_text()}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"The server did not listen within {STARTUP_TIMEOUT} s")


@contextmanager
def _serve(
    command: list[str],
    *,
    host: str,
    port: int,
    env: dict,
    kind: type[Server],
    listening: bool = True,
) -> Iterator[Server]:
    """Run the command; yield once it listens (at once if not `listening`);
    SIGTERM it on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = kind(url=f"http://{host}:{port}", process=process, log_path=log_path)
        try:
            if listening:
                _wait_until_listening(host, port, process, log_path)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            server.output = log_path.read_text()


def _app_environment(env: dict[str, str]) -> dict[str, str]:
    """Settings for a server the tests start: their database, their folders."""
    return {
        "DATABASE_URL": database_url(),
        "VAR_DIR": str(settings.VAR_DIR),
        "UPSTREAM_URL": settings.UPSTREAM_URL,
        "EXPORT_ROOT": str(settings.EXPORT_ROOT),
        **env,
    }


@contextmanager
def uvicorn_server(
    *options: str, plain: bool = False, listening: bool = True, **env: str
) -> Iterator[Server]:
    """Serve project.asgi:application on a free port, on the test database.

    `options` are more uvicorn options (--workers 2...); `plain` runs uvicorn's
    own command line instead of project.serve's; not `listening`: yield at once,
    for a server that may never listen.
    """
    port = free_port()
    command = [*(PLAIN_UVICORN if plain else UVICORN), *options]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    environment = _app_environment(env)
    with _serve(
        command,
        host="127.0.0.1",
        port=port,
        env=environment,
        kind=Server,
        listening=listening,
    ) as s:
        yield s


@contextmanager
def gunicorn_server(workers: int = 2, **env: str) -> Iterator[Server]:
    """Serve the app with gunicorn and uvicorn workers (project/gunicorn.conf.py)."""
    port = free_port()
    environment = _app_environment(
        {"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers), **env}
    )
    with _serve(
        GUNICORN, host="127.0.0.1", port=port, env=environment, kind=Server
    ) as server:
        # Listening means the master is up; wait for every worker's lifespan too.
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while server.log_so_far().count("Application startup complete") < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Workers did not start:\n{server.log_so_far()}")
            time.sleep(0.1)
        yield server


@contextmanager
def gunicorn_wsgi_server(**env: str) -> Iterator[Server]:
    """Serve project.wsgi:application with one gunicorn sync worker."""
    port = free_port()
    command = [*GUNICORN_WSGI, "--bind", f"127.0.0.1:{port}"]
    with _serve(
        command, host="127.0.0.1", port=port, env=_app_environment(env), kind=Server
    ) as server:
        yield server


@contextmanager
def modules_on_path(modules: dict[str, str]) -> Iterator[dict[str, str]]:
    """Write these modules (name: source) to a temporary folder; yield the
    environment that puts them on a server's import path."""
    with tempfile.TemporaryDirectory() as folder:
        for name, source in modules.items():
            (Path(folder) / f"{name}.py").write_text(source)
        yield {"PYTHONPATH": os.pathsep.join([folder, str(settings.BASE_DIR)])}


@contextmanager
def upstream_server(
    host: str = "127.0.0.1", redirect_to: str = ""
) -> Iterator[FakeUpstream]:
    """Serve the fake upstream on a free port of `host`."""
    port = free_port(host)
    command = [*MANAGE, "runupstream", "--host", host, "--port", str(port)]
    command += ["--redirect-to", redirect_to]
    with _serve(command, host=host, port=port, env={}, kind=FakeUpstream) as server:
        yield server
