"""The document store (issue 10): the account in every key, journals of schema 1 migrated,
a caller's own store, and an interface that needs nothing of SQLite."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import Client, ContractIndex, JournalError, StorageError
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.store import (
    STATE_DIR,
    UNKNOWN_USER,
    Account,
    DocumentRecord,
    DocumentStore,
    ShipmentInfo,
    ShipmentRecord,
    ShipmentState,
    SqliteStore,
    path_key,
)
from bipro_ruv.store.sqlite import SCHEMA_VERSION, journal_path
from bipro_ruv.transfer.models import Outcome
from tests._expected import ACCOUNT, expected_hashes, journal_document, stored_hashes

#: Schema 1, verbatim from ``bipro_ruv/transfer/journal.py`` before issue 10: keyed by profile.
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS shipments (
    profile          TEXT NOT NULL,
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
    PRIMARY KEY (profile, shipment_id)
);
CREATE TABLE IF NOT EXISTS documents (
    profile          TEXT NOT NULL,
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
    PRIMARY KEY (profile, shipment_id, seq),
    FOREIGN KEY (profile, shipment_id) REFERENCES shipments (profile, shipment_id)
);
CREATE INDEX IF NOT EXISTS documents_vsnr ON documents (vsnr);
"""

#: Schema 2, verbatim from ``bipro_ruv/store/sqlite/_schema.py`` before issue 12: keyed by account.
SCHEMA_2 = """
CREATE TABLE shipments (
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
    PRIMARY KEY (profile, user_id, shipment_id)
);
CREATE TABLE documents (
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
);
CREATE INDEX documents_vsnr ON documents (vsnr);
"""

#: The columns schema 3 added to shipments, as a migrated row has them.
NEW_IN_3 = {"failure_key": None, "failure_count": 0, "quarantined_at": None, "quarantine_dir": None}

SHIPMENT_1 = {
    "profile": "ruv",
    "shipment_id": "L-1",
    "vu_number": "5438",
    "category": "999010010",
    "category_label": "Dokumente",
    "created_at_raw": "2026-11-20T08:00:00",
    "state": "stored",
    "directory": "L-1",
    "directory_key": "l-1",
    "attempts": 2,
    "error": None,
    "first_seen_at": "2026-11-20T08:01:00+00:00",
    "stored_at": "2026-11-20T08:02:00+00:00",
    "acknowledged_at": None,
}
DOCUMENT_1 = {
    "profile": "ruv",
    "shipment_id": "L-1",
    "seq": 0,
    "path": "L-1/Police.pdf",
    "path_key": "l-1/police.pdf",
    "original_name": "Police.pdf",
    "content_type": "application/pdf",
    "document_type": "Police",
    "vsnr": "44090312655",
    "vu_number": "5438",
    "description": "Police Hausrat",
    "size": 1234,
    "sha256": "ab" * 32,
    "checksum_verified": 1,
    "archive_name": None,
}


