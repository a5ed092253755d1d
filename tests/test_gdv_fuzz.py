"""Fuzzing the GDV parser (hypothesis): garbage in, a GdvFormatError or a result; damage in,
warnings and raw records out, and every record accounted for.

The record counts are checked against :func:`physical_records`, the physical rules of
``bipro_ruv/gdv/_physical.py`` (module doc, ``RecordStream._split`` and ``_odd``) written out in
bytes:

* a file holding LF is cut into lines at LF; one CR before the LF is dropped unless the
  line is whole records (a CR at col 256 is data); empty lines are no records;
* a line other than 256 bytes made only of blanks, CR and Ctrl-Z is no record;
* a line of up to 256 bytes is one record (a short one is padded with blanks, "trailing
  blanks cut"); a longer line holds several 256-byte records without separators, and the
  bytes after its last full record are one more (padded) record unless they are only
  blanks, CR or Ctrl-Z;
* a file without any LF is a row of 256-byte records; its last one may be short;
* a leading UTF-8 byte-order mark is skipped (with a warning unless read as UTF-8).

A file is "not a GDV file" (GdvFormatError) exactly when it has no record or its first
record does not begin with four ASCII digits. The contract violations fuzzing found have
a test each at the end (each failed before its fix).
"""

from __future__ import annotations

import codecs
import string
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bipro_ruv import gdv
from bipro_ruv.errors import BiproError, GdvFormatError
from bipro_ruv.gdv import Contract, Packet, RawRecord, Record
from tests import _gdv
from tests.conftest import FIXTURES

RECORD = 256
PADDING = b" \r\x1a"  # blanks, CR, the DOS end-of-file mark (Ctrl-Z)
ENCODINGS = ("iso-8859-15", "cp850", "utf-8")
MUSTER = FIXTURES / "gdv" / "musterdatei_041222.txt"

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the physical rules ------------------------------------------------------------------


@cache
def _one_byte(encoding: str) -> bool:
    """Whether every byte is one character (the parser then decodes whole chunks)."""
    try:
        return len(bytes(range(256)).decode(codecs.lookup(encoding).name)) == 256
    except UnicodeDecodeError:
        return False


def _blank_tail(tail: bytes, encoding: str) -> bool:
    """Bytes after a line's last full record that are no record of their own: blanks, CR and
    the DOS end-of-file mark (Ctrl-Z), in every encoding."""
    return not tail.strip(PADDING)


def physical_records(data: bytes, encoding: str) -> list[bytes]:
    """The 256-byte records of ``data`` (see the module doc), short ones padded."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]  # a byte-order mark is no part of record 1 (any encoding)
    if b"\n" not in data:
        cut = len(data) - len(data) % RECORD
        whole, rest = data[:cut], data[cut:]
        if len(whole) != RECORD and not whole.strip(PADDING):
            whole, cut = b"", 0  # only padding: no record
        return [whole[i : i + RECORD] for i in range(0, cut, RECORD)] + _line_records(rest, encoding)
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [record for line in lines for record in _line_records(line, encoding)]


def _line_records(line: bytes, encoding: str) -> list[bytes]:
    """The records of one line (LF removed)."""
    if len(line) % RECORD and line.endswith(b"\r"):
        line = line[:-1]  # CRLF; a CR at col 256 of a full record is data
    if len(line) != RECORD and not line.strip(PADDING):
        return []  # a blank line, a lone CR, the DOS end-of-file mark: no record
    whole = len(line) // RECORD
    records = [line[i * RECORD : (i + 1) * RECORD] for i in range(whole)]
    tail = line[whole * RECORD :]
    if tail and (not whole or not _blank_tail(tail, encoding)):
        records.append(tail.ljust(RECORD))
    return records


def _text(record: bytes, encoding: str) -> str:
    """A record as the parser's text: decoded for one-byte encodings, byte columns for UTF-8."""
    return record.decode(encoding if _one_byte(encoding) else "latin-1")


# -- the checks --------------------------------------------------------------------------


def _record_lines(contract: Contract) -> list[int]:
    lines: list[int] = []
    for record in contract.records:
        if type(record) is Record:
            lines += range(record.line, record.line + len(record.parts))
        else:
            lines.append(record.line)
    return lines


