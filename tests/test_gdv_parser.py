"""The GDV parser on hand-written files: physical layout, encodings, grouping, keys, damage.

Every file here is built byte by byte in the test (tests/_gdv.py), so the expected values
are the ones written, and the tests run without ../shared.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import random
from decimal import Decimal
from pathlib import Path

import pytest

from bipro_ruv import gdv
from bipro_ruv.errors import BiproError, GdvFormatError
from bipro_ruv.gdv.layouts import RELEASES, Field, Layout, layouts_of
from bipro_ruv.gdv.values import DATE, PartialDate
from tests import _gdv

# -- physical layout -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("LF", _gdv.simple_file(3)),
        ("CRLF", _gdv.simple_file(3, ending="\r\n")),
        ("no separator", _gdv.simple_file(3, ending="")),
        ("no final newline", _gdv.simple_file(3)[:-1]),
        ("trailing blanks cut", b"\n".join(x.rstrip() for x in _gdv.simple_file(3).split(b"\n"))),
    ],
)
def test_line_endings_and_short_lines_read_alike(name: str, data: bytes) -> None:
    file = gdv.parse(data)
    assert [c.vsnr_text for c in file.contracts] == ["32123456780", "32123456781", "32123456782"]
    assert [c.total_premium_net for c in file.contracts] == [
        Decimal("10.00"),
        Decimal("10.01"),
        Decimal("10.02"),
    ]
    assert file.warnings == []
    assert file.records == 8


@pytest.mark.parametrize("encoding", ["iso-8859-15", "cp850", "utf-8", "latin-1"])
def test_encodings_count_256_in_bytes(encoding: str) -> None:
    data = (
        _gdv.join(
            [
                _gdv.vorsatz(),
                _gdv.address("32123456789", "Jürgen Größe-Ärmel €uro"),
                _gdv.general("32123456789"),
                _gdv.nachsatz(2, 12345),
            ],
            encoding="utf-8" if encoding == "utf-8" else encoding,
        )
        if encoding not in ("latin-1", "cp850")
        else _gdv.join(
            [
                _gdv.vorsatz(),
                _gdv.address("32123456789", "Jürgen Größe-Ärmel Euro"),
                _gdv.general("32123456789"),
                _gdv.nachsatz(2, 12345),
            ],
            encoding=encoding,
        )
    )
    if encoding == "utf-8":
        # In UTF-8 the umlauts take two bytes each: the record is longer than 256 characters'
        # worth of bytes only if we wrote it wrong. Re-cut so that every record is 256 BYTES.
        lines = []
        for text in [
            _gdv.vorsatz(),
            _gdv.address("32123456789", "Jürgen Größe-Ärmel €uro"),
            _gdv.general("32123456789"),
            _gdv.nachsatz(2, 12345),
        ]:
            raw = text.encode("utf-8")
            extra = len(raw) - 256
            # the name field is padded with blanks: take the surplus bytes out of its padding
            lines.append(raw[: 43 + 30 + 13 - extra] + raw[43 + 30 + 13 :] if extra else raw)
        data = b"\n".join(lines) + b"\n"
        assert all(len(x) == 256 for x in data.split(b"\n")[:-1])
    file = gdv.parse(data, encoding=encoding)
    (contract,) = file.contracts
    holder = contract.policyholder
    assert holder is not None
    expected = "Jürgen Größe-Ärmel Euro" if encoding in ("latin-1", "cp850") else "Jürgen Größe-Ärmel €uro"
    assert holder.name_1 == expected
    assert holder.address_role == "01"
    assert contract.total_premium_net == Decimal("123.45")
    assert file.warnings == []


def test_utf8_field_cut_in_the_middle_of_a_character_is_a_warning() -> None:
    text = _gdv.address("32123456789", "x")
    raw = bytearray(text.encode("ascii"))
    raw[72] = 0xC3  # the last byte of Name1 starts a two-byte sequence that the next field ends
    raw[73] = 0xA4
    data = b"\n".join([_gdv.vorsatz().encode(), bytes(raw), _gdv.nachsatz(1, 0).encode()]) + b"\n"
    file = gdv.parse(data, encoding="utf-8")
    assert [w.code for w in file.warnings] == ["encoding"]
    holder = file.contracts[0].policyholder
    assert holder is not None
    assert holder.name_1.endswith("\ufffd")


def test_chunk_boundaries_do_not_cut_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bipro_ruv.gdv._physical.CHUNK", 1000)  # not a multiple of 257 or 256
    for ending in ("\n", "\r\n", ""):
        data = _gdv.simple_file(40, ending=ending)
        file = gdv.parse(io.BytesIO(data))
        assert len(file.contracts) == 40
        assert file.warnings == []


def test_a_path_a_file_object_and_bytes_are_sources(tmp_path: Path) -> None:
    data = _gdv.simple_file(2)
    path = tmp_path / "bestand.gdv"
    path.write_bytes(data)
    keys = [c.key for c in gdv.parse(data).contracts]
    assert [c.key for c in gdv.parse(path).contracts] == keys
    assert [c.key for c in gdv.parse(str(path)).contracts] == keys
    with path.open("rb") as handle:
        assert [c.key for c in gdv.iter_contracts(handle)] == keys


# -- what is not a GDV file ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n" + b"x" * 600, "not a GDV file"),
        (b"<?xml version='1.0'?><soap/>", "not a GDV file"),
        (b"\x00\x01\x02" * 200, "not a GDV file"),
    ],
)
def test_input_that_is_no_gdv_file_raises_a_typed_error(data: bytes, words: str) -> None:
    with pytest.raises(GdvFormatError, match=words) as caught:
        gdv.parse(data)
    assert isinstance(caught.value, BiproError)


def test_unknown_encoding_and_missing_file_raise_gdv_format_error(tmp_path: Path) -> None:
    with pytest.raises(GdvFormatError, match="unknown encoding"):
        gdv.parse(b"", encoding="klingon")
    with pytest.raises(GdvFormatError, match="cannot read"):
        gdv.parse(tmp_path / "missing.gdv")
    with pytest.raises(GdvFormatError, match="cannot read"):
        gdv.parse(tmp_path)


# -- damage inside a file: warnings, nothing lost ------------------------------------


def test_a_file_cut_off_without_nachsatz_keeps_its_contracts_and_warns() -> None:
    data = _gdv.simple_file(3)
    cut = data[: 257 * 5 + 100]  # Vorsatz, two contracts, and 100 bytes of the third's 0100
    file = gdv.parse(cut)
    assert [c.vsnr_text for c in file.contracts] == ["32123456780", "32123456781", "32123456782"]
    assert "no-nachsatz" in [w.code for w in file.warnings]


def test_nachsatz_mismatches_are_warnings() -> None:
    lines = [_gdv.vorsatz(), _gdv.general("32123456789", premium_cents=500), _gdv.nachsatz(7, 999)]
    file = gdv.parse(_gdv.join(lines))
    assert sorted(w.code for w in file.warnings) == ["nachsatz-count", "nachsatz-premium"]
    assert "states 7 records" in str(file.warnings[0]) or "states 7 records" in str(file.warnings[1])
    assert len(file.contracts) == 1


def test_junk_in_numeric_fields_is_kept_raw_with_a_warning_every_time() -> None:
    bad = _gdv.general("32123456789")
    bad = bad[:115] + "12A456789012" + bad[127:]  # Gesamtbeitrag
    bad_date = _gdv.general("32123456780", start="31022024")
    lines = [_gdv.vorsatz(), bad, bad, bad_date, _gdv.nachsatz(3, 0)]
    file = gdv.parse(_gdv.join(lines))
    junk = [w for w in file.warnings if w.code == "invalid-value"]
    assert [w.line for w in junk] == [2, 3, 4]
    assert "cols 116-127" in junk[0].message
    general = file.contracts[0].general
    assert general is not None
    value = general.part(1).total_premium_net
    assert isinstance(value, gdv.InvalidValue)
    assert value == "12A456789012"
    assert file.contracts[-1].start_date == gdv.InvalidValue("31022024")


def test_a_line_that_is_no_record_is_kept_as_text() -> None:
    lines = [_gdv.vorsatz(), _gdv.general("32123456789"), "GARBAGE".ljust(256, "#"), _gdv.nachsatz(2, 12345)]
    file = gdv.parse(_gdv.join(lines))
    assert "not-a-record" in [w.code for w in file.warnings]
    raw = [r for c in file.contracts for r in c.raw]
    assert [r.text[:7] for r in raw] == ["GARBAGE"]


def test_unknown_satzarten_stay_raw_records_of_their_contract() -> None:
    lines = [
        _gdv.vorsatz(),
        _gdv.general("32123456789"),
        _gdv.line("0500", {256: "1"}, vsnr="32123456789"),  # Schadeninformation: not decoded
        _gdv.line("0220", {11: "020", 256: "1"}, vsnr="32123456789"),  # Kranken: not decoded
        _gdv.nachsatz(3, 12345),
    ]
    (contract,) = gdv.parse(_gdv.join(lines)).contracts
    assert [r.kind for r in contract.raw] == ["0500", "0220.020"]
    assert [type(r).__name__ for r in contract.records] == ["Record", "RawRecord", "RawRecord"]


def test_warnings_are_capped_and_counted() -> None:
    bad = _gdv.general("32123456789", start="99999999")
    lines = [_gdv.vorsatz()] + [bad] * (gdv.parser.MAX_WARNINGS + 50) + [_gdv.nachsatz(0, 0)]
    reader = gdv.GdvReader(_gdv.join(lines))
    assert len(list(reader)) == 1
    codes = [w.code for w in reader.warnings]
    assert codes.count("invalid-value") == gdv.parser.MAX_WARNINGS
    assert reader.suppressed_warnings == 50
    assert codes[-1] == "more-warnings"
    assert "50 more warnings" in reader.warnings[-1].message


# -- packets, contracts, Datensätze --------------------------------------------------


def test_several_packets_and_records_after_a_nachsatz() -> None:
    lines = [
        _gdv.vorsatz(vu="5438"),
        _gdv.general("32123456789"),
        _gdv.nachsatz(1, 12345),
        _gdv.vorsatz(vu="1141"),
        _gdv.general("10123456789", vu="1141", premium_cents=1),
        _gdv.nachsatz(1, 1),
        _gdv.general("32123456780"),  # after the last Nachsatz, without a Vorsatz
    ]
    file = gdv.parse(_gdv.join(lines))
    assert [len(p.contracts) for p in file.packets] == [1, 1, 1]
    assert [p.vorsatz.vu_number if p.vorsatz else None for p in file.packets] == ["5438", "1141", None]
    assert [w.code for w in file.warnings] == ["after-nachsatz", "no-nachsatz"]


def test_same_vsnr_under_two_vu_numbers_stays_two_contracts() -> None:
    """R+V 2024: Abgang under VU 5339, Zugang under 5438, same VSNR, one file."""
    abgang = _gdv.general("32123456789", vu="5339")
    abgang = abgang[:68] + "437" + "00082024" + abgang[79:]  # status 4, reason 37, date 00082024
    lines = [_gdv.vorsatz(), abgang, _gdv.general("32123456789", vu="5438"), _gdv.nachsatz(2, 24690)]
    file = gdv.parse(_gdv.join(lines))
    old, new = file.contracts
    assert (old.key, new.key) == (("5339", "32123456789"), ("5438", "32123456789"))
    assert old.vsnr == new.vsnr
    general = old.general
    assert general is not None
    assert (general.contract_status, general.cancellation_reason) == ("4", "37")
    assert general.cancellation_date == PartialDate("00082024", 2024, 8, None)


def test_interleaved_records_of_one_contract_are_merged_by_parse_not_by_streaming() -> None:
    lines = [
        _gdv.vorsatz(),
        _gdv.address("32123456789", "A"),
        _gdv.address("32123456780", "B"),
        _gdv.general("32123456789"),
        _gdv.nachsatz(3, 12345),
    ]
    data = _gdv.join(lines)
    assert [c.vsnr_text for c in gdv.iter_contracts(data)] == ["32123456789", "32123456780", "32123456789"]
    file = gdv.parse(data)
    assert [(c.vsnr_text, len(c.records)) for c in file.contracts] == [("32123456789", 2), ("32123456780", 1)]


def test_teildatensaetze_group_by_ascending_number_and_missing_ones_start_anew() -> None:
    vsnr = "32123456789"
    lines = [
        _gdv.vorsatz(),
        _gdv.address(vsnr, "VN", part="1"),
        _gdv.address(vsnr, "", part="2"),
        _gdv.address(vsnr, "", part="4"),  # 3 missing: still the same Datensatz
        _gdv.address(vsnr, "Zahler", role="10", part="1"),  # a new 0100
        _gdv.address(vsnr, "", part="2"),
        _gdv.address(vsnr, "", part="1"),  # out of order: a third Datensatz, not lost
        _gdv.nachsatz(6, 0),
    ]
    (contract,) = gdv.parse(_gdv.join(lines)).contracts
    assert [[p.number for p in r.parts] for r in contract.addresses] == [[1, 2, 4], [1, 2], [1]]
    assert contract.address("10") is contract.addresses[1]
    assert contract.policyholder is contract.addresses[0]


def test_unfall_satznummer_at_column_49_and_leben_wagnisart_at_column_60() -> None:
    vsnr = "32123456789"
    lines = [
        _gdv.vorsatz(),
        _gdv.line("0220", {11: "030", 43: "000001", 49: "1", 256: " "}, vsnr=vsnr),
        _gdv.line("0220", {11: "030", 43: "000001", 49: "2", 256: "X"}, vsnr=vsnr),
        _gdv.line("0220", {11: "010", 43: "1".rjust(17), 60: "2", 256: "1"}, vsnr=vsnr),
        _gdv.line("0220", {11: "010", 43: "1".rjust(17), 60: "2", 256: "6"}, vsnr=vsnr),
        _gdv.line("0220", {11: "010", 43: "1".rjust(17), 60: "5", 256: "1"}, vsnr=vsnr),
        _gdv.nachsatz(5, 0),
    ]
    (contract,) = gdv.parse(_gdv.join(lines)).contracts
    kinds = [(r.kind, [p.number for p in r.parts]) for r in contract.sparte_records]
    assert kinds == [("0220.030", [1, 2]), ("0220.010.2", [1, 6]), ("0220.010.5", [1])]


# -- layouts and values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("01082024", dt.date(2024, 8, 1)),
        ("00082024", PartialDate("00082024", 2024, 8, None)),
        ("00002010", PartialDate("00002010", 2010, None, None)),
        ("01010000", PartialDate("01010000", None, 1, 1)),
        ("082024", PartialDate("082024", 2024, 8, None)),
        ("00000000", None),
        ("        ", None),
        ("31022024", gdv.InvalidValue("31022024")),
        ("0108202x", gdv.InvalidValue("0108202x")),
        ("00130000", gdv.InvalidValue("00130000")),
    ],
)
def test_dates(raw: str, value: object) -> None:
    assert DATE[raw] == value
    assert type(DATE[raw]) is type(value)


def test_partial_date_helpers() -> None:
    assert PartialDate("00082024", 2024, 8, None).earliest == dt.date(2024, 8, 1)
    assert PartialDate("00082024", 2024, 8, None).isoformat() == "2024-08"
    assert PartialDate("01010000", None, 1, 1).earliest is None


def test_signs_apply_to_the_amount_before_them() -> None:
    layout = layouts_of("2023")[("0400", "", "", 1)]
    signed = [f for i, f in enumerate(layout.fields) if f.kind == "F" and layout.fields[i + 1].kind == "S"]
    assert signed, "0400 TD1 has amounts with sign fields"
    text = list(_gdv.line("0400", {256: "1"}, vsnr="32123456789"))
    amount = signed[0]
    digits = "123".rjust(amount.length, "0")
    text[amount.start - 1 : amount.end] = digits
    text[amount.end] = "-"
    part = layout.decode("".join(text))
    assert part[amount.name] == -Decimal(123).scaleb(-amount.decimals)
    text[amount.end] = "+"
    assert layout.decode("".join(text))[amount.name] == Decimal(123).scaleb(-amount.decimals)


def _reference_decode(field: Field, raw: str) -> object:
    """The value rules of bipro_ruv.gdv.values, written out plainly (no memos, no runs)."""
    text = raw.strip()
    if field.kind == "S":
        return raw if raw in ("+", "-") else None if not text else gdv.InvalidValue(raw)
    if field.kind == "A":
        value = (raw.strip() if field.start == 14 and field.length == 17 else raw.rstrip()) or None
        return value
    if not text:
        return None
    if field.kind == "N":
        return text if text.isdigit() and text.isascii() else gdv.InvalidValue(raw)
    if field.kind == "F":
        if not (text.isdigit() and text.isascii()):
            return gdv.InvalidValue(raw)
        return Decimal((0, tuple(int(d) for d in text), -field.decimals))
    return DATE[raw]


def _random_line(layout: Layout, rng: random.Random) -> str:
    pieces = []
    for field in layout.fields:
        roll = rng.random()
        if roll < 0.3:
            pieces.append(" " * field.length)
        elif roll < 0.5:
            pieces.append("0" * field.length)
        elif roll < 0.9 and field.kind in ("N", "F", "D"):
            pieces.append("".join(rng.choice("0123456789") for _ in range(field.length)))
        else:
            pieces.append("".join(rng.choice("0123456789 ABCxyzäÖ-+/.") for _ in range(field.length)))
    return "".join(pieces)


@pytest.mark.parametrize("release", RELEASES)
def test_compiled_decoders_agree_with_the_plain_rules(release: str) -> None:
    """Every layout's generated decoder (memos, runs) against the value rules written out."""
    rng = random.Random(release)
    for layout in layouts_of(release).values():
        lines = [_random_line(layout, rng) for _ in range(6)]
        for text in lines + lines:  # the second pass reads from the memos
            part = layout.decode(text)
            for i, field in enumerate(layout.fields):
                expected = _reference_decode(field, text[field.start - 1 : field.end])
                signed = field.kind == "F" and i + 1 < len(layout.fields) and layout.fields[i + 1].kind == "S"
                if signed and text[field.end] == "-" and isinstance(expected, Decimal) and expected:
                    expected = -expected
                got = part[i]
                assert got == expected, (str(layout), field, text)
                assert type(got) is type(expected), (str(layout), field, text)


