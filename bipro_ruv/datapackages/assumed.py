"""Courtageabrechnung, Bestandsübertragungsliste, KFZ-Beitragsvergleich: assumed layouts.

R+V delivers these files through the portal and the transfer service, but their columns are
not public (ruv-specifics.md §3: "NOT FOUND ... These layouts have to come from real sample
files"). The layouts below are **this project's documented assumptions**, built from the
terms of R+V's published legends (Vers.Nr., Name VN, Prov. Prozentsatz, the Buchungsart
codes) and from what the FAQ says each file is for. Three things keep a real file readable
when it differs:

* the columns are found by name (with the aliases below), in any order;
* an unknown column is no error: its cells are kept in the row's ``extra`` with a warning;
* a file with other names is read with more names for the fields:
  ``read_package(path, kind="courtage", names={"amount": "Courtage in EUR"})`` (API) or
  ``bipro-ruv csv FILE --kind courtage --column amount="Courtage in EUR"`` (command line).

**Courtageabrechnung** (``courtage``): R+V's FAQ says that with the February 2016 statement
(the LVRG) "zwei Felder werden neu aufgenommen, vier Felder umbenannt", in a legend that is
not public. Assumed: the four renamed fields are the commission's kind, basis, rate and
amount (``Provisionsart`` -> ``Courtageart``, ``Bemessungsgrundlage`` ->
``Bewertungsgrundlage``, ``Prov. Prozentsatz`` -> ``Courtagesatz``, ``Provisionsbetrag``
-> ``Courtagebetrag``); the two added ones are what the LVRG's new "Detailblatt" shows, the
payment model (``Vergütungsmodell``: vorschüssig or ratierlich) and the end of the
cancellation liability (``Haftungszeit bis``, five years under the LVRG). Both generations
are read into one row model; :attr:`Package.generation` says which one a file was.

**Bestandsübertragungsliste** (``bestandsuebertragung``): the contracts leaving the agency
(only the giving agency gets the list, weekly on Saturdays), for retention calls.

**KFZ-Beitragsvergleich** (``kfz_beitragsvergleich``, R+V's K-KINK file): each Kfz
contract's premium before and after the main due date 1.1., with the no-claims classes and
the type and regional classes that explain the change.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import Field

from bipro_ruv.datapackages.codes import Buchungsart
from bipro_ruv.datapackages.csvreader import Column, CsvWarning, Layout
from bipro_ruv.datapackages.model import PackageRow, PackageType, amount_check

__all__ = [
    "COURTAGE",
    "COURTAGE_TYPE",
    "KFZ_VERGLEICH",
    "KFZ_VERGLEICH_TYPE",
    "LVRG",
    "PRE_LVRG",
    "TRANSFER",
    "TRANSFER_TYPE",
    "CourtageRow",
    "KfzComparisonRow",
    "TransferRow",
]

_VSNR_NAMES = ("Versicherungsscheinnummer", "Vertragsnummer", "VSNR", "Versicherungsnummer")
_AGENCY_NAMES = ("Agentur", "Agenturnr.", "Vermittlernummer")

PRE_LVRG = "vor LVRG (bis Januar 2016)"
LVRG = "LVRG (ab Februar 2016)"

COURTAGE = Layout(
    "courtage",
    "Courtageabrechnung",
    (
        Column("agency", "Agenturnummer", aliases=_AGENCY_NAMES, required=False),
        Column("settled_on", "Abrechnungsdatum", "date", aliases=("Abrechnungstag",)),
        Column("vsnr", "Vers.Nr.", "vsnr", aliases=_VSNR_NAMES),
        Column("policyholder", "Name VN", aliases=("Versicherungsnehmer",), required=False),
        Column("product", "Versicherungsart", aliases=("Sparte",), required=False),
        Column("commission_type", "Courtageart", "code", aliases=("Provisionsart",), codes=Buchungsart),
        Column("basis", "Bewertungsgrundlage", "amount", aliases=("Bemessungsgrundlage",), required=False),
        Column(
            "rate",
            "Courtagesatz",
            "percent",
            aliases=("Prov. Prozentsatz", "Provisionssatz", "Provisionsprozentsatz"),
            required=False,
        ),
        Column("amount", "Courtagebetrag", "amount", aliases=("Provisionsbetrag", "Provision", "Courtage")),
        Column("payment_model", "Vergütungsmodell", required=False),
        Column("liability_until", "Haftungszeit bis", "date", aliases=("Stornohaftung bis",), required=False),
        Column("booking_text", "Buchungstext", aliases=("Text", "Zusatzvermerk"), required=False),
    ),
    strict=False,
    generations=(
        (PRE_LVRG, ("Provisionsart", "Bemessungsgrundlage", "Prov. Prozentsatz", "Provisionsbetrag")),
        (
            LVRG,
            (
                "Courtageart",
                "Bewertungsgrundlage",
                "Courtagesatz",
                "Courtagebetrag",
                "Vergütungsmodell",
                "Haftungszeit bis",
            ),
        ),
    ),
)

TRANSFER = Layout(
    "bestandsuebertragung",
    "Bestandsübertragungsliste",
    (
        Column("agency", "Agenturnummer", aliases=("Abgebende Agentur", *_AGENCY_NAMES), required=False),
        Column("vsnr", "Vers.Nr.", "vsnr", aliases=_VSNR_NAMES),
        Column("policyholder", "Name VN", aliases=("Versicherungsnehmer",), required=False),
        Column("postcode", "PLZ", aliases=("Postleitzahl",), required=False),
        Column("city", "Ort", aliases=("Wohnort",), required=False),
        Column("product", "Versicherungsart", aliases=("Sparte",), required=False),
        Column("annual_premium", "Jahresbeitrag", "amount", aliases=("Beitrag",), required=False),
        Column("transferred_on", "Übertragungsdatum", "date", aliases=("Übertragung zum", "Wirksam ab")),
        Column("reason", "Übertragungsgrund", aliases=("Grund",), required=False),
    ),
    strict=False,
)

KFZ_VERGLEICH = Layout(
    "kfz_beitragsvergleich",
    "KFZ-Beitragsvergleich",
    (
        Column("agency", "Agenturnummer", aliases=_AGENCY_NAMES, required=False),
        Column("vsnr", "Vers.Nr.", "vsnr", aliases=_VSNR_NAMES),
        Column("policyholder", "Name VN", aliases=("Versicherungsnehmer",), required=False),
        Column("plate", "KFZ-KZ", aliases=("Amtl. Kennzeichen", "Kennzeichen"), required=False),
        Column("vehicle", "Fahrzeug", aliases=("Hersteller / Typ",), required=False),
        Column("main_due", "Hauptfälligkeit", "date", required=False),
        Column("sf_class_before", "SF-Klasse bisher", aliases=("SF bisher", "SF-Klasse alt"), required=False),
        Column("sf_class_after", "SF-Klasse neu", aliases=("SF neu",), required=False),
        Column("type_class", "Typklasse", required=False),
        Column("regional_class", "Regionalklasse", required=False),
        Column(
            "premium_before", "Beitrag bisher", "amount", aliases=("Beitrag Vorjahr", "Jahresbeitrag alt")
        ),
        Column("premium_after", "Beitrag neu", "amount", aliases=("Jahresbeitrag neu",)),
        Column("difference", "Differenz", "amount", aliases=("Veränderung",), required=False),
    ),
    strict=False,
)


class CourtageRow(PackageRow):
    """One commission booking of the monthly Courtageabrechnung (either generation)."""

    agency: str | None = None
    settled_on: date | None = None
    policyholder: str | None = None
    product: str | None = None
    commission_type: Buchungsart | str | None = Field(
        None, description="Courtageart (before the LVRG: Provisionsart), the legend's codes AP, BP, ..."
    )
    basis: Decimal | None = Field(None, description="Bewertungsgrundlage (Bemessungsgrundlage)")
    rate: Decimal | None = Field(None, description="Courtagesatz in percent; 0 = Mischcourtagesatz")
    amount: Decimal | None = Field(None, description="Courtagebetrag (Provisionsbetrag)")
    payment_model: str | None = Field(None, description="Vergütungsmodell (LVRG): vorschüssig, ratierlich")
    liability_until: date | None = Field(None, description="Haftungszeit bis (LVRG): end of the liability")
    booking_text: str | None = None


class TransferRow(PackageRow):
    """One contract leaving the agency (Bestandsübertragungsliste)."""

    agency: str | None = Field(None, description="The giving agency")
    policyholder: str | None = None
    postcode: str | None = None
    city: str | None = None
    product: str | None = None
    annual_premium: Decimal | None = None
    transferred_on: date | None = None
    reason: str | None = None


class KfzComparisonRow(PackageRow):
    """One Kfz contract's premium before and after the main due date (KFZ-Beitragsvergleich)."""

    agency: str | None = None
    policyholder: str | None = None
    plate: str | None = None
    vehicle: str | None = None
    main_due: date | None = None
    sf_class_before: str | None = None
    sf_class_after: str | None = None
    type_class: str | None = None
    regional_class: str | None = None
    premium_before: Decimal | None = None
    premium_after: Decimal | None = None
    difference: Decimal | None = None


