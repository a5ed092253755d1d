""":class:`SqliteStore`: the :class:`~bipro_ruv.store.protocol.DocumentStore` in one SQLite file.

How it keeps the promises of the interface (see the package docstring for the order of a
fetch): one connection and one lock per store; WAL mode; the plan committed with
``synchronous=FULL`` (it survives power loss), plans of concurrent workers committed
together (group commit); the later states committed without an fsync of their own, and
acknowledgements written in batches.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bipro_ruv._wire.fs import reason
from bipro_ruv.errors import JournalError
from bipro_ruv.store.protocol import (
    STATE_DIR,
    UNKNOWN_USER,
    Account,
    DocumentRecord,
    ShipmentInfo,
    ShipmentRecord,
    ShipmentState,
)
from bipro_ruv.store.sqlite import _rows as sql
from bipro_ruv.store.sqlite._errors import journal_error, mapped
from bipro_ruv.store.sqlite._schema import prepare

__all__ = ["ACK_BATCH", "SqliteStore", "journal_path"]

log = logging.getLogger("bipro_ruv.journal")

#: Acknowledgements recorded per journal transaction (see :meth:`SqliteStore.mark_acknowledged`).
ACK_BATCH = 32


def journal_path(inbox: Path) -> Path:
    """Where the journal of ``inbox`` lives: ``<inbox>/.bipro-ruv/journal.sqlite3``."""
    return inbox / STATE_DIR / "journal.sqlite3"


@dataclass
class _PlanRequest:
    """A plan waiting for the group commit (see :meth:`SqliteStore.plan`)."""

    account: Account
    shipment_id: str
    info: ShipmentInfo
    directory: str
    documents: Sequence[DocumentRecord]
    replace: bool
    done: bool = False
    error: BaseException | None = None


class SqliteStore:
    """The document store in the SQLite journal at ``path``; thread-safe (one connection,
    one lock). Creates the file, or migrates an older one (:mod:`._schema`).

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
        self._acks: list[tuple[str, str, str, str, str]] = []
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

    @classmethod
    def for_inbox(cls, inbox: Path) -> SqliteStore:
        """The journal of ``inbox`` (:func:`journal_path`), the store a fetch uses by default."""
        return cls(journal_path(inbox))

    @mapped("open")
    def _open(self) -> None:
        with self._lock:
            prepare(self._db, self.path)

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

    @mapped("read")
    def shipment(self, account: Account, shipment_id: str) -> ShipmentRecord | None:
        with self._lock:
            params = (account.profile, account.user_id, shipment_id)
            row = self._db.execute(sql.SELECT_SHIPMENT, params).fetchone()
        return None if row is None else sql.shipment(row)

    @mapped("read")
    def shipments(
        self, account: Account | None = None, state: ShipmentState | None = None
    ) -> list[ShipmentRecord]:
        state_value = state.value if state else None
        params = (*sql.account_filter(account), state_value, state_value)
        with self._lock:
            rows = self._db.execute(sql.SELECT_SHIPMENTS, params).fetchall()
        return [sql.shipment(row) for row in rows]

    @mapped("read")
    def documents(
        self, account: Account | None = None, shipment_id: str | None = None
    ) -> list[DocumentRecord]:
        params = (*sql.account_filter(account), shipment_id, shipment_id)
        with self._lock:
            rows = self._db.execute(sql.SELECT_DOCUMENTS, params).fetchall()
        return [sql.document(row) for row in rows]

    @mapped("read")
    def shipment_ids(self, account: Account) -> set[str]:
        with self._lock:
            rows = self._db.execute(sql.SHIPMENT_IDS, (account.profile, account.user_id)).fetchall()
        return {row[0] for row in rows}

    @mapped("read")
    def directory_keys(self) -> set[str]:
        with self._lock:
            rows = self._db.execute(sql.DIRECTORY_KEYS).fetchall()
        return {row[0] for row in rows}

    # -- state changes -------------------------------------------------------------

    @mapped("write to")
    def adopt(self, account: Account) -> int:
        """Give ``account`` the shipments of its profile recorded before the journal knew
        users (schema 1, :data:`~bipro_ruv.store.protocol.UNKNOWN_USER`), with their
        documents; returns how many.

        A journal belongs to one inbox, and before schema 2 every fetch into it recorded
        its shipments under the profile alone: the next fetch of that profile continues
        from them (acknowledges what was stored, completes what was planned), as it did
        before the migration. Durable, like a plan: a shipment adopted is not downloaded
        again by a later run.
        """
        if account.is_unknown:
            return 0
        with self._lock:
            if self._db.execute(sql.HAS_SHIPMENTS, (account.profile, UNKNOWN_USER)).fetchone() is None:
                return 0  # every run after the first: no write, no fsync
            with self._transaction() as db:
                params = (account.user_id, account.profile, UNKNOWN_USER, account.profile, account.user_id)
                adopted = db.execute(sql.ADOPT, params).rowcount
        log.info("journal %s: %d shipments of an older bipro-ruv adopted by %s", self.path, adopted, account)
        return adopted

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
        """:meth:`.DocumentStore.plan`, with group commit: plans that threads hand in while
        another plan is being committed are written together, in one transaction with one
        fsync, each in a savepoint of its own (one failing plan does not take the others
        with it). It returns once the plan is on disk, and raises if it is not.
        """
        request = _PlanRequest(account, shipment_id, info, directory, documents, replace)
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
                    self._write_plan(db, batch[0])
                    return
                for request in batch:
                    db.execute("SAVEPOINT plan")
                    try:
                        self._write_plan(db, request)
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

    @staticmethod
    def _write_plan(db: sqlite3.Connection, request: _PlanRequest) -> None:
        account, shipment_id = request.account, request.shipment_id
        state, directory = ShipmentState.STORING, request.directory
        db.execute(sql.UPSERT, sql.upsert_row(account, shipment_id, request.info, state, None, directory))
        if request.replace:
            db.execute(sql.DELETE_DOCUMENTS, (account.profile, account.user_id, shipment_id))
        db.executemany(
            sql.INSERT_DOCUMENT, [sql.document_row(account, shipment_id, d) for d in request.documents]
        )

    @mapped("write to")
    def mark_stored(self, account: Account, shipment_id: str) -> None:
        # Not fsync'ed either: the plan (durable) names every file with its hash, and the
        # files are durable before this is called. If a power loss takes "stored" back to
        # "storing", the next run finds the files complete and goes on from there
        # (Fetcher: recovery of complete plans) without downloading anything again.
        params = (ShipmentState.STORED.value, sql.now(), None, account.profile, account.user_id, shipment_id)
        with self._transaction(durable=False) as db:
            cursor = db.execute(sql.SET_STATE, params)
        if cursor.rowcount != 1:
            raise JournalError(
                f"the journal {self.path} has no shipment {shipment_id!r} of {account} to mark stored",
                path=self.path,
            )

    def mark_acknowledged(self, account: Account, shipment_id: str) -> None:
        """:meth:`.DocumentStore.mark_acknowledged`. A fetch that acknowledges goes from
        ``storing`` to ``acknowledged`` in one step once the files are durable. Recorded in
        batches (:data:`ACK_BATCH` at a time, the rest by :meth:`flush` or :meth:`close`)
        and not fsync'ed: if a crash or power loss loses some, the next run finds those
        shipments' files complete, acknowledges them again and the server answers OK or
        04003 (unknown). Nothing is downloaded again.
        """
        now = sql.now()
        with self._acks_lock:
            self._acks.append((now, now, account.profile, account.user_id, shipment_id))
            full = len(self._acks) >= ACK_BATCH
        if full:
            self.flush()

    @mapped("write to")
    def flush(self) -> None:
        """Write the acknowledgements recorded so far (one transaction, not fsync'ed)."""
        with self._lock:
            with self._acks_lock:
                batch, self._acks = self._acks, []
            if not batch:
                return
            with self._transaction(durable=False) as db:
                cursor = db.executemany(
                    sql.SET_STATE, [(ShipmentState.ACKNOWLEDGED.value, *row) for row in batch]
                )
            if cursor.rowcount != len(batch):
                log.warning("%d acknowledged shipments were not in the journal", len(batch) - cursor.rowcount)

    @mapped("write to")
    def mark_failed(
        self,
        account: Account,
        shipment_id: str,
        info: ShipmentInfo,
        error: str,
        *,
        failure_key: str | None = None,
    ) -> int:
        """Remember the error; a shipment that was never stored will be downloaded again next
        run. Counts the non-transient failures in a row (:meth:`.DocumentStore.mark_failed`).
        Not fsync'ed: a crash of the process keeps it, a power loss may cost one count (one
        more night before the quarantine)."""
        key = (account.profile, account.user_id, shipment_id)
        with self._transaction(durable=False) as db:
            before = db.execute(sql.SELECT_SHIPMENT, key).fetchone()
            row = sql.upsert_row(account, shipment_id, info, ShipmentState.FAILED, error, None)
            db.execute(sql.UPSERT, row)
            if failure_key is None:
                return 0
            count = 1
            if before is not None and before["failure_key"] == failure_key:
                count = before["failure_count"] + 1
            db.execute(sql.FAILURE, (failure_key, count, *key))
        return count

    @mapped("write to")
    def quarantine(self, account: Account, shipment_id: str, quarantine_dir: str | None) -> None:
        params = (ShipmentState.QUARANTINED.value, sql.now(), quarantine_dir)
        with self._transaction() as db:
            cursor = db.execute(sql.QUARANTINE, (*params, account.profile, account.user_id, shipment_id))
        if cursor.rowcount != 1:
            raise JournalError(
                f"the journal {self.path} has no shipment {shipment_id!r} of {account} to quarantine",
                path=self.path,
            )

    @mapped("write to")
    def release(self, account: Account, shipment_id: str) -> ShipmentRecord:
        states = (ShipmentState.STORED.value, ShipmentState.ACKNOWLEDGED.value, ShipmentState.FAILED.value)
        with self._transaction() as db:
            db.execute(sql.RELEASE, (*states, account.profile, account.user_id, shipment_id))
            row = db.execute(sql.SELECT_SHIPMENT, (account.profile, account.user_id, shipment_id)).fetchone()
        if row is None:
            raise JournalError(
                f"the journal {self.path} has no shipment {shipment_id!r} of {account}", path=self.path
            )
        return sql.shipment(row)

    # -- the hand-off ------------------------------------------------------------------

    @mapped("read")
    def pending_documents(
        self, account: Account, consumer: str, limit: int | None = None
    ) -> list[tuple[ShipmentRecord, DocumentRecord]]:
        states = (ShipmentState.STORED.value, ShipmentState.ACKNOWLEDGED.value)
        params = (account.profile, account.user_id, *states, consumer, -1 if limit is None else limit)
        shipments: dict[str, ShipmentRecord] = {}
        result: list[tuple[ShipmentRecord, DocumentRecord]] = []
        with self._lock:
            self._db.execute("BEGIN")  # one snapshot for the documents and their shipments
            try:
                for row in self._db.execute(sql.PENDING_DOCUMENTS, params).fetchall():
                    document = sql.document(row)
                    shipment = shipments.get(document.shipment_id)
                    if shipment is None:
                        key = (account.profile, account.user_id, document.shipment_id)
                        shipment = sql.shipment(self._db.execute(sql.SELECT_SHIPMENT, key).fetchone())
                        shipments[document.shipment_id] = shipment
                    result.append((shipment, document))
            finally:
                self._db.execute("COMMIT")
        return result

    @mapped("write to")
    def mark_taken(self, account: Account, consumer: str, shipment_id: str, seq: int) -> bool:
        """Durable (``synchronous=FULL``) before it returns: a consumer that was told "taken"
        is never given the document again, whatever happens next."""
        key = (account.profile, account.user_id, shipment_id, seq)
        with self._transaction() as db:
            if db.execute(sql.HAS_DOCUMENT, key).fetchone() is None:
                raise JournalError(
                    f"the journal {self.path} has no document {seq} of shipment {shipment_id!r} of {account}",
                    path=self.path,
                )
            cursor = db.execute(sql.MARK_TAKEN, (consumer, *key, sql.now()))
        return cursor.rowcount == 1

    @mapped("write to")
    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"
