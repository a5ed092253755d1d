"""Seeded mailbox content of the sandbox TransferService (BiPRO Norm 430.4/430.5 ``Lieferung`` and ``Datei``).

R+V delivers through the TransferService "vortagesaktuell dieselben Dokumente, die wir auch in unserem
Dokumentenarchiv bereitstellen" - broker copies of policies, Nachträge, invoices, dunning letters and customer
letters - plus the files of the portal download area (GDV data, CSV data packages). This module builds such a
mailbox from the seeded book in ``_contracts``; the sandbox server serves it. Everything is deterministic: the
same ``today`` and ``seed`` give the same shipments, byte for byte.

Four sets:

* ``default_mailbox()``: fifteen realistic shipments (letters, a Kfz-Anforderungsschreiben without VSNR,
  the 2024 Condor merger under both VU numbers, GDV Bestand and Inkasso, five CSV data packages, one of
  them zipped);
* ``hostile_shipments()``: one shipment per defect (see below);
* ``bulk_shipments()``: many small one-PDF shipments for benchmarks;
* ``large_document_shipment()``: one document of any size, generated chunk by chunk and never held whole.

Hostile shipments and what a correct client does with them:

* ``DEFECTS_THAT_PASS`` - hostile file names (path traversal, reserved device names, control characters,
  300 characters, no extension, two documents of the same name). Not an error: the client sanitizes the names,
  stores every document inside its target folder and may acknowledge the shipment.
* ``DEFECTS_THAT_FAIL`` - a zip bomb, a zip inside a zip, a Pruefsumme that does not match, and a multipart
  reply the server cuts short. Each is an error of that one shipment: the client stores nothing of it, does
  not acknowledge it, and carries on with the other shipments.

Control characters in names are limited to TAB, CR and LF (plus Unicode format characters): XML 1.0 cannot
carry other C0 controls, so no real server can send them either.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from bipro_ruv.sandbox import _csv, _gdv
from bipro_ruv.sandbox._contracts import (
    AGENCY_NUMBER,
    BROKER_NAME,
    SANDBOX_CONTRACTS,
    SandboxContract,
    find_contract,
)
from bipro_ruv.sandbox._pdf import make_pdf

__all__ = [
    "CHUNK_SIZE",
    "DEFECTS_THAT_FAIL",
    "DEFECTS_THAT_PASS",
    "SANDBOX_CONTRACTS",
    "ZIP_BOMB_MEMBER_SIZE",
    "SandboxContract",
    "SeedDocument",
    "SeedShipment",
    "bulk_shipments",
    "default_mailbox",
    "hostile_shipments",
    "large_document_shipment",
]

CHUNK_SIZE = 1 << 20
"""Largest chunk ``SeedDocument.produce`` yields (1 MiB)."""

ZIP_BOMB_MEMBER_SIZE = 200 * (1 << 20)
"""Uncompressed size of the zip bomb's only member; the archive itself stays near 200 KB."""

DEFECTS_THAT_PASS = frozenset(
    {"path_traversal", "reserved_name", "control_characters", "long_name", "no_extension", "duplicate_names"}
)
DEFECTS_THAT_FAIL = frozenset({"zip_bomb", "nested_zip", "wrong_checksum", "broken_multipart"})

_AVAILABLE_YEARS = 3  # VerfuegbarBis: the public BiPRO sample shows Einstellzeitpunkt + 3 years
_PDF = "application/pdf"
_CSV = "text/csv"
_ZIP = "application/zip"


@dataclass(frozen=True)
class SeedDocument:
    """One ``gevo:Datei`` of a shipment, with its bytes produced on demand."""

    file_name: str  # Dateiname exactly as sent (may be hostile on purpose)
    content_type: str  # xmime:contentType
    dokumentart: str | None  # DokumentartID
    vsnr: str | None  # Versicherungsscheinnummer (11 digits) or None
    vu_number: str | None  # VU-Nummer of the risk carrier
    kurzbeschreibung: str | None
    compression: str  # Komprimierungstyp: KEINE or ZIP
    checksum: tuple[str, str] | None  # Pruefsumme (Typ, Wert) as sent; may be deliberately wrong
    size: int  # bytes delivered in Daten
    sha256: str  # sha256 hex of those bytes
    produce: Callable[[], Iterator[bytes]] = field(
        repr=False, compare=False
    )  # chunks of <= 1 MiB, repeatable

    def read_all(self) -> bytes:
        """All bytes at once; for small documents and tests."""
        return b"".join(self.produce())


