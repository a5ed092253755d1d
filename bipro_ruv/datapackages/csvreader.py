"""One CSV reader for every R+V data package: encoding, delimiter, German numbers and dates.

R+V does not state how its CSV files are written (ruv-specifics.md §3: "The actual
delimiter, encoding and decimal format are NOT stated"), and its FAQ has the broker choose
them in Excel's import dialog. So the reader finds them:

* **encoding**: UTF-8 (with or without byte-order mark) if the bytes are valid UTF-8; else
  Windows-1252 when bytes 0x80-0x9F occur (printable there: €, „, ", –), else ISO-8859-15
  (where 0xA4 is €). German letters are the same bytes in both.
* **delimiter**: ``;``, ``,`` or TAB, whichever splits the header line (outside quotes) into
  the most columns the layout knows.
* **quoting**: RFC 4180 (a quoted field may hold the delimiter, quotes doubled, line breaks).
* **numbers**: ``1.234,56``, ``-12,30`` and ``12,30-`` (trailing minus, as SAP writes it);
  ``1234.56`` where a file writes no decimal comma at all. **dates**: ``DD.MM.YYYY`` (also
  ``YYYY-MM-DD``).
* **columns**: found by the legend's names, whatever their order, case, surrounding blanks
  and punctuation, and by the known renamings (:attr:`Column.aliases`).

A file that cannot be read (no known header, a wrong delimiter, an unknown or missing
required column, a broken number or date) raises :class:`~bipro_ruv.errors.CsvFormatError`
naming the line and the column; nothing is skipped silently. A value that is readable but
unexpected (an unknown code) is kept raw with a :class:`CsvWarning`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Final, Literal

from bipro_ruv.errors import CsvFormatError
from bipro_ruv.vsnr import Vsnr

__all__ = [
    "Column",
    "CsvFormat",
    "CsvWarning",
    "Layout",
    "Table",
    "detect_encoding",
    "header_key",
    "parse_amount",
    "parse_date",
    "read_table",
]

Kind = Literal["text", "amount", "percent", "date", "vsnr", "code"]
DELIMITERS: Final = (";", ",", "\t")


@dataclass(frozen=True)
class Column:
    """One column of a package: its English field name, the legend's German title, how its
    values are read, other names it has had, and whether a file must have it."""

    field: str
    title: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()
    required: bool = True
    codes: Any = None
    """For ``kind="code"``: the enum whose values are the known codes."""


@dataclass(frozen=True)
class Layout:
    """The columns of one package, and the key that names it (``saldenbestaetigung``)."""

    kind: str
    title: str
    columns: tuple[Column, ...]

    @cached_property
    def known(self) -> dict[str, Column]:
        """Every name a column may have (:func:`header_key`) -> the column."""
        known: dict[str, Column] = {}
        for column in self.columns:
            for name in (column.title, *column.aliases):
                known[header_key(name)] = column
        return known


@dataclass(frozen=True)
class CsvFormat:
    """How a file was written, as the reader found it."""

    encoding: str
    bom: bool
    delimiter: str
    decimal_comma: bool


@dataclass(frozen=True)
class CsvWarning:
    """Something readable but unexpected (an unknown code); ``line`` is the file's 1-based line."""

    code: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else ""
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Table:
    """The rows of one file: per row its first line in the file and its values by field."""

    layout: Layout
    format: CsvFormat
    columns: list[Column]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    warnings: list[CsvWarning] = field(default_factory=list)


# -- values ---------------------------------------------------------------------------------

_AMOUNT = re.compile(r"^(?P<sign>[-+]?)(?P<digits>[\d.,' ]+?)(?P<trailing>-?)$")


