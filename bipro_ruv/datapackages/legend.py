"""Saldenbestätigung and Sammelabrechnung: the two packages whose columns R+V publishes.

The columns are those of R+V's legends ("FAQs zu den Datenpaketen", seed 003), in any order;
``Vers.Nr.`` / ``Versicherungsscheinnummer`` become a normalized :class:`~bipro_ruv.vsnr.Vsnr`
(the raw text kept), amounts :class:`~decimal.Decimal`, dates :class:`~datetime.date`, codes
the enums of :mod:`.codes`. Both layouts are strict: a column the legend does not name is an
error. Checks are warnings on the result: Sammelabrechnung Netto + Versicherungssteuer =
Brutto per row; the Saldenbestätigung's balances are :meth:`Package.total` and
:meth:`Package.by_contract` of ``open_balance``, and a month without a file is 0,00 €
(:func:`~bipro_ruv.datapackages.packages.balance_of_month`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from bipro_ruv.datapackages.codes import Abrechnungsmodus, Buchungsart, Kategorie, Mahnverfahren
from bipro_ruv.datapackages.csvreader import Column, CsvWarning, Layout
from bipro_ruv.datapackages.model import PackageRow, PackageType, amount_check

__all__ = ["SALDEN", "SALDEN_TYPE", "SAMMEL", "SAMMEL_TYPE", "SaldenRow", "SammelRow"]

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


class SaldenRow(PackageRow):
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


class SammelRow(PackageRow):
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


def _sammel_check(row: Any) -> list[CsvWarning]:
    return amount_check(
        row,
        ("net_premium", "insurance_tax"),
        "gross_premium",
        ("Nettobeitrag", "Versicherungssteuer", "Bruttobeitrag"),
    )


SALDEN_TYPE = PackageType(SALDEN, SaldenRow, amounts=("booked_amount", "open_balance"))
SAMMEL_TYPE = PackageType(
    SAMMEL, SammelRow, check=_sammel_check, amounts=("net_premium", "insurance_tax", "gross_premium")
)
