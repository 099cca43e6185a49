"""The server back end: PostgreSQL through psycopg 3 (optional extra ``postgres``), for programmes beyond one machine.

The connection runs in autocommit mode and every write is an explicit transaction, so a session is committed
whole when ``write`` returns. Concurrent first openings serialise their migration on an advisory lock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from digicomp.errors import StoreError
from digicomp.store.base import _INSERT_SESSION, ResponseStore

_CURSORS = itertools.count()
_MIGRATION_LOCK = 0x6469_6769  # "digi": advisory lock id held while the schema is created or migrated


def _redacted(url: str) -> str:
    """``url`` without its password (error messages name the server, never the secret)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(ResponseStore):
    """A response store in a PostgreSQL database (tables created in it when absent)."""

    dialect = "postgresql"
    _id_type = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    _blob_type = "BYTEA"

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        super().__init__(_redacted(url))
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"{self.url}: PostgreSQL stores need psycopg; install digicomp[postgres] "
                "(pip install 'psycopg[binary]>=3.1')"
            ) from None
        self._driver_error = psycopg.Error
        self._integrity_error = psycopg.IntegrityError
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
        except psycopg.Error as exc:
            raise StoreError(f"{self.url}: cannot connect to PostgreSQL: {str(exc).strip()}") from None
        self._migrate()

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def _read_cursor(self) -> Any:
        """Results in binary format: the same Python values, but ``bytea`` columns (scores, log-likelihoods) arrive as
        their bytes, not as hex text twice their size to be decoded (the programme report's reading of 200,000
        sessions' side table took half again as long, and its memory's page faults more)."""
        return self._conn.cursor(binary=True)

    @contextmanager
    def _streaming_cursor(self) -> Iterator[Any]:
        """A server-side cursor (binary results) in a read transaction: a client-side one receives the whole result
        into memory at ``execute``, however it is then fetched."""
        name = f"digicomp_stream_{next(_CURSORS)}"  # streams may nest on one connection
        with self._conn.transaction(), self._conn.cursor(name=name, binary=True) as cur:
            yield cur

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    def _insert_sessions(self, cur: Any, rows: list[tuple]) -> list[int]:
        """One pipelined ``executemany`` for the whole batch (psycopg returns each row's ``ref``)."""
        cur.executemany(self._sql(_INSERT_SESSION + " RETURNING ref"), rows, returning=True)
        refs = []
        while True:
            refs.append(int(cur.fetchone()[0]))
            if not cur.nextset():
                return refs

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _tables(self, cur: Any) -> set[str]:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r[0] for r in cur.fetchall()}