def test_release_is_chosen_by_the_vorsatz_versions() -> None:
    from bipro_ruv.gdv.layouts import choose_release

    assert choose_release("0200", "", "2.5") == ("2023", True)
    assert choose_release("0200", "", "2.3") == ("2009", True)
    assert choose_release("0200", "", "1.9") == ("2009", False)
    assert choose_release("0200", "", "2.4") == ("2013", True)
    assert choose_release("0200", "", "9.9") == ("2023", False)
    assert choose_release("0200", "", None) == ("2023", False)


def test_parts_pickle() -> None:
    import pickle

    file = gdv.parse(_gdv.simple_file(1))
    record = file.contracts[0].general
    assert record is not None
    copy = pickle.loads(pickle.dumps(record))
    assert copy.as_dict() == record.as_dict()
    assert copy.line == record.line


@pytest.mark.parametrize("encoding", ["hex", "rot13", "base64", "utf-16", "idna"])
def test_codecs_that_are_no_ascii_compatible_text_encoding_are_refused(encoding: str) -> None:
    with pytest.raises(GdvFormatError, match="no ASCII-compatible text encoding"):
        gdv.parse(_gdv.simple_file(1), encoding=encoding)


def test_utf8_reaches_the_vorsatz_and_the_raw_records() -> None:
    lines = [
        _gdv.vorsatz(sender="Gärtner Versicherung AG"),
        _gdv.line("0500", {43: "Schaden Müller"}, vsnr="32123456789"),
        _gdv.nachsatz(1, 0),
    ]
    data = b"".join(_utf8_record(text) + b"\n" for text in lines)
    file = gdv.parse(codecs.BOM_UTF8 + data, encoding="utf-8")
    vorsatz = file.packets[0].vorsatz
    assert vorsatz is not None
    assert vorsatz.sender == "Gärtner Versicherung AG"
    (raw,) = file.contracts[0].raw
    assert "Schaden Müller" in raw.text
    assert file.warnings == []


