"""The embedded back end: one SQLite file in WAL mode, safe for several processes writing at once.

WAL lets readers run while one writer commits; writers take the write lock up front (``BEGIN IMMEDIATE``) and
wait up to ``timeout`` seconds for each other instead of failing. ``synchronous=FULL`` makes a commit durable
before ``write`` returns, so a session reported written survives a crash of the process or the machine.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from digicomp.errors import StoreError
from digicomp.store.base import ResponseStore

SQLITE_HEADER = b"SQLite format 3\x00"


class SQLiteStore(ResponseStore):
    """A response store in one SQLite file (created with its tables when absent)."""

    dialect = "sqlite"
    _id_type = "INTEGER PRIMARY KEY"
    _driver_error = sqlite3.Error
    _integrity_error = sqlite3.IntegrityError

    def __init__(self, path: str | Path, *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        super().__init__(f"sqlite:///{self.path}")
        _check_file(self.path)
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            _enable_wal(self._conn, timeout)
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(
                f"{self.path}: cannot open as a SQLite store ({exc}); the file is damaged or is not a SQLite database"
            ) from None
        self._migrate()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            self._conn.rollback()
            raise
        cur.execute("COMMIT")

    def _tables(self, cur: Any) -> set[str]:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in cur.fetchall()}

    def check(self) -> list[str]:
        """SQLite's ``integrity_check`` of every page and index, foreign keys, then whole sessions.

        Slow on big files, so it is not run when a store is opened.
        """
        try:
            problems = [r[0] for r in self._read("PRAGMA integrity_check") if r[0] != "ok"]
            problems = problems or [f"foreign key: {r}" for r in self._read("PRAGMA foreign_key_check")]
            return problems or super().check()
        except StoreError as exc:
            return [str(exc)]


def _check_file(path: Path) -> None:
    """StoreError when ``path`` exists but is not a SQLite file (SQLite would only notice on first use)."""
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a store file")
    if not path.exists():
        if not path.parent.exists():
            raise StoreError(f"{path}: folder {path.parent} does not exist")
        return
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{path}: is not a SQLite database (its first bytes are {head[:8]!r}); the file is "
            "corrupted or is something else; refusing to open it as a store"
        )


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, retrying while another process holds the lock.

    Changing the journal mode needs an exclusive lock, and SQLite may report "database is locked" at once
    (without its busy handler) when several processes open a new file together.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
