"""The response store: every finished (and optionally abandoned) session, kept for reporting and recalibration.

``open_store(url)`` gives a :class:`ResponseStore` on SQLite (a file path or ``sqlite:///path``) or PostgreSQL
(``postgresql://user@host:port/db``). Sessions go in as :class:`SessionRecord` (``SessionRecord.from_session``),
come out as records, a long CSV (:func:`export_csv`) or :class:`~digicomp.responses.Responses` for calibration.
"""

from __future__ import annotations

from os import PathLike

from digicomp.errors import StoreError
from digicomp.store.base import ResponseStore, StoredResponses
from digicomp.store.export import export_csv
from digicomp.store.records import ServedItem, SessionRecord
from digicomp.store.schema import SCHEMA_VERSION


def open_store(url: str | PathLike[str], **options: float) -> ResponseStore:
    """The store at ``url``: ``postgresql://...`` (or ``postgres://``), ``sqlite:///path``, or a plain file path."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from digicomp.store.postgres import PostgresStore

        return PostgresStore(text, **options)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise StoreError(f"{text}: unknown store URL scheme; expected postgresql://, sqlite:/// or a file path")
    from digicomp.store.sqlite import SQLiteStore

    return SQLiteStore(text, **options)


__all__ = [
    "SCHEMA_VERSION",
    "ResponseStore",
    "ServedItem",
    "SessionRecord",
    "StoredResponses",
    "export_csv",
    "open_store",
]
