"""The assumed layouts (Courtageabrechnung of both LVRG generations, Bestandsübertragungsliste,
KFZ-Beitragsvergleich, Condormigration-Vertragsliste) read through ``read_package``, with the
expected rows computed from the sandbox's contracts, not from the reader."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles.numbers import is_date_format

from bipro_ruv.datapackages import LVRG, PRE_LVRG, Buchungsart, CondorMigration, detect_kind, read_package
from bipro_ruv.datapackages.csvreader import decode, header_key
from bipro_ruv.datapackages.export import write_csv, write_xlsx
from bipro_ruv.errors import ConfigurationError, CsvFormatError
from bipro_ruv.sandbox.content import csv_writer
from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER, SANDBOX_CONTRACTS
from bipro_ruv.vsnr import Vsnr
from tests._cli import run
from tests.test_datapackages import rewrite

SETTLED = date(2025, 10, 31)
TRANSFERRED = date(2026, 11, 7)
MAIN_DUE = date(2027, 1, 1)
# The seeded life contract has no commission (rate 0); with one it shows the LVRG's two columns.
CONTRACTS = tuple(
    replace(c, commission_rate=Decimal("2.50")) if c.sparte == "010" else c for c in SANDBOX_CONTRACTS
)
LIFE = next(c for c in CONTRACTS if c.sparte == "010")
QUOTED = "Müller; Meier, Schulze & Co.\r\n(zweite Zeile)"


def courtage(lvrg: bool = True) -> bytes:
    return csv_writer.courtageabrechnung(CONTRACTS, settled=SETTLED, lvrg=lvrg)


courtage_pre_lvrg = partial(courtage, lvrg=False)


def transfer() -> bytes:
    return csv_writer.bestandsuebertragungsliste(CONTRACTS, transfer_date=TRANSFERRED)


def kfz() -> bytes:
    return csv_writer.kfz_beitragsvergleich(CONTRACTS, main_due=MAIN_DUE)


def condor() -> bytes:
    return csv_writer.condor_migration_list(CONTRACTS)


def common(c) -> dict:
    return {"vsnr": Vsnr(c.vsnr), "agency": AGENCY_NUMBER, "policyholder": c.customer.list_name}


def expected_courtage() -> list[dict]:
    return [
        {
            **common(c),
            "vsnr_raw": c.vsnr,
            "settled_on": SETTLED,
            "product": c.product,
            # Abschlussprovision in the first year (only the contract begun in 2025), else Bestandsprovision
            "commission_type": Buchungsart.AP if c.start.year == SETTLED.year else Buchungsart.BP,
            "basis": c.installment,
            "rate": c.commission_rate,
            "amount": c.commission_on(c.installment),
        }
        for c in CONTRACTS
        if c.commission_rate
    ]


def expected_transfer() -> list[dict]:
    return [
        {
            **common(c),
            "postcode": c.customer.postcode,
            "city": c.customer.city,
            "product": c.product,
            "annual_premium": c.annual_premium,
            "transferred_on": TRANSFERRED,
        }
        for c in CONTRACTS
    ]


def expected_kfz() -> list[dict]:
    return [
        {
            **common(c),
            "plate": c.vehicle.kennzeichen,
            "vehicle": f"{c.vehicle.manufacturer} {c.vehicle.model}",
            "main_due": MAIN_DUE,
            "premium_before": c.annual_premium,
        }
        for c in CONTRACTS
        if c.vehicle is not None
    ]


def expected_condor() -> list[dict]:
    return [
        {
            "old": Vsnr(c.previous_vsnr),
            "new": Vsnr(c.vsnr),
            **common(c),
            "migrated_on": c.migration_date,
        }
        for c in CONTRACTS
        if c.previous_vsnr and c.migration_date
    ]


# make, kind, expected rows, amount field and its total
KINDS = {
    "courtage": (courtage, "courtage", expected_courtage, "amount"),
    "courtage-pre-lvrg": (courtage_pre_lvrg, "courtage", expected_courtage, "amount"),
    "bestandsuebertragung": (transfer, "bestandsuebertragung", expected_transfer, "annual_premium"),
    "kfz": (kfz, "kfz_beitragsvergleich", expected_kfz, "premium_before"),
    "condor": (condor, "condor_migration", expected_condor, None),
}


def cell(rows: list[list[str]], index: int, column: str, value: str) -> list[list[str]]:
    """Data row ``index`` (1 = the first after the header), the column named ``column``."""
    rows[index][rows[0].index(column)] = value
    return rows


def assert_rows(rows, expected: list[dict]) -> None:
    """Each expected field's value and type: 1200.0 or "27,87" must not pass for Decimal("27.87")."""
    assert len(rows) == len(expected) > 0
    found = [
        {f: (getattr(r, f), type(getattr(r, f))) for f in w} for r, w in zip(rows, expected, strict=True)
    ]
    assert found == [{f: (v, type(v)) for f, v in want.items()} for want in expected]


