"""The fetch journal: a SQLite database in the inbox that makes fetching crash-safe.

R+V delivers documents through the TransferService *instead of* by post, and a
shipment that was acknowledged is gone from the mailbox. So the order is fixed:

1. (download to the spool: nothing recorded yet, the shipment is still in the mailbox);
2. ``storing``      - every document has its final path and sha256 recorded (one transaction);
   then each file is moved into place atomically (temp file, fsync, rename, fsync dir);
3. ``stored``       - all files are durable; only now may the shipment be acknowledged.
   A fetch that acknowledges does not record this step on its own: the files are
   durable, the acknowledgement goes out, and step 4 records both;
4. ``acknowledged`` - the server confirmed the acknowledgement.
``failed`` records the last error of a shipment that was not stored.

A crash anywhere leaves a state from which a rerun continues without losing or
duplicating a document: ``stored`` shipments are acknowledged without downloading
again; ``storing`` (or ``failed``) shipments whose planned files are all present with
the recorded hash are marked ``stored`` (and acknowledged); anything else is downloaded
again into the *same* planned paths.
The database runs in WAL mode. The plan is committed with ``synchronous=FULL`` (it
survives power loss, and it must exist before any file appears in the inbox); the
later states are committed without an fsync of their own, because a power loss that
takes them back only returns the shipment to a state the rerun completes from the
files on disk (and the next durable commit carries them to disk anyway).

Every failure of the database leaves :class:`Journal` as a
:class:`~bipro_ruv.errors.JournalError` naming the journal's path (the ``sqlite3.Error``
chained as its cause): not a database, damaged, locked, read-only, disk full, or written
by a newer bipro-ruv.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from bipro_ruv._wire.fs import reason
from bipro_ruv.errors import JournalError
from bipro_ruv.transfer.models import Document
from bipro_ruv.vsnr import Vsnr

log = logging.getLogger("bipro_ruv.journal")

__all__ = ["Journal", "JournalDocument", "JournalShipment", "ShipmentInfo", "ShipmentState"]

SCHEMA_VERSION = 1

_SCHEMA = """
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


class ShipmentState(str, Enum):
    STORING = "storing"
    STORED = "stored"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"


@dataclass(frozen=True)
class ShipmentInfo:
    """What the journal keeps about a shipment besides its state (from listShipments)."""

    vu_number: str | None = None
    category: str | None = None
    category_label: str | None = None
    created_at_raw: str | None = None


@dataclass(frozen=True)
class JournalDocument:
    """A document as recorded in the journal; ``path`` is relative to the inbox."""

    profile: str
    shipment_id: str
    seq: int
    path: str
    original_name: str | None
    content_type: str | None
    document_type: str | None
    vsnr: str | None
    vu_number: str | None
    description: str | None
    size: int
    sha256: str
    checksum_verified: bool | None
    archive_name: str | None
    #: Warnings of a document fetched in this run (see ``Document.warnings``). Not a
    #: column: the schema has no migration path, so a row read back has none.
    warnings: tuple[str, ...] = ()

    def to_document(self, inbox: Path) -> Document:
        """The public :class:`Document` of this row; ``inbox`` is what ``path`` is relative to."""
        path = inbox / self.path
        return Document(
            shipment_id=self.shipment_id,
            seq=self.seq,
            path=path,
            file_name=path.name,
            original_name=self.original_name,
            content_type=self.content_type,
            document_type=self.document_type,
            description=self.description,
            size=self.size,
            sha256=self.sha256,
            vsnr=Vsnr.try_parse(self.vsnr),
            vsnr_raw=self.vsnr,
            vu_number=self.vu_number,
            checksum_verified=self.checksum_verified,
            archive_name=self.archive_name,
            warnings=self.warnings,
        )


@dataclass(frozen=True)
class JournalShipment:
    profile: str
    shipment_id: str
    state: ShipmentState
    category: str | None
    attempts: int
    error: str | None
    stored_at: str | None
    acknowledged_at: str | None
    directory: str | None


@dataclass
class _PlanRequest:
    """A plan waiting for the group commit (see :meth:`Journal.plan`)."""

    args: tuple[str, str, ShipmentInfo, str, Sequence[JournalDocument], bool]
    done: bool = False
    error: BaseException | None = None


