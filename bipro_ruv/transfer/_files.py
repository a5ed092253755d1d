"""Safe names, durable writes and checksums for delivered documents (BiPRO Norm 430.5).

R+V delivers documents through the TransferService instead of paper mail, so the
file written here is often the only copy. Three rules follow:

* A server-supplied ``Dateiname`` (``CT_Datei``, up to 255 characters) is data, never a
  path: :func:`safe_filename` reduces it to one harmless name component on every
  operating system, and :func:`ensure_inside` checks the final path once more.
* A document becomes visible under its final name only when all its bytes are on disk:
  write to a temporary file in the target directory, flush, ``fsync``, rename, then
  ``fsync`` the directory (:func:`write_stream_atomic`, :func:`atomic_move`).
* An existing file is never overwritten unless the caller asks for it (``overwrite``):
  two documents with the same name are two documents.

Hashing and ``Pruefsumme`` checks live in :mod:`bipro_ruv._wire.spool`.
"""

from __future__ import annotations

import mimetypes
import os
import re
import threading
import unicodedata
from collections.abc import Collection, Iterable
from pathlib import Path

from bipro_ruv._wire.fs import fsync_directory, move_no_clobber
from bipro_ruv.errors import DocumentError

__all__ = [
    "ensure_inside",
    "move_unique",
    "safe_filename",
    "unique_path",
]

_MIN_NAME_BYTES = 16

# Our own table wins over the platform's mimetypes database, whose answers differ
# between systems (image/jpeg -> .jpe on some, image/tiff -> .tiff on others).
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "text/csv": ".csv",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "text/plain": ".txt",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "image/tiff": ".tif",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/octet-stream": ".bin",
}

# A Windows device name stays a device with any extension and trailing spaces
# ("con.pdf", "LPT1 .txt"); the superscript digits count as digits there, too.
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{dev}{digit}" for dev in ("COM", "LPT") for digit in "123456789¹²³"}
)
_WINDOWS_INVALID = str.maketrans({c: "_" for c in '<>:"/\\|?*'})
# Cc: C0/C1 controls and DEL; Cf: bidi overrides (U+202E turns "fdp.exe" into
# "exe.pdf" on screen), zero-width characters, BOM; Cs: lone surrogates (cannot be
# encoded); Zl/Zp: line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_EDGE_JUNK = re.compile(r"^[\s.]+|[\s.]+$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def _split_ext(name: str) -> tuple[str, str]:
    """``("Police", ".pdf")`` for ``Police.pdf``; a leading dot is not an extension."""
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group()


def _extension_for(content_type: str | None) -> str:
    if not content_type:
        return ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(media_type) or mimetypes.guess_extension(media_type, strict=False) or ""


# Names _clean() leaves exactly as they are: ASCII letters, digits, "_", "-" and inner dots.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


def _clean(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name):
        return name  # the common case, without the per-character Unicode checks below
    name = unicodedata.normalize("NFC", name)
    components = [c for c in name.replace("\\", "/").split("/") if c.strip() not in ("", ".", "..")]
    name = components[-1] if components else ""
    name = _DRIVE.sub("", name)
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return _EDGE_JUNK.sub("", name.translate(_WINDOWS_INVALID))


def _truncate(name: str, max_bytes: int, fallback: str) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, ext = _split_ext(name)
    budget = max_bytes - len(ext.encode("utf-8"))
    # errors="ignore" drops a multi-byte character cut in half at the end.
    cut = _EDGE_JUNK.sub("", stem.encode("utf-8")[:budget].decode("utf-8", "ignore"))
    if not cut:
        cut = _EDGE_JUNK.sub("", fallback.encode("utf-8")[:budget].decode("utf-8", "ignore"))
    return cut + ext


def _is_reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED_NAMES