def _check_result(
    packets: list[Packet],
    contracts: list[Contract],
    records: int,
    expected: list[bytes],
    encoding: str,
) -> None:
    """Conservation: every input record is in a Vorsatz, a Nachsatz or a contract, once."""
    total = len(expected)
    assert records == total
    assert (
        sum(p.record_count for p in packets)
        + sum((len(p.vorsatz.parts) if p.vorsatz else 0) + (1 if p.nachsatz else 0) for p in packets)
        == total
    )
    in_contracts: Counter[int] = Counter()
    lines: list[int] = []
    for contract in contracts:
        assert 0 <= contract.packet < len(packets)
        contract_lines = _record_lines(contract)
        in_contracts[contract.packet] += len(contract_lines)
        lines += contract_lines
        for record in contract.records:
            if type(record) is RawRecord:
                assert record.text == expected[record.line - 1].decode(encoding, "replace")
    assert [in_contracts[p.index] for p in packets] == [p.record_count for p in packets]
    for packet in packets:
        if packet.vorsatz is not None:
            assert packet.vorsatz.line == packet.first_line
            lines += range(packet.vorsatz.line, packet.vorsatz.line + len(packet.vorsatz.parts))
        if packet.nachsatz is not None:
            lines.append(packet.nachsatz.line)
    assert sorted(lines) == list(range(1, total + 1)), "a record is missing or counted twice"
    warned = {(w.line, w.code) for p in packets for w in p.warnings}
    for packet in packets:
        for warning in packet.warnings:
            assert warning.code
            assert warning.line is None or 1 <= warning.line <= total
            assert str(warning)
    # "A value that breaks its type is an InvalidValue ... and the parser records a GdvWarning".
    for contract in contracts:
        for record in contract.records:
            if type(record) is Record:
                for offset, part in enumerate(record.parts):
                    if any(type(value) is gdv.InvalidValue for value in part):
                        assert (record.line + offset, "invalid-value") in warned


def _touch(file: gdv.GdvFile) -> None:
    """The convenience properties must not raise on damaged data either."""
    seen: list[Any] = [file, *file.packets]
    for packet in file.packets:
        if packet.vorsatz is not None:
            vorsatz = packet.vorsatz
            seen += [vorsatz, vorsatz.vu_number, vorsatz.sender, vorsatz.period, vorsatz.versions]
        if packet.nachsatz is not None:
            seen += [packet.nachsatz, packet.nachsatz.record_count, packet.nachsatz.total_premium]
    for contract in file.contracts:
        seen += [contract, contract.vsnr, contract.sparte, contract.policyholder, contract.start_date]
        seen += [contract.end_date, contract.total_premium_net, contract.inkasso, contract.raw]
        for record in contract.records:
            seen += [record, record.kind]
            if type(record) is Record:
                seen.append(record.as_dict())
    assert all(isinstance(repr(value), str) for value in seen)


def run(data: bytes, encoding: str) -> gdv.GdvFile | None:
    """Parse ``data`` whole and streaming; check the contract; the file, or None when not GDV."""
    expected = physical_records(data, encoding)
    not_gdv = not expected or not expected[0][:4].isdigit()
    error: GdvFormatError | None = None
    try:
        file: gdv.GdvFile | None = gdv.parse(data, encoding=encoding)
    except GdvFormatError as exc:
        error, file = exc, None
    if file is None:
        assert isinstance(error, BiproError)
        assert not_gdv, f"GdvFormatError for a readable file: {error}"
    else:
        assert not not_gdv, "a file whose record 1 is no GDV record was read"
        _check_result(file.packets, file.contracts, file.records, expected, encoding)
        assert len(file) == len(file.contracts)
        _touch(file)

    reader = gdv.GdvReader(data, encoding=encoding)
    try:
        contracts = list(reader)
    except GdvFormatError:
        assert not_gdv
    else:
        assert not not_gdv
        _check_result(reader.packets, contracts, reader.records, expected, encoding)
        assert file is not None
        assert [w.code for w in reader.warnings] == [w.code for w in file.warnings]
    return file


# -- 1. arbitrary bytes ------------------------------------------------------------------