def _utf8_record(text: str) -> bytes:
    """256 bytes: each multi-byte character's surplus taken from a run of blanks after column 100."""
    raw = text.encode("utf-8")
    surplus = len(raw) - 256
    at = raw.find(b" " * (surplus + 1), 100)
    assert at > 0
    return raw[:at] + raw[at + surplus :]


def test_a_sign_that_is_neither_plus_nor_minus_is_warned_about() -> None:
    layout = layouts_of("2023")[("0400", "", "", 1)]
    amount = next(
        f for i, f in enumerate(layout.fields) if f.kind == "F" and layout.fields[i + 1].kind == "S"
    )
    text = list(_gdv.line("0400", {31: "01", 256: "1"}, vsnr="32123456789"))
    text[amount.start - 1 : amount.end] = "5".rjust(amount.length, "0")
    text[amount.end] = "x"
    lines = [_gdv.vorsatz(), "".join(text), _gdv.nachsatz(1, 0)]
    file = gdv.parse(_gdv.join(lines))
    (warning,) = [w for w in file.warnings if w.code == "invalid-value"]
    assert warning.line == 2
    assert "'x'" in warning.message
    (record,) = file.contracts[0].inkasso
    assert record.get(amount.name) == Decimal(5).scaleb(-amount.decimals)