def safe_filename(
    name: str | None,
    *,
    content_type: str | None = None,
    fallback_stem: str = "dokument",
    max_bytes: int = 180,
) -> str:
    """Reduce a server-supplied file name to one name component that is safe everywhere.

    Keeps only the last path component (``/`` and ``\\``), drops drive letters, control
    and invisible formatting characters (bidi overrides included), replaces characters
    Windows refuses with ``_``, strips leading and trailing dots and spaces, prefixes
    Windows device names (``CON``, ``com1.pdf``) with ``_``, normalises to NFC and cuts
    the stem so the UTF-8 name fits ``max_bytes`` with its extension kept. A name
    without extension gets one from ``content_type``; an empty result becomes
    ``fallback_stem``. The 180-byte default leaves room below the common 255-byte
    limit for the `` (n)`` that :func:`unique_path` may add.
    """
    if max_bytes < _MIN_NAME_BYTES:
        raise ValueError(f"max_bytes must be at least {_MIN_NAME_BYTES}, got {max_bytes}")
    fallback = _clean(fallback_stem) or "dokument"
    cleaned = _clean(name or "") or fallback
    if not _split_ext(cleaned)[1]:
        cleaned += _extension_for(content_type)
    cleaned = _truncate(cleaned, max_bytes, fallback)
    if _is_reserved(cleaned):
        # "_CON..." can never be reserved again, so one more cut is enough.
        cleaned = _truncate("_" + cleaned, max_bytes, fallback)
    return cleaned


def _fold(name: str) -> str:
    # NFC first: macOS may hand back decomposed names from listdir.
    return unicodedata.normalize("NFC", name).casefold()


def fold_names(names: Iterable[str]) -> set[str]:
    """The comparison keys :func:`unique_path` uses, for its ``existing`` argument."""
    return {_fold(entry) for entry in names}


def unique_path(
    directory: Path, name: str, taken: Iterable[str] = (), *, existing: Collection[str] | None = None
) -> Path:
    """``directory / name``, or ``name (2).ext``, ``name (3).ext``... if that is in use.

    In use means present in ``directory`` or in ``taken`` (names reserved by the caller
    but not yet written), compared case-insensitively because Windows and macOS file
    systems are. ``name`` must be a single component, e.g. from :func:`safe_filename`.
    A caller that keeps track of a large directory passes its :func:`fold_names` as
    ``existing`` instead of having it listed on every call.
    """
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"not a single file name component: {name!r}")
    present = fold_names(os.listdir(directory)) if existing is None else existing
    reserved = fold_names(taken)
    stem, ext = _split_ext(name)
    candidate, counter = name, 1
    while _fold(candidate) in present or _fold(candidate) in reserved:
        counter += 1
        candidate = f"{stem} ({counter}){ext}"
    return directory / candidate


def ensure_inside(root: Path, candidate: Path) -> Path:
    """Return ``candidate`` resolved (symlinks followed); raise if it is not below ``root``."""
    resolved_root = root.resolve()
    resolved = candidate.resolve()
    if resolved == resolved_root or not resolved.is_relative_to(resolved_root):
        raise DocumentError(f"refusing to write {candidate}: it resolves outside {root}")
    return resolved


class DirectorySync:
    """fsync of one directory, shared by threads that changed it at about the same time.

    :meth:`sync` returns once an fsync of the directory has *started* after the caller's
    change: a thread that finds such an fsync already done or running (begun after its
    ticket was taken) does not issue another one. Concurrent workers creating folders in
    one inbox thus share fsyncs instead of queueing for one each.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sync_lock = threading.Lock()
        self._counter_lock = threading.Lock()
        self._requested = 0
        self._synced = 0
        self.fsyncs = 0

    def sync(self) -> None:
        """Make every change made in the directory before this call durable."""
        with self._counter_lock:
            self._requested += 1
            ticket = self._requested
        with self._sync_lock:
            if self._synced >= ticket:
                return  # an fsync that began after our change has completed
            with self._counter_lock:
                covered = self._requested  # every change up to here is before this fsync
            fsync_directory(self.directory)
            self.fsyncs += 1
            self._synced = covered


def move_unique(src: Path, directory: Path, name: str, taken: Iterable[str] = ()) -> Path:
    """Move ``src`` to a free name in ``directory`` (see :func:`unique_path`), never replacing.

    Another process may take the chosen name between the choice and the rename; then
    the next free name is tried.
    """
    reserved = set(taken)
    while True:
        dest = unique_path(directory, name, reserved)
        try:
            move_no_clobber(src, dest)
        except FileExistsError:
            reserved.add(dest.name)
            continue
        fsync_directory(directory)
        return dest