# -- 1. every kind, every way it may be written ------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("cp1252", False), ("iso-8859-15", False), ("utf-8", False), ("utf-8", True)],
    ids=["cp1252", "iso-8859-15", "utf-8", "utf-8-bom"],
)
@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_in_every_encoding_and_delimiter(
    name: str, encoding: str, bom: bool, delimiter: str
) -> None:
    make, kind, expected_rows, amount = KINDS[name]
    data = rewrite(
        make(), encoding=encoding, delimiter=delimiter, bom=bom, edit=lambda r: cell(r, 1, "Name VN", QUOTED)
    )
    assert detect_kind(data) == kind
    package = read_package(data)
    assert package.kind == kind
    assert package.format["delimiter"] == delimiter
    assert package.format["bom"] is bom
    assert package.format["encoding"] in ({"utf-8"} if encoding == "utf-8" else {"cp1252", "iso-8859-15"})
    assert package.warnings == ()
    expected = expected_rows()
    expected[0]["policyholder"] = QUOTED.replace("\r\n", "\n")
    assert_rows(package.rows, expected)
    # the first record spans lines 2 and 3
    assert [row.line for row in package.rows] == [2, *range(4, len(expected) + 3)]
    if amount is not None:
        assert package.total(amount) == sum((want[amount] for want in expected), Decimal(0))


# -- 2. the Courtageabrechnung before and after the LVRG -------------------------------------


def test_both_courtage_generations_read_into_the_same_rows() -> None:
    old, new = read_package(courtage_pre_lvrg()), read_package(courtage())
    assert (old.generation, new.generation) == (PRE_LVRG, LVRG)
    lvrg_only = {"payment_model", "liability_until"}
    assert [r.model_dump(exclude=lvrg_only) for r in old.rows] == [
        r.model_dump(exclude=lvrg_only) for r in new.rows
    ]
    assert {(r.payment_model, r.liability_until) for r in old.rows} == {(None, None)}
    expected = [
        ("vorschüssig", date(c.start.year + 5, c.start.month, c.start.day))
        if c.sparte == "010"
        else ("ratierlich", None)
        for c in CONTRACTS
        if c.commission_rate
    ]
    assert ("vorschüssig", date(2010, 12, 1)) in expected  # the life contract is among them
    assert [(r.payment_model, r.liability_until) for r in new.rows] == expected


# -- 3. checks are warnings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "column", "field", "value"),
    [
        (courtage, "Courtagebetrag", "amount", "99,99"),
        (courtage_pre_lvrg, "Provisionsbetrag", "amount", "99,99"),
        (kfz, "Differenz", "difference", "1,00"),
    ],
    ids=["courtage", "courtage-pre-lvrg", "kfz"],
)
def test_a_sum_that_does_not_add_up_is_a_warning(make, column: str, field: str, value: str) -> None:
    package = read_package(rewrite(make(), edit=lambda r: cell(r, 2, column, value)))
    (warning,) = package.warnings
    assert warning.startswith("line 3")
    title = "Courtagebetrag" if field == "amount" else "Differenz"
    assert f"{title} is {value.replace(',', '.')}" in warning
    assert getattr(package.rows[1], field) == Decimal(value.replace(",", "."))  # kept as written


# -- 4. an assumed layout is lenient, but not silent ------------------------------------------


def test_an_unknown_column_is_kept_in_extra_with_a_warning_and_exported() -> None:
    def edit(rows):
        rows[0].append("Bemerkung")
        rows[1].append("Rückruf erbeten")
        for row in rows[2:]:
            row.append("")
        return rows

    package = read_package(rewrite(courtage(), edit=edit))
    (warning,) = package.warnings
    assert warning.startswith("line 1, column 'Bemerkung'")
    assert "extra" in warning
    assert package.rows[0].extra == {"Bemerkung": "Rückruf erbeten"}
    assert all(row.extra == {} for row in package.rows[1:])
    reference = read_package(courtage())
    assert [r.model_dump(exclude={"extra"}) for r in package.rows] == [
        r.model_dump(exclude={"extra"}) for r in reference.rows
    ]
    out = io.StringIO()
    write_csv(package, out)
    exported = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    assert exported[0][-1] == "Bemerkung"
    assert [row[-1] for row in exported[1:]] == ["Rückruf erbeten"] + [""] * (len(package.rows) - 1)


