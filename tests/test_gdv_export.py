"""GDV contracts as JSON and CSV (bipro_ruv.gdv.export): values, shapes, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import gdv
from bipro_ruv.errors import GdvFormatError
from bipro_ruv.gdv import Contract, InvalidValue, PartialDate
from bipro_ruv.gdv.export import (
    CSV_COLUMNS,
    CSV_ENCODING,
    Summary,
    contract_to_json,
    csv_row,
    encode_value,
    write_csv,
    write_json,
)
from tests._gdv_sample import SAMPLE, Vertrag, gdv_file


def contracts(*built: Vertrag) -> list[Contract]:
    return gdv.parse(gdv_file(built or SAMPLE)).contracts


def fields_of(contract: dict[str, Any], satzart: str) -> dict[str, Any]:
    (record,) = [r for r in contract["records"] if r.get("satzart") == satzart]
    fields: dict[str, Any] = record["parts"][0]["fields"]
    return fields


# -- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("4806.00"), "4806.00"),
        (Decimal("0.00"), "0.00"),
        (Decimal("-12.50"), "-12.50"),
        (Decimal("0.0000000"), "0.0000000"),  # str() would say "0E-7"
        (Decimal("123"), "123"),
        (Decimal("0.000001"), "0.000001"),
        (dt.date(2004, 7, 1), "2004-07-01"),
        (PartialDate("00082024", 2024, 8, None), {"raw": "00082024", "year": 2024, "month": 8, "day": None}),
        (PartialDate("01010000", None, 1, 1), {"raw": "01010000", "year": None, "month": 1, "day": 1}),
        (PartialDate("092001", 2001, 9, None), {"raw": "092001", "year": 2001, "month": 9, "day": None}),
        (InvalidValue("31022024"), {"invalid": "31022024"}),
        (InvalidValue("12A4"), {"invalid": "12A4"}),
        ("0815", "0815"),
        ("Müller", "Müller"),
        (None, None),
    ],
)
def test_encode_value(value: Any, expected: Any) -> None:
    encoded = encode_value(value)
    assert encoded == expected
    assert type(encoded) is type(expected)  # a plain str, never an InvalidValue or Decimal
    assert json.loads(json.dumps(encoded)) == expected


def test_an_amount_is_never_a_float() -> None:
    assert json.dumps(encode_value(Decimal("0.10"))) == '"0.10"'


def test_a_value_of_no_gdv_type_is_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        encode_value(1.5)


# -- JSON ----------------------------------------------------------------------------------


def test_contract_to_json_shape() -> None:
    first = contract_to_json(contracts()[0])
    assert {k: v for k, v in first.items() if k != "records"} == {
        "vu_number": "5438",
        "vsnr": "32123456789",
        "vsnr_normalized": "32123456789",
        "packet": 0,
        "sparte": "030",
    }
    assert [(r["kind"], r["line"]) for r in first["records"]] == [("0100", 2), ("0200", 3), ("0052", 4)]
    general = first["records"][1]
    assert (general["satzart"], general["sparte"]) == ("0200", None)
    assert [part["number"] for part in general["parts"]] == [1]
    assert general["parts"][0]["fields"]["start_date"] == "2024-07-01"
    assert general["parts"][0]["fields"]["total_premium_net"] == "4806.00"


def test_blank_fields_are_left_out() -> None:
    fields = fields_of(contract_to_json(contracts()[0]), "0200")
    assert "cancellation_date" not in fields
    assert "change_reason" not in fields
    assert None not in fields.values()


def test_partial_date_and_codes_in_json() -> None:
    fields = fields_of(contract_to_json(contracts()[1]), "0200")
    assert fields["cancellation_date"] == {"raw": "00082024", "year": 2024, "month": 8, "day": None}
    assert fields["cancellation_reason"] == "37"
    assert fields["contract_status"] == "4"
    assert fields["total_premium_net"] == "123.45"


def test_raw_record_keeps_its_text() -> None:
    raw = contract_to_json(contracts()[0])["records"][2]
    assert set(raw) == {"kind", "line", "raw"}
    assert raw["raw"].startswith("00525438  030      32123456789")
    assert len(raw["raw"]) == 256


def test_invalid_value_in_json() -> None:
    (contract,) = contracts(Vertrag("32123456789", due="31022025"))  # 31 February
    assert fields_of(contract_to_json(contract), "0200")["main_due_date"] == {"invalid": "31022025"}


def test_vsnr_normalized_is_null_for_a_number_that_is_not_r_v_shaped() -> None:
    (contract,) = contracts(Vertrag("ABC-1"))
    data = contract_to_json(contract)
    assert (data["vsnr"], data["vsnr_normalized"]) == ("ABC-1", None)


def test_contract_json_needs_no_custom_encoder() -> None:
    for contract in contracts():
        text = json.dumps(contract_to_json(contract))  # raises on Decimal, date, ...
        assert json.loads(text)["vu_number"] == "5438"


def test_write_json_is_one_array_with_one_contract_a_line() -> None:
    out = io.StringIO()
    assert write_json(contracts(), out) == 2
    text = out.getvalue()
    assert [json.loads(line.rstrip(","))["vsnr"] for line in text.splitlines()[1:-1]] == [
        "32123456789",
        "43987654321",
    ]
    assert [c["vsnr"] for c in json.loads(text)] == ["32123456789", "43987654321"]
    assert "Müller-Lüdenscheidt" in text  # not \u-escaped


def test_write_json_without_contracts_writes_an_empty_array() -> None:
    out = io.StringIO()
    assert write_json([], out) == 0
    assert json.loads(out.getvalue()) == []


def test_write_json_streams() -> None:
    out = io.StringIO()

    def source() -> Iterator[Contract]:
        first, second = contracts()
        yield first
        assert '"vsnr":"32123456789"' in out.getvalue(), "the first contract was not written yet"
        yield second

    write_json(source(), out)
    assert len(json.loads(out.getvalue())) == 2


def test_write_json_writes_nothing_for_a_file_that_is_not_gdv() -> None:
    out = io.StringIO()
    with pytest.raises(GdvFormatError):
        write_json(gdv.GdvReader(b"%PDF-1.7\n"), out)
    assert out.getvalue() == ""


# -- CSV -----------------------------------------------------------------------------------


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_csv_header_and_rows() -> None:
    out = io.StringIO()
    assert write_csv(contracts(), out) == 2
    assert out.getvalue().splitlines()[0] == ";".join(CSV_COLUMNS)
    first, second = read_csv(out.getvalue())
    assert first == {
        "vu_number": "5438",
        "vsnr": "32123456789",
        "sparte": "030",
        "contract_status": "1",
        "start_date": "2024-07-01",
        "end_date": "2025-07-01",
        "main_due_date": "2025-07-01",
        "payment_frequency": "1",
        "total_premium_net": "4806,00",
        "currency": "EUR",
        "cancellation_reason": "",
        "cancellation_date": "",
        "policyholder_name_1": "Müller-Lüdenscheidt",
        "policyholder_name_3": "Jürgen",
        "policyholder_street": "Hauptstraße 1",
        "policyholder_postcode": "65189",
        "policyholder_city": "Wiesbaden",
        "policyholder_birth_date": "1979-11-11",
        "records": "3",
        "raw_records": "1",
    }
    assert (second["cancellation_reason"], second["cancellation_date"]) == ("37", "2024-08")
    assert (second["total_premium_net"], second["records"], second["raw_records"]) == ("123,45", "2", "0")


def test_write_csv_without_contracts_writes_the_header() -> None:
    out = io.StringIO()
    assert write_csv([], out) == 0
    assert out.getvalue() == ";".join(CSV_COLUMNS) + "\r\n"


def test_write_csv_writes_nothing_for_a_file_that_is_not_gdv() -> None:
    out = io.StringIO()
    with pytest.raises(GdvFormatError):
        write_csv(gdv.GdvReader(b""), out)
    assert out.getvalue() == ""


def test_csv_rows_end_with_crlf() -> None:
    out = io.StringIO(newline="")
    write_csv(contracts(), out)
    assert out.getvalue().count("\r\n") == 3


@pytest.mark.parametrize("street", ["=HYPERLINK(1)", "+49 611", "-1", "@SUM(A1)"])
def test_csv_text_that_excel_would_run_as_a_formula_is_quoted(street: str) -> None:
    (contract,) = contracts(Vertrag("32123456789", street=street))
    assert csv_row(contract)[CSV_COLUMNS.index("policyholder_street")] == "'" + street


def test_csv_file_opens_in_excel_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bestand.csv"
    with path.open("w", encoding=CSV_ENCODING, newline="") as out:
        write_csv(contracts(), out)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfvu_number;")
    assert "Müller-Lüdenscheidt".encode() in data


def test_csv_of_a_contract_without_0100_and_0200() -> None:
    (contract,) = [c for c in contracts() if c.vsnr_text == "32123456789"]
    contract.records = [r for r in contract.records if type(r) is gdv.RawRecord]
    row = dict(zip(CSV_COLUMNS, csv_row(contract), strict=True))
    assert row["vsnr"] == "32123456789"
    assert row["start_date"] == row["policyholder_name_1"] == ""
    assert (row["records"], row["raw_records"]) == ("1", "1")


# -- summary -------------------------------------------------------------------------------


def test_summary_while_streaming_matches_the_parsed_file() -> None:
    data = gdv_file([*SAMPLE, Vertrag("32000000001", sparte="040")])
    reader = gdv.GdvReader(data)
    summary = Summary()
    assert len(list(summary.count(reader))) == 3
    summary.finish(reader)
    parsed = Summary.of(gdv.parse(data))
    for result in (summary, parsed):
        assert result.contracts == 3
        assert result.by_sparte == {"030": 1, "040": 2}
        assert result.warning_count == 0
        (packet,) = result.packets
        assert (packet.sender, packet.vu_number, packet.records) == (
            "R+V Allgemeine Versicherung AG",
            "5438",
            7,
        )
        assert packet.period == (dt.date(2024, 8, 1), dt.date(2024, 8, 1))


def test_summary_counts_warnings() -> None:
    data = gdv_file([Vertrag("32123456789", due="31022025")], nachsatz_count=99)
    summary = Summary.of(gdv.parse(data))
    assert summary.warning_count == 2
    assert {w.code for w in summary.warnings} == {"invalid-value", "nachsatz-count"}
