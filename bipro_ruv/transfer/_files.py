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

``Pruefsumme{Typ, Wert}`` is checked with :func:`verify_checksum`. Only SHA-256 is
computed while a document streams to its spool file (:class:`MultiHasher` with its
default); a ``Pruefsumme`` of another ``Typ`` (MD5, SHA-1) costs one read of that file
then, instead of every document paying for three digests.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import mimetypes
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from bipro_ruv._fs import fsync_directory
from bipro_ruv.errors import ChecksumMismatchError, DocumentError

__all__ = [
    "SPOOL_ALGORITHMS",
    "SUPPORTED_ALGORITHMS",
    "ChecksumResult",
    "MultiHasher",
    "atomic_move",
    "atomic_write_bytes",
    "ensure_inside",
    "fsync_directory",
    "move_unique",
    "normalize_algorithm",
    "safe_filename",
    "unique_path",
    "verify_checksum",
    "write_stream_atomic",
]

_READ_SIZE = 1 << 20
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


def _move_no_clobber(src: Path, dest: Path) -> None:
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
            _move_no_clobber(src, dest)
        except FileExistsError as exc:
            raise DocumentError(f"{dest} already exists; not overwriting it") from exc
    if sync_dir:
        fsync_directory(dest.parent)


def move_unique(src: Path, directory: Path, name: str, taken: Iterable[str] = ()) -> Path:
    """Move ``src`` to a free name in ``directory`` (see :func:`unique_path`), never replacing.

    Another process may take the chosen name between the choice and the rename; then
    the next free name is tried.
    """
    reserved = set(taken)
    while True:
        dest = unique_path(directory, name, reserved)
        try:
            _move_no_clobber(src, dest)
        except FileExistsError:
            reserved.add(dest.name)
            continue
        fsync_directory(directory)
        return dest


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


SUPPORTED_ALGORITHMS = ("md5", "sha1", "sha256")
#: What spooling computes: the journal and ``Document.sha256`` need it for every file.
SPOOL_ALGORITHMS = ("sha256",)


class MultiHasher:
    """Digests of one byte stream at once, plus its length: SHA-256 unless told otherwise.

    Feed it while spooling; :meth:`hexdigests` then answers a ``Pruefsumme`` of any of
    its ``algorithms`` without reading the file again (:func:`verify_checksum`
    ``known=``). MD5 and SHA-1 serve integrity checks only (``usedforsecurity=False``
    keeps them available on FIPS systems).
    """

    def __init__(self, algorithms: Iterable[str] = SPOOL_ALGORITHMS) -> None:
        self.algorithms = tuple(algorithms)
        unknown = sorted(set(self.algorithms) - set(SUPPORTED_ALGORITHMS))
        if unknown or not self.algorithms:
            raise ValueError(f"algorithms must be some of {SUPPORTED_ALGORITHMS}, got {self.algorithms}")
        self._hashes = [hashlib.new(name, usedforsecurity=False) for name in self.algorithms]
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        for digest in self._hashes:
            digest.update(data)
        self.size += len(data)

    def hexdigests(self) -> dict[str, str]:
        """``{"sha256": ...}`` (one entry per algorithm) in lower-case hex."""
        return {name: h.hexdigest() for name, h in zip(self.algorithms, self._hashes, strict=True)}


def normalize_algorithm(typ: str) -> str | None:
    """``MD5``, ``SHA-1``, ``sha_256``... -> ``md5``, ``sha1``, ``sha256``; None if unsupported."""
    key = re.sub(r"[\s_-]", "", typ).lower()
    return key if key in SUPPORTED_ALGORITHMS else None


class ChecksumResult(BaseModel):
    """Outcome of a ``Pruefsumme`` check that did not fail.

    ``verified`` is False when the check could not be made (unknown ``Typ``, empty or
    unreadable ``Wert``): the document is kept and ``reason`` says why it is unverified.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    verified: bool
    algorithm: str | None
    expected: str
    actual: str | None = None
    reason: str | None = None


def _parse_digest(value: str, algorithm: str) -> bytes | None:
    """The digest in ``value`` given as hex (any case) or base64; None if it is neither."""
    size = hashlib.new(algorithm, usedforsecurity=False).digest_size
    compact = re.sub(r"\s", "", value)
    if re.fullmatch(rf"[0-9A-Fa-f]{{{size * 2}}}", compact):
        return bytes.fromhex(compact)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


_H = TypeVar("_H", bound=_Hasher)


def _read_into(path: Path, hasher: _H) -> _H:
    """Feed the file at ``path`` to ``hasher`` in blocks; returns ``hasher``."""
    with path.open("rb") as source:
        while chunk := source.read(_READ_SIZE):
            hasher.update(chunk)
    return hasher


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path`` (read in blocks, never whole)."""
    return _read_into(path, hashlib.sha256()).hexdigest()


def _hash_file(path: Path, algorithm: str) -> str:
    return _read_into(path, hashlib.new(algorithm, usedforsecurity=False)).hexdigest()


def verify_checksum(
    source: Path | Mapping[str, str], typ: str, expected: str, *, known: Mapping[str, str] | None = None
) -> ChecksumResult:
    """Check a BiPRO ``Pruefsumme{Typ, Wert}`` against a file or its known digests.

    ``source`` is the file, or the hex digests computed while it was written
    (:meth:`MultiHasher.hexdigests`, ``SpooledPart.digests``). For a file, ``known``
    holds the digests computed while it was written: one of them is used as it is, and
    only an algorithm missing there (MD5 or SHA-1 after spooling, which computes SHA-256
    alone) is computed by reading the file once. ``Typ`` may be spelled ``MD5``,
    ``SHA1``/``SHA-1``, ``SHA256``/``SHA-256`` in any case; ``Wert`` may be hex in any
    case or base64.

    A mismatch raises :class:`ChecksumMismatchError` naming both values; the file
    itself is left alone for the caller to quarantine. A checksum that cannot be
    checked returns ``verified=False`` instead of failing, so an unknown algorithm
    never costs the document.
    """
    algorithm = normalize_algorithm(typ)
    if algorithm is None:
        return ChecksumResult(
            verified=False, algorithm=None, expected=expected, reason=f"unsupported Pruefsumme Typ {typ!r}"
        )
    wanted = _parse_digest(expected, algorithm)
    if wanted is None:
        return ChecksumResult(
            verified=False,
            algorithm=algorithm,
            expected=expected,
            reason=f"Pruefsumme Wert {expected!r} is neither hex nor base64 of a {algorithm} digest",
        )
    if not isinstance(source, Path):
        if algorithm not in source:
            raise ValueError(f"no {algorithm} digest among {sorted(source)}")
        actual = source[algorithm].lower()
    elif known is not None and algorithm in known:
        actual = known[algorithm].lower()
    else:
        actual = _hash_file(source, algorithm)
    if actual != wanted.hex():
        raise ChecksumMismatchError(
            f"Pruefsumme mismatch ({algorithm}): expected {expected.strip()} ({wanted.hex()}), got {actual}"
        )
    return ChecksumResult(verified=True, algorithm=algorithm, expected=expected, actual=actual)