def parse_amount(text: str, *, decimal_comma: bool = True) -> Decimal:
    """``1.234,56`` -> 1234.56, ``-12,30`` and ``12,30-`` -> -12.30; with
    ``decimal_comma=False``, ``1234.56`` and ``1,234.56``. Raises ValueError."""
    value = text.strip().replace("\u00a0", "").replace("€", "").strip()
    match = _AMOUNT.match(value)
    if not match or (match["sign"] == "-" and match["trailing"]):
        raise ValueError(f"{text!r} is no amount")
    digits = match["digits"].replace(" ", "").replace("'", "")
    thousands, point = (".", ",") if decimal_comma else (",", ".")
    if digits.count(point) > 1:
        raise ValueError(f"{text!r} is no amount")
    whole, _, fraction = digits.partition(point)
    if thousands in whole:
        groups = whole.split(thousands)
        if not groups[0] or any(len(group) != 3 for group in groups[1:]):
            raise ValueError(f"{text!r} is no amount (misplaced {thousands!r})")
        whole = "".join(groups)
    if not whole.isdigit() and not (whole == "" and fraction):
        raise ValueError(f"{text!r} is no amount")
    if fraction and not fraction.isdigit():
        raise ValueError(f"{text!r} is no amount")
    try:
        number = Decimal(f"{whole or '0'}.{fraction}" if fraction else whole)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is no amount") from exc
    return -number if (match["sign"] == "-" or match["trailing"]) else number


def parse_date(text: str) -> date:
    """``DD.MM.YYYY`` (or ``D.M.YYYY``, ``YYYY-MM-DD``). Raises ValueError."""
    value = text.strip()
    german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value)
    if german:
        day, month, year = (int(part) for part in german.groups())
        return date(year, month, day)
    return date.fromisoformat(value)


def header_key(name: str) -> str:
    """A header name compared by its letters and digits only: ``" Abr.-Zeitraum  von "`` and
    ``"abr zeitraum von"`` are the same column."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("ß", "ss")
    return re.sub(r"[^0-9a-zäöü+]+", " ", folded).strip()


# -- the file -------------------------------------------------------------------------------


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """The encoding of ``data`` and whether it starts with a UTF-8 byte-order mark."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", False
    if any(0x80 <= byte <= 0x9F for byte in data):
        return "cp1252", False
    return "iso-8859-15", False


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The records of the file with the line each begins on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CsvFormatError(f"the file is no readable CSV: {exc}", line=reader.line_num) from exc


def first_line(text: str) -> str:
    """The header line (without reading the rest of the file into a list of lines)."""
    return text.partition("\n")[0].rstrip("\r")