@dataclass(frozen=True)
class SeedShipment:
    """One ``tran:Lieferung``; each document becomes one ``tran:Transfer``."""

    id: str  # ST_LieferungID, 1..25 characters
    kategorie: str  # 9-digit GeVo category
    art_der_lieferung: str
    einstellzeitpunkt: datetime  # naive, local
    verfuegbar_bis: date
    sparte: str | None
    enthaelt_nur_daten: bool
    periodische_lieferung: bool
    documents: tuple[SeedDocument, ...]
    defect: str | None = None  # hostile shipments: what is wrong (DEFECTS_THAT_PASS | DEFECTS_THAT_FAIL)


# -- documents -----------------------------------------------------------------------------------------------


def _chunked(data: bytes) -> Callable[[], Iterator[bytes]]:
    def produce() -> Iterator[bytes]:
        for offset in range(0, len(data), CHUNK_SIZE):
            yield data[offset : offset + CHUNK_SIZE]

    return produce


def _checksum(kind: str | None, data: bytes) -> tuple[str, str] | None:
    if kind is None:
        return None
    return kind, hashlib.new(kind.lower(), data).hexdigest()


def _document(
    data: bytes,
    file_name: str,
    *,
    content_type: str = _PDF,
    dokumentart: str | None = None,
    contract: SandboxContract | None = None,
    vu_number: str | None = None,
    kurzbeschreibung: str | None = None,
    compression: str = "KEINE",
    checksum: str | None = None,
) -> SeedDocument:
    return SeedDocument(
        file_name=file_name,
        content_type=content_type,
        dokumentart=dokumentart,
        vsnr=contract.vsnr if contract else None,
        vu_number=contract.vu_number if contract else vu_number,
        kurzbeschreibung=kurzbeschreibung,
        compression=compression,
        checksum=_checksum(checksum, data),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        produce=_chunked(data),
    )