def test_a_short_row_reads_its_last_fields_as_empty() -> None:
    index = 1 + [row["vsnr"] for row in expected_courtage()].index(Vsnr(LIFE.vsnr))
    package = read_package(rewrite(courtage(), edit=lambda r: [*r[:index], r[index][:-3], *r[index + 1 :]]))
    row = package.rows[index - 1]
    assert (row.payment_model, row.liability_until, row.booking_text) == (None, None, None)
    assert row.amount == LIFE.commission_on(LIFE.installment)
    assert package.rows[index].booking_text is not None  # the next row is whole
    # Not silent: the warning names the row and the fields it lacks.
    (warning,) = package.warnings
    assert f"line {row.line}:" in warning
    assert "'Vergütungsmodell', 'Haftungszeit bis', 'Buchungstext'" in warning


@pytest.mark.parametrize(
    ("make", "kind", "dropped", "column"),
    [
        (transfer, "bestandsuebertragung", "Übertragungsdatum", "Übertragungsdatum"),
        (courtage, "courtage", "Courtagebetrag", "Courtagebetrag"),
        (courtage_pre_lvrg, "courtage", "Provisionsbetrag", "Courtagebetrag"),
        (kfz, "kfz_beitragsvergleich", "Beitrag neu", "Beitrag neu"),
    ],
    ids=["transfer", "courtage", "courtage-pre-lvrg", "kfz"],
)
def test_a_missing_required_column_is_an_error(make, kind: str, dropped: str, column: str) -> None:
    def drop(rows):
        i = rows[0].index(dropped)
        return [row[:i] + row[i + 1 :] for row in rows]

    with pytest.raises(CsvFormatError) as raised:
        read_package(rewrite(make(), edit=drop), kind=kind)
    assert (raised.value.line, raised.value.column) == (1, column)
    assert f"required column {column!r} is missing" in str(raised.value)


@pytest.mark.parametrize(
    ("make", "column", "value"),
    [
        (transfer, "Übertragungsdatum", "31.11.2026"),
        (transfer, "Jahresbeitrag", "12,3x"),
        (kfz, "Hauptfälligkeit", "1.1.27"),
        (kfz, "Beitrag neu", "1.2,3"),
        (courtage, "Haftungszeit bis", "bald"),
        (courtage, "Courtagesatz", "7,5 %"),
        (courtage_pre_lvrg, "Provisionsbetrag", "27,8x"),  # named as the file names it
    ],
)
def test_a_broken_date_or_amount_names_line_and_column(make, column: str, value: str) -> None:
    with pytest.raises(CsvFormatError) as raised:
        read_package(rewrite(make(), edit=lambda r: cell(r, 2, column, value)))
    assert (raised.value.line, raised.value.column) == (3, column)
    assert f"line 3, column {column!r}: {value!r} is not" in str(raised.value)


# -- 5. other column names ----------------------------------------------------------------------


def renamed() -> bytes:
    def edit(rows):
        rows[0][rows[0].index("Courtagebetrag")] = "Courtage in EUR"
        return rows

    return rewrite(courtage(), edit=edit)


@pytest.mark.parametrize("names", ["Courtage in EUR", ["Courtage (EUR)", "Courtage in EUR"]])
def test_other_column_names_are_given_per_kind(names) -> None:
    package = read_package(renamed(), kind="courtage", names={"amount": names})
    assert [r.amount for r in package.rows] == [row["amount"] for row in expected_courtage()]
    assert package.total("amount") == sum((row["amount"] for row in expected_courtage()), Decimal(0))
    assert package.warnings == ()


def test_without_the_names_the_renamed_file_fails_and_wrong_names_are_refused() -> None:
    with pytest.raises(CsvFormatError, match="required column 'Courtagebetrag' is missing") as raised:
        read_package(renamed(), kind="courtage")
    assert raised.value.column == "Courtagebetrag"
    with pytest.raises(ConfigurationError, match="no column 'betrag'"):
        read_package(renamed(), kind="courtage", names={"betrag": "Courtage in EUR"})
    with pytest.raises(CsvFormatError, match=r"need the package kind"):
        read_package(renamed(), names={"amount": "Courtage in EUR"})


