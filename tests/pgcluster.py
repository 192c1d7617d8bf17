"""A throwaway PostgreSQL cluster: initdb and pg_ctl on a free port, in a
temporary directory, removed afterwards; never the shared server."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.servers import free_port

# The OS user that owns the cluster: initdb refuses to run as root.
OWNER = "postgres"
START_TIMEOUT = 30  # seconds pg_ctl waits for the server to accept connections


def postgresql_bin() -> Path | None:
    """The folder with initdb and pg_ctl: $PG_BIN, the newest Debian one, or $PATH."""
    candidates = [os.environ.get("PG_BIN", "")]
    # Debian's layout, newest major version first (sorted as numbers, not text).
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda folder: int(Path(folder).parent.name),
        reverse=True,
    )
    on_path = shutil.which("initdb")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _owner_uid_gid() -> tuple[int, int] | None:
    """The owner's ids when running as root (the cluster must not be root's)."""
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam(OWNER)
    return user.pw_uid, user.pw_gid


def cluster_unavailable_reason() -> str:
    """Why no throwaway cluster can be made here; '' when one can."""
    if postgresql_bin() is None:
        return "needs the PostgreSQL server binaries (initdb, pg_ctl); set PG_BIN"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OWNER)
        except KeyError:
            return f"runs as root: needs the {OWNER!r} OS user to own the cluster"
        if shutil.which("runuser") is None:
            return "runs as root: needs runuser to act as the cluster's owner"
    return ""


@dataclass
class Cluster:
    """A running throwaway cluster; stop() and start() it to stage an outage."""

    bin_dir: Path
    root: Path
    port: int
    database: str

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_path(self) -> Path:
        return self.root / "postgresql.log"

    @property
    def url(self) -> str:
        """A DATABASE_URL for the cluster's database (trust auth, no password)."""
        return f"postgres://{OWNER}@127.0.0.1:{self.port}/{self.database}"

    def conninfo(self, database: str | None = None) -> str:
        return (
            f"host=127.0.0.1 port={self.port} user={OWNER} "
            f"dbname={database or self.database}"
        )

    def connect(self, database: str | None = None) -> psycopg.Connection:
        """A direct psycopg connection (autocommit); close it, or use `with`."""
        return psycopg.connect(self.conninfo(database), autocommit=True)

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        """Run initdb or pg_ctl as the cluster's owner; raise with its output."""
        command = [str(self.bin_dir / tool), *args]
        if _owner_uid_gid() is not None:
            command = ["runuser", "-u", OWNER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.log_path.read_text() if self.log_path.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n{log}"
            )
        return result

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        self.run(
            "pg_ctl",
            *("start", "-D", str(self.data_dir), "-l", str(self.log_path)),
            *("-w", "-t", str(START_TIMEOUT), "-o", options),
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session, as a restart does."""
        self.run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w")

    def is_running(self) -> bool:
        command = [str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)]
        if _owner_uid_gid() is not None:
            command = ["runuser", "-u", OWNER, "--", *command]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0


@contextmanager
def throwaway_cluster(database: str = "asyncref") -> Iterator[Cluster]:
    """initdb a cluster in a temporary directory, start it on a free port with
    `database` created, yield it; stop it and delete everything on exit."""
    bin_dir = postgresql_bin()
    if bin_dir is None:
        raise RuntimeError(cluster_unavailable_reason())
    root = Path(tempfile.mkdtemp(prefix="asyncref-pg-"))
    cluster = Cluster(bin_dir=bin_dir, root=root, port=free_port(), database=database)
    try:
        cluster.socket_dir.mkdir()
        if (ids := _owner_uid_gid()) is not None:
            for path in (root, cluster.socket_dir):
                os.chown(path, *ids)
        # --no-sync: nobody needs this cluster to survive a power cut.
        cluster.run(
            "initdb",
            *("-D", str(cluster.data_dir), "-U", OWNER, "-A", "trust"),
            *("-E", "UTF8", "--locale", "C", "--no-sync"),
        )
        cluster.start()
        with cluster.connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        yield cluster
    finally:
        # Immediate: a server left stopped or half-started must not outlive us.
        if cluster.data_dir.exists() and cluster.is_running():
            cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)
