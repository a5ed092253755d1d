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
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from bipro_ruv._wire.fs import storage_error
from bipro_ruv.datapackages.packages import LAYOUTS, TYPES, Package
from bipro_ruv.errors import ConfigurationError
from bipro_ruv.vsnr import Vsnr

__all__ = ["columns_of", "summary", "write_csv", "write_json", "write_xlsx"]

_AMOUNT_FORMAT = "#,##0.00"
_DATE_FORMAT = "DD.MM.YYYY"
_MAX_WIDTH = 60


def columns_of(package: Package) -> list[str]:
    """The package's column titles: the layout's in its order (the VSNR normalized where it
    could be), then the columns a file had that the layout does not know (``extra``)."""
    titles = [column.title for column in LAYOUTS[package.kind].columns]
    return titles + _extra_titles(package)


def _extra_titles(package: Package) -> list[str]:
    extra: dict[str, None] = {}
    for row in package.rows:
        extra.update(dict.fromkeys(row.extra))
    return list(extra)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Vsnr):
        return str(value)
    return value


def _rows(package: Package) -> Iterator[list[Any]]:
    """Every row's values in :func:`columns_of` order (VSNR: the normalized one, else as written)."""
    fields = [column.field for column in LAYOUTS[package.kind].columns]
    extra = _extra_titles(package)
    for row in package.rows:
        values = []
        for name in fields:
            if name == "vsnr":
                values.append(str(row.vsnr) if row.vsnr else row.vsnr_raw)
            else:
                values.append(_plain(getattr(row, name)))
        values.extend(row.extra.get(title) for title in extra)
        yield values


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
    titles = columns_of(package)
    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(package.title[:31])
    sheet.append(titles)
    widths = [len(title) for title in titles]
    for values in _rows(package):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
        cells = sheet[sheet.max_row]
        for i, value in enumerate(values):
            if isinstance(value, Decimal):
                cells[i].number_format = _AMOUNT_FORMAT
                shown = f"{value:,.2f}"
            elif isinstance(value, date):
                cells[i].number_format = _DATE_FORMAT
                shown = "00.00.0000"
            else:
                shown = "" if value is None else str(value)
            widths[i] = max(widths[i], min(len(shown), _MAX_WIDTH))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width + 2
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
    writer.writerow(columns_of(package))
    for values in _rows(package):
        writer.writerow([_csv_cell(value) for value in values])
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
        "generation": package.generation,
        "warnings": list(package.warnings),
        "rows": rows,
    }
    json.dump(document, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(rows)


def summary(package: Package) -> list[str]:
    """Lines for a person: the rows, the layout's generation, the totals of the amount
    columns, the warnings."""
    lines = [f"{package.title}: {len(package.rows)} rows ({package.source})"]
    if package.generation:
        lines.append(f"  Layout: {package.generation}")
    if not TYPES[package.kind].public:
        lines.append("  Layout not published by R+V: its columns are read by name (an assumed layout)")
    titles = {column.field: column.title for column in LAYOUTS[package.kind].columns}
    for field in TYPES[package.kind].amounts:
        lines.append(f"  {titles[field]}: {_csv_cell(package.total(field))}")
    if package.warnings:
        lines.append(f"  {len(package.warnings)} warnings:")
        lines.extend(f"    {warning}" for warning in package.warnings[:20])
        if len(package.warnings) > 20:
            lines.append(f"    ... and {len(package.warnings) - 20} more (--json lists them all)")
    return lines
