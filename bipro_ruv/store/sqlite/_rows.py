"""The journal's statements, and records to rows and back.

Every statement names the account's key columns itself (``profile = ? AND user_id = ?``):
no SQL is put together from pieces at run time.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from bipro_ruv.store.protocol import (
    Account,
    DocumentRecord,
    ShipmentInfo,
    ShipmentRecord,
    ShipmentState,
    path_key,
)

__all__ = [
    "ADOPT",
    "FAILURE",
    "HAS_DOCUMENT",
    "MARK_TAKEN",
    "PENDING_DOCUMENTS",
    "QUARANTINE",
    "RELEASE",
    "DELETE_DOCUMENTS",
    "DIRECTORY_KEYS",
    "HAS_SHIPMENTS",
    "INSERT_DOCUMENT",
    "SELECT_DOCUMENTS",
    "SELECT_SHIPMENT",
    "SELECT_SHIPMENTS",
    "SET_STATE",
    "SHIPMENT_IDS",
    "UPSERT",
    "account_filter",
    "document",
    "document_row",
    "now",
    "shipment",
    "upsert_row",
]

# -- reads: an optional account is (profile, profile, user_id) or (None, None, None) ------

SELECT_SHIPMENT = "SELECT * FROM shipments WHERE profile = ? AND user_id = ? AND shipment_id = ?"
SELECT_SHIPMENTS = (
    "SELECT * FROM shipments WHERE (? IS NULL OR (profile = ? AND user_id = ?)) AND (? IS NULL OR state = ?)"
)
SELECT_DOCUMENTS = (
    "SELECT * FROM documents WHERE (? IS NULL OR (profile = ? AND user_id = ?))"
    " AND (? IS NULL OR shipment_id = ?) ORDER BY profile, user_id, shipment_id, seq"
)
SHIPMENT_IDS = "SELECT shipment_id FROM shipments WHERE profile = ? AND user_id = ?"
HAS_SHIPMENTS = "SELECT 1 FROM shipments WHERE profile = ? AND user_id = ? LIMIT 1"
DIRECTORY_KEYS = "SELECT directory_key FROM shipments WHERE directory_key IS NOT NULL"
HAS_DOCUMENT = "SELECT 1 FROM documents WHERE profile = ? AND user_id = ? AND shipment_id = ? AND seq = ?"

# The documents of stored and acknowledged shipments a consumer has not taken, oldest first.
# Parameters: profile, user_id, stored, acknowledged, consumer, limit (-1: none).
PENDING_DOCUMENTS = (
    "SELECT d.* FROM documents d JOIN shipments s"
    " ON s.profile = d.profile AND s.user_id = d.user_id AND s.shipment_id = d.shipment_id"
    " WHERE d.profile = ? AND d.user_id = ? AND s.state IN (?, ?) AND NOT EXISTS"
    " (SELECT 1 FROM handoffs h WHERE h.consumer = ? AND h.profile = d.profile AND h.user_id = d.user_id"
    " AND h.shipment_id = d.shipment_id AND h.seq = d.seq)"
    " ORDER BY COALESCE(s.stored_at, s.acknowledged_at, s.first_seen_at), d.shipment_id, d.seq LIMIT ?"
)

# -- writes ------------------------------------------------------------------------------

# A new state; the first stored/acknowledged time is kept. Parameters: state, stored_at,
# acknowledged_at, profile, user_id, shipment_id.
SET_STATE = (
    "UPDATE shipments SET state = ?, error = NULL, stored_at = COALESCE(stored_at, ?),"
    " acknowledged_at = COALESCE(acknowledged_at, ?) WHERE profile = ? AND user_id = ? AND shipment_id = ?"
)

# Insert the shipment, or count one more attempt; a stored or acknowledged state is never
# taken back, and a directory of None keeps the recorded one. Parameters: upsert_row().
UPSERT = (
    "INSERT INTO shipments (profile, user_id, shipment_id, vu_number, category, category_label,"
    " created_at_raw, state, attempts, error, first_seen_at, directory, directory_key)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
    " ON CONFLICT (profile, user_id, shipment_id) DO UPDATE SET attempts = attempts + 1,"
    " error = excluded.error, state = CASE WHEN state IN (?, ?) THEN state ELSE excluded.state END,"
    " directory = COALESCE(excluded.directory, directory),"
    " directory_key = COALESCE(excluded.directory_key, directory_key)"
)

# Parameters: consumer, profile, user_id, shipment_id, seq, taken_at.
MARK_TAKEN = (
    "INSERT OR IGNORE INTO handoffs (consumer, profile, user_id, shipment_id, seq, taken_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)

# The failure count of a shipment. Parameters: failure_key, failure_count, profile, user_id, shipment_id.
FAILURE = (
    "UPDATE shipments SET failure_key = ?, failure_count = ?"
    " WHERE profile = ? AND user_id = ? AND shipment_id = ?"
)

# Parameters: quarantined, now, quarantine_dir, profile, user_id, shipment_id.
QUARANTINE = (
    "UPDATE shipments SET state = ?, quarantined_at = ?, quarantine_dir = ?"
    " WHERE profile = ? AND user_id = ? AND shipment_id = ?"
)

# Back to "failed", count reset; a stored or acknowledged shipment keeps its state.
# Parameters: stored, acknowledged, failed, profile, user_id, shipment_id.
RELEASE = (
    "UPDATE shipments SET state = CASE WHEN state IN (?, ?) THEN state ELSE ? END, failure_key = NULL,"
    " failure_count = 0, quarantined_at = NULL WHERE profile = ? AND user_id = ? AND shipment_id = ?"
)

DELETE_DOCUMENTS = "DELETE FROM documents WHERE profile = ? AND user_id = ? AND shipment_id = ?"

# Parameters: document_row().
INSERT_DOCUMENT = (
    "INSERT INTO documents (profile, user_id, shipment_id, seq, path, path_key, original_name,"
    " content_type, document_type, vsnr, vu_number, description, size, sha256,"
    " checksum_verified, archive_name)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# The unknown user's shipments of a profile become the account's, but for a shipment ID the
# account has a record of its own (kept apart). Their documents follow (ON UPDATE CASCADE).
# Parameters: user_id, profile, UNKNOWN_USER, profile, user_id.
ADOPT = (
    "UPDATE shipments SET user_id = ? WHERE profile = ? AND user_id = ? AND shipment_id NOT IN"
    " (SELECT shipment_id FROM shipments WHERE profile = ? AND user_id = ?)"
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def account_filter(account: Account | None) -> tuple[str | None, str | None, str | None]:
    """The parameters of ``(? IS NULL OR (profile = ? AND user_id = ?))``."""
    if account is None:
        return None, None, None
    return account.profile, account.profile, account.user_id


def upsert_row(
    account: Account,
    shipment_id: str,
    info: ShipmentInfo,
    state: ShipmentState,
    error: str | None,
    directory: str | None,
) -> tuple[object, ...]:
    return (
        account.profile,
        account.user_id,
        shipment_id,
        info.vu_number,
        info.category,
        info.category_label,
        info.created_at_raw,
        state.value,
        error,
        now(),
        directory,
        None if directory is None else path_key(directory),
        ShipmentState.STORED.value,
        ShipmentState.ACKNOWLEDGED.value,
    )


def document_row(account: Account, shipment_id: str, doc: DocumentRecord) -> tuple[object, ...]:
    """The row of ``doc`` under the plan's key (its own ``account`` and ``shipment_id`` are not read)."""
    return (
        account.profile,
        account.user_id,
        shipment_id,
        doc.seq,
        doc.path,
        path_key(doc.path),
        doc.original_name,
        doc.content_type,
        doc.document_type,
        doc.vsnr,
        doc.vu_number,
        doc.description,
        doc.size,
        doc.sha256,
        None if doc.checksum_verified is None else int(doc.checksum_verified),
        doc.archive_name,
    )