# Satzarten and Sparten the layouts know, and some they do not (0500, Sparte 020).
SATZARTEN = [b"0001", b"0100", b"0200", b"0210", b"0211", b"0220", b"0221", b"0230", b"0300"]
SATZARTEN += [b"0400", b"0410", b"0420", b"0430", b"0500", b"9999"]
SPARTEN = [b"010", b"030", b"040", b"050", b"051", b"052", b"053", b"054", b"110", b"130", b"020", b"000"]
FIELD = st.one_of(
    st.binary(max_size=24),
    st.text("0123456789", max_size=24).map(str.encode),
    st.text(" ", max_size=30).map(str.encode),
    st.text("0123456789 +-ABCäö²", max_size=24).map(lambda t: t.encode("latin-1")),
)


@st.composite
def gdv_like(draw: st.DrawFn) -> bytes:
    """Records with real Satzarten, Sparten and Satznummern and random fields, cut and joined
    in every way the physical rules allow, and some they do not; now and then after a BOM."""
    out = [draw(st.sampled_from([b"", b"", b"", codecs.BOM_UTF8]))]
    for _ in range(draw(st.integers(1, 10))):
        satzart = draw(st.sampled_from(SATZARTEN) | st.binary(min_size=4, max_size=4))
        vu = draw(st.sampled_from([b"5438 ", b"1141 ", b"     "]))
        vsnr = draw(st.sampled_from([b"32123456789", b"32123456780", b"", b"X"])).rjust(17)
        head = satzart + vu + b" " + draw(st.sampled_from(SPARTEN)) + vsnr
        record = bytearray((head + b"".join(draw(st.lists(FIELD, max_size=14)))).ljust(RECORD)[:RECORD])
        for column, choices in ((49, b"12349"), (60, b"0123456789"), (256, b" 12345X")):
            if draw(st.booleans()):
                record[column - 1] = draw(st.sampled_from(choices))
        if draw(st.integers(0, 4)) == 0:
            length = draw(st.integers(0, 2 * RECORD + 8))
            record = (record + bytearray(draw(st.binary(min_size=RECORD + 8, max_size=RECORD + 8))))[:length]
        out.append(bytes(record) + draw(st.sampled_from([b"\n", b"\r\n", b"", b"\r", b" \n", b"\n\n"])))
    return b"".join(out)


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(data=st.binary(max_size=4000) | gdv_like())
@settings(FUZZ, max_examples=250)
def test_any_bytes_give_a_result_or_gdv_format_error(encoding: str, data: bytes) -> None:
    file = run(data, encoding)
    event("not a GDV file" if file is None else "read")


@given(data=st.binary(max_size=600))
@settings(FUZZ, max_examples=100)
def test_any_bytes_after_a_vorsatz_give_a_result(data: bytes) -> None:
    """Behind a valid first record nothing raises, whatever the bytes."""
    file = (_gdv.vorsatz() + "\n").encode("ascii") + data
    for encoding in ENCODINGS:
        assert run(file, encoding) is not None


# -- 2. valid files with one mutation ----------------------------------------------------

A, B, C = "32123456780", "32123456781", "32123456782"


def _inkasso(vsnr: str, net: str, sign: str, tax: str, tax_sign: str, part2: bool = True) -> list[str]:
    td1 = _gdv.line(
        "0400",
        {
            31: "01",
            43: "1",
            44: "01",
            46: "01082024",
            107: "EUR",
            110: net,
            121: sign,
            122: tax,
            133: tax_sign,
            256: "1",
        },
        vsnr=vsnr,
    )
    td2 = _gdv.line("0400", {31: "01", 107: "00000001000", 118: "-", 119: "EUR", 256: "2"}, vsnr=vsnr)
    return [td1, td2] if part2 else [td1]


