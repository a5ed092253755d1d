"""``sqlite3.Error`` as a :class:`~bipro_ruv.errors.JournalError` naming the journal's path.

Every failure of the database leaves :class:`~bipro_ruv.store.sqlite.SqliteStore` this
way, the ``sqlite3.Error`` chained as its cause: not a database, damaged, locked,
read-only, disk full, or written by a newer bipro-ruv.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from bipro_ruv.errors import JournalError

__all__ = ["journal_error", "mapped"]


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


class _HasPath(Protocol):
    @property
    def path(self) -> Path: ...


_S = TypeVar("_S", bound=_HasPath)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def mapped(action: str) -> Callable[[Callable[Concatenate[_S, _P], _R]], Callable[Concatenate[_S, _P], _R]]:
    """Raise :class:`JournalError` (from the ``sqlite3.Error``) out of a method of an object
    with a ``path`` (the journal)."""

    def decorate(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
        @functools.wraps(method)
        def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise journal_error(exc, self.path, action) from exc

        return wrapper

    return decorate