def shipment(row: sqlite3.Row) -> ShipmentRecord:
    return ShipmentRecord(
        account=Account(row["profile"], row["user_id"]),
        shipment_id=row["shipment_id"],
        state=ShipmentState(row["state"]),
        category=row["category"],
        attempts=row["attempts"],
        error=row["error"],
        stored_at=row["stored_at"],
        acknowledged_at=row["acknowledged_at"],
        directory=row["directory"],
        vu_number=row["vu_number"],
        category_label=row["category_label"],
        created_at_raw=row["created_at_raw"],
        failure_key=row["failure_key"],
        failure_count=row["failure_count"],
        quarantined_at=row["quarantined_at"],
        quarantine_dir=row["quarantine_dir"],
        first_seen_at=row["first_seen_at"],
    )


def document(row: sqlite3.Row) -> DocumentRecord:
    verified = row["checksum_verified"]
    return DocumentRecord(
        account=Account(row["profile"], row["user_id"]),
        shipment_id=row["shipment_id"],
        seq=row["seq"],
        path=row["path"],
        original_name=row["original_name"],
        content_type=row["content_type"],
        document_type=row["document_type"],
        vsnr=row["vsnr"],
        vu_number=row["vu_number"],
        description=row["description"],
        size=row["size"],
        sha256=row["sha256"],
        checksum_verified=None if verified is None else bool(verified),
        archive_name=row["archive_name"],
    )