def test_cli_column_names_a_field(tmp_path: Path) -> None:
    source = tmp_path / "courtage.csv"
    source.write_bytes(renamed())
    result = run("csv", str(source), "--kind", "courtage", "--column", "amount=Courtage in EUR")
    assert result.returncode == 0, result.stderr
    total = sum((row["amount"] for row in expected_courtage()), Decimal(0))
    assert f"Courtagebetrag: {total:.2f}".replace(".", ",") in result.stdout
    assert f"Courtageabrechnung: {len(expected_courtage())} rows" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--column", "amount=Courtage in EUR"), "--column needs --kind"),
        (("--kind", "courtage", "--column", "foo"), "write FIELD=NAME"),
    ],
    ids=["without kind", "malformed"],
)
def test_cli_column_usage_errors(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    source = tmp_path / "courtage.csv"
    source.write_bytes(renamed())
    result = run("csv", str(source), *args)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


# -- 6. the Condormigration-Vertragsliste -------------------------------------------------------


def test_condor_migration_list_with_a_title_line_and_a_bad_number() -> None:
    body = rewrite(condor(), edit=lambda r: cell(r, 2, "Neue Vertragsnummer", "4820551"))
    data = "Condormigration-Vertragsliste, Stand 01.11.2026\r\n".encode("cp1252") + body
    assert detect_kind(data) == "condor_migration"
    package = read_package(data)
    assert package.kind == "condor_migration"
    assert all(isinstance(row, CondorMigration) for row in package.rows)
    expected = expected_condor()
    del expected[1]
    assert_rows(package.rows, expected)
    assert [row.line for row in package.rows] == [3, 5]  # title 1, header 2, the bad row 4
    (warning,) = package.warnings
    assert warning.startswith("line 4: new number")
    assert "4820551" in warning


# -- 7. encodings ------------------------------------------------------------------------------


def test_a_byte_windows_1252_leaves_undefined_is_read_as_latin_1_alone() -> None:
    """Only the undefined byte is read as Latin-1: a "–" and a "€" elsewhere in the file
    stay what they are (reading the whole file as Latin-1 made them C1 controls)."""
    data = transfer().replace(b"Kassel", b"Kas\x81sel")
    data = data.replace(b"Vermittlerwechsel auf Kundenwunsch", "Wechsel – 5 € Gebühr".encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("cp1252")  # so a plain Windows-1252 reading would fail here
    package = read_package(data)
    assert package.format["encoding"] == "cp1252"
    assert [row.city for row in package.rows] == [
        c.customer.city.replace("Kassel", "Kas\x81sel") for c in CONTRACTS
    ]
    assert {row.reason for row in package.rows} == {"Wechsel – 5 € Gebühr"}
    assert decode(data)[1] == "cp1252"


@pytest.mark.parametrize(
    ("make", "column", "text", "encoding", "byte"),
    [
        (kfz, "SF-Klasse bisher", "SF ½", "cp1252", b"\xbd"),
        (courtage, "Buchungstext", "Gutschrift 5 € (Kulanz)", "iso-8859-15", b"\xa4"),
    ],
    ids=["half-cp1252", "euro-iso-8859-15"],
)
def test_without_bytes_0x80_0x9f_the_likelier_reading_wins(
    make, column: str, text: str, encoding: str, byte: bytes
) -> None:
    data = rewrite(make(), encoding=encoding, edit=lambda r: cell(r, 1, column, text))
    assert not any(0x80 <= b <= 0x9F for b in data)
    assert byte in data  # ½ is œ in ISO-8859-15, € is ¤ in Windows-1252
    package = read_package(data)
    assert package.format["encoding"] == encoding
    field = "sf_class_before" if column == "SF-Klasse bisher" else "booking_text"
    assert getattr(package.rows[0], field) == text


def test_utf_16_with_a_byte_order_mark() -> None:
    data = courtage().decode("cp1252").encode("utf-16")
    assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    package = read_package(data)
    assert (package.format["encoding"], package.format["bom"]) == ("utf-16", True)
    assert [r.model_dump() for r in package.rows] == [r.model_dump() for r in read_package(courtage()).rows]


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 30, courtage().replace(b"ratierlich", b"ratier\x00lich", 1)],
    ids=["xlsx", "nul-in-csv"],
)
def test_a_file_with_nul_bytes_is_binary(data: bytes) -> None:
    with pytest.raises(CsvFormatError, match="binary"):
        read_package(data, kind="courtage")
    with pytest.raises(CsvFormatError, match="binary"):
        read_package(data)


