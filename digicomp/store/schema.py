"""The store's tables, as versioned migrations: a new store runs them all, an older one the missing ones.

SQL is written once for both back ends; ``{ID}`` is the dialect's auto-increment primary key. Timestamps are
ISO 8601 UTC text, JSON columns are text, booleans are 0/1 integers, so both back ends hold identical values.
"""

from __future__ import annotations

SCHEMA_TABLE = "digicomp_schema"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # version 1: banks, sessions and their responses
    (
        f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER NOT NULL, migrated_at TEXT NOT NULL)",
        """CREATE TABLE banks (
            fingerprint TEXT PRIMARY KEY,
            bank_id TEXT NOT NULL,
            version TEXT NOT NULL,
            items TEXT NOT NULL,
            registered_at TEXT NOT NULL)""",
        """CREATE TABLE sessions (
            ref {ID},
            session_id TEXT NOT NULL UNIQUE,
            person_id TEXT,
            bank_fingerprint TEXT NOT NULL REFERENCES banks (fingerprint),
            design_hash TEXT,
            status TEXT NOT NULL CHECK (status IN ('finished', 'abandoned')),
            started_at TEXT,
            finished_at TEXT,
            written_at TEXT NOT NULL,
            stop_reason TEXT,
            theta DOUBLE PRECISION,
            se DOUBLE PRECISION,
            level TEXT,
            n_items INTEGER NOT NULL,
            result TEXT)""",
        """CREATE TABLE responses (
            session_ref BIGINT NOT NULL REFERENCES sessions (ref),
            position INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            score INTEGER NOT NULL,
            answer TEXT,
            seconds DOUBLE PRECISION,
            pretest INTEGER NOT NULL,
            PRIMARY KEY (session_ref, position))""",
        "CREATE INDEX sessions_by_bank ON sessions (bank_fingerprint, status)",
    ),
    # version 2: the recalibrations made from the store (provenance of new bank versions)
    (
        """CREATE TABLE recalibrations (
            ref {ID},
            made_at TEXT NOT NULL,
            source_fingerprint TEXT NOT NULL,
            new_fingerprint TEXT NOT NULL,
            mode TEXT NOT NULL,
            n_sessions INTEGER NOT NULL,
            n_responses INTEGER NOT NULL,
            provenance TEXT NOT NULL)""",
    ),
    # version 3: organisational units (a tree), persons linked to units, and the unit a session was taken in
    (
        """CREATE TABLE units (
            unit TEXT PRIMARY KEY,
            parent TEXT,
            name_vi TEXT,
            name_en TEXT,
            headcount INTEGER)""",
        """CREATE TABLE person_units (
            person_id TEXT PRIMARY KEY,
            unit TEXT NOT NULL,
            linked_at TEXT NOT NULL)""",
        "ALTER TABLE sessions ADD COLUMN unit TEXT",
        "CREATE INDEX sessions_by_unit ON sessions (unit)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
