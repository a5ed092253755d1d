"""Saldenbestätigung and Sammelabrechnung: R+V's monthly CSV packages as typed rows.

The columns are those of R+V's legends ("FAQs zu den Datenpaketen", seed 003), in any order;
``Vers.Nr.`` / ``Versicherungsscheinnummer`` become a normalized :class:`~bipro_ruv.vsnr.Vsnr`
(the raw text kept), amounts :class:`~decimal.Decimal`, dates :class:`~datetime.date`, codes
the enums of :mod:`.codes`. Checks are warnings on the result, never exceptions:
Sammelabrechnung Netto + Versicherungssteuer = Brutto per row; the Saldenbestätigung's open
balance per contract and in total, and R+V's rule that a month without a file is a balance of
0,00 € (:func:`balance_of_month`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from bipro_ruv._wire.fs import storage_error
from bipro_ruv.datapackages.codes import Abrechnungsmodus, Buchungsart, Kategorie, Mahnverfahren
from bipro_ruv.datapackages.csvreader import (
    Column,
    CsvFormat,
    CsvWarning,
    Layout,
    choose_delimiter,
    detect_encoding,
    first_line,
    header_key,
    read_table,
)
from bipro_ruv.errors import CsvFormatError
from bipro_ruv.models import FrozenModel
from bipro_ruv.vsnr import Vsnr

__all__ = [
    "LAYOUTS",
    "SALDEN",
    "SAMMEL",
    "Package",
    "SaldenRow",
    "SammelRow",
    "balance_of_month",
    "detect_kind",
    "read_package",
]

SALDEN = Layout(
    "saldenbestaetigung",
    "Saldenbestätigung",
    (
        Column("customer_number", "Geschäftspartner"),
        Column("policyholder", "Name VN"),
        Column("vsnr", "Vers.Nr.", "vsnr", aliases=("Versicherungsnummer", "Vertragsnummer")),
        Column("product", "Versicherungsart"),
        Column("booked_on", "Buchungsdatum", "date"),
        Column("booking_type", "Buchungsart", "code", codes=Buchungsart),
        Column("period_from", "Abr-Zeitraum von", "date", aliases=("Abr.-Zeitraum von",), required=False),
        Column("period_to", "Abr-Zeitraum bis", "date", aliases=("Abr.-Zeitraum bis",), required=False),
        Column("booking_key", "Lfd. Nr. Bestand", required=False),
        Column("category", "Kategorie", "code", codes=Kategorie),
        Column("booked_amount", "Gebuchter Betrag R+V", "amount", aliases=("Gebuchter Betrag",)),
        Column("open_balance", "Offener Saldo", "amount"),
        Column("commission_rate", "Prov. Prozentsatz", "percent", required=False),
        Column("plate", "KFZ-KZ", aliases=("Kfz-Kennzeichen", "Amtliches Kennzeichen"), required=False),
        Column("claim_number", "Schadennummer", required=False),
        Column(
            "booking_text",
            "Buchungstext / Zusatzvermerk",
            aliases=("Buchungstext", "Zusatzvermerk", "Verwendungszweck"),
            required=False,
        ),
        Column(
            "key_account_number",
            "Großkundennummer (Rahmenvertrag)",
            aliases=("Großkundennummer",),
            required=False,
        ),
        Column("correspondence_note", "Korrespondenzvermerk", required=False),
        Column("coinsurance_number", "Mitversicherungsnummer", required=False),
        Column("settlement_mode", "Abrechnungsmodus", "code", codes=Abrechnungsmodus, required=False),
        Column(
            "dunning",
            "Mahnverfahren EV",
            "code",
            codes=Mahnverfahren,
            aliases=("Mahnverfahren",),
            required=False,
        ),
    ),
)

SAMMEL = Layout(
    "sammelabrechnung",
    "Sammelabrechnung",
    (
        Column("agency", "Agentur", aliases=("Agenturnummer",)),
        Column("customer_number", "Kundennummer"),
        Column("business_line", "Geschäftsfeld"),
        Column("policyholder", "Name VN"),
        Column("vsnr", "Versicherungsscheinnummer", "vsnr", aliases=("Vers.Nr.", "Vertragsnummer")),
        Column("product", "Versicherungsart"),
        Column("insured_risk", "Versichertes Risiko", required=False),
        Column("key_account_number", "Großkundennummer", required=False),
        Column("internal_reference", "Interne Nr.", required=False),
        Column("document_type", "Belegart"),
        Column("period_from", "Abr.-Zeitraum von", "date", aliases=("Abr-Zeitraum von",)),
        Column("period_to", "Abr.-Zeitraum bis", "date", aliases=("Abr-Zeitraum bis",)),
        Column("net_premium", "Nettobeitrag", "amount"),
        Column("insurance_tax", "Versicherungssteuer", "amount"),
        Column("gross_premium", "Bruttobeitrag", "amount"),
    ),
)

LAYOUTS: dict[str, Layout] = {layout.kind: layout for layout in (SALDEN, SAMMEL)}


class _Row(FrozenModel):
    line: int = Field(..., description="The line of the file the row begins on")
    vsnr: Vsnr | None = Field(
        None, description="Versicherungsscheinnummer, normalized (None: none or unreadable)"
    )
    vsnr_raw: str | None = Field(None, description="As written in the file")


class SaldenRow(_Row):
    """One open item of the agency account (legend: "Wie setzten sich die Einzelpositionen ...")."""

    customer_number: str | None = None
    policyholder: str | None = None
    product: str | None = None
    booked_on: date | None = None
    booking_type: Buchungsart | str | None = None
    period_from: date | None = None
    period_to: date | None = None
    booking_key: str | None = None
    category: Kategorie | str | None = None
    booked_amount: Decimal | None = Field(None, description="Negative: zu Lasten R+V")
    open_balance: Decimal | None = None
    commission_rate: Decimal | None = Field(None, description="0: Mischcourtagesatz")
    plate: str | None = None
    claim_number: str | None = None
    booking_text: str | None = None
    key_account_number: str | None = None
    correspondence_note: str | None = None
    coinsurance_number: str | None = None
    settlement_mode: Abrechnungsmodus | str | None = Field(None, description="None: Allzeichnung R+V")
    dunning: Mahnverfahren | str | None = None


class SammelRow(_Row):
    """One premium booking of the period, for the customer's invoice."""

    agency: str | None = None
    customer_number: str | None = None
    business_line: str | None = Field(None, description="Geschäftsfeld: KFZ or Sach")
    policyholder: str | None = None
    product: str | None = None
    insured_risk: str | None = Field(None, description="Versichertes Risiko: the Kfz plate")
    key_account_number: str | None = None
    internal_reference: str | None = None
    document_type: str | None = Field(None, description="Belegart: Erstbeitrag, Nachtrag, Folgebeitrag")
    period_from: date | None = None
    period_to: date | None = None
    net_premium: Decimal | None = None
    insurance_tax: Decimal | None = None
    gross_premium: Decimal | None = None


