"""R+V's CSV data packages from the portal download area, as the TransferService delivers them.

All packages are written the way German Excel exports are: Windows-1252, ``;`` as delimiter, CRLF line ends,
a header row, decimal comma without thousands separator, a leading ``-`` for negative amounts, dates as
``dd.mm.yyyy``.

* **Saldenbestätigung** and **Sammelabrechnung**: the columns and codes of R+V's published legends ("FAQs zu
  den Datenpaketen"), in the legend's order.
* **Condormigration-Vertragsliste**: the layout ``CONDOR_MIGRATION_HEADER``, which the project's parser
  expects; old numbers as Condor printed them (2+6 digits with a slash, or 11 digits starting with 74).
* **Courtageabrechnung** (both generations: before the LVRG and from February 2016, two columns more and four
  renamed), **Bestandsübertragungsliste** and **KFZ-Beitragsvergleich**: R+V's real columns are not public;
  these are the layouts the library assumes (``bipro_ruv.datapackages.assumed``), built from the legend's
  terms (Buchungsart codes, Prov. Prozentsatz). The headers are written here on their own, not taken from the
  library's layouts, so that a change on one side shows in the tests.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal

from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER, SandboxContract
from bipro_ruv.sandbox.content.gdv_writer import installment_period

__all__ = [
    "BESTANDSUEBERTRAGUNG_HEADER",
    "CONDOR_MIGRATION_HEADER",
    "COURTAGE_HEADER",
    "COURTAGE_HEADER_LVRG",
    "CSV_ENCODING",
    "KFZ_VERGLEICH_HEADER",
    "SALDEN_HEADER",
    "SAMMELABRECHNUNG_HEADER",
    "bestandsuebertragungsliste",
    "condor_migration_list",
    "courtageabrechnung",
    "kfz_beitragsvergleich",
    "saldenbestaetigung",
    "sammelabrechnung",
]

CSV_ENCODING = "cp1252"

SALDEN_HEADER = (
    "Geschäftspartner",
    "Name VN",
    "Vers.Nr.",
    "Versicherungsart",
    "Buchungsdatum",
    "Buchungsart",
    "Abr-Zeitraum von",
    "Abr-Zeitraum bis",
    "Lfd. Nr. Bestand",
    "Kategorie",
    "Gebuchter Betrag R+V",
    "Offener Saldo",
    "Prov. Prozentsatz",
    "KFZ-KZ",
    "Schadennummer",
    "Buchungstext / Zusatzvermerk",
    "Großkundennummer (Rahmenvertrag)",
    "Korrespondenzvermerk",
    "Mitversicherungsnummer",
    "Abrechnungsmodus",
    "Mahnverfahren EV",
)

SAMMELABRECHNUNG_HEADER = (
    "Agentur",
    "Kundennummer",
    "Geschäftsfeld",
    "Name VN",
    "Versicherungsscheinnummer",
    "Versicherungsart",
    "Versichertes Risiko",
    "Großkundennummer",
    "Interne Nr.",
    "Belegart",
    "Abr.-Zeitraum von",
    "Abr.-Zeitraum bis",
    "Nettobeitrag",
    "Versicherungssteuer",
    "Bruttobeitrag",
)

CONDOR_MIGRATION_HEADER = (
    "Agenturnummer",
    "Alte Vertragsnummer",
    "Neue Vertragsnummer",
    "Sparte",
    "Migrationsdatum",
    "Name VN",
)

COURTAGE_HEADER = (
    "Agenturnummer",
    "Abrechnungsdatum",
    "Vers.Nr.",
    "Name VN",
    "Versicherungsart",
    "Provisionsart",
    "Bemessungsgrundlage",
    "Prov. Prozentsatz",
    "Provisionsbetrag",
    "Buchungstext",
)

# From the February 2016 statement (LVRG): four columns renamed, two added (Vergütungsmodell,
# Haftungszeit bis).
COURTAGE_HEADER_LVRG = (
    "Agenturnummer",
    "Abrechnungsdatum",
    "Vers.Nr.",
    "Name VN",
    "Versicherungsart",
    "Courtageart",
    "Bewertungsgrundlage",
    "Courtagesatz",
    "Courtagebetrag",
    "Vergütungsmodell",
    "Haftungszeit bis",
    "Buchungstext",
)

KFZ_VERGLEICH_HEADER = (
    "Agenturnummer",
    "Vers.Nr.",
    "Name VN",
    "KFZ-KZ",
    "Fahrzeug",
    "Hauptfälligkeit",
    "SF-Klasse bisher",
    "SF-Klasse neu",
    "Typklasse",
    "Regionalklasse",
    "Beitrag bisher",
    "Beitrag neu",
    "Differenz",
)

BESTANDSUEBERTRAGUNG_HEADER = (
    "Agenturnummer",
    "Vers.Nr.",
    "Name VN",
    "PLZ",
    "Ort",
    "Versicherungsart",
    "Jahresbeitrag",
    "Übertragungsdatum",
    "Übertragungsgrund",
)

# Kfz premiums are shown per insured Sparte (the legend: "zum Beispiel Haftpflicht und Kasko").
_KFZ_SPLIT = (("Kfz-Haftpflicht", Decimal("0.62")), ("Vollkasko", Decimal("0.38")))
_SPARTE_NAMES = {
    "010": "Leben",
    "030": "Unfall",
    "040": "Haftpflicht",
    "050": "Kraftfahrt",
    "070": "Rechtsschutz",
    "140": "Wohngebäude",
    "000": "Verbundene Sparten",
}


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _percent(value: Decimal) -> str:
    return "0" if not value else _amount(value)  # the legend: "0 = Mischcourtagesatz"


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _write(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(CSV_ENCODING)


def _lfd_nr(contract: SandboxContract, period: date) -> str:
    """Lfd. Nr. Bestand: R+V's internal booking key; here a stable number derived from VSNR and period."""
    return f"{int(contract.vsnr[2:]) % 9973:04d}{period:%y%m}"


