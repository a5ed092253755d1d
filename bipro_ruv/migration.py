"""Condor migrations: R+V's "Condormigration-Vertragsliste" and a VSNR translator.

Since 22.12.2016 R+V offers the Condormigration-Vertragsliste in the portal download area
("Eine Übersicht, welche Vertragsnummer ein migrierter Vertrag neu erhalten hat"). Its
column layout is not public. **Assumed layout** (the one our sandbox generates)::

    Agenturnummer;Alte Vertragsnummer;Neue Vertragsnummer;Sparte;Migrationsdatum;Name VN

windows-1252, ``;``-separated, the old number an old Condor 2+6 number (``70/850632``) or
an 11-digit number (e.g. Condor Kfz ``74…``), the new number 11 digits, dates
``dd.mm.yyyy``. Because the real file may differ, :func:`parse_migration_list` is
tolerant: it detects the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else
windows-1252), the delimiter (``;``, tab or ``,``) and the header row among the first
lines by known column names (:data:`HEADER_ALIASES`). Rows whose numbers cannot be read
are returned as :class:`MigrationRowError` with their line number, never dropped
silently; only a file without a recognisable header raises :class:`DataPackageError`.
Quoted fields may not span lines.

:class:`VsnrTranslator` is the "Übersetzungsfunktion" R+V asks broker software for: it
maps a delivered VSNR back to the form the broker stored. Rules, in this order; the first
rule that finds anything decides, and more than one candidate is reported as ambiguous
instead of guessed:

1. ``EXACT``: same canonical number (separators, padding and Filialdirektion ignored).
2. ``SAME_NUMBER``: one side lacks the Arbeitsgebiet and the nine digits agree.
3. ``MIGRATION``: the migration list links the delivered number to a stored one (new to
   old and old to new; an old Condor number may have been split into several new ones),
   each counterpart matched by rules 1 and 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import Enum
from pathlib import Path
from types import MappingProxyType

from pydantic import Field

from bipro_ruv._wire.fs import storage_error
from bipro_ruv.errors import DataPackageError
from bipro_ruv.models import FrozenModel
from bipro_ruv.vsnr import InvalidVsnr, Vsnr, VsnrKind

__all__ = [
    "HEADER_ALIASES",
    "CondorMigration",
    "DataPackageError",
    "MatchRule",
    "MigrationList",
    "MigrationRowError",
    "VsnrMatch",
    "VsnrTranslator",
    "parse_migration_list",
    "read_migration_list",
]

_DELIMITERS = (";", "\t", ",")
_HEADER_SEARCH_LINES = 20

HEADER_ALIASES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        field: frozenset(names.split())
        for field, names in {
            "old": "altevertragsnummer vertragsnummeralt altevertragsnr vertragsnralt altevsnr vsnralt "
            "alteversicherungsscheinnummer versicherungsscheinnummeralt bisherigevertragsnummer "
            "vertragsnummerbisher bisherigevsnr vsnrbisher altenummer condorvertragsnummer",
            "new": "neuevertragsnummer vertragsnummerneu neuevertragsnr vertragsnrneu neuevsnr vsnrneu "
            "neueversicherungsscheinnummer versicherungsscheinnummerneu neuenummer rvvertragsnummer",
            "agency": "agenturnummer agenturnr agentur vermittlernummer vermittlernr",
            "sparte": "sparte spartenbezeichnung spartentext",
            "migrated_on": "migrationsdatum datummigration migriertam umstellungsdatum datum",
            "policyholder": "namevn vnname versicherungsnehmer namedesversicherungsnehmers name vn",
        }.items()
    }
)
"""Accepted column names per field, compared after :func:`_header_key` folding."""

_REQUIRED = ("old", "new")
_GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class CondorMigration(FrozenModel):
    """One row of the Condormigration-Vertragsliste."""

    old: Vsnr = Field(..., description="Alte Vertragsnummer (old Condor or pre-migration number)")
    new: Vsnr = Field(..., description="Neue Vertragsnummer (Arbeitsgebiet + 9 digits)")
    agency: str | None = Field(None, description="Agenturnummer")
    sparte: str | None = Field(None, description="Sparte, as written")
    migrated_on: date | None = Field(None, description="Migrationsdatum, None if absent or unreadable")
    migrated_on_raw: str = Field("", description="Migrationsdatum as written")
    policyholder: str | None = Field(None, description="Name VN")
    line_number: int = Field(..., ge=1, description="Line in the file, counting from 1")
    raw: str = Field(..., description="The line as it was in the file")


class MigrationRowError(FrozenModel):
    """A row that was not turned into a :class:`CondorMigration`, and why."""

    line_number: int = Field(..., ge=1)
    message: str
    raw: str


class MigrationList(FrozenModel):
    """The readable rows of one migration list, the rejected ones, and what was detected."""

    records: tuple[CondorMigration, ...]
    errors: tuple[MigrationRowError, ...]
    encoding: str = Field(..., description="Detected encoding, e.g. utf-8-sig or cp1252")
    delimiter: str
    header_line: int = Field(..., ge=1)


def read_migration_list(path: str | os.PathLike[str]) -> MigrationList:
    """Read and parse a Condormigration-Vertragsliste file.

    A file that cannot be read raises :class:`~bipro_ruv.errors.StorageError`, one
    without a recognisable header :class:`~bipro_ruv.errors.DataPackageError`.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise storage_error(exc, Path(path), "read the migration list") from exc
    return parse_migration_list(data)


