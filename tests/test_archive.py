"""Specification of unpacking ``Komprimierungstyp`` ZIP deliveries (``bipro_ruv.transfer._archive``)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from bipro_ruv.errors import DocumentError, UnsafeArchiveError
from bipro_ruv.transfer._archive import ArchiveLimits, unpack_zip

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"%%EOF\r\n"


def zip_bytes(
    members: Sequence[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


def write_zip(path: Path, members: Sequence[tuple[str | zipfile.ZipInfo, bytes]], **kwargs: int) -> Path:
    path.write_bytes(zip_bytes(members, **kwargs))
    return path


def patch_central_directory(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of the first central directory entry (APPNOTE 4.3.12)."""
    entry = data.index(b"PK\x01\x02")
    size = struct.calcsize(fmt)
    return data[: entry + offset] + struct.pack(fmt, value) + data[entry + offset + size :]


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    directory = tmp_path / "inbox"
    directory.mkdir()
    return directory


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- Happy path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "compression",
    [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA],
    ids=["stored", "deflated", "bzip2", "lzma"],
)
def test_members_are_unpacked_byte_exact_with_size_and_sha256(
    tmp_path: Path, dest: Path, compression: int
) -> None:
    archive = write_zip(
        tmp_path / "lieferung.zip",
        [("Police.pdf", PDF), ("anschreiben.txt", b"Sehr geehrte\r\n"), ("leer.txt", b"")],
        compression=compression,
    )
    members = unpack_zip(archive, dest)
    assert [(m.original_name, m.path.name) for m in members] == [
        ("Police.pdf", "Police.pdf"),
        ("anschreiben.txt", "anschreiben.txt"),
        ("leer.txt", "leer.txt"),
    ]
    assert members[0].path.read_bytes() == PDF
    assert (members[0].size, members[0].sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert members[2].size == 0
    assert names(dest) == ["Police.pdf", "anschreiben.txt", "leer.txt"]


def test_directories_are_flattened_and_clashing_names_numbered(tmp_path: Path, dest: Path) -> None:
    archive = write_zip(
        tmp_path / "a.zip",
        [("2024/", b""), ("2024/x.pdf", b"one"), ("2025/x.pdf", b"two"), ("2025/X.PDF", b"three")],
    )
    members = unpack_zip(archive, dest)
    assert [(m.original_name, m.path.name, m.path.read_bytes()) for m in members] == [
        ("2024/x.pdf", "x.pdf", b"one"),
        ("2025/x.pdf", "x (2).pdf", b"two"),
        ("2025/X.PDF", "X (3).PDF", b"three"),
    ]


def test_existing_documents_are_never_replaced(tmp_path: Path, dest: Path) -> None:
    (dest / "Police.pdf").write_bytes(b"delivered yesterday")
    archive = write_zip(tmp_path / "a.zip", [("Police.pdf", PDF)])
    [member] = unpack_zip(archive, dest)
    assert member.path == dest / "Police (2).pdf"
    assert (dest / "Police.pdf").read_bytes() == b"delivered yesterday"


def test_empty_archive_gives_no_members(tmp_path: Path, dest: Path) -> None:
    assert unpack_zip(write_zip(tmp_path / "a.zip", []), dest) == []


@pytest.mark.parametrize(
    ("entry", "stored_as"),
    [
        ("../../evil.pdf", "evil.pdf"),
        ("sub/../../evil.pdf", "evil.pdf"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\evil.pdf", "evil.pdf"),
        ("C:\\Windows\\evil.pdf", "evil.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("..", "datei"),
    ],
)
def test_traversal_names_stay_inside_the_target(
    tmp_path: Path, dest: Path, entry: str, stored_as: str
) -> None:
    archive = write_zip(tmp_path / "a.zip", [(zipfile.ZipInfo(entry), b"payload")])
    [member] = unpack_zip(archive, dest)
    assert member.path == dest / stored_as
    assert names(tmp_path) == ["a.zip", "inbox"]


# --- Limits -----------------------------------------------------------------------------------


def test_zip_bomb_is_stopped_while_decompressing(tmp_path: Path, dest: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("bomb.pdf", "w") as out,
    ):
        zeros = bytes(2**20)
        for _ in range(50):
            out.write(zeros)
    assert archive.stat().st_size < 2**20
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        unpack_zip(archive, dest)
    assert names(dest) == []


@pytest.mark.parametrize(
    ("limits", "members", "message"),
    [
        (ArchiveLimits(max_members=4), [(f"{i}.txt", b"x") for i in range(5)], "5 entries, more than 4"),
        (ArchiveLimits(max_members=2), [("a/", b""), ("b/", b""), ("c.txt", b"x")], "3 entries"),
        (ArchiveLimits(max_member_bytes=1000), [("big.bin", os.urandom(2000))], "claims 2000 bytes"),
        (
            ArchiveLimits(max_total_bytes=1000),
            [("a.bin", os.urandom(600)), ("b.bin", os.urandom(600))],
            "unpacks to more than 1000 bytes",
        ),
        (
            ArchiveLimits(max_ratio=2, ratio_threshold_bytes=100),
            [("text.txt", b"Versicherungsschein " * 100)],
            "expands more than 2:1",
        ),
    ],
    ids=["members", "directories-count", "member-size", "total-size", "ratio"],
)
def test_limits_are_enforced(
    tmp_path: Path,
    dest: Path,
    limits: ArchiveLimits,
    members: list[tuple[str, bytes]],
    message: str,
) -> None:
    archive = write_zip(tmp_path / "a.zip", members)
    with pytest.raises(UnsafeArchiveError, match=message):
        unpack_zip(archive, dest, limits=limits)
    assert names(dest) == []


def test_size_header_that_lies_does_not_let_bytes_through(tmp_path: Path, dest: Path) -> None:
    data = patch_central_directory(zip_bytes([("big.bin", os.urandom(5000))]), 24, "<I", 10)
    (tmp_path / "a.zip").write_bytes(data)
    with pytest.raises(DocumentError):
        unpack_zip(tmp_path / "a.zip", dest, limits=ArchiveLimits(max_member_bytes=1000))
    assert names(dest) == []


def test_ratio_is_not_applied_to_small_members(tmp_path: Path, dest: Path) -> None:
    archive = write_zip(tmp_path / "a.zip", [("zeros.bin", bytes(100_000))])
    [member] = unpack_zip(archive, dest, limits=ArchiveLimits(max_ratio=2, ratio_threshold_bytes=200_000))
    assert member.size == 100_000


# --- Refused content --------------------------------------------------------------------------

TAR_HEADER = b"brief.pdf".ljust(257, b"\x00") + b"ustar\x0000" + bytes(246)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("inner.zip", b"harmless bytes"),
        ("inner.ZIP", b"harmless bytes"),
        ("daten.tar.gz", b"harmless bytes"),
        ("x.7z", b"harmless bytes"),
        ("x.rar", b"harmless bytes"),
        ("brief.pdf", zip_bytes([("a.txt", b"a")])),
        ("brief.pdf", gzip.compress(b"hidden")),
        ("brief.pdf", b"7z\xbc\xaf\x27\x1c\x00\x04"),
        ("brief.pdf", b"Rar!\x1a\x07\x01\x00"),
        ("brief.pdf", TAR_HEADER),
    ],
    ids=[
        "zip-name",
        "upper-case",
        "tar.gz-name",
        "7z-name",
        "rar-name",
        "zip-magic",
        "gzip-magic",
        "7z-magic",
        "rar-magic",
        "tar-magic",
    ],
)
def test_nested_archives_are_refused(tmp_path: Path, dest: Path, name: str, data: bytes) -> None:
    archive = write_zip(tmp_path / "a.zip", [(name, data)])
    with pytest.raises(UnsafeArchiveError, match="nested archive"):
        unpack_zip(archive, dest)
    assert names(dest) == []


def test_text_that_starts_like_bzip2_is_not_an_archive(tmp_path: Path, dest: Path) -> None:
    archive = write_zip(tmp_path / "a.zip", [("notiz.txt", b"BZh, sagte er")])
    assert unpack_zip(archive, dest)[0].path.read_bytes() == b"BZh, sagte er"


@pytest.mark.parametrize(
    ("file_type", "kind"),
    [(stat.S_IFLNK, "symlink"), (stat.S_IFIFO, "special file"), (stat.S_IFCHR, "special file")],
)
def test_symlinks_and_special_entries_are_refused(
    tmp_path: Path, dest: Path, file_type: int, kind: str
) -> None:
    info = zipfile.ZipInfo("link.pdf")
    info.create_system = 3
    info.external_attr = (file_type | 0o777) << 16
    archive = write_zip(tmp_path / "a.zip", [(info, b"/etc/passwd")])
    with pytest.raises(UnsafeArchiveError, match=kind):
        unpack_zip(archive, dest)
    assert names(dest) == []


def test_encrypted_member_is_refused_as_unreadable(tmp_path: Path, dest: Path) -> None:
    data = zip_bytes([("geheim.pdf", PDF)])
    (tmp_path / "a.zip").write_bytes(patch_central_directory(data, 8, "<H", 0x1))
    with pytest.raises(DocumentError, match="encrypted") as caught:
        unpack_zip(tmp_path / "a.zip", dest)
    assert not isinstance(caught.value, UnsafeArchiveError)
    assert names(dest) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not a zip file at all", "not a readable ZIP"),
        (b"", "not a readable ZIP"),
        (zip_bytes([("a.pdf", PDF)])[:-30], "not a readable ZIP"),
        (
            zip_bytes([("a.txt", b"hello world")], compression=zipfile.ZIP_STORED).replace(
                b"hello", b"hellO"
            ),
            "CRC",
        ),
        (zip_bytes([("a.pdf", PDF * 20)]).replace(b"PK\x03\x04", b"PK\x03\x05", 1), "cannot be read"),
    ],
    ids=["garbage", "empty", "truncated", "crc-error", "broken-local-header"],
)
def test_corrupt_archives_raise_document_error(tmp_path: Path, dest: Path, data: bytes, message: str) -> None:
    (tmp_path / "a.zip").write_bytes(data)
    with pytest.raises(DocumentError, match=message):
        unpack_zip(tmp_path / "a.zip", dest)
    assert names(dest) == []


def test_failure_removes_what_this_call_wrote_but_nothing_else(tmp_path: Path, dest: Path) -> None:
    (dest / "alt.pdf").write_bytes(b"keep me")
    archive = write_zip(
        tmp_path / "a.zip", [("eins.pdf", PDF), ("zwei.pdf", PDF), ("drei.pdf", zip_bytes([("x", b"x")]))]
    )
    with pytest.raises(UnsafeArchiveError):
        unpack_zip(archive, dest)
    assert names(dest) == ["alt.pdf"]
    assert archive.exists()


def test_office_documents_inside_a_zip_are_kept_not_refused(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as office:
        office.writestr("[Content_Types].xml", "<Types/>")
    archive = tmp_path / "paket.zip"
    with zipfile.ZipFile(archive, "w") as outer:
        outer.writestr("Saldenbestaetigung.xlsx", inner.getvalue())
    dest = tmp_path / "out"
    dest.mkdir()
    members = unpack_zip(archive, dest)
    assert [m.original_name for m in members] == ["Saldenbestaetigung.xlsx"]
    assert members[0].path.read_bytes() == inner.getvalue()
