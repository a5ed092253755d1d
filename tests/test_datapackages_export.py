"""Data packages out: xlsx with real numbers and dates (read back with openpyxl), UTF-8 CSV, JSON,
and ``bipro-ruv csv`` as the installed console script (issue 13, point 3)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from bipro_ruv.datapackages import read_package
from bipro_ruv.datapackages.export import write_csv, write_json, write_xlsx
from tests._cli import run
from tests.test_datapackages import rewrite, salden, sammel


@pytest.mark.parametrize("make", [salden, sammel], ids=["salden", "sammel"])
def test_the_xlsx_holds_numbers_as_numbers_and_dates_as_dates(make, tmp_path: Path) -> None:
    package = read_package(make())
    target = write_xlsx(package, tmp_path / "paket.xlsx")
    sheet = openpyxl.load_workbook(target).active
    header = [cell.value for cell in sheet[1]]
    assert header[:2] == (
        ["Geschäftspartner", "Name VN"]
        if package.kind == "saldenbestaetigung"
        else ["Agentur", "Kundennummer"]
    )
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == sheet.dimensions
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(package.rows)
    amount = header.index("Offener Saldo" if package.kind == "saldenbestaetigung" else "Bruttobeitrag")
    field = "open_balance" if package.kind == "saldenbestaetigung" else "gross_premium"
    for row, cells in zip(package.rows, rows, strict=True):
        assert isinstance(cells[amount], int | float)  # a number cell (-39.0 reads back as -39)
        assert Decimal(str(cells[amount])) == getattr(row, field)
    dated = header.index("Abr.-Zeitraum von" if package.kind == "sammelabrechnung" else "Buchungsdatum")
    first = rows[0][dated]
    assert isinstance(first, datetime)  # Excel has no date-only cells: a datetime at midnight
    assert first.date() == (
        package.rows[0].period_from if package.kind == "sammelabrechnung" else package.rows[0].booked_on
    )
    assert sheet.cell(row=2, column=amount + 1).number_format == "#,##0.00"
    assert sheet.cell(row=2, column=dated + 1).number_format == "DD.MM.YYYY"
    assert all(sheet.column_dimensions[letter].width >= 8 for letter in "ABC")


def test_the_csv_export_reads_back_the_same() -> None:
    package = read_package(salden())
    out = io.StringIO()
    write_csv(package, out)
    again = read_package(out.getvalue().encode("utf-8-sig"))
    assert [r.model_dump(exclude={"line"}) for r in again.rows] == [
        r.model_dump(exclude={"line"}) for r in package.rows
    ]
    assert again.format["encoding"] == "utf-8"
    assert again.format["bom"] is True


def test_the_json_export_keeps_amounts_exact() -> None:
    package = read_package(sammel())
    out = io.StringIO()
    write_json(package, out)
    document = json.loads(out.getvalue())
    assert document["kind"] == "sammelabrechnung"
    first = document["rows"][0]
    assert first["gross_premium"] == str(package.rows[0].gross_premium)
    assert first["period_from"] == package.rows[0].period_from.isoformat()
    assert first["vsnr"] == str(package.rows[0].vsnr)


# -- bipro-ruv csv ------------------------------------------------------------------------------


def test_cli_csv_prints_rows_totals_and_writes_xlsx(tmp_path: Path) -> None:
    source = tmp_path / "Saldenbestaetigung.csv"
    source.write_bytes(salden())
    target = tmp_path / "salden.xlsx"
    result = run("csv", str(source), "--xlsx", str(target))
    assert result.returncode == 0, result.stderr
    package = read_package(source)
    assert f"Saldenbestätigung: {len(package.rows)} rows" in result.stdout
    total = f"{package.total('open_balance'):.2f}".replace(".", ",")
    assert f"Offener Saldo: {total}" in result.stdout
    assert openpyxl.load_workbook(target).active.max_row == len(package.rows) + 1


def test_cli_csv_json_on_stdout_summary_on_stderr(tmp_path: Path) -> None:
    source = tmp_path / "sammel.csv"
    source.write_bytes(sammel())
    result = run("csv", str(source), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "sammelabrechnung"
    assert "Sammelabrechnung:" in result.stderr


def test_cli_csv_as_csv_for_excel(tmp_path: Path) -> None:
    source = tmp_path / "sammel.csv"
    source.write_bytes(rewrite(sammel(), encoding="iso-8859-15"))
    result = run("csv", str(source), "--csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(result.stdout[1:]), delimiter=";"))
    assert rows[0][0] == "Agentur"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            lambda: rewrite(salden(), edit=lambda r: [*r[:2], [*r[2][:11], "12,3x", *r[2][12:]], *r[3:]]),
            "line 3, column 'Offener Saldo'",
        ),
        (lambda: b"a;b;c\r\n1;2;3\r\n", "no header of a known data package"),
    ],
    ids=["broken number", "no package"],
)
def test_cli_csv_a_file_that_cannot_be_read_is_one_line_and_exit_2(
    content, says: str, tmp_path: Path
) -> None:
    source = tmp_path / "kaputt.csv"
    source.write_bytes(content())
    result = run("csv", str(source))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("CsvFormatError: ")
    assert says in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
