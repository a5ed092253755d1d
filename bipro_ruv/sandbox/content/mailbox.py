"""Seeded mailbox content of the sandbox TransferService (BiPRO Norm 430.4/430.5 ``Lieferung`` and ``Datei``).

R+V delivers through the TransferService "vortagesaktuell dieselben Dokumente, die wir auch in unserem
Dokumentenarchiv bereitstellen" - broker copies of policies, Nachträge, invoices, dunning letters and customer
letters - plus the files of the portal download area (GDV data, CSV data packages). This module builds such a
mailbox from the seeded book in :mod:`~bipro_ruv.sandbox.content.contracts`; the sandbox server serves it.
Everything is deterministic: the same ``today`` and ``seed`` give the same shipments, byte for byte.

Three sets here, a fourth beside it:

* ``default_mailbox()``: fifteen realistic shipments (letters from :mod:`~bipro_ruv.sandbox.content.letters`,
  among them a Kfz-Anforderungsschreiben without VSNR and the 2024 Condor merger under both VU numbers; GDV
  Bestand and Inkasso; five CSV data packages, one of them zipped);
* ``bulk_shipments()``: many small one-PDF shipments for benchmarks;
* ``large_document_shipment()``: one document of any size, generated chunk by chunk and never held whole;
* ``hostile_shipments()`` in :mod:`~bipro_ruv.sandbox.content.hostile`: one shipment per defect.

The shipment and document types (:class:`~.shipments.SeedShipment`, :class:`~.shipments.SeedDocument`) are
in :mod:`~bipro_ruv.sandbox.content.shipments`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from bipro_ruv.sandbox.content import csv_writer, gdv_writer
from bipro_ruv.sandbox.content.contracts import (
    AGENCY_NUMBER,
    SANDBOX_CONTRACTS,
    SandboxContract,
    find_contract,
)
from bipro_ruv.sandbox.content.letters import letter_shipments
from bipro_ruv.sandbox.content.pdf import make_pdf
from bipro_ruv.sandbox.content.shipments import (
    CHUNK_SIZE,
    CSV_TYPE,
    ZIP_TYPE,
    MailboxPlan,
    SeedDocument,
    SeedShipment,
    make_document,
    make_shipment,
    zip_archive,
)

__all__ = ["bulk_shipments", "default_mailbox", "large_document_shipment"]


# -- the default mailbox -------------------------------------------------------------------------------------


def default_mailbox(today: date | None = None, seed: int = 5438) -> list[SeedShipment]:
    """The realistic R+V-like mailbox of the sandbox broker, oldest shipment first."""
    today = today or date.today()
    rng = random.Random(f"{seed}/{today.isoformat()}")  # noqa: S311 - reproducible test data, not secrets
    ids = iter(str(number) for number in rng.sample(range(10_000_000, 100_000_000), 20))
    plan = MailboxPlan(today, rng, ids)
    claim_number = f"{rng.randrange(10**9, 10**10)}"
    claim = (find_contract("32701234568"), claim_number, Decimal("2350.00"))
    shipments = [
        *letter_shipments(plan, claim_number, claim[2]),
        *_gdv_shipments(plan),
        *_settlements(plan, claim),
        *_contract_lists(plan),
    ]
    return sorted(shipments, key=lambda shipment: (shipment.einstellzeitpunkt, shipment.id))


# -- the download area: GDV data and CSV data packages -------------------------------------------------------


def _last_weekday(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _gdv_shipments(plan: MailboxPlan) -> list[SeedShipment]:
    created = _last_weekday(plan.today, 2)  # the weekly Gesamtbestand comes on Wednesdays
    sach = [c for c in SANDBOX_CONTRACTS if c.vu_number != "1141"]
    bestand = make_document(
        gdv_writer.bestand_file(sach, created=created),
        f"GDV_Bestand_5438_{created:%Y%m%d}.txt",
        content_type="text/plain",
        vu_number="5438",
        kurzbeschreibung="GDV-Gesamtbestand",
        checksum="SHA256",
    )
    booked = plan.today - timedelta(days=1)
    inkasso = make_document(
        gdv_writer.inkasso_file([c for c in sach if c.active], booking_date=booked),
        f"GDV_Inkasso_5438_{booked:%Y%m%d}.txt",
        content_type="text/plain",
        vu_number="5438",
        kurzbeschreibung="GDV-Inkassodaten",
        checksum="MD5",
    )
    # The daily delta: our generator's realistic file, every R+V Sparte with its Teildatensätze,
    # Leben with Wagnisarten and fund records, Beteiligung, Inkasso 0400-0430 with signs, and the
    # 2024 merger (the same VSNR leaving VU 5339 and arriving under 5438).
    delta = make_document(
        gdv_writer.generate_gdv(
            contracts=60,
            seed=7,
            kind="both",
            vu_numbers=("5339", "5438"),
            created=plan.today - timedelta(days=1),
        ),
        f"GDV_Delta_5438_{plan.today - timedelta(days=1):%Y%m%d}.txt",
        content_type="text/plain",
        vu_number="5438",
        kurzbeschreibung="GDV-Bestandsänderungen",
        checksum="SHA256",
    )
    return [
        _data_package(plan, "999010010", "1001", datetime.combine(created, time(4, 15)), bestand),
        _data_package(plan, "999050000", "1201", plan.night_of(1), inkasso),
        _data_package(plan, "999010020", "1001", plan.night_of(1), delta),
    ]


def _data_package(
    plan: MailboxPlan, kategorie: str, art: str, placed: datetime, document: SeedDocument
) -> SeedShipment:
    """A periodic shipment of one data file (``EnthaeltNurDaten`` and ``PeriodischeLieferung`` set)."""
    return make_shipment(next(plan.ids), kategorie, art, placed, [document], data_only=True, periodic=True)


def _settlements(plan: MailboxPlan, claim: tuple[SandboxContract, str, Decimal]) -> list[SeedShipment]:
    """The monthly CSV data packages: Saldenbestätigung, Sammelabrechnung (zipped), Courtageabrechnung."""
    cutoff = plan.today.replace(day=1) - timedelta(days=1)  # Monatsultimo of the previous month
    live = [c for c in SANDBOX_CONTRACTS if c.active and c.vu_number != "1141"]
    agency = AGENCY_NUMBER
    salden = make_document(
        csv_writer.saldenbestaetigung(live, cutoff=cutoff, claim=claim, dunning={"35781200456"}),
        f"Saldenbestaetigung_{agency}_{cutoff:%Y%m}.csv",
        content_type=CSV_TYPE,
        dokumentart="Abrechnung",
        kurzbeschreibung="Saldenbestätigung",
        checksum="SHA256",
    )
    sammel = _sammelabrechnung(live, cutoff)
    settled = cutoff - timedelta(days=max(0, cutoff.weekday() - 4))  # last working day of that month
    courtage = make_document(
        csv_writer.courtageabrechnung(live, settled=settled),
        f"Courtageabrechnung_{agency}_{settled:%Y%m%d}.csv",
        content_type=CSV_TYPE,
        dokumentart="Abrechnung",
        kurzbeschreibung="Courtageabrechnung",
    )
    placed_monthly = datetime.combine(plan.today.replace(day=1), time(3, 30))  # monthly, on the 1st
    return [
        _data_package(plan, "999000000", "1301", placed_monthly, salden),
        _data_package(plan, "999000000", "1301", placed_monthly + timedelta(minutes=7), sammel),
        _data_package(plan, "999000000", "1301", datetime.combine(settled, time(23, 10)), courtage),
    ]


def _sammelabrechnung(live: list[SandboxContract], cutoff: date) -> SeedDocument:
    sammel_name = f"Sammelabrechnung_{AGENCY_NUMBER}_{cutoff:%Y%m}"
    sammel_csv = csv_writer.sammelabrechnung([c for c in live if c.collection == "1"], period_end=cutoff)
    return make_document(
        zip_archive([(f"{sammel_name}.csv", sammel_csv)], datetime.combine(cutoff, time(22, 0))),
        f"{sammel_name}.zip",
        content_type=ZIP_TYPE,
        dokumentart="Abrechnung",
        kurzbeschreibung="Sammelabrechnung",
        compression="ZIP",
        checksum="SHA256",
    )


def _contract_lists(plan: MailboxPlan) -> list[SeedShipment]:
    """The CSV lists: Condor migration list and Bestandsübertragungsliste (weekly), KFZ-Beitragsvergleich."""
    agency = AGENCY_NUMBER
    weekly = plan.today - timedelta(days=1)
    condor = make_document(
        csv_writer.condor_migration_list(SANDBOX_CONTRACTS),
        f"Condormigration-Vertragsliste_{agency}_{weekly:%Y%m%d}.csv",
        content_type=CSV_TYPE,
        kurzbeschreibung="Condormigration-Vertragsliste",
        checksum="SHA256",
    )
    saturday = _last_weekday(plan.today, 5)  # published on Saturdays
    leaving = [find_contract("34117705329"), find_contract("29650041287")]
    next_month = (plan.today.replace(day=28) + timedelta(days=4)).replace(day=1)
    transfer = make_document(
        csv_writer.bestandsuebertragungsliste(leaving, transfer_date=next_month),
        f"Bestandsuebertragungsliste_{agency}_{saturday:%Y%m%d}.csv",
        content_type=CSV_TYPE,
        kurzbeschreibung="Bestandsübertragungsliste",
    )
    # The yearly K-KINK file: offered from the last week of October to the end of February, for the main due
    # date 1.1.; the sandbox delivers it all year, for the coming 1.1.
    main_due = date(plan.today.year + (plan.today.month > 2), 1, 1)
    comparison = make_document(
        csv_writer.kfz_beitragsvergleich(SANDBOX_CONTRACTS, main_due=main_due),
        f"KFZ-Beitragsvergleich_{agency}_{main_due:%Y}.csv",
        content_type=CSV_TYPE,
        kurzbeschreibung="KFZ-Beitragsvergleich",
    )
    return [
        _data_package(plan, "999000000", "1001", plan.night_of(1), condor),
        _data_package(plan, "999000000", "1001", datetime.combine(saturday, time(5, 0)), transfer),
        _data_package(
            plan,
            "999000000",
            "1001",
            datetime.combine(plan.today - timedelta(days=2), time(4, 40)),
            comparison,
        ),
    ]


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
        document = make_document(
            pdf,
            f"{dokumentart}_{shipment_id}.pdf",
            dokumentart=dokumentart,
            contract=contract,
            kurzbeschreibung=f"Massendokument {number}",
        )
        shipments.append(
            make_shipment(
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
    return make_shipment(shipment_id, "999000000", "1001", placed, [document], data_only=True)