def _salden_row(
    contract: SandboxContract,
    booked: date,
    code: str,
    kategorie: str,
    amount: Decimal,
    *,
    period: tuple[date, date] | None = None,
    claim_number: str = "",
    text: str = "",
    dunning: bool = False,
) -> list[str]:
    span = [_day(period[0]), _day(period[1])] if period else ["", ""]
    return [
        contract.customer.customer_number,
        contract.customer.list_name,
        contract.vsnr,
        contract.product,
        _day(booked),
        code,
        *span,
        _lfd_nr(contract, period[0] if period else booked),
        kategorie,
        _amount(amount),
        _amount(amount),
        _percent(contract.commission_rate) if kategorie in {"Beitrag", "Provision"} else "",
        contract.kennzeichen or "",
        claim_number,
        text,
        "",  # Großkundennummer (Rahmenvertrag)
        "",  # Korrespondenzvermerk
        "",  # Mitversicherungsnummer
        "",  # Abrechnungsmodus: empty = Allzeichnung R+V
        "aktiv" if dunning else "",
    ]


def saldenbestaetigung(
    contracts: Sequence[SandboxContract],
    *,
    cutoff: date,
    claim: tuple[SandboxContract, str, Decimal] | None = None,
    dunning: Collection[str] = (),
    clearing_balance: Decimal = Decimal("-12.40"),
) -> bytes:
    """Open items of the agency account at the month-end ``cutoff``.

    Broker-collected contracts (Vermittlerinkasso) carry their open premium per due date (Buchungsart VS for
    the first premium, FB after it; Kategorie Beitrag). Every contract with a commission carries the
    commission credited this month (AP in the first premium period, BP after it; negative = zu Lasten R+V).
    A claim booking (SCHD) and the total of the clearing account (KLÄR) follow, as the legend describes.
    Contracts whose VSNR is in ``dunning`` are flagged in the column "Mahnverfahren EV".
    """
    rows: list[list[str]] = []
    for contract in contracts:
        period = installment_period(contract, cutoff)
        net = contract.installment
        first = contract.start >= period[0]
        flagged = contract.vsnr in dunning
        if contract.collection == "1":
            code = "VS" if first else "FB"
            gross = net + contract.tax_on(net)
            rows.append(
                _salden_row(contract, period[0], code, "Beitrag", gross, period=period, dunning=flagged)
            )
        commission = contract.commission_on(net)
        if commission:
            code = "AP" if first else "BP"
            rows.append(
                _salden_row(contract, cutoff, code, "Provision", -commission, period=period, dunning=flagged)
            )
    if claim is not None:
        contract, claim_number, paid = claim
        text = "Schadenzahlung an Anspruchsteller"
        rows.append(
            _salden_row(contract, cutoff, "SCHD", "Schaden", -paid, claim_number=claim_number, text=text)
        )
    klaer = ["", "", "", "", _day(cutoff), "KLÄR", "", "", "", "Klärkonto", _amount(clearing_balance)]
    rows.append(
        [
            *klaer,
            _amount(clearing_balance),
            "",
            "",
            "",
            "Saldo Klärungsfälle Agenturkonto",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    return _write(SALDEN_HEADER, rows)


def sammelabrechnung(
    contracts: Sequence[SandboxContract], *, period_end: date, agency: str = AGENCY_NUMBER
) -> bytes:
    """All premium bookings of the broker-collected (Vermittlerinkasso) contracts, for customer invoices."""
    rows: list[list[str]] = []
    for contract in contracts:
        period = installment_period(contract, period_end)
        kfz = contract.sparte == "050"
        parts = _KFZ_SPLIT if kfz else ((contract.product, Decimal(1)),)
        belegart = "Erstbeitrag" if contract.start >= period[0] else "Folgebeitrag"
        for name, share in parts:
            net = (contract.installment * share).quantize(Decimal("0.01"))
            tax = contract.tax_on(net)
            rows.append(
                [
                    agency,
                    contract.customer.customer_number,
                    "KFZ" if kfz else "Sach",
                    contract.customer.list_name,
                    contract.vsnr,
                    name,
                    contract.kennzeichen or "",
                    "",
                    "",
                    belegart,
                    _day(period[0]),
                    _day(period[1]),
                    _amount(net),
                    _amount(tax),
                    _amount(net + tax),
                ]
            )
    return _write(SAMMELABRECHNUNG_HEADER, rows)


def courtageabrechnung(
    contracts: Sequence[SandboxContract], *, settled: date, agency: str = AGENCY_NUMBER, lvrg: bool = True
) -> bytes:
    """Commission per contract: Abschlussprovision (AP) in the first year, Bestandsprovision (BP) after.

    ``lvrg``: the layout from February 2016 (Courtageart ... Courtagebetrag, with the payment model and the
    end of the liability: life contracts are paid in advance, "vorschüssig", and liable for five years); else
    the layout before it.
    """
    rows: list[list[str]] = []
    for contract in contracts:
        if not contract.commission_rate:
            continue
        period = installment_period(contract, settled)
        first_year = (settled - contract.start).days < 366
        net = contract.installment
        row = [
            agency,
            _day(settled),
            contract.vsnr,
            contract.customer.list_name,
            contract.product,
            "AP" if first_year else "BP",
            _amount(net),
            _amount(contract.commission_rate),
            _amount(contract.commission_on(net)),
        ]
        if lvrg:
            life = contract.sparte == "010"
            liable = contract.start.replace(year=contract.start.year + 5) if life else None
            row += ["vorschüssig" if life else "ratierlich", _day(liable) if liable else ""]
        rows.append([*row, f"Courtage {_day(period[0])} - {_day(period[1])}"])
    return _write(COURTAGE_HEADER_LVRG if lvrg else COURTAGE_HEADER, rows)


def kfz_beitragsvergleich(
    contracts: Iterable[SandboxContract], *, main_due: date, agency: str = AGENCY_NUMBER
) -> bytes:
    """Each Kfz contract's annual premium before and after the main due date ``main_due`` (1.1.), with the
    no-claims class one step better after a claim-free year and the type and regional classes."""
    rows: list[list[str]] = []
    for contract in contracts:
        if contract.sparte != "050" or contract.vehicle is None:
            continue
        seed = int(contract.vsnr[-4:])
        years = max(1, main_due.year - contract.start.year)
        sf_before, sf_after = f"SF {years - 1 or '1/2'}", f"SF {years}"
        after = (contract.annual_premium * Decimal(100 + seed % 11 - 4) / 100).quantize(Decimal("0.01"))
        vehicle = contract.vehicle
        rows.append(
            [
                agency,
                contract.vsnr,
                contract.customer.list_name,
                vehicle.kennzeichen,
                f"{vehicle.manufacturer} {vehicle.model}",
                _day(main_due),
                sf_before,
                sf_after,
                str(10 + seed % 15),
                str(1 + seed % 12),
                _amount(contract.annual_premium),
                _amount(after),
                _amount(after - contract.annual_premium),
            ]
        )
    return _write(KFZ_VERGLEICH_HEADER, rows)


def condor_migration_list(contracts: Iterable[SandboxContract], *, agency: str = AGENCY_NUMBER) -> bytes:
    """Which new R+V number each migrated Condor contract received (old number -> new number)."""
    rows = [
        [
            agency,
            contract.previous_vsnr,
            contract.vsnr,
            _SPARTE_NAMES[contract.sparte],
            _day(contract.migration_date),
            contract.customer.list_name,
        ]
        for contract in contracts
        if contract.previous_vsnr and contract.migration_date
    ]
    return _write(CONDOR_MIGRATION_HEADER, rows)


def bestandsuebertragungsliste(
    contracts: Iterable[SandboxContract], *, transfer_date: date, agency: str = AGENCY_NUMBER
) -> bytes:
    """Contracts leaving the agency (the list goes to the giving agency only)."""
    rows = [
        [
            agency,
            contract.vsnr,
            contract.customer.list_name,
            contract.customer.postcode,
            contract.customer.city,
            contract.product,
            _amount(contract.annual_premium),
            _day(transfer_date),
            "Vermittlerwechsel auf Kundenwunsch",
        ]
        for contract in contracts
    ]
    return _write(BESTANDSUEBERTRAGUNG_HEADER, rows)