def _zip(members: Sequence[tuple[str, bytes]], stamp: datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(_zip_info(name, stamp), data)
    return buffer.getvalue()


def _zip_info(name: str, stamp: datetime) -> zipfile.ZipInfo:
    # A fixed timestamp and creator system keep the archive bytes deterministic.
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0
    return info


def _shipment(
    shipment_id: str,
    kategorie: str,
    art: str,
    placed: datetime,
    documents: Sequence[SeedDocument],
    *,
    sparte: str | None = None,
    data_only: bool = False,
    periodic: bool = False,
    defect: str | None = None,
) -> SeedShipment:
    return SeedShipment(
        id=shipment_id,
        kategorie=kategorie,
        art_der_lieferung=art,
        einstellzeitpunkt=placed,
        verfuegbar_bis=_years_later(placed.date(), _AVAILABLE_YEARS),
        sparte=sparte,
        enthaelt_nur_daten=data_only,
        periodische_lieferung=periodic,
        documents=tuple(documents),
        defect=defect,
    )


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- letters -------------------------------------------------------------------------------------------------


def _euro(value: Decimal) -> str:
    whole, cents = f"{value:.2f}".split(".")
    return f"{int(whole):,}".replace(",", ".") + f",{cents} EUR"


def _letter(contract: SandboxContract, subject: str, body: Sequence[str], written: date) -> list[str]:
    customer = contract.customer
    return [
        contract.insurer_name,
        "SANDBOX - Testdokument, keine echte Korrespondenz",
        f"Maklerexemplar für {BROKER_NAME}, Agentur {AGENCY_NUMBER}",
        "",
        customer.display_name,
        customer.street,
        f"{customer.postcode} {customer.city}",
        "",
        f"Datum: {written:%d.%m.%Y}",
        f"Versicherungsnummer: {contract.vsnr}",
        f"Versicherungsnehmer: {customer.display_name}",
        f"Produkt: {contract.product}",
        "",
        subject,
        "",
        customer.letter_salutation,
        "",
        *body,
        "",
        "Mit freundlichen Grüßen",
        contract.insurer_name,
    ]


def _premium_lines(contract: SandboxContract) -> list[str]:
    net = contract.annual_premium
    return [
        f"Jahresbeitrag netto: {_euro(net)}",
        f"Versicherungsteuer ({contract.tax_rate:.0f} %): {_euro(contract.tax_on(net))}",
        f"Jahresbeitrag brutto: {_euro(net + contract.tax_on(net))}",
    ]


def _pdf_document(
    contract: SandboxContract,
    title: str,
    body: Sequence[str],
    written: date,
    *,
    file_name: str,
    dokumentart: str,
    kurzbeschreibung: str,
    checksum: str | None = None,
) -> SeedDocument:
    pdf = make_pdf(title, _letter(contract, title, body, written))
    return _document(
        pdf,
        file_name,
        dokumentart=dokumentart,
        contract=contract,
        kurzbeschreibung=kurzbeschreibung,
        checksum=checksum,
    )


# -- the default mailbox -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Shared inputs of one default mailbox: the day, the seeded randomness and the shipment IDs."""

    today: date
    rng: random.Random
    ids: Iterator[str]

    def night_of(self, days_ago: int) -> datetime:
        """R+V provides documents overnight: a time between 01:00 and 05:59 on that day."""
        moment = time(self.rng.randint(1, 5), self.rng.randint(0, 59), self.rng.randint(0, 59))
        return datetime.combine(self.today - timedelta(days=days_ago), moment)

    def recent_night(self) -> datetime:
        return self.night_of(self.rng.randint(0, 5))


def _police_with_invoice(plan: _Plan) -> SeedShipment:
    contract = find_contract("44090312655")
    written = plan.today - timedelta(days=2)
    period = _gdv.installment_period(contract, written)
    gross = contract.installment + contract.tax_on(contract.installment)
    police = _pdf_document(
        contract,
        "Versicherungsschein",
        [
            "wir freuen uns, Sie als Kunden der R+V begrüßen zu dürfen. Mit diesem Versicherungsschein "
            f"dokumentieren wir den Versicherungsschutz Ihrer {contract.product}.",
            "",
            f"Versicherungsbeginn: {contract.start:%d.%m.%Y}, 00:00 Uhr",
            f"Hauptfälligkeit: {contract.start:%d.%m.}, Zahlungsweise: jährlich",
            *_premium_lines(contract),
            "",
            "Es gelten die beigefügten Allgemeinen Versicherungsbedingungen und Klauseln.",
        ],
        written,
        file_name=f"Versicherungsschein_{contract.vsnr}_{written:%Y%m%d}.pdf",
        dokumentart="Police",
        kurzbeschreibung="Versicherungsschein Gewerbebündel",
        checksum="SHA256",
    )
    invoice = _pdf_document(
        contract,
        "Beitragsrechnung",
        [
            f"für den Zeitraum {period[0]:%d.%m.%Y} bis {period[1]:%d.%m.%Y} berechnen wir Ihnen:",
            f"Nettobeitrag: {_euro(contract.installment)}",
            f"Versicherungsteuer ({contract.tax_rate:.0f} %): {_euro(contract.tax_on(contract.installment))}",
            f"Zu zahlender Betrag: {_euro(gross)}",
            "",
            "Der Beitrag wird über Ihren Vermittler abgerechnet. Bitte zahlen Sie an Ihren Vermittler.",
        ],
        written,
        file_name=f"Beitragsrechnung_{contract.vsnr}_{written:%Y%m%d}.pdf",
        dokumentart="Beitragsrechnung",
        kurzbeschreibung="Erstbeitragsrechnung",
    )
    return _shipment(
        next(plan.ids), "100007000", "1002", plan.night_of(1), [police, invoice], sparte=contract.sparte
    )


def _nachtrag(plan: _Plan) -> SeedShipment:
    contract = find_contract("48205517093")
    written = plan.today - timedelta(days=3)
    effective = _gdv.installment_period(contract, written)[1] + timedelta(days=1)
    document = _pdf_document(
        contract,
        "Nachtrag zum Versicherungsschein",
        [
            f"wir haben Ihren Vertrag mit Wirkung zum {effective:%d.%m.%Y} geändert:",
            "Die Versicherungssumme 1914 wurde an den aktuellen Baupreisindex angepasst "
            "(gleitender Neuwert). Der Versicherungsschutz bleibt im Übrigen unverändert.",
            "",
            *_premium_lines(contract),
        ],
        written,
        file_name=f"Nachtrag Wohngebäude {contract.vsnr}.pdf",
        dokumentart="Nachtrag",
        kurzbeschreibung="Nachtrag Anpassung Versicherungssumme",
        checksum="MD5",
    )
    return _shipment(
        next(plan.ids), "120000000", "1002", plan.recent_night(), [document], sparte=contract.sparte
    )


def _mahnung(plan: _Plan) -> SeedShipment:
    contract = find_contract("35781200456")
    written = plan.today - timedelta(days=4)
    due = _gdv.installment_period(contract, written)[0]
    gross = contract.installment + contract.tax_on(contract.installment)
    document = _pdf_document(
        contract,
        "Mahnung",
        [
            f"der am {due:%d.%m.%Y} fällige Folgebeitrag von {_euro(gross)} ist bei uns noch nicht "
            "eingegangen.",
            "Bitte zahlen Sie den Betrag innerhalb von zwei Wochen nach Zugang dieses Schreibens.",
            "Zahlen Sie nicht fristgerecht, sind wir nach § 38 VVG für danach eintretende Versicherungsfälle "
            "leistungsfrei und können den Vertrag fristlos kündigen.",
            "",
            "Mahnverfahren EV: aktiv",
        ],
        written,
        file_name=f"Mahnung_{contract.vsnr}_{written:%Y%m%d}.pdf",
        dokumentart="Mahnung",
        kurzbeschreibung="Mahnung Folgebeitrag",
    )
    return _shipment(
        next(plan.ids), "140012021", "1201", plan.recent_night(), [document], sparte=contract.sparte
    )


def _schaden(plan: _Plan, claim_number: str, paid: Decimal) -> SeedShipment:
    contract = find_contract("32701234568")
    written = plan.today - timedelta(days=2)
    accident = written - timedelta(days=plan.rng.randint(20, 60))
    document = _pdf_document(
        contract,
        f"Ihr Schaden {claim_number}",
        [
            f"zum Kfz-Haftpflichtschaden vom {accident:%d.%m.%Y} mit Ihrem Fahrzeug {contract.kennzeichen} "
            "haben wir die Ansprüche des Geschädigten geprüft.",
            f"Wir haben an den Anspruchsteller {_euro(paid)} gezahlt und den Schaden damit abgeschlossen.",
            "Der Schaden wird bei der Einstufung in die Schadenfreiheitsklasse zum nächsten 1. Januar "
            "berücksichtigt. Sie können die Rückstufung vermeiden, indem Sie uns den Betrag innerhalb von "
            "sechs Monaten erstatten.",
            "",
            f"Schadennummer: {claim_number}",
        ],
        written,
        file_name=f"Schadenschreiben_{claim_number}.pdf",
        dokumentart="Schadenerledigung",
        kurzbeschreibung=f"Schadenabrechnung {claim_number}",
        checksum="SHA256",
    )
    return _shipment(
        next(plan.ids), "150013000", "2102", plan.recent_night(), [document], sparte=contract.sparte
    )


def _kuendigung(plan: _Plan) -> SeedShipment:
    contract = find_contract("84002519731")
    written = plan.today - timedelta(days=5)
    received = written - timedelta(days=plan.rng.randint(3, 10))
    ends = _gdv.installment_period(contract, written)[1]
    document = _pdf_document(
        contract,
        "Bestätigung Ihrer Kündigung",
        [
            f"wir bestätigen den Eingang Ihrer Kündigung vom {received:%d.%m.%Y}.",
            f"Ihr Vertrag endet fristgerecht zum Ablauf des {ends:%d.%m.%Y}, 24:00 Uhr.",
            "Bis dahin besteht der Versicherungsschutz unverändert fort. Wir bedauern Ihre Entscheidung und "
            "würden uns freuen, Sie künftig wieder als Kunden begrüßen zu dürfen.",
        ],
        written,
        file_name=f"Kuendigungsbestaetigung_{contract.vsnr}.pdf",
        dokumentart="Anschreiben",
        kurzbeschreibung="Kündigungsbestätigung",
    )
    return _shipment(
        next(plan.ids), "160010002", "1002", plan.recent_night(), [document], sparte=contract.sparte
    )


def _kfz_anforderung(plan: _Plan) -> SeedShipment:
    """A Kfz-Antragsanforderungsschreiben: no VSNR yet, only R+V's own ID number and the Kennzeichen."""
    customer = find_contract("30418820375").customer
    letter_id = f"{plan.rng.randrange(10**9, 10**10)}"
    evb = "".join(plan.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ23456789") for _ in range(7))
    written = plan.today - timedelta(days=1)
    lines = [
        "R+V Allgemeine Versicherung AG",
        "SANDBOX - Testdokument, keine echte Korrespondenz",
        f"Maklerexemplar für {BROKER_NAME}, Agentur {AGENCY_NUMBER}",
        "",
        customer.display_name,
        customer.street,
        f"{customer.postcode} {customer.city}",
        "",
        f"Datum: {written:%d.%m.%Y}",
        f"ID-Nummer: {letter_id}",
        "Amtliches Kennzeichen: WI-EM 2024",
        f"eVB-Nummer: {evb}",
        "",
        customer.letter_salutation,
        "",
        f"mit der eVB-Nummer {evb} wurde das Fahrzeug mit dem Kennzeichen WI-EM 2024 zugelassen.",
        "Der Antrag zur Kfz-Versicherung liegt uns noch nicht vor. Bitte senden Sie uns den unterschriebenen "
        "Antrag innerhalb von 14 Tagen. Geht er nicht rechtzeitig ein, endet die vorläufige Deckung.",
        "Bitte geben Sie bei Rückfragen immer die oben genannte ID-Nummer an.",
        "",
        "Mit freundlichen Grüßen",
        "R+V Allgemeine Versicherung AG",
    ]
    document = _document(
        make_pdf("Anforderung Ihres Kfz-Versicherungsantrags", lines),
        f"Kfz-Anforderungsschreiben_{letter_id}.pdf",
        dokumentart="Anschreiben",
        vu_number="5438",
        kurzbeschreibung=f"Antragsanforderung ID {letter_id}, Kennzeichen WI-EM 2024",
        checksum="MD5",
    )
    return _shipment(next(plan.ids), "100005100", "1002", plan.recent_night(), [document], sparte="050")


def _merger(plan: _Plan) -> list[SeedShipment]:
    """The same VSNR under Condor (5339, Abgang) and R+V Allgemeine (5438, replacement policy)."""
    old = find_contract("18560093318", "5339")
    new = find_contract("18560093318", "5438")
    written = plan.today - timedelta(days=3)
    notice = _pdf_document(
        old,
        "Mitteilung zur Verschmelzung",
        [
            "die Condor Allgemeine Versicherungs-AG ist auf die R+V Allgemeine Versicherung AG verschmolzen "
            "worden, rückwirkend zum 01.01.2024.",
            "Ihr Vertrag wird unter der bisherigen Versicherungsnummer unverändert fortgeführt. Ihr neuer "
            "Vertragspartner ist die R+V Allgemeine Versicherung AG.",
        ],
        written,
        file_name=f"Nachtrag_{old.vsnr}_Condor.pdf",
        dokumentart="Nachtrag",
        kurzbeschreibung="Verschmelzung Condor auf R+V",
    )
    policy = _pdf_document(
        new,
        "Versicherungsschein (Ersatzpolice)",
        [
            "nach der Verschmelzung der Condor Allgemeine Versicherungs-AG erhalten Sie einen neuen "
            "Versicherungsschein der R+V Allgemeine Versicherung AG. Versicherungsnummer, Umfang und "
            "Beitrag bleiben unverändert.",
            "",
            *_premium_lines(new),
        ],
        written,
        file_name=f"Ersatzpolice_{new.vsnr}.pdf",
        dokumentart="Police",
        kurzbeschreibung="Ersatzpolice nach Verschmelzung",
        checksum="SHA256",
    )
    placed = plan.night_of(2)
    return [
        _shipment(next(plan.ids), "120000000", "1002", placed, [notice], sparte=old.sparte),
        _shipment(
            next(plan.ids), "170011000", "1002", placed + timedelta(minutes=3), [policy], sparte=new.sparte
        ),
    ]


def _last_weekday(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _gdv_shipments(plan: _Plan) -> list[SeedShipment]:
    created = _last_weekday(plan.today, 2)  # the weekly Gesamtbestand comes on Wednesdays
    sach = [c for c in SANDBOX_CONTRACTS if c.vu_number != "1141"]
    bestand = _document(
        _gdv.bestand_file(sach, created=created),
        f"GDV_Bestand_5438_{created:%Y%m%d}.txt",
        content_type="text/plain",
        vu_number="5438",
        kurzbeschreibung="GDV-Gesamtbestand",
        checksum="SHA256",
    )
    booked = plan.today - timedelta(days=1)
    inkasso = _document(
        _gdv.inkasso_file([c for c in sach if c.active], booking_date=booked),
        f"GDV_Inkasso_5438_{booked:%Y%m%d}.txt",
        content_type="text/plain",
        vu_number="5438",
        kurzbeschreibung="GDV-Inkassodaten",
        checksum="MD5",
    )
    return [
        _shipment(
            next(plan.ids),
            "999010010",
            "1001",
            datetime.combine(created, time(4, 15)),
            [bestand],
            data_only=True,
            periodic=True,
        ),
        _shipment(
            next(plan.ids), "999050000", "1201", plan.night_of(1), [inkasso], data_only=True, periodic=True
        ),
    ]


def _csv_shipments(plan: _Plan, claim: tuple[SandboxContract, str, Decimal]) -> list[SeedShipment]:
    cutoff = plan.today.replace(day=1) - timedelta(days=1)  # Monatsultimo of the previous month
    live = [c for c in SANDBOX_CONTRACTS if c.active and c.vu_number != "1141"]
    agency = AGENCY_NUMBER
    salden = _document(
        _csv.saldenbestaetigung(live, cutoff=cutoff, claim=claim, dunning={"35781200456"}),
        f"Saldenbestaetigung_{agency}_{cutoff:%Y%m}.csv",
        content_type=_CSV,
        dokumentart="Abrechnung",
        kurzbeschreibung="Saldenbestätigung",
        checksum="SHA256",
    )
    sammel_name = f"Sammelabrechnung_{agency}_{cutoff:%Y%m}"
    sammel_csv = _csv.sammelabrechnung([c for c in live if c.collection == "1"], period_end=cutoff)
    sammel = _document(
        _zip([(f"{sammel_name}.csv", sammel_csv)], datetime.combine(cutoff, time(22, 0))),
        f"{sammel_name}.zip",
        content_type=_ZIP,
        dokumentart="Abrechnung",
        kurzbeschreibung="Sammelabrechnung",
        compression="ZIP",
        checksum="SHA256",
    )
    settled = cutoff - timedelta(days=max(0, cutoff.weekday() - 4))  # last working day of that month
    courtage = _document(
        _csv.courtageabrechnung(live, settled=settled),
        f"Courtageabrechnung_{agency}_{settled:%Y%m%d}.csv",
        content_type=_CSV,
        dokumentart="Abrechnung",
        kurzbeschreibung="Courtageabrechnung",
    )
    weekly = plan.today - timedelta(days=1)
    condor = _document(
        _csv.condor_migration_list(SANDBOX_CONTRACTS),
        f"Condormigration-Vertragsliste_{agency}_{weekly:%Y%m%d}.csv",
        content_type=_CSV,
        kurzbeschreibung="Condormigration-Vertragsliste",
        checksum="SHA256",
    )
    saturday = _last_weekday(plan.today, 5)  # published on Saturdays
    leaving = [find_contract("34117705329"), find_contract("29650041287")]
    next_month = (plan.today.replace(day=28) + timedelta(days=4)).replace(day=1)
    transfer = _document(
        _csv.bestandsuebertragungsliste(leaving, transfer_date=next_month),
        f"Bestandsuebertragungsliste_{agency}_{saturday:%Y%m%d}.csv",
        content_type=_CSV,
        kurzbeschreibung="Bestandsübertragungsliste",
    )
    placed_monthly = datetime.combine(plan.today.replace(day=1), time(3, 30))  # monthly, on the 1st
    return [
        _shipment(
            next(plan.ids), "999000000", "1301", placed_monthly, [salden], data_only=True, periodic=True
        ),
        _shipment(
            next(plan.ids),
            "999000000",
            "1301",
            placed_monthly + timedelta(minutes=7),
            [sammel],
            data_only=True,
            periodic=True,
        ),
        _shipment(
            next(plan.ids),
            "999000000",
            "1301",
            datetime.combine(settled, time(23, 10)),
            [courtage],
            data_only=True,
            periodic=True,
        ),
        _shipment(
            next(plan.ids), "999000000", "1001", plan.night_of(1), [condor], data_only=True, periodic=True
        ),
        _shipment(
            next(plan.ids),
            "999000000",
            "1001",
            datetime.combine(saturday, time(5, 0)),
            [transfer],
            data_only=True,
            periodic=True,
        ),
    ]


def default_mailbox(today: date | None = None, seed: int = 5438) -> list[SeedShipment]:
    """The realistic R+V-like mailbox of the sandbox broker, oldest shipment first."""
    today = today or date.today()
    rng = random.Random(f"{seed}/{today.isoformat()}")  # noqa: S311 - reproducible test data, not secrets
    ids = iter(str(number) for number in rng.sample(range(10_000_000, 100_000_000), 20))
    plan = _Plan(today, rng, ids)
    claim_number = f"{rng.randrange(10**9, 10**10)}"
    claim = (find_contract("32701234568"), claim_number, Decimal("2350.00"))
    shipments = [
        _police_with_invoice(plan),
        _nachtrag(plan),
        _mahnung(plan),
        _schaden(plan, claim_number, claim[2]),
        _kuendigung(plan),
        _kfz_anforderung(plan),
        *_merger(plan),
        *_gdv_shipments(plan),
        *_csv_shipments(plan, claim),
    ]
    return sorted(shipments, key=lambda shipment: (shipment.einstellzeitpunkt, shipment.id))


# -- bulk ----------------------------------------------------------------------------------------------------

_BULK_ID = "@" * 14  # placeholders of the exact width of the values stamped in
_BULK_VSNR = "#" * 11
_BULK_KINDS = (
    ("Police", "100007000", "1002"),
    ("Nachtrag", "120000000", "1002"),
    ("Beitragsrechnung", "140013000", "1201"),
)


@lru_cache(maxsize=8)
def _bulk_template(size: int) -> bytes:
    lines = [
        "SANDBOX - Testdokument, keine echte Korrespondenz",
        f"Lieferung: {_BULK_ID}",
        f"Versicherungsnummer: {_BULK_VSNR}",
        "Dieses Dokument dient Last- und Laufzeittests des Dokumentenabrufs.",
    ]
    return make_pdf("Sandbox-Massendokument", lines, min_size=size)


def bulk_shipments(
    count: int, *, start: int = 0, size: int = 2048, today: date | None = None
) -> list[SeedShipment]:
    """``count`` one-PDF shipments ``BULK<10 digits>`` numbered from ``start``.

    Each PDF is ``size`` bytes (or the smallest valid letter, if that is bigger). All share one template with
    the shipment ID and the VSNR stamped in, so building 2000 of them takes milliseconds.
    """
    template = _bulk_template(size)
    base = datetime.combine((today or date.today()) - timedelta(days=1), time(6, 0))
    shipments = []
    for number in range(start, start + count):
        shipment_id = f"BULK{number:010d}"
        contract = SANDBOX_CONTRACTS[number % len(SANDBOX_CONTRACTS)]
        dokumentart, kategorie, art = _BULK_KINDS[number % len(_BULK_KINDS)]
        pdf = template.replace(_BULK_ID.encode(), shipment_id.encode()).replace(
            _BULK_VSNR.encode(), contract.vsnr.encode()
        )
        document = _document(
            pdf,
            f"{dokumentart}_{shipment_id}.pdf",
            dokumentart=dokumentart,
            contract=contract,
            kurzbeschreibung=f"Massendokument {number}",
        )
        shipments.append(
            _shipment(
                shipment_id,
                kategorie,
                art,
                base + timedelta(seconds=number),
                [document],
                sparte=contract.sparte,
            )
        )
    return shipments


# -- large document ------------------------------------------------------------------------------------------


def large_document_shipment(
    size_bytes: int, *, shipment_id: str = "GROSS-0001", today: date | None = None
) -> SeedShipment:
    """One shipment with one document of ``size_bytes`` deterministic pseudo-random bytes.

    The bytes come from ``random.Random`` seeded with the shipment ID, 1 MiB at a time; the SHA-256 is taken
    in one streaming pass here, so the document is never held whole.
    """
    if size_bytes < 0:
        raise ValueError("size_bytes must not be negative")
    seed = int.from_bytes(hashlib.sha256(shipment_id.encode()).digest()[:8], "big")

    def produce() -> Iterator[bytes]:
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        remaining = size_bytes
        while remaining:
            chunk = min(CHUNK_SIZE, remaining)
            remaining -= chunk
            yield rng.randbytes(chunk)

    digest = hashlib.sha256()
    for chunk in produce():
        digest.update(chunk)
    document = SeedDocument(
        file_name=f"{shipment_id}.bin",
        content_type="application/octet-stream",
        dokumentart=None,
        vsnr=None,
        vu_number="5438",
        kurzbeschreibung=f"Großes Dokument, {size_bytes} Bytes",
        compression="KEINE",
        checksum=("SHA256", digest.hexdigest()),
        size=size_bytes,
        sha256=digest.hexdigest(),
        produce=produce,
    )
    placed = datetime.combine((today or date.today()) - timedelta(days=1), time(5, 0))
    return _shipment(shipment_id, "999000000", "1001", placed, [document], data_only=True)


# -- hostile -------------------------------------------------------------------------------------------------

_STAMP = datetime(2024, 8, 7, 4, 0)  # archive timestamps of the hostile set (the day of the merger file)


def _hostile_pdf(note: str, file_name: str, *, contract: SandboxContract | None = None) -> SeedDocument:
    contract = contract or find_contract("30418820375")
    pdf = make_pdf(
        "Sandbox-Prüfdokument",
        ["SANDBOX - Testdokument, keine echte Korrespondenz", note, f"Versicherungsnummer: {contract.vsnr}"],
    )
    return _document(
        pdf, file_name, dokumentart="SonstigesDokument", contract=contract, kurzbeschreibung=note
    )


@lru_cache(maxsize=1)
def _zip_bomb() -> bytes:
    """A zip whose single member inflates to ``ZIP_BOMB_MEMBER_SIZE`` zeros; compressed while streaming."""
    buffer = io.BytesIO()
    zeros = bytes(CHUNK_SIZE)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(_zip_info("Bestandsdaten.csv", _STAMP), "w") as member,
    ):
        for _ in range(ZIP_BOMB_MEMBER_SIZE // CHUNK_SIZE):
            member.write(zeros)
    return buffer.getvalue()


def _nested_zip() -> bytes:
    inner = _zip(
        [("Versicherungsschein.pdf", _hostile_pdf("Verschachteltes Archiv", "x.pdf").read_all())], _STAMP
    )
    return _zip([("Dokumente.zip", inner)], _STAMP)


def hostile_shipments(today: date | None = None) -> list[SeedShipment]:
    """One shipment per hostile case; ``defect`` names it (see the module docstring for pass vs. fail)."""
    placed = datetime.combine((today or date.today()) - timedelta(days=1), time(2, 0))
    cases: list[tuple[str, str, list[SeedDocument]]] = [
        ("HOSTILE-PATH-UNIX", "path_traversal", [_hostile_pdf("Pfad", "../../../etc/passwd")]),
        ("HOSTILE-PATH-WIN", "path_traversal", [_hostile_pdf("Pfad", "..\\..\\Windows\\win.ini")]),
        ("HOSTILE-PATH-ABS", "path_traversal", [_hostile_pdf("Pfad", "/etc/cron.d/evil")]),
        ("HOSTILE-PATH-DRIVE", "path_traversal", [_hostile_pdf("Pfad", "C:\\evil.pdf")]),
        (
            "HOSTILE-RESERVED",
            "reserved_name",
            [_hostile_pdf("Gerätename", "CON.pdf"), _hostile_pdf("Gerätename", "LPT1")],
        ),
        (
            "HOSTILE-CONTROL",
            "control_characters",
            [
                _hostile_pdf("Steuerzeichen", "Nachtrag\r\nContent-Type: text/html\t.pdf"),
                _hostile_pdf("Richtungszeichen", "Rechnung_\u202efdp.exe"),
            ],
        ),
        (
            "HOSTILE-LONG",
            "long_name",
            [_hostile_pdf("Langer Name", "Langer_Dateiname_" + "ä" * 279 + ".pdf")],
        ),
        ("HOSTILE-NOEXT", "no_extension", [_hostile_pdf("Ohne Endung", "Versicherungsschein")]),
        (
            "HOSTILE-DUPLICATE",
            "duplicate_names",
            [
                _hostile_pdf("Erstes Dokument", "Dokument.pdf"),
                _hostile_pdf("Zweites Dokument", "Dokument.pdf", contract=find_contract("48205517093")),
            ],
        ),
        (
            "HOSTILE-ZIPBOMB",
            "zip_bomb",
            [
                _document(
                    _zip_bomb(),
                    "Datenpaket.zip",
                    content_type=_ZIP,
                    vu_number="5438",
                    compression="ZIP",
                    kurzbeschreibung="Datenpaket",
                    checksum="SHA256",
                )
            ],
        ),
        (
            "HOSTILE-NESTED",
            "nested_zip",
            [
                _document(
                    _nested_zip(),
                    "Archiv.zip",
                    content_type=_ZIP,
                    vu_number="5438",
                    compression="ZIP",
                    kurzbeschreibung="Archiv",
                )
            ],
        ),
        ("HOSTILE-CHECKSUM", "wrong_checksum", [_wrong_checksum()]),
        (
            "HOSTILE-MULTIPART",
            "broken_multipart",
            [_hostile_pdf("Abgeschnittene Antwort", "Police_abgeschnitten.pdf")],
        ),
    ]
    return [
        _shipment(
            shipment_id,
            "100007000",
            "1002",
            placed + timedelta(minutes=index),
            documents,
            sparte=None,
            defect=defect,
        )
        for index, (shipment_id, defect, documents) in enumerate(cases)
    ]


def _wrong_checksum() -> SeedDocument:
    document = _hostile_pdf("Falsche Prüfsumme", "Police_Pruefsumme.pdf")
    wrong = hashlib.sha256(document.read_all() + b"\n").hexdigest()
    return replace(document, checksum=("SHA256", wrong))