def rich_lines() -> list[str]:
    """Three contracts: 0100 in three Teildatensätze, 0200 TD1+2, Unfall 0220.030 (Satznummer
    at col 49), Leben 0220.010 (Wagnisart at col 60, TD 1 and 6), 0400 with signs, a 0500."""
    lines = [
        _gdv.vorsatz(),
        _gdv.address(A, "Müller", part="1"),
        _gdv.address(A, "", part="2"),
        _gdv.address(A, "", part="3"),
        _gdv.general(A, premium_cents=1000, sparte="030"),
        _gdv.line("0200", {11: "030", 31: "01", 44: "agent-1", 256: "2"}, vsnr=A),
        _gdv.line("0220", {11: "030", 31: "01", 43: "000001", 49: "1", 50: "Gruppe A", 256: " "}, vsnr=A),
        _gdv.line("0220", {11: "030", 31: "01", 43: "000001", 49: "2", 50: "000050000", 256: "X"}, vsnr=A),
        *_inkasso(A, "00000012345", "+", "00000002345", "-"),
        _gdv.address(B, "Größe"),
        _gdv.general(B, premium_cents=2000, sparte="010"),
        _gdv.line("0220", {11: "010", 31: "01", 43: "1".rjust(17), 60: "2", 256: "1"}, vsnr=B),
        _gdv.line("0220", {11: "010", 31: "01", 43: "1".rjust(17), 60: "2", 256: "6"}, vsnr=B),
        _gdv.line("0220", {11: "010", 31: "01", 43: "1".rjust(17), 60: "5", 256: "1"}, vsnr=B),
        _gdv.address(C, "Schäfer"),
        _gdv.general(C, premium_cents=3000, sparte="030"),
        _gdv.line("0220", {11: "030", 31: "01", 43: "000001", 49: "1", 256: " "}, vsnr=C),
        *_inkasso(C, "00000000500", "-", "00000000095", "-", part2=False),
        _gdv.line("0500", {31: "01", 256: "1"}, vsnr=C),
    ]
    return [*lines, _gdv.nachsatz(len(lines) - 1, 6000)]


def _simple_lines(contracts: int = 3) -> list[str]:
    return _gdv.simple_file(contracts).decode("iso-8859-15").split("\n")[:-1]


@cache
def _muster() -> bytes:
    return MUSTER.read_bytes()


BASES: dict[str, Callable[[], bytes]] = {
    "simple-lf": lambda: _gdv.simple_file(3),
    "simple-crlf": lambda: _gdv.simple_file(3, ending="\r\n"),
    "simple-no-separator": lambda: _gdv.simple_file(3, ending=""),
    "rich-lf": lambda: _gdv.join(rich_lines()),
    "rich-crlf": lambda: _gdv.join(rich_lines(), ending="\r\n"),
    "musterdatei": _muster,
}
BASE_PARAMS = [
    pytest.param(
        name,
        marks=[pytest.mark.skipif(not MUSTER.is_file(), reason=f"{MUSTER} not present")]
        if name == "musterdatei"
        else [],
    )
    for name in BASES
]

BYTE = st.sampled_from(b"\n\r 019+-AX\x00\xa0\xa4\xb2\xc3\xfc") | st.integers(0, 255)


def _split_lines(data: bytes) -> list[bytes]:
    """Lines with their separators; 256-byte records for a file without separators."""
    if b"\n" not in data:
        return [data[i : i + RECORD] for i in range(0, len(data), RECORD)]
    pieces = data.split(b"\n")
    return [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> tuple[bytes, str, int]:
    """One damage: (mutated bytes, what was done, offset of the first byte it changed)."""
    kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "duplicate", "swap"]))
    if kind in ("replace", "delete", "insert", "truncate"):
        last = len(data) if kind in ("insert", "truncate") else len(data) - 1
        at = draw(st.integers(0, last))
        byte = bytes([draw(BYTE)])
        if kind == "replace":
            return data[:at] + byte + data[at + 1 :], kind, at
        if kind == "delete":
            return data[:at] + data[at + 1 :], kind, at
        if kind == "insert":
            return data[:at] + byte + data[at:], kind, at
        return data[:at], kind, at
    lines = _split_lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "duplicate":
        mutated = [*lines[: i + 1], lines[i], *lines[i + 1 :]]
        return b"".join(mutated), kind, len(b"".join(lines[: i + 1]))
    j = draw(st.integers(0, len(lines) - 1))
    i, j = min(i, j), max(i, j)
    mutated = list(lines)
    mutated[i], mutated[j] = lines[j], lines[i]
    if lines[i].endswith(b"\n") and not lines[j].endswith(b"\n"):  # the last line had no LF
        mutated[i], mutated[j] = lines[j] + b"\n", lines[i][:-1]
    return b"".join(mutated), kind, len(b"".join(lines[:i]))


