"""The inbox of a fetch: one fetch at a time (:class:`InboxLock`), where each shipment's
documents go (:class:`InboxLayout`), real folders only, an emptied spool."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from bipro_ruv._wire.fs import FileLock, atomic_move, fsync_directory, storage_error
from bipro_ruv._wire.spool import sha256_file
from bipro_ruv.errors import ConfigurationError, DocumentError
from bipro_ruv.store import DocumentRecord, path_key
from bipro_ruv.transfer._files import (
    DirectorySync,
    ensure_inside,
    fold_names,
    safe_filename,
    unique_path,
)
from bipro_ruv.transfer.models import FetchEventKind

__all__ = ["InboxLayout", "InboxLock", "empty_folder", "is_real_folder"]


def is_real_folder(path: Path) -> bool:
    """A directory itself, not a symlink to one (nor a file)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def empty_folder(folder: Path) -> None:
    """Remove what a shipment left in a spool folder (partial or unpacked files)."""
    try:
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)
    except OSError as exc:
        raise storage_error(exc, folder, "empty the spool folder") from exc


class InboxLock(FileLock):
    """One fetch per inbox at a time, across processes (an OS file lock, released on crash)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, blocking=False)

    def __enter__(self) -> InboxLock:
        try:
            super().__enter__()
        except BlockingIOError as exc:
            raise ConfigurationError(
                f"another fetch is already running on {self.path.parent.parent}"
            ) from exc
        except OSError as exc:
            raise storage_error(exc, self.path, "open the lock file") from exc
        return self


class InboxLayout:
    """Where a shipment's documents go: ``<inbox>/<shipment id>/<safe name>``, made durable.

    Holds what a run knows of the inbox (the folded names in it, read once, and the keys of
    the folders plans name) so that concurrent workers never pick one name twice, and makes
    each folder and file durable in the order the crash safety of the fetch needs: the
    folder's entry fsync'ed before its plan is recorded, every rename fsync'ed before the
    acknowledgement. ``emit`` reports ``FOLDER_CREATED`` and ``FILE_STORED`` per shipment.
    """

    def __init__(self, inbox: Path, emit: Callable[[FetchEventKind, str], None]) -> None:
        self.inbox = inbox
        self._emit = emit
        self._names: set[str] = set()
        self._directory_keys: set[str] = set()
        self._lock = threading.Lock()
        self._sync = DirectorySync(inbox)

    def load(self, directory_keys: set[str]) -> None:
        """Read the names in the inbox; ``directory_keys``: the folders the store's plans name."""
        try:
            self._names = fold_names(os.listdir(self.inbox))
        except OSError as exc:
            raise storage_error(exc, self.inbox, "list the inbox") from exc
        self._directory_keys = set(directory_keys)

    def all_present(self, planned: Iterable[DocumentRecord]) -> bool:
        """Every planned file is on disk with its recorded size and SHA-256."""
        for doc in planned:
            path = self.inbox / doc.path
            try:
                if not path.is_file() or path.stat().st_size != doc.size or sha256_file(path) != doc.sha256:
                    return False
            except OSError as exc:
                raise storage_error(exc, path, "read the stored file") from exc
        return True

    def reserve(self, shipment_id: str) -> Path:
        """A folder for the shipment (see :meth:`_choose`), reserved at once, so that no
        other worker picks the same name meanwhile."""
        with self._lock:
            directory = self._choose(shipment_id)
            self._directory_keys.add(path_key(directory.name))
            self._names |= fold_names([directory.name])
        return directory

    def _choose(self, shipment_id: str) -> Path:
        """The first of ``<id>``, ``<id> (2)``... that is free, or a real folder no plan in
        the store names (lock held).

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
            if not fold_names([candidate.name]) <= self._names or is_real_folder(candidate):
                return candidate

    def make_folder(self, directory: Path, shipment_id: str, *, chosen_now: bool) -> set[str] | None:
        """Make the shipment's folder durably; the names in it, if known (empty when new)."""
        try:
            directory.mkdir()
        except FileExistsError:
            # A folder planned before, left unplanned by a killed run, or made by someone
            # else: it may have become a symlink since, and may hold files of other names.
            ensure_inside(self.inbox, directory)
            if not directory.is_dir() or (chosen_now and not is_real_folder(directory)):
                raise DocumentError(f"refusing to write into {directory}: not a folder") from None
            if chosen_now:
                # Its maker may have been killed before the fsync below.
                self._sync.sync()
            return None
        # Made just now by us: a real, empty folder inside the inbox. Its entry must
        # survive a power loss (fsync of the inbox, shared with concurrent workers).
        self._sync.sync()
        self._emit(FetchEventKind.FOLDER_CREATED, shipment_id)
        return set()

    def move_into_place(self, directory: Path, files: Iterable[tuple[Path, str]], shipment_id: str) -> None:
        """Move each spooled file to its planned path (relative to the inbox) in ``directory``;
        every rename is durable when this returns."""
        for spooled, relative in files:
            final = self.inbox / relative
            # The folder was checked by make_folder; a file name is one safe component in it.
            if final.parent != directory:
                raise DocumentError(f"refusing to write {final}: not in {directory}")
            atomic_move(spooled, final, overwrite=True, sync_dir=False)
            self._emit(FetchEventKind.FILE_STORED, shipment_id)
        fsync_directory(directory)