def test_an_inkasso_contract_without_0200_takes_its_sparte_from_the_key_fields() -> None:
    lines = [
        _gdv.vorsatz(),
        _gdv.line("0400", {11: "040", 31: "01", 256: "1"}, vsnr="32123456789"),
        _gdv.nachsatz(1, 0),
    ]
    (contract,) = gdv.parse(_gdv.join(lines)).contracts
    assert contract.general is None
    assert contract.sparte == "040"


# -- found in review (each failed before its fix) ------------------------------------


def test_a_packet_cut_off_by_the_next_vorsatz_warns() -> None:
    lines = [_gdv.vorsatz(), _gdv.general("32123456789"), _gdv.vorsatz(vu="1141"), _gdv.nachsatz(0, 0)]
    file = gdv.parse(_gdv.join(lines))
    assert [(w.code, w.line) for w in file.packets[0].warnings] == [("no-nachsatz", 2)]
    assert file.packets[1].warnings == []


def test_a_warning_from_splitting_belongs_to_the_packet_of_its_record() -> None:
    first = [_gdv.vorsatz(), _gdv.general("32123456789"), _gdv.nachsatz(1, 12345)]
    second = [_gdv.vorsatz(vu="1141"), _gdv.general("10123456789", vu="1141"), _gdv.nachsatz(1, 12345)]
    data = _gdv.join(first) + _gdv.join(second[:2])[:-1] + b"XY\n" + _gdv.join(second[2:])
    file = gdv.parse(data)
    assert file.packets[0].warnings == []
    # Record 6 is the tail "XY": a padded record of its own, which is no GDV record either.
    codes = [(w.code, w.line) for w in file.packets[1].warnings]
    assert ("short-record", 6) in codes
    assert {line for _, line in codes} <= {6, 7}