def test_the_base_files_read_without_warnings() -> None:
    for name, base in BASES.items():
        if name == "musterdatei" and not MUSTER.is_file():
            continue
        data = base()
        file = run(data, "iso-8859-15")
        assert file is not None
        codes = {w.code for w in file.warnings}
        assert codes <= ({"version"} if name == "musterdatei" else set()), name
    rich = gdv.parse(_gdv.join(rich_lines()))
    kinds = [[(r.kind, [p.number for p in r.parts]) for r in c.records if type(r) is Record] for c in rich]
    assert kinds == [
        [
            ("0100", [1, 2, 3]),
            ("0200", [1, 2]),
            ("0220.030", [1, 2]),
            ("0400", [1, 2]),
        ],
        [("0100", [1]), ("0200", [1]), ("0220.010.2", [1, 6]), ("0220.010.5", [1])],
        [("0100", [1]), ("0200", [1]), ("0220.030", [1]), ("0400", [1])],
    ]
    (first, _, third) = rich.contracts
    assert [r.get("total_premium_net") for r in first.inkasso] == [Decimal("123.45")]
    assert first.inkasso[0].insurance_tax == Decimal("-23.45")
    part2 = first.inkasso[0].part(2)
    assert part2 is not None
    assert part2["settlement_amount"] == Decimal("-10.00")
    assert third.inkasso[0].total_premium_net == Decimal("-5.00")
    assert [r.kind for r in third.raw] == ["0500"]


@pytest.mark.parametrize("base", BASE_PARAMS)
@given(data=st.data())
@FUZZ
def test_one_mutation_loses_no_record(base: str, data: st.DataObject) -> None:
    original = BASES[base]()
    mutated, kind, at = data.draw(mutation(original), label="mutation")
    encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding")
    expected = physical_records(mutated, encoding)
    file = run(mutated, encoding)
    event(f"{kind}: {'not a GDV file' if file is None else 'read'}")
    if file is None:
        # Only a damaged Satzart in record 1, or nothing left.
        assert at < 4 or not expected, (kind, at)
        assert kind in ("replace", "delete", "insert", "truncate")


# -- 3. damage stays in its contract -----------------------------------------------------


def _signature(contract: Contract) -> list[Any]:
    return [
        ("Record", r.kind, [p.as_dict() for p in r.parts]) if type(r) is Record else ("Raw", r.kind, r.text)
        for r in contract.records
    ]


def _by_key(file: gdv.GdvFile) -> dict[tuple[str, str], list[Any]]:
    counts = Counter(c.key for c in file.contracts)
    return {c.key: _signature(c) for c in file.contracts if counts[c.key] == 1}


