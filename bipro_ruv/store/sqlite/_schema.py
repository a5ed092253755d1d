"""The journal's tables, and their migration from older bipro-ruv versions.

The schema version is SQLite's ``PRAGMA user_version``:

- **1** (bipro-ruv up to issue 9): shipments and documents keyed by insurer profile only.
- **2**: the user id joins the key (``profile, user_id, shipment_id``), so one journal can
  hold the records of many accounts. Rows of schema 1 get :data:`UNKNOWN_USER`; the first
  fetch of their profile adopts them (:meth:`.SqliteStore.adopt`). Until then they belong
  to no account: a fetch would not see them, and would download a stored but
  unacknowledged shipment again, so a fetch adopts before it reads anything.
- **3**: the quarantine (``failure_key``, ``failure_count``, ``quarantined_at``,
  ``quarantine_dir`` on shipments) and the hand-off to consumers (table ``handoffs``: one
  row per document a consumer has taken). Added columns and a new table: schema 2 rows
  keep their meaning.

Creating and migrating happen in one transaction with the new version number: a crash
during a migration leaves the journal at its old version, and the next open migrates
again. A journal of a newer version is refused, never written.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from bipro_ruv.errors import JournalError
from bipro_ruv.store.protocol import UNKNOWN_USER

__all__ = ["SCHEMA_VERSION", "prepare"]

log = logging.getLogger("bipro_ruv.journal")

SCHEMA_VERSION = 3

#: Which consumer (the MVP) took which document: :meth:`.SqliteStore.mark_taken`.
_HANDOFFS = """CREATE TABLE handoffs (
    consumer         TEXT NOT NULL,
    profile          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    shipment_id      TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    taken_at         TEXT NOT NULL,
    PRIMARY KEY (consumer, profile, user_id, shipment_id, seq),
    FOREIGN KEY (profile, user_id, shipment_id, seq) REFERENCES documents (profile, user_id, shipment_id, seq)
        ON UPDATE CASCADE ON DELETE CASCADE
)"""

#: The current tables. ``directory_key`` and ``path_key`` are unique across accounts: the
#: journal belongs to one inbox, and no two plans may name one folder or file in it.
#: Documents follow their shipment when :meth:`.SqliteStore.adopt` changes its user id.
_TABLES = (
    """CREATE TABLE shipments (
    profile          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    shipment_id      TEXT NOT NULL,
    vu_number        TEXT,
    category         TEXT,
    category_label   TEXT,
    created_at_raw   TEXT,
    state            TEXT NOT NULL,
    directory        TEXT,
    directory_key    TEXT UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    first_seen_at    TEXT NOT NULL,
    stored_at        TEXT,
    acknowledged_at  TEXT,
    failure_key      TEXT,
    failure_count    INTEGER NOT NULL DEFAULT 0,
    quarantined_at   TEXT,
    quarantine_dir   TEXT,
    PRIMARY KEY (profile, user_id, shipment_id)
)""",
    """CREATE TABLE documents (
    profile          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    shipment_id      TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    path             TEXT NOT NULL,
    path_key         TEXT NOT NULL UNIQUE,
    original_name    TEXT,
    content_type     TEXT,
    document_type    TEXT,
    vsnr             TEXT,
    vu_number        TEXT,
    description      TEXT,
    size             INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    checksum_verified INTEGER,
    archive_name     TEXT,
    PRIMARY KEY (profile, user_id, shipment_id, seq),
    FOREIGN KEY (profile, user_id, shipment_id) REFERENCES shipments (profile, user_id, shipment_id)
        ON UPDATE CASCADE
)""",
    "CREATE INDEX documents_vsnr ON documents (vsnr)",
    _HANDOFFS,
)

# Schema 2 -> 3: new columns and a new table.
_FROM_2 = (
    "ALTER TABLE shipments ADD COLUMN failure_key TEXT",
    "ALTER TABLE shipments ADD COLUMN failure_count INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE shipments ADD COLUMN quarantined_at TEXT",
    "ALTER TABLE shipments ADD COLUMN quarantine_dir TEXT",
    _HANDOFFS,
)

# Schema 1 -> 2: the old tables are renamed aside, the new ones created as above, the rows
# copied with UNKNOWN_USER, the old tables dropped. Foreign keys are off meanwhile (a
# table rebuild, https://www.sqlite.org/lang_altertable.html#otheralter) and checked at
# the end.
_ASIDE = (
    "ALTER TABLE shipments RENAME TO shipments_v1",
    "ALTER TABLE documents RENAME TO documents_v1",
    "DROP INDEX IF EXISTS documents_vsnr",
)
_SHIPMENT_COLUMNS = (
    "shipment_id, vu_number, category, category_label, created_at_raw, state, directory,"
    " directory_key, attempts, error, first_seen_at, stored_at, acknowledged_at"
)
_DOCUMENT_COLUMNS = (
    "shipment_id, seq, path, path_key, original_name, content_type, document_type, vsnr,"
    " vu_number, description, size, sha256, checksum_verified, archive_name"
)
_COPY = (
    f"INSERT INTO shipments (profile, user_id, {_SHIPMENT_COLUMNS})"  # noqa: S608 - constant column lists
    f" SELECT profile, ?, {_SHIPMENT_COLUMNS} FROM shipments_v1",
    f"INSERT INTO documents (profile, user_id, {_DOCUMENT_COLUMNS})"  # noqa: S608 - constant column lists
    f" SELECT profile, ?, {_DOCUMENT_COLUMNS} FROM documents_v1",
)
_DROP_OLD = ("DROP TABLE documents_v1", "DROP TABLE shipments_v1")


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """WAL, durable commits, foreign keys, and the current schema (created or migrated)."""
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    if _version(db, path) != SCHEMA_VERSION:
        _upgrade(db, path)  # foreign keys still off: a migration rebuilds the tables
    db.execute("PRAGMA foreign_keys=ON")


def _version(db: sqlite3.Connection, path: Path) -> int:
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"the journal {path} was written by a newer bipro-ruv (schema {version}); update bipro-ruv",
            path=path,
        )
    return version


def _upgrade(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables, or migrate them, in one transaction with the version number."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _version(db, path)  # again: another process may have upgraded it meanwhile
        if version < SCHEMA_VERSION:
            if not _columns(db, "shipments"):
                for statement in _TABLES:
                    db.execute(statement)
            elif "user_id" not in _columns(db, "shipments"):
                # Schema 1, also when its version was never set (0): the old code created
                # its tables and set the version in two steps.
                _migrate_from_1(db, path)
            elif "failure_key" not in _columns(db, "shipments"):
                for statement in _FROM_2:
                    db.execute(statement)
                log.info("journal %s: schema 2 -> %d (quarantine, hand-off)", path, SCHEMA_VERSION)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute("SELECT * FROM pragma_table_info(?)", (table,))}


def _migrate_from_1(db: sqlite3.Connection, path: Path) -> None:
    for statement in (*_ASIDE, *_TABLES):
        db.execute(statement)
    shipments = db.execute(_COPY[0], (UNKNOWN_USER,)).rowcount
    db.execute(_COPY[1], (UNKNOWN_USER,))
    for statement in _DROP_OLD:
        db.execute(statement)
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise JournalError(
            f"the journal {path} is damaged: {len(broken)} documents of no recorded shipment; "
            "restore it from a backup",
            path=path,
        )
    log.info(
        "journal %s: schema 1 -> %d; %d shipments belong to the next account of their profile that fetches",
        path,
        SCHEMA_VERSION,
        shipments,
    )
