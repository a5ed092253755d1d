"""File system primitives shared by every layer: an OS file lock, durable folder updates,
and local file system failures as :class:`~bipro_ruv.errors.StorageError`.

The lock and the fsync rest on the operating system's own guarantees, so they hold
across processes and crashes: a lock held through an open file handle is released when
the process dies, however it dies; a rename or unlink is durable once its folder is
fsync'ed (POSIX).

This is also the one place where an ``OSError`` from our side's disk (the inbox, a
target folder, a local file) becomes a :class:`~bipro_ruv.errors.StorageError`: the
message names the path and says what is wrong in words an office administrator can act
on ("the inbox /srv/x is a file, not a folder", "cannot write into /srv/inbox: permission
denied"); the ``OSError`` stays the ``__cause__``. Network errors are not handled here:
the transport maps those (:mod:`bipro_ruv._wire.reply`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from bipro_ruv.errors import DocumentError, StorageError

__all__ = [
    "FileLock",
    "atomic_move",
    "atomic_write_bytes",
    "first_non_folder",
    "fsync_directory",
    "make_folder",
    "move_no_clobber",
    "reason",
    "resolve_folder",
    "storage_error",
    "write_stream_atomic",
]


class FileLock:
    """An exclusive OS lock on ``path`` (created if missing), released by closing.

    ``blocking=False`` raises :class:`BlockingIOError` at once when another process holds
    it; ``blocking=True`` waits as long as it takes.
    """

    def __init__(self, path: Path, *, blocking: bool) -> None:
        self.path = path
        self.blocking = blocking
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> FileLock:
        handle = self.path.open("a+b")
        try:
            _lock(handle, blocking=self.blocking)
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None


def _lock(handle: IO[bytes], *, blocking: bool) -> None:
    if sys.platform == "win32":
        import msvcrt

        if not blocking:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            except OSError as exc:
                raise BlockingIOError(errno.EAGAIN, f"{handle.name} is locked") from exc
            return
        while True:  # LK_LOCK gives up after 10 s; the holder may need longer
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError as exc:
                if exc.errno not in (errno.EDEADLOCK, errno.EACCES):
                    raise
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (POSIX; Windows cannot open directories)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some network file systems refuse fsync on a directory; nothing more can be done there.
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "it does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EEXIST: "it already exists",
    errno.ELOOP: "its symbolic links form a loop",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (a failing disk or a lost network drive)",
}


def reason(exc: OSError) -> str:
    """What went wrong, in a few words (no path: the caller's sentence names it)."""
    known = _REASONS.get(exc.errno) if exc.errno is not None else None
    if known is not None:
        return known
    if exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


#: Errors of the file system as a whole, not of one file: a run cannot go on past them.
SYSTEMIC = frozenset({errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def is_systemic(exc: BaseException) -> bool:
    """True for a permission, space, read-only or I/O error: every next file would fail too."""
    return isinstance(exc, OSError) and exc.errno in SYSTEMIC


def check_writable(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``: a folder that cannot take one (no permission, an
    immutable or read-only folder, a full disk) is a :class:`StorageError` now, not one failure
    per file later."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".bipro-ruv-probe-")
    except OSError as exc:
        raise storage_error(exc, folder, "write into") from exc
    os.close(fd)
    try:
        os.unlink(name)
    except OSError as exc:
        raise storage_error(exc, folder, f"remove a file from {what}") from exc


def storage_error(exc: OSError, path: Path, action: str) -> StorageError:
    """``cannot <action> <path>: <reason>``, e.g. ``cannot list the inbox /srv/in: permission denied``."""
    return StorageError(f"cannot {action} {path}: {reason(exc)}", path=path)


def first_non_folder(path: Path) -> Path | None:
    """The first of ``path``'s ancestors (or ``path`` itself) that exists and is no folder."""
    for candidate in (*reversed(path.parents), path):
        try:
            if candidate.exists() and not candidate.is_dir():
                return candidate
        except OSError:
            return None
    return None


def _first_missing(path: Path) -> Path | None:
    """The first of ``path``'s ancestors that does not exist (``path`` itself excluded)."""
    for candidate in reversed(path.parents):
        try:
            if not candidate.exists():
                return candidate
        except OSError:
            return None
    return None


def make_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if it is missing (not its parents), or raise :class:`StorageError`.

    Missing parents are not created: an inbox under a drive that is not mounted (or a
    typing error in the path) is reported instead of being made on the wrong disk.
    ``what`` names the folder for the message ("the inbox").
    """
    try:
        folder.mkdir(exist_ok=True)
    except FileNotFoundError as exc:
        missing = _first_missing(folder) or folder.parent
        raise StorageError(
            f"cannot create {what} {folder}: the folder {missing} does not exist", path=missing
        ) from exc
    except (FileExistsError, NotADirectoryError) as exc:
        blocker = first_non_folder(folder)
        if blocker is None:
            raise storage_error(exc, folder, f"create {what}") from exc
        if blocker == folder:
            raise StorageError(f"{what} {folder} is a file, not a folder", path=folder) from exc
        raise StorageError(
            f"cannot create {what} {folder}: {blocker} is a file, not a folder", path=blocker
        ) from exc
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise StorageError(
                f"cannot write into {folder.parent}: {reason(exc)}", path=folder.parent
            ) from exc
        raise storage_error(exc, folder, f"create {what}") from exc


def resolve_folder(path: Path, what: str) -> Path:
    """``path.resolve()``; a loop of symbolic links (``RuntimeError`` on Python 3.11,
    ``OSError`` later) becomes a :class:`StorageError`."""
    try:
        return path.resolve()
    except OSError as exc:
        raise storage_error(exc, path, f"use {what}") from exc
    except RuntimeError as exc:
        raise StorageError(f"cannot use {what} {path}: {_REASONS[errno.ELOOP]}", path=path) from exc


# -- durable writes ----------------------------------------------------------------------


def move_no_clobber(src: Path, dest: Path) -> None:
    """Rename ``src`` to ``dest``; raise FileExistsError instead of replacing ``dest``."""
    if os.name == "nt":
        os.rename(src, dest)  # Windows refuses to rename onto an existing file.
        return
    try:
        # link() fails atomically if dest exists, which rename() on POSIX would replace.
        os.link(src, dest)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (FAT, some SMB mounts): check, then rename.
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "file exists", str(dest)) from None
        os.replace(src, dest)
        return
    os.unlink(src)


def atomic_move(src: Path, dest: Path, *, overwrite: bool = False, sync_dir: bool = True) -> None:
    """Give the finished file ``src`` its final name ``dest`` atomically and durably.

    ``src`` must already be flushed and fsync'ed and live on the same file system
    (normally: a temporary file in ``dest``'s directory). An existing ``dest`` is
    replaced only with ``overwrite=True``; otherwise :class:`DocumentError` is raised
    and ``src`` is left in place.
    """
    if overwrite:
        os.replace(src, dest)
    else:
        try:
            move_no_clobber(src, dest)
        except FileExistsError as exc:
            raise DocumentError(f"{dest} already exists; not overwriting it") from exc
    if sync_dir:
        fsync_directory(dest.parent)


def write_stream_atomic(dest: Path, chunks: Iterable[bytes], *, overwrite: bool = False) -> tuple[int, str]:
    """Write ``chunks`` to ``dest`` via a temporary file; return (size, sha256 hex).

    Nothing appears under ``dest`` unless every chunk was written and synced; on any
    error the temporary file is removed and ``dest`` is untouched.
    """
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".", suffix=".part")
    tmp = Path(tmp_name)
    try:
        hasher = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                hasher.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        atomic_move(tmp, dest, overwrite=overwrite)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size, hasher.hexdigest()


def atomic_write_bytes(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically and durably (see :func:`write_stream_atomic`)."""
    write_stream_atomic(path, (data,), overwrite=overwrite)