# A new state; the first stored/acknowledged time is kept. Parameters: state, stored_at,
# acknowledged_at, profile, shipment_id.
_SET_STATE = (
    "UPDATE shipments SET state = ?, error = NULL, stored_at = COALESCE(stored_at, ?),"
    " acknowledged_at = COALESCE(acknowledged_at, ?) WHERE profile = ? AND shipment_id = ?"
)

#: Acknowledgements recorded per journal transaction (see :meth:`Journal.mark_acknowledged`).
ACK_BATCH = 32


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def path_key(relative_path: str) -> str:
    """Case-insensitive key: two names that collide on Windows/macOS collide here too."""
    return relative_path.casefold()


def journal_error(exc: sqlite3.Error, path: Path, action: str) -> JournalError:
    """``exc`` as one sentence about the journal at ``path``; ``action`` is what failed
    ("read", "write to", ...). SQLite's own texts ("file is not a database") are read by
    its result code (``sqlite_errorname``, Python 3.11), not matched as text."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_NOTADB"):
        message = f"the journal {path} is not an SQLite database (damaged, or another program's file)"
    elif name.startswith("SQLITE_CORRUPT"):
        message = f"the journal {path} is damaged; restore it from a backup"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        message = f"cannot {action} the journal {path}: another program keeps it locked"
    elif name.startswith("SQLITE_READONLY"):
        message = f"cannot {action} the journal {path}: it is read-only"
    elif name.startswith("SQLITE_FULL"):
        message = f"cannot {action} the journal {path}: the disk is full"
    elif name.startswith("SQLITE_CANTOPEN"):
        detail = (
            "it is a folder, not a file" if path.is_dir() else "permission denied or its folder is missing"
        )
        message = f"cannot open the journal {path}: {detail}"
    elif name.startswith(("SQLITE_PERM", "SQLITE_AUTH")):
        message = f"cannot {action} the journal {path}: permission denied"
    elif name.startswith("SQLITE_IOERR"):
        message = (
            f"cannot {action} the journal {path}: input/output error (a failing disk or a lost network drive)"
        )
    else:
        message = f"cannot {action} the journal {path}: {exc}"
    return JournalError(message, path=path)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _mapped(
    action: str,
) -> Callable[[Callable[Concatenate[Journal, _P], _R]], Callable[Concatenate[Journal, _P], _R]]:
    """Raise :class:`JournalError` (from the ``sqlite3.Error``) out of a :class:`Journal` method."""

    def decorate(method: Callable[Concatenate[Journal, _P], _R]) -> Callable[Concatenate[Journal, _P], _R]:
        @functools.wraps(method)
        def wrapper(self: Journal, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise journal_error(exc, self.path, action) from exc

        return wrapper

    return decorate


class Journal:
    """Thread-safe access to the journal database (one connection, one lock).

    Raises :class:`~bipro_ruv.errors.JournalError` for every failure of the database.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"cannot create the folder {path.parent} for the journal: {reason(exc)}", path=path
            ) from exc
        self._lock = threading.RLock()
        self._queue_lock = threading.Lock()
        self._queue: list[_PlanRequest] = []
        self._acks_lock = threading.Lock()
        self._acks: list[tuple[str, str, str, str]] = []
        #: Transactions that committed plans (fewer than plans when group commit batched them).
        self.plan_commits = 0
        self._durable = True
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise journal_error(exc, path, "open") from exc
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    @_mapped("open")
    def _open(self) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {self.path} was written by a newer bipro-ruv (schema {version}); "
                "update bipro-ruv",
                path=self.path,
            )
        if version == 0:
            # executescript commits by itself; the schema is idempotent (IF NOT EXISTS).
            with self._lock:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction. ``durable=False`` skips the fsync of the commit (WAL,
        ``synchronous=NORMAL``): it survives a crash of the process, and a power loss
        can only take it back to the previous durable state. Used for bookkeeping
        whose loss is harmless (attempt counters, errors, "stored" and "acknowledged",
        which a rerun re-establishes from the plan and the files); the plan is always
        durable."""
        with self._lock:
            self._use_durable(durable)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT can leave it open
                    self._db.execute("ROLLBACK")
                raise

    def _use_durable(self, durable: bool) -> None:
        """``synchronous=FULL`` or ``NORMAL`` for the next commit (caller holds the lock).

        Switched only when it changes: a fetch alternates plan (durable) and bookkeeping
        (not), and every statement costs a round through SQLite.
        """
        if durable != self._durable:
            self._db.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
            self._durable = durable

    # -- reads -------------------------------------------------------------------

    @_mapped("read")
    def shipment(self, profile: str, shipment_id: str) -> JournalShipment | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM shipments WHERE profile = ? AND shipment_id = ?", (profile, shipment_id)
            ).fetchone()
        return None if row is None else _shipment(row)

    @_mapped("read")
    def shipments(
        self, profile: str | None = None, state: ShipmentState | None = None
    ) -> list[JournalShipment]:
        query = "SELECT * FROM shipments WHERE (? IS NULL OR profile = ?) AND (? IS NULL OR state = ?)"
        state_value = state.value if state else None
        with self._lock:
            rows = self._db.execute(query, (profile, profile, state_value, state_value)).fetchall()
        return [_shipment(row) for row in rows]

    @_mapped("read")
    def documents(self, profile: str | None = None, shipment_id: str | None = None) -> list[JournalDocument]:
        query = (
            "SELECT * FROM documents WHERE (? IS NULL OR profile = ?) AND (? IS NULL OR shipment_id = ?) "
            "ORDER BY profile, shipment_id, seq"
        )
        with self._lock:
            rows = self._db.execute(query, (profile, profile, shipment_id, shipment_id)).fetchall()
        return [_document(row) for row in rows]

    @_mapped("read")
    def shipment_ids(self, profile: str) -> set[str]:
        """IDs of every shipment of ``profile`` the journal knows (any state)."""
        with self._lock:
            query = "SELECT shipment_id FROM shipments WHERE profile = ?"
            rows = self._db.execute(query, (profile,)).fetchall()
        return {row[0] for row in rows}

    @_mapped("read")
    def directory_keys(self) -> set[str]:
        """:func:`path_key` of every planned shipment folder (all profiles)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT directory_key FROM shipments WHERE directory_key IS NOT NULL"
            ).fetchall()
        return {row[0] for row in rows}

    # -- state changes -------------------------------------------------------------

    @staticmethod
    def _upsert(
        db: sqlite3.Connection,
        profile: str,
        shipment_id: str,
        info: ShipmentInfo,
        state: ShipmentState,
        error: str | None = None,
        directory: str | None = None,
    ) -> None:
        """Insert the shipment, or update it; a stored or acknowledged state is never taken back.

        ``directory`` (the plan's folder) replaces the recorded one; None keeps it.
        """
        directory_key = None if directory is None else path_key(directory)
        db.execute(
            "INSERT INTO shipments (profile, shipment_id, vu_number, category, category_label,"
            " created_at_raw, state, attempts, error, first_seen_at, directory, directory_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
            " ON CONFLICT (profile, shipment_id) DO UPDATE SET attempts = attempts + 1,"
            " error = excluded.error, state = CASE WHEN state IN (?, ?) THEN state ELSE excluded.state END,"
            " directory = COALESCE(excluded.directory, directory),"
            " directory_key = COALESCE(excluded.directory_key, directory_key)",
            (
                profile,
                shipment_id,
                info.vu_number,
                info.category,
                info.category_label,
                info.created_at_raw,
                state.value,
                error,
                _now(),
                directory,
                directory_key,
                ShipmentState.STORED.value,
                ShipmentState.ACKNOWLEDGED.value,
            ),
        )

    def plan(
        self,
        profile: str,
        shipment_id: str,
        info: ShipmentInfo,
        directory: str,
        documents: Sequence[JournalDocument],
        *,
        replace: bool = True,
    ) -> None:
        """Record the shipment, its folder and every document's final path and hash,
        durably; state ``storing``. Replaces an older plan of the shipment;
        ``replace=False`` promises there is none (a shipment the journal does not know).

        Group commit: plans that threads hand in while another plan is being committed
        are written together, in one transaction with one fsync, each in a savepoint of
        its own (one failing plan does not take the others with it). It returns once the
        plan is on disk, and raises if it is not.
        """
        request = _PlanRequest((profile, shipment_id, info, directory, documents, replace))
        with self._queue_lock:
            self._queue.append(request)
        with self._lock:
            if not request.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit_plans(batch)
        if isinstance(request.error, sqlite3.Error):
            action = f"record the plan of shipment {shipment_id!r} in"
            raise journal_error(request.error, self.path, action) from request.error
        if request.error is not None:
            raise request.error

    def _commit_plans(self, batch: list[_PlanRequest]) -> None:
        try:
            with self._transaction() as db:
                if len(batch) == 1:  # alone: its error rolls back the transaction, nothing else
                    self._write_plan(db, *batch[0].args)
                    return
                for request in batch:
                    db.execute("SAVEPOINT plan")
                    try:
                        self._write_plan(db, *request.args)
                    except sqlite3.Error as exc:  # e.g. a path another plan holds
                        db.execute("ROLLBACK TO plan")
                        request.error = exc
                    db.execute("RELEASE plan")
        except BaseException as exc:  # noqa: BLE001 - every waiting thread must hear of it
            for request in batch:
                request.error = request.error or exc
        finally:
            self.plan_commits += 1
            for request in batch:
                request.done = True

    @classmethod
    def _write_plan(
        cls,
        db: sqlite3.Connection,
        profile: str,
        shipment_id: str,
        info: ShipmentInfo,
        directory: str,
        documents: Sequence[JournalDocument],
        replace: bool,
    ) -> None:
        cls._upsert(db, profile, shipment_id, info, ShipmentState.STORING, directory=directory)
        if replace:
            db.execute("DELETE FROM documents WHERE profile = ? AND shipment_id = ?", (profile, shipment_id))
        db.executemany(
            "INSERT INTO documents (profile, shipment_id, seq, path, path_key, original_name,"
            " content_type, document_type, vsnr, vu_number, description, size, sha256,"
            " checksum_verified, archive_name)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    profile,
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
                for doc in documents
            ],
        )

    @_mapped("write to")
    def mark_stored(self, profile: str, shipment_id: str) -> None:
        # Not fsync'ed either: the plan (durable) names every file with its hash, and the
        # files are durable before this is called. If a power loss takes "stored" back to
        # "storing", the next run finds the files complete and goes on from there
        # (Fetcher: recovery of complete plans) without downloading anything again.
        with self._transaction(durable=False) as db:
            cursor = db.execute(_SET_STATE, (ShipmentState.STORED.value, _now(), None, profile, shipment_id))
        if cursor.rowcount != 1:
            raise JournalError(
                f"the journal {self.path} has no shipment {shipment_id!r} of profile {profile!r} "
                "to mark stored",
                path=self.path,
            )

    def mark_acknowledged(self, profile: str, shipment_id: str) -> None:
        """``acknowledged`` (and ``stored_at``, if "stored" was not recorded separately).

        A fetch that acknowledges goes from ``storing`` to ``acknowledged`` in one step
        once the files are durable. Recorded in batches (:data:`ACK_BATCH` at a time, the
        rest by :meth:`flush` or :meth:`close`) and not fsync'ed: if a crash or power loss
        loses some, the next run finds those shipments' files complete, acknowledges them
        again and the server answers OK or 04003 (unknown). Nothing is downloaded again.
        """
        now = _now()
        with self._acks_lock:
            self._acks.append((now, now, profile, shipment_id))
            full = len(self._acks) >= ACK_BATCH
        if full:
            self.flush()

    @_mapped("write to")
    def flush(self) -> None:
        """Write the acknowledgements recorded so far (one transaction, not fsync'ed)."""
        with self._lock:
            with self._acks_lock:
                batch, self._acks = self._acks, []
            if not batch:
                return
            with self._transaction(durable=False) as db:
                cursor = db.executemany(
                    _SET_STATE, [(ShipmentState.ACKNOWLEDGED.value, *row) for row in batch]
                )
            if cursor.rowcount != len(batch):
                log.warning("%d acknowledged shipments were not in the journal", len(batch) - cursor.rowcount)

    @_mapped("write to")
    def mark_failed(self, profile: str, shipment_id: str, info: ShipmentInfo, error: str) -> None:
        """Remember the error; a shipment that was never stored will be downloaded again next run."""
        with self._transaction(durable=False) as db:
            self._upsert(db, profile, shipment_id, info, ShipmentState.FAILED, error)

    @_mapped("write to")
    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shipment(row: sqlite3.Row) -> JournalShipment:
    return JournalShipment(
        profile=row["profile"],
        shipment_id=row["shipment_id"],
        state=ShipmentState(row["state"]),
        category=row["category"],
        attempts=row["attempts"],
        error=row["error"],
        stored_at=row["stored_at"],
        acknowledged_at=row["acknowledged_at"],
        directory=row["directory"],
    )


def _document(row: sqlite3.Row) -> JournalDocument:
    verified = row["checksum_verified"]
    return JournalDocument(
        profile=row["profile"],
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
