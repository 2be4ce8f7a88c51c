"""A throwaway PostgreSQL cluster for tests and benchmarks.

Finds Debian's server binaries (``/usr/lib/postgresql/<version>/bin``), creates a cluster in a
temporary directory with ``initdb``, starts it on 127.0.0.1 with a free port (its unix socket
in the same directory), creates a database and hands out its URL. As root, the server runs as
the ``postgres`` user (PostgreSQL refuses to run as root). ``stop()`` and ``start()`` let the
fault tests take the server away mid-run; ``destroy()`` removes everything.

``CREDIT_SDK_TEST_PG_URL`` points the tests at an existing server instead (then the server
cannot be stopped by the tests, and the tests that need that are skipped).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ENV_URL = "CREDIT_SDK_TEST_PG_URL"
DATABASE = "credit_sdk_test"


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb, or None."""
    candidates = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        version = Path(initdb).parent.parent.name
        with contextlib.suppress(ValueError):
            candidates.append((float(version), Path(initdb).parent))
    return max(candidates)[1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int = 0
    fsync: bool = True
    _run_as: list[str] = field(default_factory=list)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def can_stop(self) -> bool:
        return True

    def _cmd(self, *args: str) -> list[str]:
        return [*self._run_as, *args]

    def _run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(
            self._cmd(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({proc.returncode}): {proc.stderr or proc.stdout}"
            )

    def init(self) -> None:
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: hand the directory to the postgres user.
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.datadir), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync={'on' if self.fsync else 'off'} "
            "-c max_connections=100 -c shared_buffers=64MB"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
            "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def create_database(self) -> None:
        import psycopg

        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class ExternalPg:
    """An existing server named by ``CREDIT_SDK_TEST_PG_URL``."""

    url: str

    @property
    def can_stop(self) -> bool:
        return False

    def stop(self, mode: str = "fast") -> None:
        raise RuntimeError("cannot stop an external PostgreSQL server")

    def start(self) -> None:
        raise RuntimeError("cannot start an external PostgreSQL server")

    def destroy(self) -> None:
        pass


def start_cluster(*, fsync: bool = True) -> PgCluster:
    """Create and start a fresh cluster; raise :class:`PgUnavailable` without binaries."""
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="credit-sdk-pg-"))
    cluster = PgCluster(bindir=bindir, root=root, fsync=fsync)
    try:
        cluster.init()
        for attempt in range(5):
            cluster.port = _free_port()
            try:
                cluster.start()
                break
            except RuntimeError:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        cluster.create_database()
    except BaseException:
        cluster.destroy()
        raise
    return cluster