KEY_COLUMNS = frozenset(range(4, 9)) | frozenset(range(13, 30))  # VU-Nr, VSNR (0-based)
AMOUNT = range(115, 127)  # 0200 TD1 Gesamtbeitrag (Netto), cols 116-127
COLUMN = st.integers(AMOUNT.start, AMOUNT.stop - 1) | st.integers(0, RECORD - 1).filter(
    lambda c: c not in KEY_COLUMNS
)


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("base", ["simple", "rich"])
@given(data=st.data())
@FUZZ
def test_damage_in_one_contract_leaves_the_others_alone(base: str, ending: str, data: st.DataObject) -> None:
    lines = _simple_lines() if base == "simple" else rich_lines()
    original = _gdv.join(lines, ending=ending)
    before = _by_key(gdv.parse(original))
    assert {key[1] for key in before} == {A, B, C}
    second = [
        i for i, text in enumerate(lines) if text[:4] not in ("0001", "9999") and text[13:30].strip() == B
    ]
    index = data.draw(st.sampled_from(second), label="line")
    general = next(i for i in second if lines[i][:4] == "0200")
    if data.draw(st.booleans(), label="in the 0200 amount"):
        index, column = general, data.draw(st.integers(AMOUNT.start, AMOUNT.stop - 1), label="column")
    else:
        column = data.draw(COLUMN, label="column")
    kind = data.draw(st.sampled_from(["replace", "delete", "insert"]), label="kind")
    byte = data.draw(BYTE, label="byte")
    record = bytearray(lines[index].encode("iso-8859-15"))
    if kind == "replace":
        record[column] = byte
    elif kind == "delete":
        del record[column]
    else:
        record.insert(column, byte)
    damaged = [text.encode("iso-8859-15") for text in lines]
    damaged[index] = bytes(record)
    mutated = b"".join(text + ending.encode() for text in damaged)
    file = run(mutated, "iso-8859-15")
    assert file is not None
    after = _by_key(file)
    for key, signature in before.items():
        if key[1] != B:
            assert after.get(key) == signature, key
    if kind == "replace" and index == general and column in AMOUNT:
        (contract,) = [c for c in file.contracts if c.key == ("5438", B)]
        if chr(byte) in string.ascii_letters:
            assert contract.total_premium_net is None
            assert (index + 1, "invalid-value") in {(w.line, w.code) for w in file.warnings}
        elif chr(byte) in string.digits:
            amount = record[AMOUNT.start : AMOUNT.stop].decode("ascii")
            assert contract.total_premium_net == Decimal(amount) / 100


# -- 4. the wrong encoding ---------------------------------------------------------------


def _utf8_record(text: str) -> bytes:
    """``text`` in UTF-8, cut back to 256 bytes: the extra bytes come out of the padding blanks
    after the last non-ASCII character (one text field with umlauts per record here)."""
    raw = text.encode("utf-8")
    extra = len(raw) - RECORD
    if extra:
        last = max(i for i, char in enumerate(text) if not char.isascii())
        at = raw.index(b" " * (extra + 1), len(text[: last + 1].encode("utf-8")))
        raw = raw[:at] + raw[at + extra :]
    assert len(raw) == RECORD, len(raw)
    return raw


def _umlaut_lines() -> list[str]:
    return [
        _gdv.vorsatz(sender="Versicherung Köln AG"),
        _gdv.address(A, "Jürgen Größe-Ärmel"),
        _gdv.general(A),
        _gdv.nachsatz(2, 12345),
    ]


@pytest.mark.parametrize("read_as", ["iso-8859-15", "cp850"])
def test_a_utf8_file_read_as_a_one_byte_encoding_gives_a_result(read_as: str) -> None:
    data = b"".join(_utf8_record(text) + b"\n" for text in _umlaut_lines())
    file = run(data, read_as)
    assert file is not None
    (contract,) = file.contracts
    holder = contract.policyholder
    assert holder is not None
    assert holder.name_1 == "Jürgen Größe-Ärmel".encode().decode(read_as)  # mojibake, but a result
    assert contract.total_premium_net == Decimal("123.45")
    # Written the naive way (a character per column), the lines are longer than 256 bytes.
    naive = _gdv.join(_umlaut_lines(), encoding="utf-8")
    assert run(naive, read_as) is not None


@pytest.mark.parametrize("written_as", ["iso-8859-15", "cp850"])
def test_a_one_byte_file_read_as_utf8_warns_about_the_encoding(written_as: str) -> None:
    data = _gdv.simple_file(3, encoding=written_as)
    file = run(data, "utf-8")
    assert file is not None
    assert "encoding" in {w.code for w in file.warnings}
    assert [c.total_premium_net for c in file.contracts] == [
        Decimal("10.00"),
        Decimal("10.01"),
        Decimal("10.02"),
    ]
    names = [c.policyholder.name_1 for c in file.contracts if c.policyholder is not None]
    assert names == ["M\ufffdller 0", "M\ufffdller 1", "M\ufffdller 2"]


