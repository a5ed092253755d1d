"""Specification of safe names, durable writes and checksums (``bipro_ruv.transfer._files``)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bipro_ruv._wire import fs, spool
from bipro_ruv._wire.fs import atomic_move, atomic_write_bytes, write_stream_atomic
from bipro_ruv._wire.spool import SUPPORTED_ALGORITHMS, MultiHasher, normalize_algorithm, verify_checksum
from bipro_ruv.errors import ChecksumMismatchError, DocumentError
from bipro_ruv.transfer import _files
from bipro_ruv.transfer._files import ensure_inside, move_unique, safe_filename, unique_path

# --- safe_filename ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Police.pdf", "Police.pdf"),
        ("Kündigung März.pdf", "Kündigung März.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path.pdf", "path.pdf"),
        ("C:\\Windows\\x.pdf", "x.pdf"),
        ("C:x.pdf", "x.pdf"),
        ("\\\\server\\share\\brief.pdf", "brief.pdf"),
        ("a/b/", "b"),
        ("CON", "_CON"),
        ("con.pdf", "_con.pdf"),
        ("LPT1.txt", "_LPT1.txt"),
        ("com9.tar.gz", "_com9.tar.gz"),
        ("AUX .pdf", "_AUX .pdf"),
        ("nul", "_nul"),
        ("COM¹.txt", "_COM¹.txt"),
        ("CONSOLE.pdf", "CONSOLE.pdf"),
        ("COM10.pdf", "COM10.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("a\x1fb\x7f.pdf", "ab.pdf"),
        ("rechnung\u202efdp.exe", "rechnungfdp.exe"),
        ("x\u200b\ufeffy.pdf", "xy.pdf"),
        ("Police\u2028.pdf", "Police.pdf"),
        ('x<>:"|?*.pdf', "x_______.pdf"),
        (".htaccess", "htaccess"),
        ("Police.pdf. . ", "Police.pdf"),
        ("  Police.pdf", "Police.pdf"),
        ("...", "dokument"),
        ("..", "dokument"),
        (".", "dokument"),
        ("", "dokument"),
        (" ", "dokument"),
        ("\x00", "dokument"),
        (None, "dokument"),
        ("e\u0301.pdf", "\u00e9.pdf"),
    ],
    ids=repr,
)
def test_hostile_names_become_one_harmless_component(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize(
    ("name", "expected_stem_chars"),
    [
        ("a" * 300 + ".pdf", 176),
        ("ä" * 300 + ".pdf", 88),
        ("€" * 300 + ".pdf", 58),
        ("😀" * 300 + ".pdf", 44),
    ],
    ids=["ascii", "2-byte", "3-byte", "4-byte"],
)
def test_long_names_are_cut_by_utf8_bytes_keeping_the_extension(name: str, expected_stem_chars: int) -> None:
    result = safe_filename(name)
    assert result == name[:expected_stem_chars] + ".pdf"
    assert len(result.encode("utf-8")) <= 180


def test_cut_never_leaves_trailing_spaces_or_dots() -> None:
    assert safe_filename("a" * 175 + " . x" * 20 + ".pdf") == "a" * 175 + ".pdf"


def test_cut_name_that_becomes_a_device_name_is_mapped() -> None:
    assert safe_filename("CON" + " " * 200 + "x.pdf", max_bytes=20) == "_CON.pdf"


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("Police", "application/pdf", "Police.pdf"),
        ("Police", "Application/PDF; charset=binary", "Police.pdf"),
        ("daten", "text/csv", "daten.csv"),
        ("paket", "application/zip", "paket.zip"),
        ("brief", "text/plain", "brief.txt"),
        ("gdv", "application/xml", "gdv.xml"),
        ("gdv", "text/xml", "gdv.xml"),
        ("scan", "image/tiff", "scan.tif"),
        ("foto", "image/jpeg", "foto.jpg"),
        ("blob", "application/octet-stream", "blob.bin"),
        ("brief", "application/msword", "brief.doc"),
        ("brief", "application/x-no-such-type", "brief"),
        (None, "application/pdf", "dokument.pdf"),
        ("../", "application/pdf", "dokument.pdf"),
        ("scan.PDF", "application/pdf", "scan.PDF"),
        ("notiz.txt", "application/pdf", "notiz.txt"),
        ("CON", "application/pdf", "_CON.pdf"),
    ],
)
def test_missing_extension_comes_from_the_content_type(
    name: str | None, content_type: str, expected: str
) -> None:
    assert safe_filename(name, content_type=content_type) == expected


@pytest.mark.parametrize(
    ("fallback", "expected"),
    [("Lieferung 4711", "Lieferung 4711"), ("../x", "x"), ("", "dokument"), ("con", "_con")],
)
def test_fallback_stem_is_sanitised_too(fallback: str, expected: str) -> None:
    assert safe_filename("", fallback_stem=fallback) == expected


def test_max_bytes_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        safe_filename("x.pdf", max_bytes=8)


CONTENT_TYPES = st.sampled_from([None, "application/pdf", "text/plain", "application/x-unknown"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.none(), st.text()), content_type=CONTENT_TYPES, max_bytes=st.integers(16, 255))
def test_any_text_gives_a_name_that_stays_in_the_directory(
    tmp_path: Path, name: str | None, content_type: str | None, max_bytes: int
) -> None:
    result = safe_filename(name, content_type=content_type, max_bytes=max_bytes)
    assert result
    assert result not in (".", "..")
    assert not {"/", "\\", "\x00"} & set(result)
    assert result == result.strip(" .")
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in result)
    assert len(result.encode("utf-8")) <= max_bytes
    path = unique_path(tmp_path, result)
    assert path.parent == tmp_path
    assert ensure_inside(tmp_path, path) == path.resolve()
    path.write_bytes(b"")  # the file system accepts it
    path.unlink()


@given(name=st.text(max_size=100))
def test_safe_filename_is_idempotent(name: str) -> None:
    once = safe_filename(name)
    assert safe_filename(once) == once


# --- unique_path / ensure_inside -------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "taken", "name", "expected"),
    [
        ([], [], "Police.pdf", "Police.pdf"),
        (["Police.pdf"], [], "Police.pdf", "Police (2).pdf"),
        (["Police.pdf", "Police (2).pdf"], [], "Police.pdf", "Police (3).pdf"),
        (["POLICE.PDF"], [], "Police.pdf", "Police (2).pdf"),
        ([], ["police.pdf"], "Police.pdf", "Police (2).pdf"),
        (["Police.pdf"], ["Police (2).pdf"], "Police.pdf", "Police (3).pdf"),
        (["brief"], [], "brief", "brief (2)"),
        (["Kündigung.pdf"], [], "Ku\u0308ndigung.pdf", "Ku\u0308ndigung (2).pdf"),
    ],
)
def test_unique_path_never_collides(
    tmp_path: Path, existing: list[str], taken: list[str], name: str, expected: str
) -> None:
    for entry in existing:
        (tmp_path / entry).write_bytes(b"x")
    assert unique_path(tmp_path, name, taken) == tmp_path / expected


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "a\x00b"])
def test_unique_path_refuses_anything_but_one_component(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="single file name component"):
        unique_path(tmp_path, name)


def test_ensure_inside_accepts_a_file_in_the_root(tmp_path: Path) -> None:
    assert ensure_inside(tmp_path, tmp_path / "sub" / "x.pdf") == (tmp_path / "sub" / "x.pdf").resolve()


@pytest.mark.parametrize("relative", ["../x.pdf", "sub/../../x.pdf", ".", "/etc/passwd"])
def test_ensure_inside_refuses_paths_outside_the_root(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    with pytest.raises(DocumentError, match="outside"):
        ensure_inside(root, root / relative)


def test_ensure_inside_follows_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(DocumentError, match="outside"):
        ensure_inside(root, root / "link" / "x.pdf")


# --- durable writes ---------------------------------------------------------------------------


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_write_stream_atomic_writes_and_reports_size_and_sha256(tmp_path: Path) -> None:
    chunks = [b"%PDF-1.4\n", b"", b"\x00" * 1000, b"%%EOF\r\n"]
    size, sha256 = write_stream_atomic(tmp_path / "Police.pdf", chunks)
    data = b"".join(chunks)
    assert (tmp_path / "Police.pdf").read_bytes() == data
    assert (size, sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert leftovers(tmp_path) == ["Police.pdf"]


def test_write_stream_atomic_never_replaces_an_existing_document(tmp_path: Path) -> None:
    (tmp_path / "Police.pdf").write_bytes(b"first")
    with pytest.raises(DocumentError, match="already exists"):
        write_stream_atomic(tmp_path / "Police.pdf", [b"second"])
    assert (tmp_path / "Police.pdf").read_bytes() == b"first"
    assert leftovers(tmp_path) == ["Police.pdf"]


def test_write_stream_atomic_replaces_when_asked(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_bytes(b"old")
    write_stream_atomic(tmp_path / "state.json", [b"new"], overwrite=True)
    assert (tmp_path / "state.json").read_bytes() == b"new"


def test_failing_source_leaves_neither_document_nor_temp_file(tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"half a document"
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        write_stream_atomic(tmp_path / "Police.pdf", chunks())
    assert leftovers(tmp_path) == []


def test_atomic_write_bytes(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "a.bin", b"\r\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\r\n"


def test_atomic_move_renames_and_syncs_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(fs, "fsync_directory", synced.append)
    (tmp_path / ".tmp").write_bytes(b"data")
    atomic_move(tmp_path / ".tmp", tmp_path / "final.pdf")
    assert leftovers(tmp_path) == ["final.pdf"]
    assert synced == [tmp_path]


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard-links", "no-hard-links"])
def test_atomic_move_refuses_to_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    if not hard_links:
        monkeypatch.setattr(os, "link", _no_link)
    (tmp_path / ".tmp").write_bytes(b"new")
    (tmp_path / "final.pdf").write_bytes(b"old")
    with pytest.raises(DocumentError, match="already exists"):
        atomic_move(tmp_path / ".tmp", tmp_path / "final.pdf")
    assert (tmp_path / "final.pdf").read_bytes() == b"old"
    assert (tmp_path / ".tmp").read_bytes() == b"new"


def _no_link(src: object, dst: object) -> None:
    raise PermissionError(1, "Operation not permitted")


def test_atomic_move_works_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "link", _no_link)
    (tmp_path / ".tmp").write_bytes(b"new")
    atomic_move(tmp_path / ".tmp", tmp_path / "final.pdf")
    assert leftovers(tmp_path) == ["final.pdf"]


def test_move_unique_takes_the_next_free_name(tmp_path: Path) -> None:
    (tmp_path / "Police.pdf").write_bytes(b"old")
    (tmp_path / ".tmp").write_bytes(b"new")
    assert move_unique(tmp_path / ".tmp", tmp_path, "Police.pdf") == tmp_path / "Police (2).pdf"
    assert (tmp_path / "Police.pdf").read_bytes() == b"old"
    assert (tmp_path / "Police (2).pdf").read_bytes() == b"new"


def test_move_unique_retries_when_the_name_is_taken_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_unique_path = _files.unique_path

    def racing_unique_path(directory: Path, name: str, taken: Iterable[str] = ()) -> Path:
        chosen = real_unique_path(directory, name, taken)
        if chosen.name == "Police.pdf":
            chosen.write_bytes(b"another process")
        return chosen

    monkeypatch.setattr(_files, "unique_path", racing_unique_path)
    (tmp_path / ".tmp").write_bytes(b"ours")
    assert move_unique(tmp_path / ".tmp", tmp_path, "Police.pdf") == tmp_path / "Police (2).pdf"
    assert (tmp_path / "Police.pdf").read_bytes() == b"another process"


# --- checksums --------------------------------------------------------------------------------

DATA = b"%PDF-1.4 Versicherungsschein\r\n"
HEX = {name: hashlib.new(name, DATA).hexdigest() for name in ("md5", "sha1", "sha256")}
B64 = {name: base64.b64encode(bytes.fromhex(value)).decode() for name, value in HEX.items()}


@pytest.mark.parametrize(
    ("typ", "expected"),
    [
        ("MD5", HEX["md5"]),
        ("md5", HEX["md5"].upper()),
        ("SHA1", HEX["sha1"]),
        ("SHA-1", HEX["sha1"].upper()),
        ("sha-1", B64["sha1"]),
        ("SHA256", HEX["sha256"]),
        ("SHA-256", HEX["sha256"].upper()),
        ("sha_256", B64["sha256"]),
        ("Sha 256", f"  {HEX['sha256']}\n"),
        ("MD5", B64["md5"]),
    ],
)
@pytest.mark.parametrize("source", ["file", "digests"])
def test_pruefsumme_in_every_spelling_is_verified(
    tmp_path: Path, typ: str, expected: str, source: str
) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(DATA)
    result = verify_checksum(path if source == "file" else HEX, typ, expected)
    assert result.verified
    assert result.algorithm == normalize_algorithm(typ)


@pytest.mark.parametrize("typ", ["MD5", "SHA-1", "SHA-256"])
def test_mismatch_raises_with_both_values(tmp_path: Path, typ: str) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(DATA + b"x")
    algorithm = normalize_algorithm(typ)
    assert algorithm is not None
    expected = HEX[algorithm]
    actual = hashlib.new(algorithm, DATA + b"x").hexdigest()
    with pytest.raises(ChecksumMismatchError, match=f"expected {expected}.*got {actual}"):
        verify_checksum(path, typ, expected)
    assert path.exists()


@pytest.mark.parametrize(
    ("typ", "value", "reason"),
    [
        ("CRC32", "1234abcd", "unsupported Pruefsumme Typ"),
        ("SHA-512", "00" * 64, "unsupported Pruefsumme Typ"),
        ("", HEX["md5"], "unsupported Pruefsumme Typ"),
        ("MD5", "", "neither hex nor base64"),
        ("MD5", "not a digest", "neither hex nor base64"),
        ("SHA-256", HEX["md5"], "neither hex nor base64"),
    ],
)
def test_uncheckable_pruefsumme_is_reported_unverified_not_fatal(typ: str, value: str, reason: str) -> None:
    result = verify_checksum(HEX, typ, value)
    assert not result.verified
    assert result.reason is not None
    assert reason in result.reason


def test_multihasher_matches_hashlib_over_chunks() -> None:
    hasher = MultiHasher(SUPPORTED_ALGORITHMS)
    for piece in (DATA[:3], b"", DATA[3:]):
        hasher.update(piece)
    assert hasher.hexdigests() == HEX
    assert hasher.size == len(DATA)


def test_multihasher_computes_only_sha256_unless_asked() -> None:
    # Spooling pays for one digest; MD5/SHA-1 cost a read of the file only when a Pruefsumme names them.
    hasher = MultiHasher()
    hasher.update(memoryview(DATA))
    assert hasher.hexdigests() == {"sha256": HEX["sha256"]}


@pytest.mark.parametrize("algorithm", ["md5", "sha1"])
def test_pruefsumme_of_an_algorithm_not_spooled_is_checked_from_the_file(
    tmp_path: Path, algorithm: str
) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(DATA)
    result = verify_checksum(path, algorithm.upper(), HEX[algorithm], known={"sha256": HEX["sha256"]})
    assert (result.verified, result.actual) == (True, HEX[algorithm])


def test_pruefsumme_of_a_spooled_algorithm_does_not_read_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "never-written.pdf"  # reading it would raise FileNotFoundError
    result = verify_checksum(missing, "SHA-256", B64["sha256"], known={"sha256": HEX["sha256"]})
    assert result.verified


def test_file_is_read_for_the_pruefsumme_algorithm_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(DATA)
    made: list[str] = []
    real_new = hashlib.new

    def new(name: str, *args: object, **kwargs: bool) -> object:
        made.append(name)
        return real_new(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(spool.hashlib, "new", new)
    verify_checksum(path, "MD5", HEX["md5"], known={"sha256": HEX["sha256"]})
    assert set(made) == {"md5"}


@settings(max_examples=400, deadline=None)
@given(name=st.from_regex(r"[A-Za-z0-9_.-]{1,40}", fullmatch=True) | st.text(max_size=30))
def test_the_plain_name_shortcut_changes_nothing(name: str) -> None:
    # _clean() returns names of plain ASCII characters unchanged without looking at each
    # character; the full rules must agree for every name the shortcut takes.
    if _files._PLAIN_NAME.fullmatch(name):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_files, "_PLAIN_NAME", re.compile(r"(?!)"))  # shortcut off
            assert _files._clean(name) == name
