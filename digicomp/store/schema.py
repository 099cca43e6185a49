"""The store's tables, as versioned migrations: a new store runs them all, an older one the missing ones.

SQL is written once for both back ends; ``{ID}`` is the dialect's auto-increment primary key, ``{BLOB}`` its
binary type. Timestamps are ISO 8601 UTC text, JSON columns are text, booleans are 0/1 integers, so both back ends
hold identical values. A step that is not SQL is a function ``(store, cursor)`` run inside the migration's
transaction (e.g. back-filling a new table from the stored JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from digicomp.store.scores import backfill

SCHEMA_TABLE = "digicomp_schema"

MIGRATIONS: tuple[tuple[str | Callable[[Any, Any], Any], ...], ...] = (
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
    # version 4: live sessions of `digicomp serve` (state + version for optimistic concurrency), each accepted
    # answer as it is acknowledged, and the replay guard's high-water marks for client-held states
    (
        """CREATE TABLE live_sessions (
            session_id TEXT PRIMARY KEY,
            design TEXT NOT NULL,
            person_id TEXT,
            unit TEXT,
            lang TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'finished', 'abandoned')),
            version INTEGER NOT NULL,
            step INTEGER NOT NULL,
            state TEXT NOT NULL,
            last_request TEXT,
            last_reply TEXT,
            served_at TEXT,
            seconds TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX live_sessions_by_unit ON live_sessions (unit, status)",
        """CREATE TABLE live_answers (
            session_id TEXT NOT NULL REFERENCES live_sessions (session_id),
            step INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            answer TEXT,
            score INTEGER NOT NULL,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (session_id, step))""",
        """CREATE TABLE replay_marks (
            nonce TEXT PRIMARY KEY,
            step INTEGER NOT NULL,
            updated_at TEXT NOT NULL)""",
    ),
    # version 5: each session's per-area scores and "to work on" list beside its result JSON (one row per session,
    # packed arrays: digicomp.store.scores), filled from the stored results of the sessions already there
    (
        """CREATE TABLE session_scores (
            session_ref BIGINT PRIMARY KEY REFERENCES sessions (ref),
            n_areas INTEGER NOT NULL,
            areas TEXT NOT NULL,
            area_theta {BLOB} NOT NULL,
            area_se {BLOB} NOT NULL,
            area_n_items {BLOB} NOT NULL,
            area_level TEXT NOT NULL,
            n_to_work_on INTEGER NOT NULL,
            to_work_on TEXT NOT NULL,
            to_work_on_theta {BLOB} NOT NULL)""",
        backfill,
    ),
    # version 6: each session's log-likelihood on a fixed θ grid, whole test and per area (float32, packed), what the
    # programme report's per-area shares are computed from; NULL for the sessions already there (no bank object at
    # migration: ResponseStore.fill_likelihoods back-fills them from their stored answers given the bank)
    ("ALTER TABLE session_scores ADD COLUMN area_loglik {BLOB}",),
    # version 7: small values derived from files outside the store, kept so that reports need not derive them
    # again (a bank version's level scale and names: digicomp.store.cache); each carries what tells it stale
    (
        """CREATE TABLE derived_values (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            made_at TEXT NOT NULL)""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