def test_utf8_reaches_the_vorsatz_and_raw_records() -> None:
    lines = [
        _gdv.vorsatz(sender="Versicherung Köln AG"),
        _gdv.line("0500", {31: "01", 44: "Schäden".ljust(20)}, vsnr=A),
        _gdv.nachsatz(1, 0),
    ]
    data = b"".join(_utf8_record(text) + b"\n" for text in lines)
    for source in (data, codecs.BOM_UTF8 + data):  # a byte-order mark is skipped
        file = run(source, "utf-8")
        assert file is not None
        assert file.warnings == []
        vorsatz = file.packets[0].vorsatz
        assert vorsatz is not None
        assert vorsatz.sender == "Versicherung Köln AG"
        (raw,) = file.contracts[0].raw
        assert raw.text[43:50] == "Schäden"


# -- contract violations found by fuzzing (each failed before its fix) ------------------


def _superscript(encoding: str) -> str:
    """A byte the parser reads as '²' (str.isdigit() but no ASCII digit)."""
    return "\xfd" if encoding == "cp850" else "\xb2"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("where", ["vorsatz-satznummer", "nachsatz-count", "minimal"])
def test_superscript_digits_in_vorsatz_or_nachsatz_are_damage_not_a_crash(where: str, encoding: str) -> None:
    lines = _simple_lines(1)
    sup = _superscript(encoding)
    if where == "vorsatz-satznummer":
        lines[0] = lines[0][:255] + sup
    elif where == "nachsatz-count":
        lines[-1] = lines[-1][:13] + sup + lines[-1][14:]  # Anzahl der Sätze 000000000²
    else:
        lines = ["9999" + sup * 10]
    data = "".join(text + "\n" for text in lines).encode("latin-1")
    file = gdv.parse(data, encoding=encoding)
    assert file.records == len(lines)


@pytest.mark.parametrize("where", ["vorsatz", "nachsatz"])
def test_invalid_values_in_vorsatz_and_nachsatz_are_warned_about(where: str) -> None:
    lines = _simple_lines(1)
    if where == "vorsatz":
        lines[0] = lines[0][:70] + "X" + lines[0][71:]  # Erstellungsdatum Zeitraum (cols 70-85)
    else:
        lines[-1] = lines[-1][:8] + "X" + lines[-1][9:]  # Anzahl der Sätze (cols 5-14)
    file = gdv.parse(_gdv.join(lines))
    line = 1 if where == "vorsatz" else len(lines)
    assert (line, "invalid-value") in {(w.line, w.code) for w in file.warnings}


def test_a_short_record_warning_does_not_make_a_packet_of_its_own() -> None:
    lines = _gdv.simple_file(3).split(b"\n")
    lines[1] += b"X"  # 257 bytes: one record and a one-byte tail
    file = gdv.parse(b"\n".join(lines))
    assert file.records == 9
    assert len(file.packets) == 1
    assert file.packets[0].vorsatz is not None
    assert (2 + 1, "short-record") in {(w.line, w.code) for w in file.packets[0].warnings}


@pytest.mark.parametrize("tail", [b"\xa0", b"\x1c", b"\xff"], ids=["nbsp-latin9", "fs", "nbsp-cp850"])
def test_record_count_does_not_depend_on_the_encoding(tail: bytes) -> None:
    lines = _gdv.simple_file(1).split(b"\n")
    lines[1] += tail  # one full record and one byte
    data = b"\n".join(lines)
    counts = {encoding: gdv.parse(data, encoding=encoding).records for encoding in ENCODINGS}
    assert len(set(counts.values())) == 1, counts


def test_a_record_ending_in_cr_keeps_it_in_a_file_without_lf() -> None:
    raw = _gdv.line("0500", {31: "01"}, vsnr=A)[:255] + "\r"  # col 256 (Satznummer) damaged
    file = gdv.parse((_gdv.vorsatz() + raw).encode("ascii"))
    assert file.records == 2
    assert "short-record" not in {w.code for w in file.warnings}  # both records are 256 bytes
    (record,) = file.contracts[0].raw
    assert record.text == raw


@pytest.mark.parametrize("read_as", ["iso-8859-15", "cp850"])
def test_a_utf8_file_with_a_byte_order_mark_read_as_a_one_byte_encoding_gives_a_result(read_as: str) -> None:
    data = codecs.BOM_UTF8 + b"".join(_utf8_record(text) + b"\n" for text in _umlaut_lines())
    file = gdv.parse(data, encoding=read_as)
    assert len(file.contracts) == 1
