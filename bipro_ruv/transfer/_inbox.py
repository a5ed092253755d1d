"""The inbox's own guards: one fetch at a time, real folders only, an emptied spool."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from bipro_ruv._wire.fs import FileLock, storage_error
from bipro_ruv.errors import ConfigurationError

__all__ = ["InboxLock", "empty_folder", "is_real_folder"]


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
