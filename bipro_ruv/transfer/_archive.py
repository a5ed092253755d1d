"""Unpacking ``Komprimierungstyp`` ZIP deliveries within limits (BiPRO Norm 430.5, ``CT_Datei``).

A ``Datei`` with ``Komprimierungstyp`` ``ZIP`` arrives packed. The archive comes from
outside, so its headers are claims, not facts: the limits are enforced on the bytes
actually decompressed, member by member, while they are written. Members are
streamed to temporary files in the target directory and renamed when complete;
their names go through :func:`safe_filename` and :func:`unique_path`, so directory
structure is flattened and no entry can point outside the target directory.

Refused with :class:`UnsafeArchiveError`: more members than allowed, too many bytes
in one member or in total, a compression ratio typical of a zip bomb, an archive
inside the archive (by name or by magic bytes), symlinks and other special entries.
Refused with :class:`DocumentError`: encrypted members (no password is ever sent),
corrupt archives and CRC errors. On any error, everything this call wrote is removed;
the archive itself is left alone, so the delivery is not lost.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from pydantic import Field

from bipro_ruv.errors import DocumentError, UnsafeArchiveError
from bipro_ruv.models import FrozenModel
from bipro_ruv.transfer._files import ensure_inside, move_unique, safe_filename

__all__ = ["DEFAULT_LIMITS", "ArchiveLimits", "UnpackedMember", "unpack_zip"]

_CHUNK = 1 << 20
_SNIFF_BYTES = 512  # enough for the tar "ustar" magic at offset 257

_MiB = 2**20
_GiB = 2**30

_ARCHIVE_SUFFIXES = (
    ".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".cab", ".z",
)  # fmt: skip
_ARCHIVE_MAGIC = (
    re.compile(rb"PK(\x03\x04|\x05\x06|\x07\x08)"),  # zip, empty zip, spanned zip
    re.compile(rb"\x1f\x8b"),  # gzip
    re.compile(rb"7z\xbc\xaf\x27\x1c"),  # 7-Zip
    re.compile(rb"Rar!\x1a\x07"),  # RAR 4 and 5
    re.compile(rb"BZh[1-9]1AY&SY"),  # bzip2
    re.compile(rb"\xfd7zXZ\x00"),  # xz
    re.compile(rb"\x28\xb5\x2f\xfd"),  # zstd
    re.compile(rb"MSCF\x00\x00\x00\x00"),  # cab
    re.compile(rb".{257}ustar", re.DOTALL),  # tar
)
_ENCRYPTED_FLAG = 0x1  # general purpose bit 0 (APPNOTE 4.4.4)
#: Office documents are ZIP containers too, but they are documents, not archives to
#: unpack: R+V's data packages come as .xlsx as well as CSV. They are stored as they
#: are (never opened), and the size limits still apply to them.
_OFFICE_SUFFIXES = (".docx", ".xlsx", ".pptx", ".docm", ".xlsm", ".odt", ".ods", ".odp")


class ArchiveLimits(FrozenModel):
    """How much a ZIP delivery may unpack to; every value is checked against real bytes."""

    max_members: int = Field(1000, ge=1, description="entries in the archive, directories included")
    max_total_bytes: int = Field(1 * _GiB, ge=1, description="decompressed bytes of all members")
    max_member_bytes: int = Field(512 * _MiB, ge=1, description="decompressed bytes of one member")
    max_ratio: float = Field(200.0, gt=1, description="decompressed / compressed size of one member")
    ratio_threshold_bytes: int = Field(
        1 * _MiB, ge=0, description="the ratio is checked once a member exceeds this many bytes"
    )


DEFAULT_LIMITS = ArchiveLimits()


class UnpackedMember(FrozenModel):
    """One file taken out of the archive."""

    original_name: str = Field(..., description="the entry name as stored in the archive")
    path: Path = Field(..., description="where it was written, inside dest_dir")
    size: int
    sha256: str


def _refuse_entry(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    """Refuse on what the central directory claims, before any byte is decompressed."""
    name = info.filename
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type not in (0, stat.S_IFREG):
        kind = "symlink" if file_type == stat.S_IFLNK else "special file"
        raise UnsafeArchiveError(f"ZIP member {name!r} is a {kind}; only regular files are unpacked")
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise DocumentError(f"ZIP member {name!r} is encrypted; it cannot be unpacked without a password")
    if name.replace("\\", "/").rstrip().lower().endswith(_ARCHIVE_SUFFIXES):
        raise UnsafeArchiveError(f"ZIP member {name!r} is a nested archive")
    if info.file_size > limits.max_member_bytes:
        raise UnsafeArchiveError(
            f"ZIP member {name!r} claims {info.file_size} bytes, more than {limits.max_member_bytes}"
        )


class _Budget:
    """Counts decompressed bytes against the limits as they are produced."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.total = 0

    def add(self, info: zipfile.ZipInfo, member_bytes: int, count: int) -> None:
        limits = self.limits
        self.total += count
        if member_bytes > limits.max_member_bytes:
            raise UnsafeArchiveError(
                f"ZIP member {info.filename!r} unpacks to more than {limits.max_member_bytes} bytes"
            )
        if self.total > limits.max_total_bytes:
            raise UnsafeArchiveError(f"ZIP archive unpacks to more than {limits.max_total_bytes} bytes")
        ratio = member_bytes / max(info.compress_size, 1)
        if member_bytes > limits.ratio_threshold_bytes and ratio > limits.max_ratio:
            raise UnsafeArchiveError(
                f"ZIP member {info.filename!r} expands more than {limits.max_ratio:g}:1 (zip bomb?)"
            )