def choose_delimiter(header_text: str, known: Mapping[str, Column]) -> tuple[str, list[str]]:
    """The delimiter that splits the header into the most known columns, and the cells."""
    best: tuple[int, int, str, list[str]] = (-1, -1, ";", [])
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([header_text], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        matched = sum(1 for cell in cells if header_key(cell) in known)
        candidate = (matched, len(cells), delimiter, cells)
        if candidate[:2] > best[:2]:
            best = candidate
    return best[2], best[3]


def read_table(data: bytes, layout: Layout, *, source: str = "the file") -> Table:
    """Every row of ``data`` as values by field of ``layout`` (see the module docstring)."""
    encoding, bom = detect_encoding(data)
    text = data.decode(encoding)
    if bom:
        text = text[1:]
    if not text.strip():
        raise CsvFormatError(f"{source} is empty", line=None)
    known = layout.known
    header_text = first_line(text)
    delimiter, header = choose_delimiter(header_text, known)
    matched = [known.get(header_key(cell)) for cell in header]
    if not any(matched):
        other = _other_delimiter(header_text, known)
        if other is not None:
            raise CsvFormatError(
                f"{source}: line 1 is separated by {other!r}, not by ';', ',' or TAB: a wrong delimiter "
                "(save the file again as CSV with ';')",
                line=1,
            )
        raise CsvFormatError(
            f"{source}: line 1 is no header of a {layout.title} (columns such as "
            f"{', '.join(repr(c.title) for c in layout.columns[:3])} expected)",
            line=1,
        )
    if len(header) < len([c for c in layout.columns if c.required]) // 2 + 1:
        raise CsvFormatError(
            f"{source}: line 1 splits into {len(header)} columns with any of ';', ',' or TAB: "
            "a wrong delimiter?",
            line=1,
        )
    unknown = [cell for cell, column in zip(header, matched, strict=True) if column is None]
    if unknown:
        raise CsvFormatError(
            f"{source}: line 1 has the column {unknown[0]!r}, which a {layout.title} does not have",
            line=1,
            column=unknown[0],
        )
    seen: dict[str, str] = {}
    for cell, column in zip(header, matched, strict=True):
        assert column is not None
        if column.field in seen:
            raise CsvFormatError(
                f"{source}: line 1 names the column {column.title!r} twice "
                f"({seen[column.field]!r}, {cell!r})",
                line=1,
                column=cell,
            )
        seen[column.field] = cell
    missing = [c.title for c in layout.columns if c.required and c.field not in seen]
    if missing:
        raise CsvFormatError(
            f"{source}: the required column {missing[0]!r} is missing (line 1)", line=1, column=missing[0]
        )
    columns = [c for c in matched if c is not None]
    records = []
    for line, record in _records(text, delimiter):
        if line == 1:
            continue  # the header
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(record) != len(columns):
            raise CsvFormatError(
                f"{source}: line {line} has {len(record)} fields, the header {len(columns)}: "
                "a delimiter inside an unquoted field?",
                line=line,
            )
        records.append((line, record))
    decimal_comma = _decimal_comma(columns, records)
    table = Table(layout, CsvFormat(encoding, bom, delimiter, decimal_comma), columns)
    for line, record in records:
        values: dict[str, Any] = {}
        for column, cell in zip(columns, record, strict=True):
            values[column.field] = _value(column, cell, line, table, source)
        table.rows.append((line, values))
    return table


def _other_delimiter(header_text: str, known: Mapping[str, Column]) -> str | None:
    """The character that splits the header into the layout's columns, if it is none of ours."""
    candidates = {char for char in header_text if not char.isalnum() and char not in " .-/()+\"'"}
    for char in sorted(candidates - set(DELIMITERS)):
        if sum(1 for cell in header_text.split(char) if header_key(cell) in known) >= 2:
            return char
    return None


def _decimal_comma(columns: Sequence[Column], records: Sequence[tuple[int, list[str]]]) -> bool:
    """Whether the file writes amounts with a decimal comma (the German way, and the default):
    yes if any amount has a comma, no if amounts have points and none a comma."""
    amounts = [i for i, column in enumerate(columns) if column.kind in ("amount", "percent")]
    point = False
    for _, record in records:
        for i in amounts:
            if "," in record[i]:
                return True
            point = point or "." in record[i]
    return not point


def _value(column: Column, cell: str, line: int, table: Table, source: str) -> Any:
    raw = cell.strip()
    if column.kind == "text":
        return raw or None
    if not raw:
        return None if column.kind != "vsnr" else (None, None)
    try:
        if column.kind in ("amount", "percent"):
            return parse_amount(raw, decimal_comma=table.format.decimal_comma)
        if column.kind == "date":
            return parse_date(raw)
    except ValueError as exc:
        what = "an amount" if column.kind in ("amount", "percent") else "a date (DD.MM.YYYY)"
        raise CsvFormatError(
            f"{source}: line {line}, column {column.title!r}: {raw!r} is not {what}",
            line=line,
            column=column.title,
        ) from exc
    if column.kind == "vsnr":
        return raw, Vsnr.try_parse(raw)
    if column.kind == "code":
        return _code(column, raw, line, table)
    return raw


def _code(column: Column, raw: str, line: int, table: Table) -> Any:
    enum: Callable[[str], Any] = column.codes
    try:
        return enum(raw)
    except ValueError:
        folded = raw.upper()
        for member in column.codes:
            if member.value.upper() == folded:
                return member
    table.warnings.append(
        CsvWarning("unknown-code", f"unknown {column.title} {raw!r}; kept as written", line, column.title)
    )
    return raw
