"""``fetch_open_documents``: every open shipment stored durably, then acknowledged.

R+V sends these documents *instead of* paper mail, and an acknowledged shipment
leaves the mailbox for good. The order per shipment is therefore fixed (see
:mod:`.journal`): download to the spool -> record final paths and hashes in the
journal -> move each file into place (fsync, atomic rename, fsync directory) ->
journal "stored" -> acknowledge -> journal "acknowledged". A rerun after a crash at
any point stores every document exactly once and acknowledges what was stored but
not acknowledged, without downloading it again.

Inbox layout: ``<inbox>/<shipment id>/<document name>``, names made safe by
:func:`._files.safe_filename`; the journal and spool live in ``<inbox>/.bipro-ruv/``.
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
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from bipro_ruv._wire.fs import FileLock, make_folder, resolve_folder, storage_error
from bipro_ruv._wire.spool import sha256_file
from bipro_ruv.errors import (
    AuthenticationError,
    BiproError,
    ConfigurationError,
    DocumentError,
    ServiceError,
    StorageError,
)
from bipro_ruv.transfer._download import DownloadedShipment
from bipro_ruv.transfer._files import (
    DirectorySync,
    atomic_move,
    ensure_inside,
    fold_names,
    fsync_directory,
    safe_filename,
    unique_path,
)
from bipro_ruv.transfer.categories import matches_category
from bipro_ruv.transfer.journal import (
    Journal,
    JournalDocument,
    JournalShipment,
    ShipmentInfo,
    ShipmentState,
    path_key,
)
from bipro_ruv.transfer.models import (
    Document,
    FetchEvent,
    FetchEventKind,
    FetchReport,
    Outcome,
    Shipment,
    ShipmentResult,
)

__all__ = ["STATE_DIR", "Fetcher", "TransferApi", "journal_path"]

_In = TypeVar("_In")
_Out = TypeVar("_Out")

log = logging.getLogger("bipro_ruv.fetch")

STATE_DIR = ".bipro-ruv"
#: acknowledgeShipment: unknown ID. For a shipment we stored, it means the server
#: already took an earlier acknowledgement (sent just before a crash).
_ACK_UNKNOWN = "04003"


def journal_path(inbox: Path) -> Path:
    return inbox / STATE_DIR / "journal.sqlite3"


def run_parallel(
    work: Callable[[_In], _Out], items: Sequence[_In], workers: int, *, name: str = "worker"
) -> list[_Out]:
    """``[work(item) for item in items]`` on ``workers`` threads, results in input order.

    Each thread takes the next item as soon as it is free, and the calling thread only
    waits for the end. (``ThreadPoolExecutor.map`` wakes the caller once per item to hand
    it each result, a thread switch per shipment that costs measurable CPU when the work
    items are small.) The first exception stops the other threads from taking new items
    and is raised here once the items in progress are finished. So does an interruption
    of the calling thread (Ctrl-C): no item is left half done behind its back.
    """
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    results: list[_Out | None] = [None] * len(items)
    pending = iter(enumerate(items))
    lock = threading.Lock()
    stop = threading.Event()
    all_done = threading.Event()
    errors: list[BaseException] = []
    count = running = min(workers, len(items))

    def loop() -> None:
        nonlocal running
        try:
            while not stop.is_set():
                with lock:
                    taken = next(pending, None)
                if taken is None:
                    return
                index, item = taken
                try:
                    results[index] = work(item)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                    errors.append(exc)
                    stop.set()
                    return
        finally:
            with lock:
                running -= 1
                if running == 0:
                    all_done.set()

    threads = [threading.Thread(target=loop, name=f"{name}-{number}") for number in range(count)]
    for thread in threads:
        thread.start()
    # An Event, not Thread.join(): on CPython 3.11 a Ctrl-C that interrupts join() can mark a
    # thread that is still running as stopped, and a second join() would then not wait for it.
    try:
        all_done.wait()
    except BaseException:
        stop.set()  # e.g. KeyboardInterrupt: let the items in progress finish, start no more
        all_done.wait()
        raise
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return cast("list[_Out]", results)


def _is_real_folder(path: Path) -> bool:
    """A directory itself, not a symlink to one (nor a file)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _empty(folder: Path) -> None:
    """Remove what a shipment left in a spool folder (partial or unpacked files)."""
    try:
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)
    except OSError as exc:
        raise storage_error(exc, folder, "empty the spool folder") from exc