def write_schema_1(
    path: Path, shipments: list[dict[str, Any]], documents: list[dict[str, Any]], version: int = 1
) -> None:
    """A journal as bipro-ruv wrote it before issue 10 (``version=0``: its tables made, the
    version not yet set, as a run killed between its two steps left it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    with db:
        for table, rows in (("shipments", shipments), ("documents", documents)):
            for row in rows:
                columns = ", ".join(row)
                marks = ", ".join("?" * len(row))
                db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
    db.execute(f"PRAGMA user_version={version}")
    db.close()


def rows(path: Path, table: str) -> list[dict[str, Any]]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY shipment_id")]
    finally:
        db.close()


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


# -- the account ------------------------------------------------------------------------


def test_an_account_is_the_same_whatever_the_spelling_of_its_user_id() -> None:
    assert Account("ruv", " ROM4711 ") == Account("ruv", "rom4711")
    assert str(Account("kravag", "Rom4711")) == "kravag/rom4711"
    assert Account("ruv", "rom4711") != Account("kravag", "rom4711")


@pytest.mark.parametrize(("profile", "user_id"), [("ruv", ""), ("ruv", "  "), ("", "rom4711")])
def test_an_account_needs_a_profile_and_a_user_id(profile: str, user_id: str) -> None:
    with pytest.raises(ValueError, match="an account needs"):
        Account(profile, user_id)


def test_one_journal_keeps_the_same_shipment_of_two_accounts_apart(tmp_path: Path) -> None:
    other = Account("ruv", "rom0815")
    with SqliteStore(tmp_path / "journal.sqlite3") as store:
        for account, folder in ((ACCOUNT, "L-1"), (other, "L-1 (2)")):
            row = journal_document("L-1", f"{folder}/Police.pdf", account=account)
            store.plan(account, "L-1", ShipmentInfo(), folder, [row], replace=False)
        store.mark_stored(other, "L-1")
        assert store.shipment(ACCOUNT, "L-1").state is ShipmentState.STORING  # type: ignore[union-attr]
        assert store.shipment(other, "L-1").state is ShipmentState.STORED  # type: ignore[union-attr]
        assert [doc.path for doc in store.documents(other)] == ["L-1 (2)/Police.pdf"]
        assert store.shipment_ids(Account("kravag", "rom4711")) == set()
        assert len(store.shipments()) == 2


def test_a_folder_or_file_another_account_planned_is_refused(tmp_path: Path) -> None:
    other = Account("kravag", "rom0815")
    with SqliteStore(tmp_path / "journal.sqlite3") as store:
        store.plan(ACCOUNT, "L-1", ShipmentInfo(), "L-1", [journal_document("L-1", "L-1/a.pdf")])
        row = journal_document("L-2", "L-1/A.pdf", account=other)  # one file on Windows/macOS
        # Refused by the journal's UNIQUE index on the folded path, not by any other error.
        with pytest.raises(JournalError, match="record the plan of shipment 'L-2'") as file_taken:
            store.plan(other, "L-2", ShipmentInfo(), "L-2", [row])
        with pytest.raises(JournalError, match="record the plan of shipment 'L-3'") as folder_taken:
            store.plan(other, "L-3", ShipmentInfo(), "l-1", [journal_document("L-3", "l-1/b.pdf")])
        for raised in (file_taken, folder_taken):
            assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
        assert store.shipment_ids(other) == set()


# -- migration from schema 1 ------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 0], ids=["schema-1", "schema-1-version-unset"])
def test_a_schema_1_journal_is_migrated_with_every_value_kept(tmp_path: Path, version: int) -> None:
    path = tmp_path / "journal.sqlite3"
    write_schema_1(path, [SHIPMENT_1], [DOCUMENT_1], version=version)
    with SqliteStore(path) as store:
        unknown = Account("ruv", UNKNOWN_USER)
        assert unknown.is_unknown
        assert store.shipment_ids(unknown) == {"L-1"}
        (document,) = store.documents()
        assert document.account == unknown
        assert document.checksum_verified is True
    assert user_version(path) == SCHEMA_VERSION == 3
    assert rows(path, "shipments") == [{**SHIPMENT_1, "user_id": UNKNOWN_USER, **NEW_IN_3}]
    assert rows(path, "documents") == [{**DOCUMENT_1, "user_id": UNKNOWN_USER}]
    with SqliteStore(path) as store:  # opened again: nothing more to migrate
        assert len(store.shipments()) == 1


def test_a_schema_2_journal_gains_the_quarantine_and_the_handoff_with_every_value_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_2)
    with db:
        for table, row in (("shipments", SHIPMENT_1), ("documents", DOCUMENT_1)):
            row = {**row, "user_id": "rom4711"}
            columns, marks = ", ".join(row), ", ".join("?" * len(row))
            db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
    db.execute("PRAGMA user_version=2")
    db.close()
    account = Account("ruv", "ROM4711")
    with SqliteStore(path) as store:
        assert user_version(path) == SCHEMA_VERSION == 3
        assert rows(path, "shipments") == [{**SHIPMENT_1, "user_id": "rom4711", **NEW_IN_3}]
        assert rows(path, "documents") == [{**DOCUMENT_1, "user_id": "rom4711"}]
        ((shipment, document),) = store.pending_documents(account, "mvp")  # stored: pending
        assert (shipment.shipment_id, document.path) == ("L-1", "L-1/Police.pdf")
        assert store.mark_taken(account, "mvp", "L-1", 0) is True
        assert store.pending_documents(account, "mvp") == []
    with SqliteStore(path) as store:  # opened again: nothing more to migrate, the mark kept
        assert store.pending_documents(account, "mvp") == []
        assert len(store.pending_documents(account, "archiv")) == 1


def test_a_migration_that_fails_leaves_the_journal_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    orphan = {**DOCUMENT_1, "shipment_id": "VERLOREN", "path": "x/y.pdf", "path_key": "x/y.pdf"}
    write_schema_1(path, [SHIPMENT_1], [DOCUMENT_1, orphan])  # foreign keys off: damage as it comes
    with pytest.raises(JournalError, match="damaged: 1 documents of no recorded shipment"):
        SqliteStore(path)
    assert user_version(path) == 1
    assert rows(path, "shipments") == [SHIPMENT_1]
    assert len(rows(path, "documents")) == 2


def test_a_fetch_adopts_the_records_of_its_profile_and_no_others(tmp_path: Path) -> None:
    kravag = {**SHIPMENT_1, "profile": "kravag", "directory": "K-1", "directory_key": "k-1"}
    twice = {**SHIPMENT_1, "shipment_id": "L-2", "directory": "L-2", "directory_key": "l-2"}
    path = tmp_path / "journal.sqlite3"
    write_schema_1(path, [SHIPMENT_1, kravag, twice], [DOCUMENT_1])
    with SqliteStore(path) as store:
        # A record of L-2 the account made itself: the old one is not merged into it.
        store.plan(ACCOUNT, "L-2", ShipmentInfo(), "L-2 (2)", [journal_document("L-2", "L-2 (2)/a.pdf")])
        assert store.adopt(ACCOUNT) == 1
        assert store.adopt(ACCOUNT) == 0
        assert store.shipment(ACCOUNT, "L-1") is not None
        assert [(doc.account, doc.path) for doc in store.documents()] == [
            (ACCOUNT, "L-1/Police.pdf"),  # followed its shipment
            (ACCOUNT, "L-2 (2)/a.pdf"),
        ]
        assert store.shipment(ACCOUNT, "L-2").directory == "L-2 (2)"  # type: ignore[union-attr]
        assert store.shipment_ids(Account("ruv", UNKNOWN_USER)) == {"L-2"}
        assert store.shipment_ids(Account("kravag", UNKNOWN_USER)) == {"L-1"}


def _as_schema_1(path: Path) -> None:
    """Rewrite the journal at ``path`` as bipro-ruv wrote it before issue 10: same rows, no user."""
    shipments = [
        {k: v for k, v in row.items() if k != "user_id" and k not in NEW_IN_3}
        for row in rows(path, "shipments")
    ]
    documents = [{k: v for k, v in row.items() if k != "user_id"} for row in rows(path, "documents")]
    for file in path.parent.glob(path.name + "*"):
        file.unlink()
    write_schema_1(path, shipments, documents)


def test_a_fetch_continues_from_a_schema_1_journal_without_downloading_again(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    """The journal of a dry run, as the code before issue 10 left it: the next fetch
    acknowledges every stored shipment and completes a plan a power loss left "storing",
    downloading nothing again (an "unknown user" nobody adopts would download them all
    again into ``<id> (2)`` folders: every document twice)."""
    client.fetch_open_documents(tmp_path, acknowledge=False)
    path = journal_path(tmp_path)
    _as_schema_1(path)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE shipments SET state = 'storing' WHERE rowid = 1")
    db.close()
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    folders = sorted(entry.name for entry in tmp_path.iterdir())
    report = client.fetch_open_documents(tmp_path)
    assert report.ok
    assert report.count(Outcome.RECOVERED) == len(sandbox.shipments())
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads
    assert sorted(entry.name for entry in tmp_path.iterdir()) == folders
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)
    assert user_version(path) == SCHEMA_VERSION
    account = Account(client.profile.key, client.username)
    with SqliteStore(path) as store:
        assert {s.state for s in store.shipments(account)} == {ShipmentState.ACKNOWLEDGED}
        assert len(store.shipments()) == len(sandbox.shipments())


def test_the_contract_index_reads_a_schema_1_journal(tmp_path: Path) -> None:
    write_schema_1(journal_path(tmp_path), [SHIPMENT_1], [DOCUMENT_1])
    index = ContractIndex.from_journal(tmp_path)
    assert [(entry.vu_number, entry.vsnr) for entry in index] == [("5438", "44090312655")]
    assert len(ContractIndex.from_journal(tmp_path, account=ACCOUNT)) == 0  # not adopted yet


# -- a store of the caller's own ----------------------------------------------------------


class MemoryStore:
    """A :class:`DocumentStore` in dicts, nothing durable: the fetch needs nothing of SQLite."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._shipments: dict[tuple[Account, str], ShipmentRecord] = {}
        self._documents: dict[tuple[Account, str], list[DocumentRecord]] = {}
        self._taken: set[tuple[str, Account, str, int]] = set()
        self.flushes = 0
        self.closed = False

    def shipment(self, account: Account, shipment_id: str) -> ShipmentRecord | None:
        return self._shipments.get((account, shipment_id))

    def shipments(
        self, account: Account | None = None, state: ShipmentState | None = None
    ) -> list[ShipmentRecord]:
        return [
            r for r in self._shipments.values() if account in (None, r.account) and state in (None, r.state)
        ]

    def documents(
        self, account: Account | None = None, shipment_id: str | None = None
    ) -> list[DocumentRecord]:
        return [
            doc
            for (owner, sid), docs in sorted(
                self._documents.items(), key=lambda item: (str(item[0][0]), item[0][1])
            )
            if account in (None, owner) and shipment_id in (None, sid)
            for doc in docs
        ]

    def shipment_ids(self, account: Account) -> set[str]:
        return {sid for owner, sid in self._shipments if owner == account}

    def directory_keys(self) -> set[str]:
        return {path_key(r.directory) for r in self._shipments.values() if r.directory}

    def adopt(self, account: Account) -> int:
        return 0

    def _set(
        self, account: Account, shipment_id: str, info: ShipmentInfo, state: ShipmentState, **fields: Any
    ) -> None:
        old = self._shipments.get((account, shipment_id))
        if old is not None and old.state in (ShipmentState.STORED, ShipmentState.ACKNOWLEDGED):
            state = old.state
        record = old or ShipmentRecord(account, shipment_id, state, info.category, 0, None, None, None, None)
        self._shipments[account, shipment_id] = dataclasses.replace(
            record, state=state, attempts=record.attempts + 1, **fields
        )

    def plan(
        self,
        account: Account,
        shipment_id: str,
        info: ShipmentInfo,
        directory: str,
        documents: Sequence[DocumentRecord],
        *,
        replace: bool = True,
    ) -> None:
        with self._lock:
            key = (account, shipment_id)
            others = [r for k, r in self._shipments.items() if k != key]
            taken = {path_key(d.path) for k, docs in self._documents.items() if k != key for d in docs}
            if path_key(directory) in {path_key(r.directory or "") for r in others} or taken & {
                path_key(d.path) for d in documents
            }:
                raise StorageError(f"{directory} is planned already", path=Path(directory))
            self._set(account, shipment_id, info, ShipmentState.STORING, directory=directory, error=None)
            self._documents[key] = [
                dataclasses.replace(d, account=account, shipment_id=shipment_id) for d in documents
            ]

    def mark_stored(self, account: Account, shipment_id: str) -> None:
        with self._lock:
            old = self._shipments[account, shipment_id]
            self._shipments[account, shipment_id] = dataclasses.replace(old, state=ShipmentState.STORED)

    def mark_acknowledged(self, account: Account, shipment_id: str) -> None:
        with self._lock:
            old = self._shipments[account, shipment_id]
            self._shipments[account, shipment_id] = dataclasses.replace(old, state=ShipmentState.ACKNOWLEDGED)

    def mark_failed(
        self,
        account: Account,
        shipment_id: str,
        info: ShipmentInfo,
        error: str,
        *,
        failure_key: str | None = None,
    ) -> int:
        with self._lock:
            old = self._shipments.get((account, shipment_id))
            self._set(account, shipment_id, info, ShipmentState.FAILED, error=error)
            if failure_key is None:
                return 0
            count = old.failure_count + 1 if old is not None and old.failure_key == failure_key else 1
            record = self._shipments[account, shipment_id]
            self._shipments[account, shipment_id] = dataclasses.replace(
                record, failure_key=failure_key, failure_count=count
            )
            return count

    def quarantine(self, account: Account, shipment_id: str, quarantine_dir: str | None) -> None:
        with self._lock:
            old = self._shipments[account, shipment_id]
            self._shipments[account, shipment_id] = dataclasses.replace(
                old, state=ShipmentState.QUARANTINED, quarantined_at="now", quarantine_dir=quarantine_dir
            )

    def release(self, account: Account, shipment_id: str) -> ShipmentRecord:
        with self._lock:
            old = self._shipments[account, shipment_id]
            state = (
                old.state
                if old.state in (ShipmentState.STORED, ShipmentState.ACKNOWLEDGED)
                else ShipmentState.FAILED
            )
            new = dataclasses.replace(
                old, state=state, failure_key=None, failure_count=0, quarantined_at=None
            )
            self._shipments[account, shipment_id] = new
            return new

    def pending_documents(
        self, account: Account, consumer: str, limit: int | None = None
    ) -> list[tuple[ShipmentRecord, DocumentRecord]]:
        with self._lock:
            found = [
                (record, doc)
                for (owner, sid), record in self._shipments.items()
                if owner == account and record.state in (ShipmentState.STORED, ShipmentState.ACKNOWLEDGED)
                for doc in self._documents.get((owner, sid), [])
                if (consumer, owner, sid, doc.seq) not in self._taken
            ]
        return found[:limit] if limit is not None else found

    def mark_taken(self, account: Account, consumer: str, shipment_id: str, seq: int) -> bool:
        with self._lock:
            if not any(d.seq == seq for d in self._documents.get((account, shipment_id), [])):
                raise StorageError(f"no document {seq} of {shipment_id}", path=Path(shipment_id))
            key = (consumer, account, shipment_id, seq)
            new = key not in self._taken
            self._taken.add(key)
            return new

    def flush(self) -> None:
        self.flushes += 1

    def close(self) -> None:
        self.closed = True


