"""A throw-away PostgreSQL server (initdb + pg_ctl in a temporary folder) for tests and benchmarks.

It listens on 127.0.0.1 at a free port with trust authentication, so use it for nothing but tests. PostgreSQL
refuses to run as root; as root the server programs run as the ``postgres`` user (Debian's package creates it).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from digicomp.errors import StoreError

INSTALL_HINT = "apt-get update && apt-get install -y postgresql"


def server_bin() -> Path:
    """Folder of initdb and pg_ctl (Debian's /usr/lib/postgresql/<version>/bin, else the PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise StoreError(f"PostgreSQL server programs (initdb, pg_ctl) not found; install them: {INSTALL_HINT}")
    return Path(initdb).parent


class TemporaryPostgres:
    """``with TemporaryPostgres() as server:`` a running server; ``server.url(db)`` and ``server.new_database()``."""

    def __init__(self, user: str = "digicomp") -> None:
        self.user = user
        self.port = 0
        self.root: Path | None = None

    def _run(self, program: str, *args: str) -> None:
        cmd = [str(server_bin() / program), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise StoreError(f"{program} failed ({done.returncode}): {(done.stdout + done.stderr).strip()}")

    def __enter__(self) -> TemporaryPostgres:
        self.root = Path(tempfile.mkdtemp(prefix="digicomp-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C")
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=50",
        )
        self._n = 0
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """Connection URL of ``database`` on this server."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        import psycopg

        self._n += 1
        name = f"d{os.getpid()}_{self._n}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)
