"""A data package to Excel (xlsx), UTF-8 CSV or JSON, with real numbers and dates.

R+V's FAQ spends eight steps on importing its CSV files into Excel (code page, delimiter,
"Getrennt"). :func:`write_xlsx` makes that one file that opens as it should: amounts and
percentages as numbers with two decimals, dates as dates, readable German headers (the
legend's names), a frozen header row, an autofilter and column widths that fit. It needs
openpyxl, an optional extra: ``pip install 'bipro-ruv[xlsx]'``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from bipro_ruv._wire.fs import storage_error
from bipro_ruv.datapackages.csvreader import Column
from bipro_ruv.datapackages.packages import LAYOUTS, Package
from bipro_ruv.errors import ConfigurationError

__all__ = ["columns_of", "row_values", "write_csv", "write_json", "write_xlsx"]

_AMOUNT_FORMAT = "#,##0.00"
_DATE_FORMAT = "DD.MM.YYYY"
_MAX_WIDTH = 60


def columns_of(package: Package) -> list[Column]:
    """The package's columns in the legend's order, the VSNR as written and normalized."""
    return list(LAYOUTS[package.kind].columns)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def row_values(package: Package, row: Any) -> list[Any]:
    """One row's values in :func:`columns_of` order (VSNR: the normalized one, else as written)."""
    values = []
    for column in columns_of(package):
        if column.field == "vsnr":
            values.append(str(row.vsnr) if row.vsnr else row.vsnr_raw)
        else:
            values.append(_plain(getattr(row, column.field)))
    return values


def write_xlsx(package: Package, path: str | os.PathLike[str]) -> Path:
    """The package as one worksheet; returns the path written."""
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
    except ImportError as exc:
        raise ConfigurationError(
            "the Excel export needs openpyxl: pip install 'bipro-ruv[xlsx]' (or use the CSV export)"
        ) from exc
    columns = columns_of(package)
    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(package.title[:31])
    sheet.append([column.title for column in columns])
    widths = [len(column.title) for column in columns]
    for row in package.rows:
        values = row_values(package, row)
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
        for i, value in enumerate(values):
            shown = f"{value:,.2f}" if isinstance(value, Decimal) else ("" if value is None else str(value))
            widths[i] = max(widths[i], min(len(shown), _MAX_WIDTH))
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = widths[i - 1] + 2
        if column.kind in ("amount", "percent"):
            for cell in sheet[letter][1:]:
                cell.number_format = _AMOUNT_FORMAT
        elif column.kind == "date":
            for cell in sheet[letter][1:]:
                cell.number_format = _DATE_FORMAT
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    target = Path(path)
    try:
        book.save(target)
    except OSError as exc:
        raise storage_error(exc, target, "write the Excel file") from exc
    return target


def write_csv(package: Package, out: TextIO) -> int:
    """UTF-8 CSV for German Excel (``;``, decimal comma, dates ``DD.MM.YYYY``); the caller
    opens ``out`` (``utf-8-sig`` gives Excel its byte-order mark). Returns the rows written."""
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.title for column in columns_of(package)])
    for row in package.rows:
        writer.writerow([_csv_cell(value) for value in row_values(package, row)])
    return len(package.rows)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def write_json(package: Package, out: TextIO) -> int:
    """One JSON document: kind, source, format, warnings and the rows (amounts as exact
    decimal strings, dates ISO 8601, codes as written, VSNR normalized and raw)."""
    rows: list[dict[str, Any]] = []
    for row in package.rows:
        data = row.model_dump(mode="json")
        rows.append(data)
    document = {
        "kind": package.kind,
        "title": package.title,
        "source": package.source,
        "format": package.format,
        "warnings": list(package.warnings),
        "rows": rows,
    }
    json.dump(document, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(rows)


def summary(package: Package) -> list[str]:
    """Lines for a person: the rows, the totals of the amount columns, the warnings."""
    lines = [f"{package.title}: {len(package.rows)} rows ({package.source})"]
    amounts: Sequence[Column] = [c for c in columns_of(package) if c.kind == "amount"]
    for column in amounts:
        total = package.total(column.field)
        lines.append(f"  {column.title}: {_csv_cell(total)}")
    if package.warnings:
        lines.append(f"  {len(package.warnings)} warnings:")
        lines.extend(f"    {warning}" for warning in package.warnings[:20])
    return lines
