"""Run the real ASGI app under uvicorn in a subprocess, against the test database."""

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

from django.conf import settings
from django.db import connection

UVICORN = [sys.executable, "-m", "uvicorn", "project.asgi:application"]
UVICORN += ["--host", "127.0.0.1"]
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """A DATABASE_URL for the database the test run created."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not listen within {STARTUP_TIMEOUT} s")


@contextmanager
def uvicorn_server(**env: str) -> Iterator[Server]:
    """Serve project.asgi:application on a free port; SIGTERM it on exit."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "VAR_DIR": str(settings.VAR_DIR),
        **env,
    }
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "uvicorn.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [*UVICORN, "--port", str(port)],
                cwd=settings.BASE_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(
            url=f"http://127.0.0.1:{port}", process=process, log_path=log_path
        )
        try:
            _wait_until_listening(port, process, log_path)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            server.output = log_path.read_text()
