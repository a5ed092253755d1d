"""The Condormigration-Vertragsliste: which new R+V number each migrated Condor contract got.

Since 22.12.2016 R+V offers the list in the portal download area ("Eine Übersicht, welche
Vertragsnummer ein migrierter Vertrag neu erhalten hat"), weekly, and through the transfer
service. Its column layout is not public. **Assumed layout** (the one our sandbox writes)::

    Agenturnummer;Alte Vertragsnummer;Neue Vertragsnummer;Sparte;Migrationsdatum;Name VN

the old number an old Condor 2+6 number (``70/850632``) or an 11-digit number (e.g. Condor
Kfz ``74…``), the new number Arbeitsgebiet + 9 digits, dates ``dd.mm.yyyy``. The file is
read by the one CSV reader of :mod:`.csvreader` (encoding, delimiter, quoting with line
breaks), with what this list needs besides:

* the header may follow a title line (it is looked for among the first 20 non-empty lines)
  and goes by many names (:data:`CONDOR_MIGRATION`'s aliases);
* a column it does not know (or names twice) is kept in ``extra``; a row missing its last
  fields reads them as empty, fields beyond the header go to ``extra``; a stray quote is text
  (each with a warning in :attr:`MigrationList.warnings`);
* a row whose numbers cannot be read is no error of the file: it is kept apart as a
  :class:`MigrationRowError` with its line and text (in a :class:`~bipro_ruv.datapackages.Package`,
  a warning); an unreadable Migrationsdatum is None with the text kept.

The rows feed :class:`~bipro_ruv.migration.VsnrTranslator` and
:class:`~bipro_ruv.contracts.ContractIndex` (``migrations=``).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field

from bipro_ruv._wire.fs import storage_error
from bipro_ruv.datapackages.csvreader import Column, Layout, Table, read_table
from bipro_ruv.datapackages.model import PackageType
from bipro_ruv.models import FrozenModel
from bipro_ruv.vsnr import InvalidVsnr, Vsnr

__all__ = [
    "CONDOR_MIGRATION",
    "CONDOR_MIGRATION_TYPE",
    "CondorMigration",
    "MigrationList",
    "MigrationRowError",
    "parse_migration_list",
    "read_migration_list",
]

CONDOR_MIGRATION = Layout(
    "condor_migration",
    "Condormigration-Vertragsliste",
    (
        Column(
            "agency",
            "Agenturnummer",
            aliases=("Agenturnr", "Agentur", "Vermittlernummer", "Vermittlernr"),
            required=False,
        ),
        Column(
            "old",
            "Alte Vertragsnummer",
            aliases=(
                "Vertragsnummer alt",
                "Alte Vertragsnr",
                "Vertragsnr alt",
                "Alte VSNR",
                "VSNR alt",
                "Alte Versicherungsscheinnummer",
                "Versicherungsscheinnummer alt",
                "Bisherige Vertragsnummer",
                "Vertragsnummer bisher",
                "Bisherige VSNR",
                "VSNR bisher",
                "Alte Nummer",
                "Condor-Vertragsnummer",
            ),
        ),
        Column(
            "new",
            "Neue Vertragsnummer",
            aliases=(
                "Vertragsnummer neu",
                "Neue Vertragsnr",
                "Vertragsnr neu",
                "Neue VSNR",
                "VSNR neu",
                "Neue Versicherungsscheinnummer",
                "Versicherungsscheinnummer neu",
                "Neue Nummer",
                "R+V-Vertragsnummer",
            ),
        ),
        Column("sparte", "Sparte", aliases=("Spartenbezeichnung", "Spartentext"), required=False),
        Column(
            "migrated_on",
            "Migrationsdatum",
            aliases=("Datum Migration", "Migriert am", "Umstellungsdatum", "Datum"),
            required=False,
        ),
        Column(
            "policyholder",
            "Name VN",
            aliases=("VN Name", "Versicherungsnehmer", "Name des Versicherungsnehmers", "Name", "VN"),
            required=False,
        ),
    ),
    strict=False,
    header_search=20,
)
"""The assumed layout; every column but the two numbers may be missing. Dates and numbers are
read as text here and checked per row (:func:`parse_migration_list`)."""

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
    extra: dict[str, str] = Field(default_factory=dict, description="Cells of columns not in the layout")

    @property
    def vsnr(self) -> Vsnr:
        """The contract the row is filed under: the new number (it is the one R+V uses now)."""
        return self.new

    @property
    def vsnr_raw(self) -> str:
        return str(self.new)

    @property
    def line(self) -> int:
        return self.line_number


class MigrationRowError(FrozenModel):
    """A row that was not turned into a :class:`CondorMigration`, and why."""

    line_number: int = Field(..., ge=1)
    message: str
    raw: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.message}; the row is left out ({self.raw!r})"


class MigrationList(FrozenModel):
    """The readable rows of one migration list, the rejected ones, and what was detected."""

    records: tuple[CondorMigration, ...]
    errors: tuple[MigrationRowError, ...]
    encoding: str = Field(..., description="Detected encoding, e.g. utf-8-sig or cp1252")
    delimiter: str
    header_line: int = Field(..., ge=1)
    warnings: tuple[str, ...] = Field((), description="Unknown columns, long rows")


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
    """Parse the bytes of a Condormigration-Vertragsliste (see the module docstring).
    Raises :class:`~bipro_ruv.errors.CsvFormatError` (a :class:`DataPackageError`) for a
    file that is no such list."""
    table = read_table(data, CONDOR_MIGRATION, source="the migration list")
    records, errors = _rows(table)
    encoding = table.format.encoding
    if table.format.bom and encoding == "utf-8":
        encoding = "utf-8-sig"
    return MigrationList(
        records=tuple(records),
        errors=tuple(errors),
        encoding=encoding,
        delimiter=table.format.delimiter,
        header_line=table.header_line,
        warnings=tuple(str(w) for w in table.warnings),
    )


def _rows(table: Table) -> tuple[list[CondorMigration], list[MigrationRowError]]:
    positions = [table.position(field) for field in _REQUIRED]
    needed = max(p for p in positions if p is not None) + 1
    records: list[CondorMigration] = []
    errors: list[MigrationRowError] = []
    for record in table.rows:
        raw = table.raw(record)
        if record.fields < needed:
            errors.append(
                MigrationRowError(
                    line_number=record.line,
                    message=f"the row has {record.fields} fields; the old and new numbers need {needed}",
                    raw=raw,
                )
            )
            continue
        value = record.values
        problems: list[str] = []
        old = _number(value["old"] or "", "old number", problems)
        new = _number(value["new"] or "", "new number", problems)
        if new is not None and not new.is_complete:
            problems.append(f"new number {value['new']!r} is not Arbeitsgebiet + 9 digits")
        if old is None or new is None or problems:
            errors.append(MigrationRowError(line_number=record.line, message="; ".join(problems), raw=raw))
            continue
        date_raw = value.get("migrated_on") or ""
        records.append(
            CondorMigration(
                old=old,
                new=new,
                agency=value.get("agency"),
                sparte=value.get("sparte"),
                migrated_on=_parse_date(date_raw),
                migrated_on_raw=date_raw,
                policyholder=value.get("policyholder"),
                line_number=record.line,
                raw=raw,
                extra=value.get("extra", {}),
            )
        )
    return records, errors


def _build(table: Table) -> tuple[list[Any], list[str]]:
    records, errors = _rows(table)
    return list(records), [str(error) for error in errors]


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


CONDOR_MIGRATION_TYPE = PackageType(CONDOR_MIGRATION, CondorMigration, build=_build)