# -- 8. header names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Übertragungsdatum", "Uebertragungsdatum"),
        ("Abr.-Zeitraum von", "abr zeitraum von"),
        ("Abr.-Zeitraum von", "AbrZeitraumVon"),
        ("  Vergütungsmodell ", "VERGUETUNGSMODELL"),
    ],
)
def test_header_names_compare_by_letters_and_digits(one: str, other: str) -> None:
    assert header_key(one) == header_key(other)
    assert header_key(one) != header_key(other + " bis")  # not everything is the same column


# -- 9. xlsx -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "amounts", "dates"),
    [
        (
            courtage,
            {"Bewertungsgrundlage": "basis", "Courtagebetrag": "amount"},
            {"Abrechnungsdatum": "settled_on"},
        ),
        (
            kfz,
            {"Beitrag bisher": "premium_before", "Beitrag neu": "premium_after", "Differenz": "difference"},
            {"Hauptfälligkeit": "main_due"},
        ),
    ],
    ids=["courtage", "kfz"],
)
def test_the_xlsx_has_numbers_and_dates(make, amounts: dict, dates: dict, tmp_path: Path) -> None:
    package = read_package(make())
    sheet = openpyxl.load_workbook(write_xlsx(package, tmp_path / "paket.xlsx")).active
    header = [c.value for c in sheet[1]]
    assert sheet.max_row == len(package.rows) + 1
    for number, row in enumerate(package.rows, start=2):
        for title, field in amounts.items():
            found = sheet.cell(row=number, column=header.index(title) + 1)
            assert isinstance(found.value, int | float)
            assert not isinstance(found.value, bool)
            assert Decimal(str(found.value)) == getattr(row, field)
            assert found.number_format == "#,##0.00"
        for title, field in dates.items():
            found = sheet.cell(row=number, column=header.index(title) + 1)
            assert isinstance(found.value, datetime)
            assert found.value.date() == getattr(row, field)
            assert is_date_format(found.number_format)


def test_a_name_given_for_a_field_wins_over_a_built_in_alias_of_another() -> None:
    """``Provision`` is a built-in alias of the amount; a file using it for the rate is read
    with ``names={"rate": "Provision"}``, whatever the order of the columns."""
    lines = [
        "Abrechnungsdatum;Vers.Nr.;Provisionsart;Bemessungsgrundlage;Provision;Provisionsbetrag",
        "30.10.2026;32701234568;BP;1000,00;2,50;25,00",
    ]
    data = "\r\n".join(lines).encode("cp1252")
    (guessed,) = read_package(data, kind="courtage").rows  # "Provision" taken for the amount
    assert (guessed.rate, guessed.amount) == (None, Decimal("2.50"))
    (row,) = read_package(data, kind="courtage", names={"rate": "Provision"}).rows
    assert (row.rate, row.amount) == (Decimal("2.50"), Decimal("25.00"))


def test_blank_lines_before_the_header_are_skipped() -> None:
    package = read_package(b"\r\n\r\n" + transfer())
    assert package.kind == "bestandsuebertragung"
    assert [row.line for row in package.rows][:1] == [4]


def test_an_assumed_layout_keeps_a_long_row_and_a_doubled_column_in_extra() -> None:
    def edit(rows):
        rows[0].append("Name VN")  # a second "Name VN"
        for row in rows[1:]:
            row.append("zweiter Name")
        rows[1].append("zu viel")  # and one field beyond the header
        return rows

    package = read_package(rewrite(transfer(), edit=edit))
    first, second = package.rows[:2]
    assert first.extra == {
        "Name VN": "zweiter Name",
        f"field {len(csv_writer.BESTANDSUEBERTRAGUNG_HEADER) + 2}": "zu viel",
    }
    assert second.extra == {"Name VN": "zweiter Name"}
    assert first.policyholder == CONTRACTS[0].customer.list_name  # the first "Name VN" is read
    assert any("second time" in warning for warning in package.warnings)
    assert any("line 2" in warning and "the ones beyond" in warning for warning in package.warnings)