def _read(source: IO[bytes], size: int, name: str) -> bytes:
    try:
        return source.read(size)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
        # bz2 reports a broken stream as OSError; zipfile reports a bad CRC as BadZipFile.
        raise DocumentError(f"ZIP member {name!r} is corrupt: {exc}") from exc


def _extract(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest_dir: Path, budget: _Budget, created: list[Path]
) -> tuple[Path, int, str]:
    """Stream one member to a temporary file in ``dest_dir``; return (temp path, size, sha256)."""
    try:
        source = zf.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, OSError) as exc:
        raise DocumentError(f"ZIP member {info.filename!r} cannot be read: {exc}") from exc
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".unzip-", suffix=".part")
    tmp = Path(tmp_name)
    created.append(tmp)
    hasher = hashlib.sha256()
    size = 0
    with source, os.fdopen(fd, "wb") as out:
        head = b""
        while len(head) < _SNIFF_BYTES and (more := _read(source, _SNIFF_BYTES - len(head), info.filename)):
            head += more
        is_office = info.filename.rstrip().lower().endswith(_OFFICE_SUFFIXES)
        if not is_office and any(magic.match(head) for magic in _ARCHIVE_MAGIC):
            raise UnsafeArchiveError(f"ZIP member {info.filename!r} is a nested archive")
        chunk = head
        while chunk:
            size += len(chunk)
            budget.add(info, size, len(chunk))
            out.write(chunk)
            hasher.update(chunk)
            chunk = _read(source, _CHUNK, info.filename)
        out.flush()
        os.fsync(out.fileno())
    return tmp, size, hasher.hexdigest()


def unpack_zip(
    archive: Path, dest_dir: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS
) -> list[UnpackedMember]:
    """Unpack the regular files of ZIP ``archive`` into the existing directory ``dest_dir``.

    Directories are flattened; clashing names become ``name (2).ext``; existing files
    are never replaced. Returns the members in archive order. On any error nothing
    written by this call remains in ``dest_dir``.
    """
    created: list[Path] = []
    members: list[UnpackedMember] = []
    try:
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DocumentError(f"{archive.name} is not a readable ZIP archive: {exc}") from exc
        with zf:
            infos = zf.infolist()
            if len(infos) > limits.max_members:
                raise UnsafeArchiveError(
                    f"ZIP archive has {len(infos)} entries, more than {limits.max_members}"
                )
            budget = _Budget(limits)
            taken: set[str] = set()
            for info in infos:
                if info.is_dir():
                    continue
                _refuse_entry(info, limits)
                tmp, size, sha256 = _extract(zf, info, dest_dir, budget, created)
                name = safe_filename(info.filename, fallback_stem="datei")
                final = move_unique(tmp, dest_dir, name, taken)
                created[created.index(tmp)] = final
                taken.add(final.name)
                members.append(
                    UnpackedMember(
                        original_name=info.filename,
                        path=ensure_inside(dest_dir, final),
                        size=size,
                        sha256=sha256,
                    )
                )
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    return members