@pytest.mark.parametrize("tail", [b"\x1a", b"\n\n", b"   \r\n", b"\r\n\x1a"])
def test_blank_lines_and_the_dos_end_of_file_mark_are_no_records(tail: bytes) -> None:
    data = _gdv.simple_file(2, ending="\r\n") + tail
    file = gdv.parse(data)
    assert file.warnings == []
    assert len(file.packets) == 1
    assert [c.key for c in file.contracts] == [("5438", "32123456780"), ("5438", "32123456781")]


def test_vorsatz_parts_with_a_blank_satznummer_stay_one_vorsatz() -> None:
    part_1 = _gdv.vorsatz()[:255] + " "
    part_2 = _gdv.line("0001", {5: "5438 "})  # an old file: Teildatensatz 2 without its number
    lines = [part_1, part_2, _gdv.general("32123456789"), _gdv.nachsatz(1, 12345)]
    file = gdv.parse(_gdv.join(lines))
    (packet,) = file.packets
    assert packet.vorsatz is not None
    assert len(packet.vorsatz.parts) == 2
    assert [p.number for p in packet.vorsatz.parts] == [1, 2]
    assert file.warnings == []


@pytest.mark.parametrize("encoding", ["unicode_escape", "raw_unicode_escape"])
def test_escape_codecs_are_refused(encoding: str) -> None:
    with pytest.raises(GdvFormatError, match="no ASCII-compatible text encoding"):
        gdv.parse(_gdv.simple_file(1), encoding=encoding)


def test_sources_that_cannot_be_read_as_bytes_raise_gdv_format_error(tmp_path: Path) -> None:
    with pytest.raises(GdvFormatError, match="cannot read"):
        gdv.parse("bestand\x00.gdv")
    with pytest.raises(GdvFormatError, match="binary mode"):
        gdv.parse(io.StringIO(_gdv.simple_file(1).decode("latin-1")))  # type: ignore[arg-type]
    with pytest.raises(GdvFormatError, match="unknown encoding"):
        gdv.parse(_gdv.simple_file(1), encoding=None)  # type: ignore[arg-type]


def test_warnings_are_capped_per_file_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gdv.parser, "MAX_FILE_WARNINGS", 5)
    lines = []
    for n in range(4):  # four packets of three warnings each
        bad = _gdv.general(f"3212345678{n}", start="99999999")
        lines += [_gdv.vorsatz(), bad, bad, bad, _gdv.nachsatz(3, 0)]
    reader = gdv.GdvReader(_gdv.join(lines))
    assert len(list(reader)) == 4
    codes = [w.code for w in reader.warnings]
    assert codes.count("invalid-value") == 5
    assert reader.suppressed_warnings == 7
    assert codes[-1] == "more-warnings"
