"""Small values derived from files outside the store and kept in it, so a report need not derive them again.

The programme report needs each bank version's level scale and names, which live in the bank's and its framework's
YAML (loading them took 0.4–0.6 s of every report). ``derived_values`` (schema version 7) keeps such a value as
JSON text under a key (``level-scale/<fingerprint>``); the value carries what the caller needs to tell whether it
still holds (e.g. the files it came from, with their size and modification time), and the caller checks it: the
store only keeps text. A write that fails (a read-only store) loses nothing but the time it would save.
"""

from __future__ import annotations

from typing import Any

from digicomp.store.records import utc_now


def get(store: Any, key: str) -> str | None:
    """The value kept under ``key``, or None."""
    rows = store._read("SELECT value FROM derived_values WHERE key = ?", (key,))
    return rows[0][0] if rows else None


def put(store: Any, key: str, value: str) -> bool:
    """Keep ``value`` under ``key`` (replacing what was there); False when the store refused the write."""
    try:
        with store._transaction() as cur:
            cur.execute(
                store._sql(
                    "INSERT INTO derived_values (key, value, made_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                    "DO UPDATE SET value = excluded.value, made_at = excluded.made_at"
                ),
                (key, value, utc_now()),
            )
    except store._driver_error:
        return False
    return True