_ROWS: dict[str, type[_Row]] = {"saldenbestaetigung": SaldenRow, "sammelabrechnung": SammelRow}


class Package(FrozenModel):
    """A data package read from one file: its rows, how it was written, and the warnings."""

    kind: str
    title: str
    source: str
    format: dict[str, Any]
    rows: tuple[Any, ...]
    warnings: tuple[str, ...] = ()

    KINDS: ClassVar[tuple[str, ...]] = tuple(LAYOUTS)

    def total(self, field: str) -> Decimal:
        """The sum of an amount column over all rows (blank cells count 0)."""
        return sum((getattr(row, field) or Decimal(0) for row in self.rows), Decimal(0))

    def by_contract(self, field: str) -> dict[str, Decimal]:
        """The sum of an amount column per contract (normalized VSNR, or the raw text, or "")."""
        sums: dict[str, Decimal] = {}
        for row in self.rows:
            key = str(row.vsnr) if row.vsnr else (row.vsnr_raw or "")
            sums[key] = sums.get(key, Decimal(0)) + (getattr(row, field) or Decimal(0))
        return sums


def detect_kind(data: bytes) -> str:
    """Which package a file is, from its header line: the layout whose required columns are
    all there, and which knows the most of its columns (:func:`choose_delimiter` per layout)."""
    encoding, _ = detect_encoding(data)
    header = first_line(data.decode(encoding, "replace").lstrip("\ufeff"))
    if not header.strip():
        raise CsvFormatError("the file is empty")
    scores = []
    for kind, layout in LAYOUTS.items():
        _, cells = choose_delimiter(header, layout.known)
        found = {layout.known[key].field for key in map(header_key, cells) if key in layout.known}
        if {column.field for column in layout.columns if column.required} <= found:
            scores.append((len(found), kind))
    if not scores:
        raise CsvFormatError(
            "line 1 is no header of a known data package "
            f"({', '.join(layout.title for layout in LAYOUTS.values())})",
            line=1,
        )
    return max(scores)[1]


def read_package(source: str | os.PathLike[str] | bytes, kind: str | None = None) -> Package:
    """A Saldenbestätigung or Sammelabrechnung from a file (path) or its bytes; ``kind`` from
    the header when not given. Raises :class:`~bipro_ruv.errors.CsvFormatError` for a file
    that cannot be read (naming the line and column), never for a readable oddity."""
    if isinstance(source, bytes):
        data, name = source, "the file"
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise storage_error(exc, path, "read the data package") from exc
        name = str(path)
    if kind is None:
        kind = detect_kind(data)
    if kind not in LAYOUTS:
        raise CsvFormatError(f"unknown data package kind {kind!r}; known: {', '.join(LAYOUTS)}")
    table = read_table(data, LAYOUTS[kind], source=name)
    model = _ROWS[kind]
    rows = []
    warnings = [str(w) for w in table.warnings]
    for line, values in table.rows:
        raw, number = values.pop("vsnr", (None, None))
        row = model(line=line, vsnr=number, vsnr_raw=raw, **values)
        rows.append(row)
        if kind == "sammelabrechnung":
            warnings.extend(str(w) for w in _sammel_checks(row))
    return Package(
        kind=kind,
        title=LAYOUTS[kind].title,
        source=name,
        format=_format(table.format),
        rows=tuple(rows),
        warnings=tuple(warnings),
    )


def _format(found: CsvFormat) -> dict[str, Any]:
    return {
        "encoding": found.encoding,
        "bom": found.bom,
        "delimiter": found.delimiter,
        "decimal_comma": found.decimal_comma,
    }


def _sammel_checks(row: Any) -> list[CsvWarning]:
    net, tax, gross = row.net_premium, row.insurance_tax, row.gross_premium
    if None in (net, tax, gross) or net + tax == gross:
        return []
    return [
        CsvWarning(
            "sum",
            f"Nettobeitrag {net} + Versicherungssteuer {tax} = {net + tax}, but Bruttobeitrag is {gross}",
            row.line,
            "Bruttobeitrag",
        )
    ]


def balance_of_month(files: Mapping[str, Package], month: str) -> Decimal:
    """The agency account's open balance at the end of ``month`` (``"2026-10"``) from the
    Saldenbestätigungen by month: R+V's rule (FAQ) is that a month without a file had no open
    items, so its balance is 0,00 €."""
    package = files.get(month)
    if package is None:
        return Decimal("0.00")
    return package.total("open_balance")
