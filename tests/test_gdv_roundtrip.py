"""Round trips through the GDV parser: our writer's records, of every layout and of realistic R+V files.

The writer (``bipro_ruv.sandbox.content.gdv_writer``) knows only the layout tables and the value types, never
the parser; what it wrote (:class:`WrittenRecord`) is the ground truth every decoded field is checked against.
The parser bugs found this way have a test each at the end of the file.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bipro_ruv.arbeitsgebiete import ARBEITSGEBIETE
from bipro_ruv.gdv import Contract, GdvFile, Part, PartialDate, RawRecord, Record, parse
from bipro_ruv.gdv.layouts import RELEASES, Field, Layout, layouts_of, versions_of
from bipro_ruv.sandbox.content.gdv_writer import (
    GdvWriter,
    Kind,
    WrittenRecord,
    encode_record,
    encode_record_bytes,
    expected_values,
    fixed_fields,
    generate_gdv,
    generate_gdv_with_truth,
    partial_date,
    write_gdv,
)

# -- helpers ------------------------------------------------------------------------------------------------

_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789äöüÄÖÜß€ -./&+'()"
"""Characters for random A values: umlauts, and the € that ISO-8859-15 has and ISO-8859-1 has not."""


def _decoded(result: GdvFile) -> dict[int, Part | RawRecord]:
    """Every line of the file -> the Teildatensatz the parser made of it (Vorsatz and Nachsatz included)."""
    lines: dict[int, Part | RawRecord] = {}
    for packet in result.packets:
        if packet.vorsatz is not None:
            for offset, part in enumerate(packet.vorsatz.parts):
                lines[packet.vorsatz.line + offset] = part
        for contract in packet.contracts.values():
            for record in contract.records:
                if isinstance(record, RawRecord):
                    lines[record.line] = record
                else:
                    for offset, part in enumerate(record.parts):
                        lines[record.line + offset] = part
        if packet.nachsatz is not None:
            lines[packet.nachsatz.line] = packet.nachsatz.part
    return lines


def _assert_round_trip(result: GdvFile, truth: list[WrittenRecord]) -> None:
    """Each written record was read with its own layout (or one with the same fields) and every field decodes
    to the value written."""
    lines = _decoded(result)
    for written in truth:
        part = lines.get(written.line)
        where = f"record {written.line} ({written.layout})"
        assert isinstance(part, Part), f"{where} was not decoded: {part!r}"
        layout = part.layout
        assert (layout.satzart, layout.sparte, layout.wagnis, layout.part) == written.key, (
            f"{where} read as {layout}"
        )
        expected = written.expected()
        if layout is written.layout:
            assert part.as_dict() == expected, where
            continue
        # Read with another release's table. With the same version (the GDV's "same layout"), compare the
        # columns both tables name; with another version, every written field must be there, unchanged.
        got, wanted = _by_position(layout, part.as_dict()), _by_position(written.layout, expected)
        if layout.version == written.layout.version:
            wanted = {k: v for k, v in wanted.items() if k in got}
        assert {k: got.get(k, "<no such field>") for k in wanted} == wanted, f"{where} read with {layout}"


def _general(contract: Contract) -> Record:
    general = contract.general
    assert general is not None, contract
    return general


def _by_position(layout: Layout, values: dict[str, Any]) -> dict[tuple[int, int], Any]:
    return {(field.start, field.length): values[field.name] for field in layout.fields}


def _random_value(field: Field, rng: random.Random, signed: bool) -> object:
    """A value for ``field`` that fits (sometimes None: a blank field)."""
    if rng.random() < 0.1:
        return None
    if field.kind == "A":
        return "".join(rng.choice(_TEXT) for _ in range(rng.randint(1, field.length))).rstrip() or "X"
    if field.kind == "N":
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, field.length)))
        return int(digits) if rng.random() < 0.2 else digits
    if field.kind == "F":
        units = rng.randrange(10**field.length)
        amount = Decimal(units).scaleb(-field.decimals)
        return -amount if signed and rng.random() < 0.5 else amount
    if field.kind == "D":
        return _random_date(field.length, rng)
    raise AssertionError(field)


def _random_date(length: int, rng: random.Random) -> date | PartialDate:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1900, 2099)
    if length == 6:  # MMJJJJ
        return date(year, month, 1) if rng.random() < 0.5 else partial_date(f"{month:02d}{year:04d}")
    shape = rng.random()
    if shape < 0.6:
        return date(year, month, day)
    if shape < 0.7:
        return partial_date(f"00{month:02d}{year:04d}")
    if shape < 0.8:
        return partial_date(f"0000{year:04d}")
    if shape < 0.9:
        return partial_date(f"{day:02d}00{year:04d}")
    return partial_date(f"{day:02d}{month:02d}0000")


def _sibling_columns(layout: Layout) -> list[tuple[int, str]]:
    """(column, number) where another Teildatensatz of the group states its Satznummer: a random value
    there would make the record look like that Teildatensatz (see the 0220.030 test below)."""
    group = [
        other
        for key, other in layouts_of(layout.release).items()
        if key[:3] == (layout.satzart, layout.sparte, layout.wagnis) and other is not layout
    ]
    return [
        (other.satznummer_column, str(other.part))
        for other in group
        if other.satznummer_column and other.satznummer_column != layout.satznummer_column
    ]


def _random_record(
    layout: Layout, rng: random.Random, *, skip: frozenset[str] = frozenset()
) -> dict[str, object]:
    """Random values for every field of ``layout`` but the ones it fixes (and ``skip``)."""
    fixed = fixed_fields(layout)
    fields = layout.fields
    values: dict[str, object] = {}
    for index, field in enumerate(fields):
        if field.name in skip or field.kind == "S":
            continue
        if field.name in fixed:
            values[field.name] = rng.choice(sorted(fixed[field.name][1]))
            continue
        signed = index + 1 < len(fields) and fields[index + 1].kind == "S"
        values[field.name] = _random_value(field, rng, signed)
    for index, field in enumerate(fields):  # a sign given with a blank amount is written as given
        if field.kind == "S" and values.get(fields[index - 1].name) is None and field.name not in skip:
            values[field.name] = rng.choice(["+", "-", None])
    for column, number in _sibling_columns(layout):
        for _ in range(100):
            if encode_record(layout, values)[column - 1] != number:
                break
            (field,) = [f for f in fields if f.start <= column <= f.end]
            values[field.name] = _random_value(field, rng, signed=False)
    return values


# -- every layout of every release ---------------------------------------------------------------------------


def _layout_cases() -> list[Any]:
    cases = []
    for release in RELEASES:
        for key in layouts_of(release):
            label = ".".join(x for x in key[:3] if x)
            cases.append(pytest.param(release, key, id=f"{release}-{label}-TD{key[3]}"))
    return cases


_VERSION_FIELDS = "version_"


@pytest.mark.parametrize(("release", "key"), _layout_cases())
def test_every_layout_round_trips_through_the_parser(release: str, key: tuple[str, str, str, int]) -> None:
    layout = layouts_of(release)[key]
    rng = random.Random(f"{release}/{key}")
    writer = GdvWriter(release=release, keep_truth=True)
    if key[0] == "0001":
        versions = frozenset(f.name for f in layout.fields if f.name.startswith(_VERSION_FIELDS))
        for _ in range(3):
            writer.begin_packet("5438", values={key[3]: _random_record(layout, rng, skip=versions)})
            writer.end_packet()
    elif key[0] == "9999":
        computed = frozenset({"record_count", "total_premium_net"})
        for _ in range(3):
            writer.begin_packet("5438")
            writer.add(("0200", "", "", 1), {"vsnr": "1", "total_premium_net": Decimal("12.34")})
            writer.end_packet(_random_record(layout, rng, skip=computed))
    else:
        writer.begin_packet("5438")
        for _ in range(12):
            writer.add(key, _random_record(layout, rng))
        writer.end_packet()
    assert writer.truth is not None
    result = parse(writer.getvalue())
    assert result.warnings == []
    assert len(_decoded(result)) == len(writer.truth)
    _assert_round_trip(result, [w for w in writer.truth if w.layout is layout])


def test_every_layout_is_covered() -> None:
    assert len(_layout_cases()) == sum(len(layouts_of(r)) for r in RELEASES) > 600


_AMOUNT_0400 = st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2)
_PRINTABLE_15 = st.characters(codec="iso-8859-15", categories=["L", "N", "P", "S"], include_characters=" ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    net=_AMOUNT_0400,
    gross=_AMOUNT_0400,
    booked=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    name=st.text(_PRINTABLE_15, max_size=30),
    vsnr=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=17),
)
def test_signed_amounts_dates_and_texts_round_trip(
    net: Decimal, gross: Decimal, booked: date, name: str, vsnr: str
) -> None:
    writer = GdvWriter(keep_truth=True)
    writer.begin_packet("5438")
    common = {"insurer_number": "5438", "vsnr": vsnr, "line_of_business": "040"}
    writer.add(
        ("0400", "", "", 1),
        {**common, "booking_date": booked, "total_premium_net": net, "total_premium_gross": gross},
    )
    writer.add(("0400", "", "", 2), {**common, "policyholder_name": name, "settlement_amount": -gross})
    writer.end_packet()
    assert writer.truth is not None
    result = parse(writer.getvalue())
    assert result.warnings == []
    _assert_round_trip(result, writer.truth)
    (contract,) = result.contracts
    assert contract.inkasso[0].total_premium_net == net


# -- realistic files -----------------------------------------------------------------------------------------

_KINDS_EXPECTED = {
    "0100", "0200", "0300",
    "0210.010", "0220.010.0", "0220.010.13", "0220.010.2", "0220.010.7", "0220.010.9", "0221.010.13",
    "0230.010",
    "0210.030", "0220.030", "0221.030", "0230.030",
    "0210.040", "0211.040", "0220.040", "0221.040",
    "0210.050", "0211.050", "0220.051", "0220.052", "0220.053", "0220.055", "0221.051",
    "0210.130", "0211.130", "0220.130", "0221.130",
    "0210.140", "0211.140", "0220.140", "0221.140", "0230.140",
    "0400", "0410", "0420", "0430",
}  # fmt: skip


@pytest.fixture(scope="module")
def realistic() -> tuple[bytes, list[WrittenRecord], GdvFile]:
    data, truth = generate_gdv_with_truth(
        contracts=300, seed=7, kind="both", vu_numbers=("5339", "5438"), packets=2
    )
    return data, truth, parse(data)


def test_realistic_file_parses_clean_and_every_field_matches(
    realistic: tuple[bytes, list[WrittenRecord], GdvFile],
) -> None:
    _, truth, result = realistic
    assert result.warnings == []
    assert len(result) == 300
    assert len(result.packets) == 4
    _assert_round_trip(result, truth)


def test_realistic_file_holds_rv_sparten_and_every_record_kind(
    realistic: tuple[bytes, list[WrittenRecord], GdvFile],
) -> None:
    _, _, result = realistic
    records = [r for c in result for r in c.records]
    assert not [r for r in records if isinstance(r, RawRecord)]
    kinds = {r.kind for r in records}
    assert not _KINDS_EXPECTED - kinds
    assert {c.sparte for c in result} == {"000", "010", "030", "040", "050", "130", "140"}  # 000: bundled
    bundled = [c for c in result if _general(c).bundle_flag == "1"]
    assert bundled
    assert {_general(c).line_of_business for c in bundled} == {"000"}
    assert all({r.sparte for r in c.sparte_records} >= {"040", "130"} for c in bundled)
    parts = {(r.kind, p.layout.part) for r in records if isinstance(r, Record) for p in r.parts}
    # Unfall with the Satznummer at col 49 (TD 1, 2, 4), 43 (TD 3) and 60 (TD 9); Leben extension parts 6-9.
    assert {("0220.030", n) for n in (1, 2, 3, 4, 9)} <= parts
    assert {n for kind, n in parts if kind.startswith("0220.010.")} >= {1, 2, 6, 7, 8, 9}
    assert any(a.get("address_role") == "01" for c in result for a in c.addresses)
    assert any(
        r.satzart == "0100" and r.part(4) is not None and r.get("iban_1")
        for r in records
        if isinstance(r, Record)
    )


def test_realistic_nachsatz_counts_and_sums(realistic: tuple[bytes, list[WrittenRecord], GdvFile]) -> None:
    _, _, result = realistic
    for packet in result.packets:
        assert packet.nachsatz is not None
        assert packet.nachsatz.record_count == packet.record_count > 0
        assert packet.nachsatz.total_premium == packet.premium_sum > 0
        gross = sum((r.parts[0]["total_premium_gross"] for c in packet for r in c.of("0400")), Decimal(0))
        assert packet.nachsatz.part["total_premium_gross"] == gross


def test_realistic_merger_cancellations_and_refunds(
    realistic: tuple[bytes, list[WrittenRecord], GdvFile],
) -> None:
    data, _, result = realistic
    by_vsnr: dict[str, dict[str, Contract]] = {}
    for contract in result:
        by_vsnr.setdefault(contract.vsnr_text, {})[contract.vu_number] = contract
    merged = [vus for vus in by_vsnr.values() if set(vus) == {"5339", "5438"}]
    assert merged
    for vus in merged:
        gone, back = _general(vus["5339"]), _general(vus["5438"])
        assert (gone.contract_status, gone.cancellation_reason) == ("4", "37")
        assert gone.cancellation_date == PartialDate("00082024", 2024, 8, None)
        assert back.contract_status == "1"
        assert vus["5339"].packet < vus["5438"].packet
    cancelled = [c for c in result if _general(c).contract_status == "4"]
    assert len(cancelled) > len(merged)
    assert any(type(_general(c).cancellation_date) is PartialDate for c in cancelled if c.vu_number == "5438")
    refunds = [r for c in result for r in c.of("0400") if r.parts[0]["total_premium_net"] < 0]
    assert refunds
    line = data.splitlines()[refunds[0].line - 1]
    assert line[120:121] == b"-"  # Vorzeichen of the Netto amount (col 121)


def test_realistic_vsnrs_are_rv_shaped_and_names_need_the_encoding(
    realistic: tuple[bytes, list[WrittenRecord], GdvFile],
) -> None:
    data, _, result = realistic
    for contract in result:
        assert len(contract.vsnr_text) == 11
        assert contract.vsnr_text.isdigit()
        assert contract.vsnr_text[:2] in ARBEITSGEBIETE
    assert "ü".encode("iso-8859-15") in data
    assert "ß".encode("iso-8859-15") in data
    assert len({c.vsnr_text for c in result if c.vu_number == "5438"}) == len(
        [c for c in result if c.vu_number == "5438"]
    )


def test_generation_is_deterministic() -> None:
    first = generate_gdv(contracts=40, seed=3, kind="both")
    assert generate_gdv(contracts=40, seed=3, kind="both") == first
    assert generate_gdv(contracts=40, seed=4, kind="both") != first


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("kind", ["bestand", "inkasso"])
def test_every_release_and_kind_generates_files_that_parse_clean(release: str, kind: Kind) -> None:
    data, truth = generate_gdv_with_truth(
        contracts=60, seed=11, release=release, kind=kind, vu_numbers=("5339", "5438")
    )
    result = parse(data)
    assert result.warnings == []
    assert len(result) == 60
    vorsatz = result.packets[0].vorsatz
    assert vorsatz is not None
    assert len(vorsatz.parts) == 3
    assert vorsatz.versions[("0001", "")] == versions_of(release)[("0001", "")]
    assert vorsatz.sender == "Condor Allgemeine Vers.-AG"
    _assert_round_trip_subset(result, truth)


def _assert_round_trip_subset(result: GdvFile, truth: list[WrittenRecord]) -> None:
    lines = _decoded(result)
    for written in truth:
        part = lines[written.line]
        assert isinstance(part, Part)
        layout = part.layout
        got, wanted = _by_position(layout, part.as_dict()), _by_position(written.layout, written.expected())
        common = got.keys() & wanted.keys()
        assert {k: got[k] for k in common} == {k: wanted[k] for k in common}, written


_PHYSICAL = [
    ("\n", "iso-8859-15", True),
    ("\r\n", "iso-8859-15", True),
    ("", "iso-8859-15", True),
    ("\n", "iso-8859-15", False),
    ("\r\n", "iso-8859-15", False),
    ("\n", "cp850", True),
    ("\r\n", "cp850", False),
    ("\n", "utf-8", True),
    ("", "utf-8", True),
    ("\r\n", "utf-8", False),
]


@pytest.fixture(scope="module")
def baseline() -> list[tuple[int, dict[str, Any]]]:
    result = parse(generate_gdv(contracts=80, seed=5, kind="both", vu_numbers=("5339", "5438")))
    return sorted((line, part.as_dict()) for line, part in _decoded(result).items() if isinstance(part, Part))


@pytest.mark.parametrize(("ending", "encoding", "final_newline"), _PHYSICAL, ids=lambda v: repr(v))
def test_line_endings_and_encodings_parse_to_the_same_values(
    baseline: list[tuple[int, dict[str, Any]]], ending: str, encoding: str, final_newline: bool
) -> None:
    data = generate_gdv(
        contracts=80, seed=5, kind="both", vu_numbers=("5339", "5438"), line_ending=ending, encoding=encoding,
        final_newline=final_newline,
    )  # fmt: skip
    lines = len(baseline)
    assert len(data) == lines * (256 + len(ending)) - (0 if final_newline else len(ending))
    result = parse(data, encoding=encoding)
    assert result.warnings == []
    decoded = sorted(
        (line, part.as_dict()) for line, part in _decoded(result).items() if isinstance(part, Part)
    )
    assert decoded == baseline


def test_utf8_counts_field_widths_in_bytes() -> None:
    layout = layouts_of("2023")[("0100", "", "", 1)]
    record = encode_record_bytes(layout, {"name_1": "Süßmuth"}, encoding="utf-8")
    assert len(record) == 256
    assert record[43:73] == "Süßmuth".encode().ljust(30)
    with pytest.raises(ValueError, match="name_1"):
        encode_record_bytes(layout, {"name_1": "ä" * 16}, encoding="utf-8")  # 32 bytes
    assert len(encode_record(layout, {"name_1": "ä" * 30})) == 256  # one byte each in ISO-8859-15


# -- variants, streaming ----------------------------------------------------------------------------------


def test_repeated_customers_round_trip_and_stay_unique() -> None:
    data, truth = generate_gdv_with_truth(
        contracts=200, seed=9, kind="both", distinct=0.3, vu_numbers=("5339", "5438")
    )
    result = parse(data)
    assert result.warnings == []
    assert len(result) == 200
    _assert_round_trip_subset(result, [w for w in truth if w.key[0] != "0001"])
    assert data == generate_gdv(contracts=200, seed=9, kind="both", distinct=0.3, vu_numbers=("5339", "5438"))


def test_write_gdv_streams_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bestand.gdv"
    written = write_gdv(path, contracts=50, seed=2, kind="both", distinct=0.5, packets=2)
    assert path.read_bytes() == generate_gdv(contracts=50, seed=2, kind="both", distinct=0.5, packets=2)
    assert (written.contracts, written.packets, written.bytes_written) == (50, 2, path.stat().st_size)
    assert written.records == path.stat().st_size // 257


def test_write_gdv_by_size(tmp_path: Path) -> None:
    path = tmp_path / "big.gdv"
    written = write_gdv(
        path, size_bytes=400_000, seed=1, kind="both", vu_numbers=("5339", "5438"), line_ending="\r\n"
    )
    assert 400_000 <= path.stat().st_size < 420_000
    result = parse(path)
    assert result.warnings == []
    assert len(result) == written.contracts
    assert written.records == result.records


def test_a_character_the_encoding_lacks_names_its_record(tmp_path: Path) -> None:
    writer = GdvWriter()
    writer.begin_packet("5438")
    writer.add(("0100", "", "", 1), {"vsnr": "1", "name_1": "5 € für Jörg"})  # € is ISO-8859-15
    writer.add(("0100", "", "", 1), {"vsnr": "2", "name_1": "½ Anteil"})  # ½ is only ISO-8859-1
    writer.end_packet()
    with pytest.raises(ValueError, match="record 5: '½' cannot be written in iso-8859-15"):
        writer.getvalue()
    path = tmp_path / "never.gdv"
    with pytest.raises(ValueError, match="kind"):
        write_gdv(path, contracts=1, kind="kfz")  # type: ignore[arg-type]
    assert not path.exists()


def test_writer_hands_the_file_over_in_chunks() -> None:
    chunks: list[bytes] = []
    writer = GdvWriter(chunks.append, chunk_bytes=4096)
    writer.begin_packet("5438")
    for number in range(100):
        writer.add(("0200", "", "", 1), {"vsnr": f"{number:011d}", "total_premium_net": Decimal("1.00")})
    writer.end_packet()
    writer.close()
    assert len(chunks) > 5
    result = parse(b"".join(chunks))
    assert result.warnings == []
    nachsatz = result.packets[0].nachsatz
    assert nachsatz is not None
    assert nachsatz.total_premium == Decimal("100.00")


# -- the encoder --------------------------------------------------------------------------------------------

_0400 = layouts_of("2023")[("0400", "", "", 1)]
_0200 = layouts_of("2023")[("0200", "", "", 1)]


def test_encode_record_columns() -> None:
    text = encode_record(
        _0400,
        {"vsnr": "30123456789", "total_premium_net": Decimal("-12.34"), "booking_date": date(2025, 3, 5),
         "endorsement_number": 7, "insurer_number": "5438"},
    )  # fmt: skip
    assert len(text) == 256
    assert text[:4] == "0400"
    assert text[255] == "1"
    assert text[4:9] == "5438 "
    assert text[13:30] == "      30123456789"
    assert text[109:121] == "00000001234-"
    assert text[45:53] == "05032025"
    assert text[86:89] == "007"
    assert text[132] == " "  # no amount, no sign
    unfall = layouts_of("2023")[("0220", "030", "", 3)]
    assert encode_record(unfall, {})[42] == "3"
    assert encode_record(unfall, {})[249] == "3"
    leben = layouts_of("2023")[("0220", "010", "13", 1)]
    assert encode_record(leben, {})[59] == "1"
    assert encode_record(leben, {"risk_type": "3"})[59] == "3"
    hausrat = layouts_of("2023")[("0210", "130", "", 2)]
    assert encode_record(hausrat, {"object_number": 1})[250:256] == "200001"
    month = layouts_of("2023")[("0200", "", "", 2)]
    assert encode_record(month, {"product_form_valid_from": date(2024, 8, 1)})[65:71] == "082024"
    assert encode_record(_0200, {"cancellation_date": partial_date("00082024")})[71:79] == "00082024"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"total_premium_net": Decimal("-1.00")}, "no sign field"),
        ({"total_premium_net": 1.5}, "Decimal"),
        ({"total_premium_net": Decimal("1.005")}, "rounded"),
        ({"total_premium_net": Decimal("10000000000.00")}, "12 bytes"),
        ({"total_premium_net": Decimal("NaN")}, "finite"),
        ({"agent_order_number": "1234567890"}, "9 bytes"),
        ({"agent_order_number": 12}, "str"),
        ({"agent_order_number": "a\nb"}, "control character"),
        ({"remaining_term": "1a"}, "digits"),
        ({"remaining_term": -1}, "digits"),
        ({"remaining_term": "123"}, "2 bytes"),
        ({"start_date": "01012020"}, "date"),
        ({"start_date": partial_date("082024")}, "8-digit"),
        ({"record_type": "0100"}, "record_type"),
        ({"part_number": "2"}, "part_number"),
        ({"no_such_field": "x"}, "no field"),
    ],
)
def test_values_that_do_not_fit_raise(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_record(_0200, values)


def test_other_invalid_values_raise() -> None:
    with pytest.raises(ValueError, match="cp850"):
        encode_record_bytes(_0200, {"multipurpose_field": "5 €"}, encoding="cp850")
    with pytest.raises(ValueError, match="says"):
        encode_record(_0400, {"total_premium_net": Decimal("-1.00"), "sign": "+"})
    month = layouts_of("2023")[("0200", "", "", 2)]
    with pytest.raises(ValueError, match="MMJJJJ"):
        encode_record(month, {"product_form_valid_from": date(2024, 8, 15)})
    leben = layouts_of("2023")[("0220", "010", "13", 1)]
    with pytest.raises(ValueError, match="risk_type"):
        encode_record(leben, {"risk_type": "2"})
    for raw in ("01012024", "00132024", "00000000", "3102000", "31040000"):
        with pytest.raises(ValueError):
            partial_date(raw)


def test_expected_values_say_what_a_reader_decodes() -> None:
    expected = expected_values(
        _0400,
        {
            "vsnr": " 30123456789",
            "total_premium_net": Decimal("-5"),
            "endorsement_number": 7,
            "currency": "EU ",
        },
    )
    assert (expected["record_type"], expected["part_number"]) == ("0400", "1")
    assert (expected["vsnr"], expected["currency"]) == ("30123456789", "EU")
    assert (expected["total_premium_net"], expected["sign"]) == (Decimal("-5.00"), "-")
    assert expected["endorsement_number"] == "007"
    assert (expected["insurance_tax"], expected["sign_2"]) == (None, None)


# -- parser bugs the round trip found (each of these failed before its fix) ---------------------------------


def test_vorsatz_teildatensatz_2_is_read_with_its_own_release() -> None:
    result = parse(generate_gdv(contracts=1))
    vorsatz = result.packets[0].vorsatz
    assert vorsatz is not None
    assert [part.layout.release for part in vorsatz.parts] == ["2023", "2023", "2023"]


def test_vorsatz_versions_of_inkasso_fund_and_trailer_records_are_read() -> None:
    result = parse(generate_gdv(contracts=5, release="2009", kind="both"))
    vorsatz = result.packets[0].vorsatz
    assert vorsatz is not None
    versions = vorsatz.versions
    assert versions.get(("0400", "")) == "1.6"
    assert versions.get(("9999", "")) == "1.1"
    assert versions.get(("0230", "010")) == versions_of("2009")[("0230", "010")]


def test_unfall_teildatensatz_3_with_a_long_vp_number_is_recognised() -> None:
    writer = GdvWriter(keep_truth=True)
    writer.begin_packet("5438")
    head = {"insurer_number": "5438", "vsnr": "10123456789", "sequence_number": "01"}
    writer.add(
        ("0220", "030", "", 1),
        {**head, "insured_person_or_group_seq": "000001", "insured_person_name": "Müller"},
    )
    writer.add(
        ("0220", "030", "", 3),
        {**head, "insured_person_insurer_number": "1234512345", "insured_person_or_group_seq": "000001"},
    )
    writer.end_packet()
    assert writer.truth is not None
    result = parse(writer.getvalue())
    _assert_round_trip_subset(result, [w for w in writer.truth if w.key[0] == "0220"])
    (contract,) = result.contracts
    assert [p.layout.part for r in contract.sparte_records for p in r.parts] == [1, 3]


def test_a_bundled_contract_keeps_sparte_000() -> None:
    writer = GdvWriter()
    writer.begin_packet("5438")
    head = {"insurer_number": "5438", "bundle_flag": "1", "vsnr": "34123456789", "sequence_number": "01"}
    writer.add(
        ("0200", "", "", 1), {**head, "line_of_business": "000", "total_premium_net": Decimal("99.00")}
    )
    writer.add(("0210", "040", "", 1), {**head, "total_premium": Decimal("60.00")})
    writer.add(("0210", "130", "", 1), {**head, "total_premium": Decimal("39.00")})
    writer.end_packet()
    (contract,) = parse(writer.getvalue()).contracts
    assert contract.sparte == "000"


def test_same_kind_counts() -> None:
    """Sanity: the realistic generator's record mix (a regression guard for its proportions)."""
    _, truth = generate_gdv_with_truth(contracts=100, seed=1)
    kinds = Counter(w.key[0] for w in truth)
    assert (kinds["0001"], kinds["9999"]) == (3, 1)
    assert kinds["0200"] == 200
    assert 300 <= sum(kinds.values()) <= 1600