_CENT = Decimal("0.01")


def _courtage_check(row: Any) -> list[CsvWarning]:
    """Basis × rate = amount (a rate of 0 is the Mischcourtagesatz and is not checked)."""
    if row.basis is None or not row.rate or row.amount is None:
        return []
    expected = (row.basis * row.rate / 100).quantize(_CENT, ROUND_HALF_UP)
    if abs(expected) == abs(row.amount):  # a cancellation books the amount negative
        return []
    return [
        CsvWarning(
            "sum",
            f"Bewertungsgrundlage {row.basis} × Courtagesatz {row.rate} % = {expected}, "
            f"but Courtagebetrag is {row.amount}",
            row.line,
            "Courtagebetrag",
        )
    ]


def _kfz_check(row: Any) -> list[CsvWarning]:
    return amount_check(
        row,
        ("premium_after", "premium_before"),
        "difference",
        ("Beitrag neu", "Beitrag bisher", "Differenz"),
        subtract=True,
    )


COURTAGE_TYPE = PackageType(COURTAGE, CourtageRow, check=_courtage_check, amounts=("basis", "amount"))
TRANSFER_TYPE = PackageType(TRANSFER, TransferRow, amounts=("annual_premium",))
KFZ_VERGLEICH_TYPE = PackageType(
    KFZ_VERGLEICH,
    KfzComparisonRow,
    check=_kfz_check,
    amounts=("premium_before", "premium_after", "difference"),
)