def parse_migration_list(data: bytes) -> MigrationList:
    """Parse the bytes of a Condormigration-Vertragsliste (see the module docstring)."""
    text, encoding = _decode(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header_index, delimiter, columns = _find_header(lines)
    records: list[CondorMigration] = []
    errors: list[MigrationRowError] = []
    # One reader over the rest of the file, not one per line: a quoted field may hold a line
    # break (a policyholder's name with a second line), and its record goes on in the next line.
    reader = csv.reader(io.StringIO("\n".join(lines[header_index + 1 :]), newline=""), delimiter=delimiter)
    start = header_index + 2  # 1-based line of the record being read
    try:
        for record in reader:
            end = header_index + 1 + reader.line_num
            cells = [cell.strip() for cell in record]
            if any(cells):
                raw = "\n".join(lines[start - 1 : end])
                row = _parse_row(cells, columns, line_number=start, raw=raw)
                if isinstance(row, CondorMigration):
                    records.append(row)
                else:
                    errors.append(row)
            start = end + 1
    except csv.Error as exc:
        raise DataPackageError(f"line {start} of the migration list is no readable CSV: {exc}") from exc
    return MigrationList(
        records=tuple(records),
        errors=tuple(errors),
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_index + 1,
    )


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict_decode(data, "utf-16"), "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        return _strict_decode(data, "utf-8-sig"), "utf-8-sig"
    if b"\x00" in data:
        raise DataPackageError("the file is binary, not a text list (an Excel file must be saved as CSV)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Five byte values are undefined in windows-1252; latin-1 reads every byte.
        return data.decode("latin-1"), "latin-1"


def _strict_decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataPackageError(
            f"the file starts with a {encoding} byte order mark but is not {encoding}"
        ) from exc


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _header_key(cell: str) -> str:
    """Fold a column name: case, umlauts, spaces and punctuation do not matter."""
    folded = cell.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return "".join(char for char in folded if char.isascii() and char.isalnum())


def _columns(cells: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, cell in enumerate(cells):
        key = _header_key(cell)
        for field, aliases in HEADER_ALIASES.items():
            if key in aliases and field not in columns:
                columns[field] = position
    return columns


def _find_header(lines: list[str]) -> tuple[int, str, dict[str, int]]:
    """The first line (of the first few non-empty ones) that names the old and new number."""
    non_empty = [index for index, line in enumerate(lines) if line.strip()][:_HEADER_SEARCH_LINES]
    for index in non_empty:
        readings = [(delimiter, _columns(_cells(lines[index], delimiter))) for delimiter in _DELIMITERS]
        delimiter, columns = max(readings, key=lambda reading: len(reading[1]))
        if all(field in columns for field in _REQUIRED):
            return index, delimiter, columns
    raise DataPackageError(
        "no header row with the old and the new contract number was found in the first "
        f"{_HEADER_SEARCH_LINES} lines; expected e.g. 'Alte Vertragsnummer;Neue Vertragsnummer'"
    )


def _parse_row(
    cells: list[str], columns: dict[str, int], *, line_number: int, raw: str
) -> CondorMigration | MigrationRowError:
    needed = max(columns[field] for field in _REQUIRED) + 1
    if len(cells) < needed:
        return MigrationRowError(
            line_number=line_number,
            message=f"the row has {len(cells)} fields; the old and new numbers need {needed}",
            raw=raw,
        )
    # Optional columns missing at the end of a row count as empty.
    value = {field: cells[position] if position < len(cells) else "" for field, position in columns.items()}
    problems: list[str] = []
    old = _number(value["old"], "old number", problems)
    new = _number(value["new"], "new number", problems)
    if new is not None and not new.is_complete:
        problems.append(f"new number {value['new']!r} is not Arbeitsgebiet + 9 digits")
    if old is None or new is None or problems:
        return MigrationRowError(line_number=line_number, message="; ".join(problems), raw=raw)
    date_raw = value.get("migrated_on", "")
    return CondorMigration(
        old=old,
        new=new,
        agency=value.get("agency") or None,
        sparte=value.get("sparte") or None,
        migrated_on=_parse_date(date_raw),
        migrated_on_raw=date_raw,
        policyholder=value.get("policyholder") or None,
        line_number=line_number,
        raw=raw,
    )


def _number(text: str, label: str, problems: list[str]) -> Vsnr | None:
    try:
        return Vsnr(text)
    except InvalidVsnr as exc:
        problems.append(f"{label}: {exc.reason}" if text else f"{label} is empty")
        return None


def _parse_date(text: str) -> date | None:
    """``dd.mm.yyyy`` (also ``d.m.yy``) or ISO ``yyyy-mm-dd``; None if unreadable."""
    german, iso = _GERMAN_DATE.fullmatch(text), _ISO_DATE.fullmatch(text)
    if german:
        day, month, year = (int(part) for part in german.groups())
        year += 2000 if len(german.group(3)) == 2 else 0
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


class MatchRule(str, Enum):
    """Which rule of :class:`VsnrTranslator` found the stored number."""

    EXACT = "exact"
    SAME_NUMBER = "same_number"
    MIGRATION = "migration"


class VsnrMatch(FrozenModel):
    """The outcome of :meth:`VsnrTranslator.resolve`."""

    delivered: str | None = Field(..., description="The number as delivered")
    rule: MatchRule | None = Field(None, description="The rule that found candidates")
    candidates: tuple[str, ...] = Field((), description="Stored forms, as the broker stored them")

    @property
    def stored(self) -> str | None:
        """The one stored form, or None for no match or an ambiguous one."""
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def is_ambiguous(self) -> bool:
        return len(self.candidates) > 1


class VsnrTranslator:
    """Map delivered VSNRs to the forms a broker's system stored (rules: module docstring).

    ``stored`` are the numbers as the broker system holds them, in any written form;
    values that are no VSNR at all are kept in :attr:`unparsed` and never match. Both
    sides are read with ``Vsnr(..., validate=False)``, so a hand-typed number with an
    odd separator still matches.
    """

    def __init__(self, stored: Iterable[str], migrations: Iterable[CondorMigration] = ()) -> None:
        self._by_key: dict[str, list[str]] = {}
        self._by_number: dict[str, list[tuple[Vsnr, str]]] = {}
        unparsed: list[str] = []
        for original in dict.fromkeys(stored):
            vsnr = Vsnr.try_parse(original, validate=False)
            if vsnr is None:
                unparsed.append(original)
                continue
            self._by_key.setdefault(str(vsnr), []).append(original)
            if vsnr.kind is VsnrKind.MODERN:
                self._by_number.setdefault(vsnr.number, []).append((vsnr, original))
        self.unparsed: tuple[str, ...] = tuple(unparsed)
        self._counterparts: dict[str, list[Vsnr]] = {}
        for record in migrations:
            self._counterparts.setdefault(str(record.old), []).append(record.new)
            self._counterparts.setdefault(str(record.new), []).append(record.old)

    def resolve(self, delivered: str | None) -> VsnrMatch:
        """Apply the rules in order; see :class:`VsnrMatch` for reading the outcome."""
        vsnr = Vsnr.try_parse(delivered, validate=False)
        if vsnr is None:
            return VsnrMatch(delivered=delivered)
        direct = self._direct(vsnr)
        if direct is not None:
            return VsnrMatch(delivered=delivered, rule=direct[0], candidates=direct[1])
        via: dict[str, None] = {}
        for counterpart in self._counterparts.get(str(vsnr), []):
            found = self._direct(counterpart)
            via.update(dict.fromkeys(found[1] if found else ()))
        if via:
            return VsnrMatch(delivered=delivered, rule=MatchRule.MIGRATION, candidates=tuple(via))
        return VsnrMatch(delivered=delivered)

    def match(self, delivered: str | None) -> str | None:
        """The stored form of ``delivered``; None if there is none or more than one."""
        return self.resolve(delivered).stored

    def match_all(self, delivered: str | None) -> tuple[str, ...]:
        """Every stored form the first successful rule found (more than one: ambiguous)."""
        return self.resolve(delivered).candidates

    def _direct(self, vsnr: Vsnr) -> tuple[MatchRule, tuple[str, ...]] | None:
        exact = self._by_key.get(str(vsnr))
        if exact:
            return MatchRule.EXACT, tuple(exact)
        if vsnr.kind is VsnrKind.MODERN:
            same = [
                original
                for stored, original in self._by_number.get(vsnr.number, [])
                if stored.is_complete != vsnr.is_complete
            ]
            if same:
                return MatchRule.SAME_NUMBER, tuple(same)
        return None