def test_a_fetch_into_a_store_of_ones_own(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    memory = MemoryStore()
    store: DocumentStore = memory  # what mypy checks: it is one
    dry = client.fetch_open_documents(tmp_path, acknowledge=False, store=store)
    assert dry.count(Outcome.STORED) == len(sandbox.shipments())
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    report = client.fetch_open_documents(tmp_path, store=store)
    assert report.count(Outcome.RECOVERED) == len(sandbox.shipments())
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads  # the store said "stored"
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)
    assert not journal_path(tmp_path).exists()  # no SQLite journal beside it
    assert (tmp_path / STATE_DIR / "lock").exists()  # the inbox lock all the same
    account = Account("ruv", sandbox.username)
    assert {s.state for s in store.shipments(account)} == {ShipmentState.ACKNOWLEDGED}
    assert memory.flushes == 2  # at the end of each run
    assert not memory.closed
    index = ContractIndex.from_store(store, tmp_path, account=account)
    assert sum(len(entry.documents) for entry in index) + len(index.unassigned) == len(store.documents())


def test_a_fetch_leaves_the_callers_sqlite_store_open_and_flushed(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    with SqliteStore(tmp_path / "elsewhere.sqlite3") as store:
        report = client.fetch_open_documents(inbox, store=store)
        assert report.ok
        states = dict(
            sqlite3.connect(store.path).execute("SELECT shipment_id, state FROM shipments").fetchall()
        )
        assert set(states.values()) == {"acknowledged"}  # flushed: another connection sees it
        assert store.shipment_ids(Account("ruv", sandbox.username)) == set(states)
    assert not journal_path(inbox).exists()
