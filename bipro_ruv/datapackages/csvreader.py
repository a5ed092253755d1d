"""One CSV reader for every R+V data package: encoding, delimiter, German numbers and dates.

R+V does not state how its CSV files are written (ruv-specifics.md §3: "The actual
delimiter, encoding and decimal format are NOT stated"), and its FAQ has the broker choose
them in Excel's import dialog. So the reader finds them:

* **encoding**: UTF-8 (with or without byte-order mark) if the bytes are valid UTF-8; UTF-16
  with its byte-order mark (Excel's "Unicode text"); else Windows-1252 when bytes 0x80-0x9F
  occur (printable there: €, „, ", –). Without those, the two read all but eight bytes alike:
  ISO-8859-15 where those bytes read more likely so (0xA4 is € there, ¤ in Windows-1252),
  Windows-1252 where they do not (0xBD is ½ there, œ in ISO-8859-15) or none occurs.
  German letters are the same bytes in both. The five bytes Windows-1252 leaves undefined are read as Latin-1.
  A file holding NUL bytes is no text (an Excel workbook, say) and is refused.
* **delimiter**: ``;``, ``,`` or TAB, whichever splits the header line (outside quotes) into
  the most columns the layout knows.
* **quoting**: RFC 4180 (a quoted field may hold the delimiter, quotes doubled, line breaks).
* **numbers**: ``1.234,56``, ``-12,30`` and ``12,30-`` (trailing minus, as SAP writes it);
  ``1234.56`` where a file writes no decimal comma at all, unless every such point groups
  three digits (``1.200``: whole euros with a thousands point). **dates**: ``DD.MM.YYYY`` (also
  ``YYYY-MM-DD``).
* **columns**: found by the legend's names, whatever their order, case, surrounding blanks
  and punctuation, and by the known renamings (:attr:`Column.aliases`); more names can be
  given per file kind (:meth:`Layout.renamed`), since not every layout is public.
* **header**: line 1, or for a layout with :attr:`Layout.header_search` the first line among
  the first few non-empty ones that holds every required column (a title line above it).

A layout whose columns R+V has published is *strict*: a column it does not know, a column
named twice, a row with more or fewer fields than the header, a quote inside an unquoted
field are errors. A layout that is our assumption (:attr:`Layout.strict` false) reads all of
them, each with a warning: an unknown or doubled column's cells and the fields beyond the
header go to ``extra`` (``field 8``), a short row's last fields are empty, a stray quote is
text. Names given for a file (:meth:`Layout.renamed`) win over every built-in name.

A file that cannot be read (no known header, a wrong delimiter, an unknown or missing
required column, a broken number or date) raises :class:`~bipro_ruv.errors.CsvFormatError`
naming the line and the column; nothing is skipped silently. A value that is readable but
unexpected (an unknown code) is kept raw with a :class:`CsvWarning`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from bipro_ruv.datapackages.layout import DELIMITERS, Column, CsvFormat, CsvWarning, Layout, Record, Table
from bipro_ruv.datapackages.values import decode, detect_encoding, header_key, parse_amount, parse_date
from bipro_ruv.errors import CsvFormatError
from bipro_ruv.vsnr import Vsnr

__all__ = [
    "Column",
    "CsvFormat",
    "CsvWarning",
    "Layout",
    "Record",
    "Table",
    "decode",
    "detect_encoding",
    "header_key",
    "parse_amount",
    "parse_date",
    "read_table",
]

# -- the file -------------------------------------------------------------------------------


def _records(
    text: str, delimiter: str, first: int, *, strict: bool = True
) -> Iterator[tuple[int, int, list[str]]]:
    """The records of the file from line ``first`` on, with the first and last line of each
    (a quoted field may span lines). ``strict``: a quote inside an unquoted field is an
    error (the published layouts); else it is read as written (assumed layouts, as Excel
    exports hand-edited lists)."""
    skipped = "\n".join(text.split("\n", first - 1)[-1:]) if first > 1 else text
    reader = csv.reader(io.StringIO(skipped, newline=""), delimiter=delimiter, strict=strict)
    start = first
    try:
        for record in reader:
            end = first - 1 + reader.line_num
            yield start, end, record
            start = end + 1
    except csv.Error as exc:
        line = first - 1 + reader.line_num
        raise CsvFormatError(f"line {line} is no readable CSV: {exc}", line=line) from exc


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
    text, encoding, bom = decode(data, source=source)
    if not text.strip():
        raise CsvFormatError(f"{source} is empty", line=None)
    header_line, delimiter, header = _find_header(text, layout, source)
    matched, warnings = _match_header(header, layout, header_line, source)
    records: list[tuple[int, int, list[str]]] = []
    for line, end, record in _records(text, delimiter, header_line + 1, strict=layout.strict):
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(record) != len(header) and layout.strict:
            raise CsvFormatError(
                f"{source}: line {line} has {len(record)} fields, the header {len(header)}: "
                "a delimiter inside an unquoted field?",
                line=line,
            )
        records.append((line, end, record))
    decimal_comma = _decimal_comma(matched, records)
    table = Table(
        layout, CsvFormat(encoding, bom, delimiter, decimal_comma), matched, header, header_line, text
    )
    table.warnings.extend(warnings)
    names = [cell.strip() for cell in header]
    for line, end, record in records:
        table.warnings.extend(_odd_length(record, names, line))
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for i, cell in enumerate(record[: len(names)] + [""] * (len(names) - len(record))):
            column = matched[i]
            if column is None:
                if cell.strip() and not names[i] and layout.strict:
                    raise CsvFormatError(
                        f"{source}: line {line} has {cell.strip()!r} in column {i + 1}, which has no "
                        "name in the header",
                        line=line,
                        column=f"field {i + 1}",
                    )
                if cell.strip():
                    extra[names[i] or f"field {i + 1}"] = cell.strip()
            else:
                values[column.field] = _value(column, names[i], cell, line, table, source)
        for i, cell in enumerate(record[len(names) :], start=len(names) + 1):
            if cell.strip():
                extra[f"field {i}"] = cell.strip()
        if extra:
            values["extra"] = extra
        table.rows.append(Record(line, end, len(record), values))
    return table


def _match_header(
    header: list[str], layout: Layout, line: int, source: str
) -> tuple[list[Column | None], list[CsvWarning]]:
    """The column of each header cell (None: not the layout's). A strict layout refuses an
    unknown or doubled column; an assumed one keeps such a column's cells in ``extra``, with
    a warning. A missing required column is an error for both."""
    known = layout.known
    matched = [known.get(header_key(cell)) for cell in header]
    warnings: list[CsvWarning] = []
    seen: dict[str, str] = {}
    for i, (cell, column) in enumerate(zip(header, matched, strict=True)):
        if not cell.strip():
            continue  # no name (a delimiter at the end of the line): its cells must be empty
        if column is None:
            if layout.strict:
                raise CsvFormatError(
                    f"{source}: line {line} has the column {cell!r}, which a {layout.title} does not have",
                    line=line,
                    column=cell,
                )
            why = f"the column {cell!r} is not one of the {layout.title}'s"
        elif column.field in seen:
            if layout.strict:
                raise CsvFormatError(
                    f"{source}: line {line} names the column {column.title!r} twice "
                    f"({seen[column.field]!r}, {cell!r})",
                    line=line,
                    column=cell,
                )
            matched[i] = None
            why = f"the column {cell!r} names {column.title!r} a second time (the first is read)"
        else:
            seen[column.field] = cell
            continue
        warnings.append(CsvWarning("unknown-column", f"{why}; its values are kept in 'extra'", line, cell))
    missing = [c.title for c in layout.columns if c.required and c.field not in seen]
    if missing:
        raise CsvFormatError(
            f"{source}: the required column {missing[0]!r} is missing (line {line})",
            line=line,
            column=missing[0],
        )
    return matched, warnings


def _odd_length(record: list[str], names: list[str], line: int) -> list[CsvWarning]:
    """The warning for a row of an assumed layout that is shorter or longer than the header."""
    if len(record) < len(names):
        missing = ", ".join(repr(name) for name in names[len(record) :])
        return [
            CsvWarning(
                "short-row",
                f"the row has {len(record)} of the header's {len(names)} fields; "
                f"the missing last ones are read as empty ({missing})",
                line,
            )
        ]
    if len(record) > len(names):
        return [
            CsvWarning(
                "long-row",
                f"the row has {len(record)} fields, the header {len(names)}; the ones beyond are kept "
                f"in 'extra' as 'field {len(names) + 1}' ...",
                line,
            )
        ]
    return []


def _find_header(text: str, layout: Layout, source: str) -> tuple[int, str, list[str]]:
    """The header: its line, the delimiter, its cells. The first non-empty line, or
    (``header_search``) the first of the first non-empty lines that holds every required column."""
    known = layout.known
    required = {c.field for c in layout.columns if c.required}
    candidates: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n", 200)[:200], start=1):
        if len(candidates) == layout.header_search:
            break
        if line.strip():  # blank lines before the header are skipped
            candidates.append((number, line))
    chosen = next(
        (
            (number, line, *choose_delimiter(line, known))
            for number, line in candidates
            if layout.header_search == 1 or required <= _fields(line, known)
        ),
        None,
    )
    if chosen is None:
        raise CsvFormatError(
            f"{source}: none of the first {layout.header_search} lines is the header of a {layout.title} "
            f"(columns such as {', '.join(repr(c.title) for c in layout.columns if c.required)} expected)",
            line=None,
        )
    number, line, delimiter, cells = chosen
    found = _fields(line, known)
    if not found:
        other = _other_delimiter(line, known)
        if other is not None:
            raise CsvFormatError(
                f"{source}: line {number} is separated by {other!r}, not by ';', ',' or TAB: a wrong "
                "delimiter (save the file again as CSV with ';')",
                line=number,
            )
        raise CsvFormatError(
            f"{source}: line {number} is no header of a {layout.title} (columns such as "
            f"{', '.join(repr(c.title) for c in layout.columns[:3])} expected)",
            line=number,
        )
    if layout.strict and len(cells) < len(required) // 2 + 1:
        raise CsvFormatError(
            f"{source}: line {number} splits into {len(cells)} columns with any of ';', ',' or TAB: "
            "a wrong delimiter?",
            line=number,
        )
    return number, delimiter, cells


def _fields(header_text: str, known: Mapping[str, Column]) -> set[str]:
    """The fields a header line names (split by its best delimiter)."""
    _, cells = choose_delimiter(header_text, known)
    return {known[key].field for key in map(header_key, cells) if key in known}


def _other_delimiter(header_text: str, known: Mapping[str, Column]) -> str | None:
    """The character that splits the header into the layout's columns, if it is none of ours."""
    candidates = {char for char in header_text if not char.isalnum() and char not in " .-/()+\"'"}
    for char in sorted(candidates - set(DELIMITERS)):
        if sum(1 for cell in header_text.split(char) if header_key(cell) in known) >= 2:
            return char
    return None


_THOUSANDS_ONLY = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})+-?")


