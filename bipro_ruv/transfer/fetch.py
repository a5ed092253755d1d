"""``fetch_open_documents``: every open shipment stored durably, then acknowledged.

R+V sends these documents *instead of* paper mail, and an acknowledged shipment
leaves the mailbox for good. The order per shipment is therefore fixed (see
:mod:`bipro_ruv.store`): download to the spool -> record final paths and hashes in the
document store -> move each file into place (fsync, atomic rename, fsync directory) ->
"stored" -> acknowledge -> "acknowledged". A rerun after a crash at any point stores
every document exactly once and acknowledges what was stored but not acknowledged,
without downloading it again.

The store is a :class:`~bipro_ruv.store.DocumentStore` and every record is keyed by the
:class:`~bipro_ruv.store.Account` of the run (insurer profile + user id); by default the
SQLite journal of the inbox (:class:`~bipro_ruv.store.sqlite.SqliteStore`).

Inbox layout (:class:`._inbox.InboxLayout`): ``<inbox>/<shipment id>/<document name>``,
names made safe by :func:`._files.safe_filename`; the journal and spool live in
``<inbox>/.bipro-ruv/``.
A shipment gets ``<shipment id> (2)`` only if ``<shipment id>`` is a file, a symlink or
the folder of another plan: a folder no plan names (a run was killed between making it
and planning, or a user made it) is used.

The inbox is created if it is missing, its parent folder is not. What makes the whole
inbox unusable (a file in its place, no permission to write into it, a missing parent,
a journal that is not SQLite) ends the run with a :class:`~bipro_ruv.errors.StorageError`
(:class:`~bipro_ruv.errors.JournalError` for the journal) before anything is downloaded;
a file system error while one shipment is stored fails that shipment only.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from bipro_ruv._wire.fs import check_writable, is_systemic, make_folder, resolve_folder, storage_error
from bipro_ruv.errors import (
    AuthenticationError,
    BiproError,
    ConfigurationError,
    FetchInterrupted,
    Interrupted,
    ServiceError,
    StorageError,
)
from bipro_ruv.store import (
    DEFAULT_CONSUMER,
    STATE_DIR,
    Account,
    DocumentRecord,
    DocumentStore,
    ShipmentInfo,
    ShipmentRecord,
    ShipmentState,
)
from bipro_ruv.store.sqlite import SqliteStore
from bipro_ruv.transfer._download import DownloadedShipment
from bipro_ruv.transfer._files import unique_path
from bipro_ruv.transfer._inbox import InboxLayout, InboxLock, empty_folder
from bipro_ruv.transfer._parallel import run_parallel
from bipro_ruv.transfer._quarantine import QUARANTINE_AFTER, failure_key, keep_reply
from bipro_ruv.transfer.categories import matches_category
from bipro_ruv.transfer.handoff import Handoff, PushHandoff
from bipro_ruv.transfer.models import (
    Document,
    FetchEvent,
    FetchEventKind,
    FetchReport,
    Outcome,
    Shipment,
    ShipmentResult,
)

__all__ = ["QUARANTINE_AFTER", "STATE_DIR", "Fetcher", "TransferApi", "failure_key"]

log = logging.getLogger("bipro_ruv.fetch")

#: acknowledgeShipment: unknown ID. For a shipment we stored, it means the server
#: already took an earlier acknowledgement (sent just before a crash).
_ACK_UNKNOWN = "04003"


class TransferApi(Protocol):
    """What the fetcher needs from a client (implemented by :class:`bipro_ruv.Client`)."""

    @property
    def vu_number(self) -> str: ...

    def list_shipments(self) -> list[Shipment]: ...

    def download_to_spool(
        self, shipment_id: str, spool_dir: Path, on_bytes: Callable[[int], None] | None
    ) -> DownloadedShipment: ...

    def acknowledge_shipment(self, shipment_id: str) -> object: ...

    def download_raw(self, shipment_id: str, target: Path) -> dict[str, Any]: ...


def audit(result: ShipmentResult) -> None:
    """One INFO line per shipment: id, outcome, documents, contract numbers, error (``-v``)."""
    vsnrs = sorted({str(d.vsnr or d.vsnr_raw) for d in result.documents if d.vsnr or d.vsnr_raw})
    log.info(
        "shipment %s: %s, %d documents%s%s%s",
        result.shipment_id,
        result.outcome.value,
        len(result.documents),
        f", Kategorie {result.category}" if result.category else "",
        f", VSNR {', '.join(vsnrs)}" if vsnrs else "",
        f": {result.error}" if result.error else "",
    )


class Fetcher:
    """One run of fetch_open_documents over one inbox, for one account.

    ``store``: where the run records what it fetched, keyed by ``account``; the caller's
    store is flushed at the end and left open. None: the inbox's SQLite journal, opened
    and closed by the run.
    """

    def __init__(
        self,
        api: TransferApi,
        inbox: Path,
        *,
        account: Account,
        store: DocumentStore | None = None,
        acknowledge: bool = True,
        categories: Sequence[str] = (),
        workers: int = 3,
        progress: Callable[[FetchEvent], None] | None = None,
        quarantine_after: int = QUARANTINE_AFTER,
        on_document: Callable[[Document], object] | None = None,
        consumer: str = DEFAULT_CONSUMER,
    ) -> None:
        if workers < 1:
            raise ConfigurationError("workers must be at least 1")
        if quarantine_after < 1:
            raise ConfigurationError("quarantine_after must be at least 1")
        self.api = api
        self.quarantine_after = quarantine_after
        self._on_document = on_document
        self.consumer = consumer
        #: The push form of the hand-off while :meth:`run` runs (with ``on_document``).
        self._push: PushHandoff | None = None
        self.inbox = resolve_folder(inbox, "the inbox")
        self.acknowledge = acknowledge
        self.categories = tuple(categories)
        self.workers = workers
        self._progress = progress
        self._progress_lock = threading.Lock()
        self.account = account
        self._given_store = store
        #: The store in use while :meth:`run` runs.
        self.store: DocumentStore | None = None
        self.spool_root = self.inbox / STATE_DIR / "spool"
        self._thread = threading.local()
        #: Read from the store once per run (the inbox lock keeps other fetches out).
        self._known: set[str] = set()
        self._layout = InboxLayout(self.inbox, self._emit)

    # -- events -------------------------------------------------------------------

    def _emit(
        self, kind: FetchEventKind, shipment_id: str | None = None, count: int = 0, message: str | None = None
    ) -> None:
        if self._progress is not None:
            with self._progress_lock:
                self._progress(FetchEvent(kind=kind, shipment_id=shipment_id, count=count, message=message))

    # -- run ------------------------------------------------------------------------

    def run(self) -> FetchReport:
        started = datetime.now(timezone.utc)
        state_dir = self.inbox / STATE_DIR
        make_folder(self.inbox, "the inbox")
        check_writable(self.inbox, "the inbox")  # read-only, immutable, full: now, not per shipment
        make_folder(state_dir, "the state folder")
        results: list[ShipmentResult] = []
        with InboxLock(state_dir / "lock"), self._open_store() as store:
            self.store = store
            if self._on_document is not None:
                handoff = Handoff(self.inbox, self.account, consumer=self.consumer, store=store)
                self._push = PushHandoff(handoff, self._on_document)
            self._prepare_spool()
            # Records of an older journal keyed by profile alone are this run's to continue.
            store.adopt(self.account)
            self._known = store.shipment_ids(self.account)
            self._layout.load(store.directory_keys())
            self._complete_interrupted_plans()
            if self.acknowledge:
                for pending in store.shipments(self.account, ShipmentState.STORED):
                    results.append(self._acknowledge(pending.shipment_id, recovered=True))
                    audit(results[-1])
            done = {result.shipment_id for result in results}
            quarantined = {r.shipment_id: r for r in store.shipments(self.account, ShipmentState.QUARANTINED)}
            listed = []
            for item in self.api.list_shipments():
                if item.id in done or not matches_category(item.category, self.categories):
                    continue
                held = quarantined.get(item.id)
                if held is not None:
                    results.append(self._held(item, held))
                    audit(results[-1])
                else:
                    listed.append(item)
            self._emit(FetchEventKind.LISTED, count=len(listed))
            try:
                results.extend(run_parallel(self._audited, listed, self.workers, name="bipro-fetch"))
            except Interrupted as stopped:
                results.extend(r for r in stopped.partial if isinstance(r, ShipmentResult))
                log.warning(
                    "fetch interrupted: %d shipments done, the rest stay in the mailbox", len(results)
                )
                raise FetchInterrupted(self._report(started, results, interrupted=True)) from None
            shutil.rmtree(self.spool_root, ignore_errors=True)
            if self._push is not None:
                store.flush()  # acknowledgements first: the pending documents are read from the store
                self._push.deliver(self._push.handoff.pending())
        return self._report(started, results)

    def _report(
        self, started: datetime, results: list[ShipmentResult], *, interrupted: bool = False
    ) -> FetchReport:
        return FetchReport(
            inbox=self.inbox,
            acknowledge=self.acknowledge,
            results=tuple(results),
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            interrupted=interrupted,
            handed_off=self._push.handed_off if self._push is not None else 0,
            handoff_error=self._push.error if self._push is not None else None,
        )

    @contextmanager
    def _open_store(self) -> Iterator[DocumentStore]:
        """The caller's store (flushed at the end, left open), or the inbox's SQLite journal."""
        if self._given_store is None:
            with SqliteStore.for_inbox(self.inbox) as journal:
                yield journal
            return
        try:
            yield self._given_store
        finally:
            self._given_store.flush()

    def _prepare_spool(self) -> None:
        """An empty spool."""
        # Spool files of a crashed run are never the only copy (the shipment is
        # still in the mailbox or already stored): start from an empty spool.
        shutil.rmtree(self.spool_root, ignore_errors=True)
        try:
            self.spool_root.mkdir()
        except OSError as exc:
            raise storage_error(exc, self.spool_root, "create the spool folder") from exc

    def _complete_interrupted_plans(self) -> None:
        """``storing`` or ``failed`` shipments whose planned files are all in place become ``stored``.

        The one place a run recognizes documents stored before: the acknowledgement loop
        in :meth:`run` then confirms them without downloading anything again. "stored" is
        committed without an fsync of its own, so a power loss can take it back to
        "storing" after the acknowledgement already went out; such a shipment is no
        longer listed by the server, and would stay "storing" for ever without this. A
        ``failed`` shipment may have failed after its last file was in place.
        """
        store = self._store()
        for state in (ShipmentState.STORING, ShipmentState.FAILED):
            for pending in store.shipments(self.account, state):
                planned = store.documents(self.account, pending.shipment_id)
                if planned and self._layout.all_present(planned):
                    store.mark_stored(self.account, pending.shipment_id)
                    self._emit(FetchEventKind.STORED, pending.shipment_id)

    def _store(self) -> DocumentStore:
        assert self.store is not None, "Fetcher.run() opens the store"
        return self.store

    # -- one shipment -------------------------------------------------------------------

    def _held(self, shipment: Shipment, record: ShipmentRecord) -> ShipmentResult:
        """A quarantined shipment: reported, not downloaded."""
        self._emit(FetchEventKind.QUARANTINED, shipment.id, message=record.error)
        return ShipmentResult(
            shipment_id=shipment.id,
            category=shipment.category,
            category_label=shipment.category_label,
            outcome=Outcome.QUARANTINED,
            error=record.error,
            error_type=(record.failure_key or "").split(":")[0] or None,
        )

    def _audited(self, shipment: Shipment) -> ShipmentResult:
        """:meth:`_process`, and one audit line (INFO) of what became of the shipment."""
        result = self._process(shipment)
        audit(result)
        return result

    def _process(self, shipment: Shipment) -> ShipmentResult:
        store = self._store()
        sid = shipment.id
        info = ShipmentInfo(
            vu_number=self.api.vu_number,
            category=shipment.category,
            category_label=shipment.category_label,
            created_at_raw=shipment.created_at_raw,
        )
        known = store.shipment(self.account, sid) if sid in self._known else None
        planned: list[DocumentRecord] = []
        if known is not None:
            if known.state in (ShipmentState.STORED, ShipmentState.ACKNOWLEDGED):
                # Stored earlier (dry run, or the acknowledgement was lost): never download again.
                return self._acknowledge(sid, recovered=True)
            # A plan whose files were complete became "stored" at the start of the run
            # (_complete_interrupted_plans); this one is downloaded again into its paths.
            planned = store.documents(self.account, sid)
        self._emit(FetchEventKind.DOWNLOADING, sid)
        spool = self._spool()
        try:
            downloaded = self.api.download_to_spool(
                sid, spool, lambda count: self._emit(FetchEventKind.BYTES, sid, count)
            )
            entries = self._place(shipment, info, known, downloaded, planned)
            if not self.acknowledge:
                store.mark_stored(self.account, sid)
            # else "stored" is recorded with the acknowledgement, or by _ack_failed.
            self._emit(FetchEventKind.STORED, sid)
        except (AuthenticationError, StorageError):
            raise  # the login or the whole inbox (the store), not this shipment
        except (BiproError, OSError) as exc:
            if isinstance(exc, OSError) and is_systemic(exc):  # the disk or the inbox: end the run
                raise storage_error(exc, Path(exc.filename or self.inbox), "store a shipment in") from exc
            log.warning("shipment %s not stored: %s", sid, exc)
            key = failure_key(exc)
            count = store.mark_failed(
                self.account, sid, info, f"{type(exc).__name__}: {exc}", failure_key=key
            )
            self._known.add(sid)
            if key is not None and count >= self.quarantine_after:
                return self._quarantine(shipment, exc, count)
            self._emit(FetchEventKind.FAILED, sid, message=str(exc))
            return ShipmentResult(
                shipment_id=sid,
                category=shipment.category,
                category_label=shipment.category_label,
                outcome=Outcome.FAILED,
                error=str(exc),
                error_type=type(exc).__name__,
            )
        finally:
            # What the shipment left: partial files of a failed one, the folders a stored ZIP
            # delivery was unpacked into. The next shipment on this worker finds it empty.
            empty_folder(spool)
        documents = tuple(
            Document.from_record(entry, self.inbox, doc.warnings, shipment=info)
            for doc, entry in zip(downloaded.documents, entries, strict=True)
        )
        result = self._acknowledge(
            sid,
            recovered=False,
            category=shipment.category,
            category_label=shipment.category_label,
            documents=documents,
        )
        if self._push is not None:
            self._push.deliver(documents)
        return result

    def _quarantine(self, shipment: Shipment, exc: BaseException, count: int) -> ShipmentResult:
        """Keep the reply and the error under ``<inbox>/.bipro-ruv/quarantine/``, then mark
        the shipment quarantined: not downloaded again until released by hand."""
        sid = shipment.id
        error = f"{type(exc).__name__}: {exc}"
        relative = keep_reply(self.api.download_raw, self.inbox, self.account, sid, error, count)
        self._store().quarantine(self.account, sid, relative)
        log.warning(
            "shipment %s quarantined after %d failures (%s); it stays in the mailbox: "
            "see `bipro-ruv shipments show %s`",
            sid,
            count,
            error,
            sid,
        )
        self._emit(FetchEventKind.QUARANTINED, sid, message=error)
        return ShipmentResult(
            shipment_id=sid,
            category=shipment.category,
            category_label=shipment.category_label,
            outcome=Outcome.QUARANTINED,
            error=error,
            error_type=type(exc).__name__,
        )

    def _spool(self) -> Path:
        """This worker thread's spool folder (emptied after every shipment)."""
        spool: Path | None = getattr(self._thread, "spool", None)
        if spool is None:
            try:
                spool = Path(tempfile.mkdtemp(dir=self.spool_root, prefix="w-"))
            except OSError as exc:
                raise storage_error(exc, self.spool_root, "create a spool folder in") from exc
            self._thread.spool = spool
        return spool

    def _place(
        self,
        shipment: Shipment,
        info: ShipmentInfo,
        record: ShipmentRecord | None,
        downloaded: DownloadedShipment,
        planned: list[DocumentRecord],
    ) -> list[DocumentRecord]:
        """Record the final paths, then move every spooled file into place durably."""
        store = self._store()
        sid = shipment.id
        reuse = bool(planned) and len(planned) == len(downloaded.documents) and record is not None
        if reuse and record is not None and record.directory:
            directory = self.inbox / record.directory
            chosen_now = False
        else:
            directory = self._layout.reserve(sid)
            chosen_now = True
        existing = self._layout.make_folder(directory, sid, chosen_now=chosen_now)
        chosen: list[str] = []
        entries: list[DocumentRecord] = []
        for doc in downloaded.documents:
            if reuse:
                relative = planned[doc.seq].path
            else:
                target = unique_path(directory, doc.safe_name(), chosen, existing=existing)
                chosen.append(target.name)
                relative = target.relative_to(self.inbox).as_posix()
            entries.append(doc.record(self.account, sid, relative, self.api.vu_number))
        store.plan(self.account, sid, info, directory.name, entries, replace=record is not None)
        self._known.add(sid)
        self._emit(FetchEventKind.PLANNED, sid, count=len(entries))
        files = [(doc.path, entry.path) for doc, entry in zip(downloaded.documents, entries, strict=True)]
        self._layout.move_into_place(directory, files, sid)  # durable before the acknowledgement
        return entries

    def _acknowledge(
        self,
        shipment_id: str,
        *,
        recovered: bool,
        category: str | None = None,
        category_label: str | None = None,
        documents: tuple[Document, ...] | None = None,
    ) -> ShipmentResult:
        store = self._store()
        if documents is None:
            record = store.shipment(self.account, shipment_id)
            category = record.category if record else None
            category_label = record.category_label if record else None
            documents = tuple(
                Document.from_record(doc, self.inbox, shipment=record)
                for doc in store.documents(self.account, shipment_id)
            )
        if category_label is None and documents:
            category_label = documents[0].category_label
        base: dict[str, Any] = {
            "shipment_id": shipment_id,
            "category": category,
            "category_label": category_label,
            "documents": documents,
        }
        if not self.acknowledge:
            self._emit(FetchEventKind.DONE, shipment_id)
            return ShipmentResult(outcome=Outcome.STORED, **base)
        try:
            self.api.acknowledge_shipment(shipment_id)
        except AuthenticationError:
            raise
        except ServiceError as exc:
            if not (recovered and _ACK_UNKNOWN in {m.code for m in exc.messages}):
                return self._ack_failed(base, exc)
            log.info("shipment %s was already acknowledged before an interruption", shipment_id)
        except BiproError as exc:
            return self._ack_failed(base, exc)
        self._emit(FetchEventKind.ACKNOWLEDGED, shipment_id)
        store.mark_acknowledged(self.account, shipment_id)
        self._emit(FetchEventKind.DONE, shipment_id)
        outcome = Outcome.RECOVERED if recovered else Outcome.ACKNOWLEDGED
        return ShipmentResult(outcome=outcome, **base)

    def _ack_failed(self, base: dict[str, Any], exc: BiproError) -> ShipmentResult:
        log.warning("shipment %s stored but not acknowledged: %s", base["shipment_id"], exc)
        # The next run acknowledges it without downloading it again.
        self._store().mark_stored(self.account, str(base["shipment_id"]))
        self._emit(FetchEventKind.FAILED, str(base["shipment_id"]), message=str(exc))
        return ShipmentResult(
            outcome=Outcome.STORED,
            error=f"stored, not acknowledged: {exc}",
            error_type=type(exc).__name__,
            **base,
        )
