"""R+V's CSV data packages (issue 13, first part): the one reader, Saldenbestätigung and
Sammelabrechnung, on files written by the sandbox's own generator from R+V's legends."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from bipro_ruv.datapackages import (
    Buchungsart,
    Kategorie,
    Mahnverfahren,
    balance_of_month,
    detect_kind,
    parse_amount,
    parse_date,
    read_package,
)
from bipro_ruv.errors import CsvFormatError
from bipro_ruv.sandbox.content import csv_writer
from bipro_ruv.sandbox.content.contracts import SANDBOX_CONTRACTS
from bipro_ruv.vsnr import Vsnr

CUTOFF = date(2026, 10, 31)


def salden() -> bytes:
    claim = (SANDBOX_CONTRACTS[0], "8338262501", Decimal("1250.00"))
    return csv_writer.saldenbestaetigung(
        SANDBOX_CONTRACTS, cutoff=CUTOFF, claim=claim, dunning={SANDBOX_CONTRACTS[1].vsnr}
    )


def sammel() -> bytes:
    return csv_writer.sammelabrechnung(
        [c for c in SANDBOX_CONTRACTS if c.collection == "1"], period_end=CUTOFF
    )


def rewrite(
    data: bytes, *, encoding: str = "cp1252", delimiter: str = ";", bom: bool = False, edit=None
) -> bytes:
    """The same table written another way (encoding, delimiter), optionally with cells edited."""
    rows = list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))
    if edit is not None:
        rows = edit(rows)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    encoded = out.getvalue().encode(encoding)
    return (codecs.BOM_UTF8 if bom else b"") + encoded


def values(package):
    return [row.model_dump(exclude={"line"}) for row in package.rows]


# -- the generated files, every way they may be written -------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "found"),
    [
        ("cp1252", False, {"cp1252", "iso-8859-15"}),
        ("iso-8859-15", False, {"iso-8859-15", "cp1252"}),
        ("utf-8", False, {"utf-8"}),
        ("utf-8", True, {"utf-8"}),
    ],
)
@pytest.mark.parametrize("make", [salden, sammel], ids=["salden", "sammel"])
def test_every_encoding_gives_the_same_rows(make, encoding: str, bom: bool, found: set[str]) -> None:
    reference = read_package(make())
    package = read_package(rewrite(make(), encoding=encoding, bom=bom))
    assert package.format["encoding"] in found
    assert package.format["bom"] is bom
    assert values(package) == values(reference)
    assert package.warnings == ()


def test_a_euro_sign_tells_windows_1252_from_iso_8859_15() -> None:
    def euro(rows):
        rows[1][15] = "Gutschrift 5 € (Kulanz)"
        return rows

    for encoding in ("cp1252", "iso-8859-15", "utf-8"):
        package = read_package(rewrite(salden(), encoding=encoding, edit=euro))
        assert package.rows[0].booking_text == "Gutschrift 5 € (Kulanz)", encoding
        assert package.format["encoding"] == encoding


def test_saldenbestaetigung_rows_are_typed_and_keyed_by_contract() -> None:
    package = read_package(salden())
    assert package.kind == "saldenbestaetigung"
    first = package.rows[0]
    contract = SANDBOX_CONTRACTS[0]
    assert first.vsnr == Vsnr(contract.vsnr)
    assert first.vsnr_raw == contract.vsnr
    assert isinstance(first.booking_type, Buchungsart)
    assert first.category in (Kategorie.BEITRAG, Kategorie.PROVISION)
    assert isinstance(first.booked_on, date)
    assert isinstance(first.open_balance, Decimal)
    claims = [row for row in package.rows if row.booking_type is Buchungsart.SCHD]
    assert [(row.claim_number, row.booked_amount) for row in claims] == [("8338262501", Decimal("-1250.00"))]
    (klaer,) = [row for row in package.rows if row.booking_type is Buchungsart.KLAER]
    assert (klaer.vsnr, klaer.vsnr_raw, klaer.category) == (None, None, Kategorie.KLAERKONTO)
    assert Buchungsart.KLAER.description == "Klärungsfälle Agenturkonto"
    assert {row.dunning for row in package.rows if row.vsnr == Vsnr(SANDBOX_CONTRACTS[1].vsnr)} == {
        Mahnverfahren.AKTIV
    }
    total = package.total("open_balance")
    assert total == sum(package.by_contract("open_balance").values())
    assert total == sum((row.open_balance for row in package.rows), Decimal(0))


def test_sammelabrechnung_rows_add_up() -> None:
    package = read_package(sammel())
    assert package.kind == "sammelabrechnung"
    assert package.rows
    for row in package.rows:
        assert row.net_premium + row.insurance_tax == row.gross_premium
        assert row.business_line in ("KFZ", "Sach")
    assert package.warnings == ()


def test_a_row_whose_brutto_is_not_netto_plus_tax_is_a_warning() -> None:
    def wrong(rows):
        rows[1][14] = "999,99"
        return rows

    package = read_package(rewrite(sammel(), edit=wrong))
    (warning,) = package.warnings
    assert "line 2" in warning
    assert "Bruttobeitrag is 999.99" in warning
    assert package.rows[0].gross_premium == Decimal("999.99")  # kept as written


def test_quoted_fields_hold_delimiters_quotes_and_line_breaks() -> None:
    text = 'Überweisung; "Rest" folgt\r\nzweite Zeile, mit Komma'

    def quoted(rows):
        rows[1][15] = text
        rows[1][1] = "Müller; Meier & Co."
        return rows

    for delimiter in (";", ","):
        package = read_package(rewrite(salden(), delimiter=delimiter, edit=quoted))
        assert package.format["delimiter"] == delimiter
        assert package.rows[0].booking_text == text.replace("\r\n", "\n")  # line ends read as LF
        assert package.rows[0].policyholder == "Müller; Meier & Co."
        assert package.rows[1].line == 4  # the record before it spans lines 2 and 3
        assert values(package)[2:] == values(read_package(salden()))[2:]


def test_a_comma_file_with_decimal_points() -> None:
    def points(rows):
        for row in rows[1:]:
            for i in (10, 11, 12):
                row[i] = row[i].replace(",", ".")
        return rows

    package = read_package(rewrite(salden(), delimiter=",", edit=points))
    assert package.format["decimal_comma"] is False
    assert values(package) == values(read_package(salden()))


def test_columns_are_found_by_name_in_any_order_case_and_spacing_and_by_renamings() -> None:
    def shuffled(rows):
        header = rows[0]
        header[2] = "  VERS. NR. "
        header[10] = "Gebuchter Betrag"  # the legend's other name for it
        header[6] = "Abr.-Zeitraum von"
        order = list(reversed(range(len(header))))
        return [[row[i] for i in order] for row in rows]

    assert values(read_package(rewrite(salden(), edit=shuffled))) == values(read_package(salden()))


# -- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.234,56", "1234.56"),
        ("-12,30", "-12.30"),
        ("12,30-", "-12.30"),
        ("0", "0"),
        ("1.234.567,8", "1234567.8"),
        (" 7,50 ", "7.50"),
        ("+3,00", "3.00"),
    ],
)
def test_german_numbers(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)
    assert str(parse_amount(text)) == value


@pytest.mark.parametrize("text", ["12,3,4", "1.23,00", "abc", "-12,30-", "12.30", "1,2.3", ""])
def test_broken_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="no amount"):
        parse_amount(text)


def test_dates() -> None:
    assert parse_date("01.10.2026") == date(2026, 10, 1)
    assert parse_date("1.2.2026") == date(2026, 2, 1)
    assert parse_date("2026-10-31") == date(2026, 10, 31)
    with pytest.raises(ValueError):
        parse_date("31.02.2026")


# -- what cannot be read: one error naming the line and the column --------------------------


def _cell(rows, line: int, column: int, value: str):
    rows[line - 1][column] = value
    return rows


@pytest.mark.parametrize(
    ("edit", "line", "column", "says"),
    [
        (lambda r: _cell(r, 3, 11, "12,3x"), 3, "Offener Saldo", "'12,3x' is not an amount"),
        (lambda r: _cell(r, 4, 4, "32.13.2026"), 4, "Buchungsdatum", "is not a date"),
        (lambda r: _cell(r, 1, 14, "Unbekannt"), 1, "Unbekannt", "which a Saldenbestätigung does not have"),
        (lambda r: [row[:2] + row[3:] for row in r], 1, "Vers.Nr.", "required column 'Vers.Nr.' is missing"),
        (lambda r: _cell(r, 1, 3, "Vers.Nr."), 1, "Vers.Nr.", "twice"),
    ],
    ids=["broken number", "broken date", "unknown column", "missing column", "column twice"],
)
def test_an_unreadable_file_names_line_and_column(edit, line: int, column: str, says: str) -> None:
    with pytest.raises(CsvFormatError) as raised:
        read_package(rewrite(salden(), edit=edit), kind="saldenbestaetigung")
    assert raised.value.line == line
    assert raised.value.column == column
    assert says in str(raised.value)


def test_a_wrong_delimiter_is_named() -> None:
    with pytest.raises(CsvFormatError, match="wrong delimiter") as raised:
        read_package(rewrite(salden(), delimiter="|"), kind="saldenbestaetigung")
    assert raised.value.line == 1


def test_a_row_with_a_stray_delimiter_is_named() -> None:
    data = salden().replace(b"Saldo Kl\xe4rungsf\xe4lle", b"Saldo; Kl\xe4rungsf\xe4lle")
    with pytest.raises(CsvFormatError, match="fields, the header 21") as raised:
        read_package(data)
    assert raised.value.line == len(read_package(salden()).rows) + 1


def test_an_unknown_code_is_kept_with_a_warning() -> None:
    package = read_package(rewrite(salden(), edit=lambda r: _cell(r, 2, 5, "XYZ")))
    assert package.rows[0].booking_type == "XYZ"
    (warning,) = package.warnings
    assert "line 2" in warning
    assert "unknown Buchungsart 'XYZ'" in warning


def test_the_kind_is_found_from_the_header() -> None:
    assert detect_kind(salden()) == "saldenbestaetigung"
    assert detect_kind(sammel()) == "sammelabrechnung"
    with pytest.raises(CsvFormatError, match="no header of a known data package"):
        detect_kind(b"a;b;c\r\n1;2;3\r\n")
    with pytest.raises(CsvFormatError, match="empty"):
        read_package(b"", kind="sammelabrechnung")


def test_a_month_without_a_saldenbestaetigung_has_a_balance_of_zero() -> None:
    package = read_package(salden())
    months = {"2026-10": package}
    assert balance_of_month(months, "2026-10") == package.total("open_balance")
    assert balance_of_month(months, "2026-11") == Decimal("0.00")


def test_whole_euros_with_thousands_points_are_not_decimals() -> None:
    """A file that writes no decimal comma at all but "1.200" (whole euros, German thousands
    point) must not read 1.2; "12.50" style points stay decimals."""

    def whole_euros(rows):
        for row in rows[1:]:
            for i in (12, 13, 14):  # Netto, Steuer, Brutto
                row[i] = "1.200" if i == 12 else ("228" if i == 13 else "1.428")
        return rows

    package = read_package(rewrite(sammel(), edit=whole_euros))
    assert package.format["decimal_comma"] is True
    assert {(r.net_premium, r.insurance_tax, r.gross_premium) for r in package.rows} == {
        (Decimal("1200"), Decimal("228"), Decimal("1428"))
    }
    assert package.warnings == ()


def test_a_delimiter_at_the_end_of_every_line_is_no_column() -> None:
    def trailing(rows):
        return [[*row, ""] for row in rows]

    package = read_package(rewrite(salden(), edit=trailing))
    assert values(package) == values(read_package(salden()))

    def value_there(rows):
        rows = trailing(rows)
        rows[2][-1] = "x"
        return rows

    with pytest.raises(CsvFormatError) as refused:
        read_package(rewrite(salden(), edit=value_there))
    assert refused.value.line == 3
