"""File system primitives shared by every layer: an OS file lock and durable folder updates.

Both rest on the operating system's own guarantees, so they hold across processes and
crashes: a lock held through an open file handle is released when the process dies,
however it dies; a rename or unlink is durable once its folder is fsync'ed (POSIX).
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import IO

__all__ = ["FileLock", "fsync_directory"]


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