class TransferApi(Protocol):
    """What the fetcher needs from a client (implemented by :class:`bipro_ruv.Client`)."""

    @property
    def profile_key(self) -> str: ...

    @property
    def vu_number(self) -> str: ...

    def list_shipments(self) -> list[Shipment]: ...

    def download_to_spool(
        self, shipment_id: str, spool_dir: Path, on_bytes: Callable[[int], None] | None
    ) -> DownloadedShipment: ...

    def acknowledge_shipment(self, shipment_id: str) -> object: ...


class _InboxLock(FileLock):
    """One fetch per inbox at a time, across processes (an OS file lock, released on crash)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, blocking=False)

    def __enter__(self) -> _InboxLock:
        try:
            super().__enter__()
        except BlockingIOError as exc:
            raise ConfigurationError(
                f"another fetch is already running on {self.path.parent.parent}"
            ) from exc
        except OSError as exc:
            raise storage_error(exc, self.path, "open the lock file") from exc
        return self


class Fetcher:
    """One run of fetch_open_documents over one inbox."""

    def __init__(
        self,
        api: TransferApi,
        inbox: Path,
        *,
        acknowledge: bool = True,
        categories: Sequence[str] = (),
        workers: int = 3,
        progress: Callable[[FetchEvent], None] | None = None,
    ) -> None:
        if workers < 1:
            raise ConfigurationError("workers must be at least 1")
        self.api = api
        self.inbox = resolve_folder(inbox, "the inbox")
        self.acknowledge = acknowledge
        self.categories = tuple(categories)
        self.workers = workers
        self._progress = progress
        self._progress_lock = threading.Lock()
        self.profile = api.profile_key
        self.journal: Journal | None = None
        self.spool_root = self.inbox / STATE_DIR / "spool"
        self._thread = threading.local()
        #: Folded names in the inbox: listed once per run, not once per shipment.
        self._inbox_names: set[str] = set()
        #: Read from the journal once per run (the inbox lock keeps other writers out):
        #: shipments it knows, and the keys of every planned folder.
        self._known: set[str] = set()
        self._directory_keys: set[str] = set()
        self._names_lock = threading.Lock()
        self._inbox_sync = DirectorySync(self.inbox)

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
        make_folder(state_dir, "the state folder")
        results: list[ShipmentResult] = []
        with _InboxLock(state_dir / "lock"), Journal(journal_path(self.inbox)) as journal:
            self.journal = journal
            self._prepare_inbox()
            self._known = journal.shipment_ids(self.profile)
            self._directory_keys = journal.directory_keys()
            self._complete_interrupted_plans()
            if self.acknowledge:
                for pending in journal.shipments(self.profile, ShipmentState.STORED):
                    results.append(self._acknowledge(pending.shipment_id, recovered=True))
            done = {result.shipment_id for result in results}
            listed = [
                item
                for item in self.api.list_shipments()
                if item.id not in done and matches_category(item.category, self.categories)
            ]
            self._emit(FetchEventKind.LISTED, count=len(listed))
            results.extend(run_parallel(self._process, listed, self.workers, name="bipro-fetch"))
            shutil.rmtree(self.spool_root, ignore_errors=True)
        return FetchReport(
            inbox=self.inbox,
            acknowledge=self.acknowledge,
            results=tuple(results),
            started_at=started,
            finished_at=datetime.now(timezone.utc),
        )

    def _prepare_inbox(self) -> None:
        """An empty spool, and the names in the inbox (read once per run)."""
        # Spool files of a crashed run are never the only copy (the shipment is
        # still in the mailbox or already stored): start from an empty spool.
        shutil.rmtree(self.spool_root, ignore_errors=True)
        try:
            self.spool_root.mkdir()
        except OSError as exc:
            raise storage_error(exc, self.spool_root, "create the spool folder") from exc
        try:
            self._inbox_names = fold_names(os.listdir(self.inbox))
        except OSError as exc:
            raise storage_error(exc, self.inbox, "list the inbox") from exc

    def _complete_interrupted_plans(self) -> None:
        """``storing`` or ``failed`` shipments whose planned files are all in place become ``stored``.

        The one place a run recognizes documents stored before: the acknowledgement loop
        in :meth:`run` then confirms them without downloading anything again. "stored" is
        committed without an fsync of its own, so a power loss can take it back to
        "storing" after the acknowledgement already went out; such a shipment is no
        longer listed by the server, and would stay "storing" for ever without this. A
        ``failed`` shipment may have failed after its last file was in place.
        """
        journal = self._journal()
        for state in (ShipmentState.STORING, ShipmentState.FAILED):
            for pending in journal.shipments(self.profile, state):
                planned = journal.documents(self.profile, pending.shipment_id)
                if planned and self._all_present(planned):
                    journal.mark_stored(self.profile, pending.shipment_id)
                    self._emit(FetchEventKind.STORED, pending.shipment_id)

    def _journal(self) -> Journal:
        assert self.journal is not None, "Fetcher.run() opens the journal"
        return self.journal

    # -- one shipment -------------------------------------------------------------------

    def _process(self, shipment: Shipment) -> ShipmentResult:
        journal = self._journal()
        sid = shipment.id
        info = ShipmentInfo(
            vu_number=self.api.vu_number,
            category=shipment.category,
            category_label=shipment.category_label,
            created_at_raw=shipment.created_at_raw,
        )
        known = journal.shipment(self.profile, sid) if sid in self._known else None
        planned: list[JournalDocument] = []
        if known is not None:
            if known.state in (ShipmentState.STORED, ShipmentState.ACKNOWLEDGED):
                # Stored earlier (dry run, or the acknowledgement was lost): never download again.
                return self._acknowledge(sid, recovered=True)
            # A plan whose files were complete became "stored" at the start of the run
            # (_complete_interrupted_plans); this one is downloaded again into its paths.
            planned = journal.documents(self.profile, sid)
        self._emit(FetchEventKind.DOWNLOADING, sid)
        spool = self._spool()
        placed = False
        try:
            downloaded = self.api.download_to_spool(
                sid, spool, lambda count: self._emit(FetchEventKind.BYTES, sid, count)
            )
            entries = self._place(shipment, info, known, downloaded, planned)
            if not self.acknowledge:
                journal.mark_stored(self.profile, sid)
            # else "stored" is recorded with the acknowledgement, or by _ack_failed.
            placed = True
            self._emit(FetchEventKind.STORED, sid)
        except (AuthenticationError, StorageError):
            raise  # the login or the whole inbox (the journal), not this shipment
        except (BiproError, OSError) as exc:
            log.warning("shipment %s not stored: %s", sid, exc)
            journal.mark_failed(self.profile, sid, info, f"{type(exc).__name__}: {exc}")
            self._known.add(sid)
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
            if not placed:
                _empty(spool)  # what a failed shipment left; a stored one moved everything
        documents = tuple(entry.to_document(self.inbox) for entry in entries)
        return self._acknowledge(sid, recovered=False, category=shipment.category, documents=documents)

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

    def _all_present(self, planned: Iterable[JournalDocument]) -> bool:
        for doc in planned:
            path = self.inbox / doc.path
            try:
                if not path.is_file() or path.stat().st_size != doc.size or sha256_file(path) != doc.sha256:
                    return False
            except OSError as exc:
                raise storage_error(exc, path, "read the stored file") from exc
        return True

    def _choose_directory(self, shipment_id: str) -> Path:
        """The shipment's folder in the inbox: the first of ``<id>``, ``<id> (2)``... that is
        free, or a real folder no journal record has planned (names lock held).

        Such a folder was made by a run killed between its ``mkdir`` and its plan (issue 9),
        or by a user; taking ``<id> (2)`` instead would store the documents beside an empty
        ``<id>``. A folder some plan names is never shared: its files belong to that plan.
        A file or a symlink of the name is passed over, like any other name in use.
        """
        name = safe_filename(shipment_id, fallback_stem="lieferung")
        candidates: list[str] = []
        while True:
            # Every name of the sequence in turn: nothing counts as present here.
            candidate = unique_path(self.inbox, name, candidates, existing=())
            candidates.append(candidate.name)
            if path_key(candidate.name) in self._directory_keys:
                continue
            if not fold_names([candidate.name]) <= self._inbox_names or _is_real_folder(candidate):
                return candidate

    def _place(
        self,
        shipment: Shipment,
        info: ShipmentInfo,
        record: JournalShipment | None,
        downloaded: DownloadedShipment,
        planned: list[JournalDocument],
    ) -> list[JournalDocument]:
        """Record the final paths, then move every spooled file into place durably."""
        journal = self._journal()
        sid = shipment.id
        reuse = bool(planned) and len(planned) == len(downloaded.documents) and record is not None
        if reuse and record is not None and record.directory:
            directory = self.inbox / record.directory
            chosen_now = False
        else:
            with self._names_lock:
                directory = self._choose_directory(sid)
                # Reserved at once, so no other worker picks the same name meanwhile.
                self._directory_keys.add(path_key(directory.name))
                self._inbox_names |= fold_names([directory.name])
            chosen_now = True
        try:
            directory.mkdir()
        except FileExistsError:
            # A folder planned before, left unplanned by a killed run, or made by someone
            # else: it may have become a symlink since, and may hold files of other names.
            ensure_inside(self.inbox, directory)
            if not directory.is_dir() or (chosen_now and not _is_real_folder(directory)):
                raise DocumentError(f"refusing to write into {directory}: not a folder") from None
            existing: set[str] | None = None
            if chosen_now:
                # Its maker may have been killed before the fsync below.
                self._inbox_sync.sync()
        else:
            # Made just now by us: a real, empty folder inside the inbox. Its entry must
            # survive a power loss (fsync of the inbox, shared with concurrent workers).
            self._inbox_sync.sync()
            existing = set()
            self._emit(FetchEventKind.FOLDER_CREATED, sid)
        chosen: list[str] = []
        entries: list[JournalDocument] = []
        for doc in downloaded.documents:
            if reuse:
                relative = planned[doc.seq].path
            else:
                target = unique_path(directory, doc.safe_name(), chosen, existing=existing)
                chosen.append(target.name)
                relative = target.relative_to(self.inbox).as_posix()
            entries.append(doc.journal_row(self.profile, sid, relative, self.api.vu_number))
        journal.plan(self.profile, sid, info, directory.name, entries, replace=record is not None)
        self._known.add(sid)
        self._emit(FetchEventKind.PLANNED, sid, count=len(entries))
        for doc, entry in zip(downloaded.documents, entries, strict=True):
            final = self.inbox / entry.path
            # The folder was checked above; a file name is one safe component in it.
            if final.parent != directory:
                raise DocumentError(f"refusing to write {final}: not in {directory}")
            atomic_move(doc.path, final, overwrite=True, sync_dir=False)
            self._emit(FetchEventKind.FILE_STORED, sid)
        fsync_directory(directory)  # every rename above is durable before the acknowledgement
        return entries

    def _acknowledge(
        self,
        shipment_id: str,
        *,
        recovered: bool,
        category: str | None = None,
        documents: tuple[Document, ...] | None = None,
    ) -> ShipmentResult:
        journal = self._journal()
        if documents is None:
            record = journal.shipment(self.profile, shipment_id)
            category = record.category if record else None
            documents = tuple(
                doc.to_document(self.inbox) for doc in journal.documents(self.profile, shipment_id)
            )
        base: dict[str, Any] = {"shipment_id": shipment_id, "category": category, "documents": documents}
        if not self.acknowledge:
            self._emit(FetchEventKind.DONE, shipment_id)
            return ShipmentResult(outcome=Outcome.STORED, **base)
        try:
            self.api.acknowledge_shipment(shipment_id)
        except AuthenticationError:
            raise
        except ServiceError as exc:
            if not (recovered and _ACK_UNKNOWN in {m.meldung_id for m in exc.meldungen}):
                return self._ack_failed(base, exc)
            log.info("shipment %s was already acknowledged before an interruption", shipment_id)
        except BiproError as exc:
            return self._ack_failed(base, exc)
        self._emit(FetchEventKind.ACKNOWLEDGED, shipment_id)
        journal.mark_acknowledged(self.profile, shipment_id)
        self._emit(FetchEventKind.DONE, shipment_id)
        outcome = Outcome.RECOVERED if recovered else Outcome.ACKNOWLEDGED
        return ShipmentResult(outcome=outcome, **base)

    def _ack_failed(self, base: dict[str, Any], exc: BiproError) -> ShipmentResult:
        log.warning("shipment %s stored but not acknowledged: %s", base["shipment_id"], exc)
        # The next run acknowledges it without downloading it again.
        self._journal().mark_stored(self.profile, str(base["shipment_id"]))
        self._emit(FetchEventKind.FAILED, str(base["shipment_id"]), message=str(exc))
        return ShipmentResult(
            outcome=Outcome.STORED,
            error=f"stored, not acknowledged: {exc}",
            error_type=type(exc).__name__,
            **base,
        )