def _decimal_comma(columns: Sequence[Column | None], records: Sequence[tuple[int, int, list[str]]]) -> bool:
    """Whether the file writes amounts with a decimal comma (the German way, and the default):
    yes if any amount has a comma, or if every amount with a point has groups of three digits
    after it (``1.200``: thousands, as a German file writes whole euros); no if amounts have
    points otherwise and none a comma (``12.50``)."""
    amounts = [i for i, column in enumerate(columns) if column and column.kind in ("amount", "percent")]
    pointed: list[str] = []
    for _, _, record in records:
        for i in amounts:
            if i >= len(record):
                continue
            if "," in record[i]:
                return True
            if "." in record[i]:
                pointed.append(record[i].strip())
    return all(_THOUSANDS_ONLY.fullmatch(cell) for cell in pointed)


def _value(column: Column, name: str, cell: str, line: int, table: Table, source: str) -> Any:
    """The value of one cell; ``name`` is its column's header as the file writes it (errors
    and warnings name that, not this version's title)."""
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
            f"{source}: line {line}, column {name!r}: {raw!r} is not {what}",
            line=line,
            column=name,
        ) from exc
    if column.kind == "vsnr":
        return raw, Vsnr.try_parse(raw)
    if column.kind == "code":
        return _code(column, name, raw, line, table)
    return raw


def _code(column: Column, name: str, raw: str, line: int, table: Table) -> Any:
    enum: Callable[[str], Any] = column.codes
    try:
        return enum(raw)
    except ValueError:
        folded = raw.upper()
        for member in column.codes:
            if member.value.upper() == folded:
                return member
    table.warnings.append(CsvWarning("unknown-code", f"unknown {name} {raw!r}; kept as written", line, name))
    return raw
