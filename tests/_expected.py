"""What the sandbox delivered, as the inbox should hold it, and journal rows for tests (test helpers)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bipro_ruv.sandbox import Sandbox
from bipro_ruv.sandbox.content.hostile import DEFECTS_THAT_FAIL
from bipro_ruv.sandbox.content.shipments import SeedDocument, SeedShipment
from bipro_ruv.store import Account, DocumentRecord


def expected_hashes(sb: Sandbox, *, include_failing: bool = False) -> Counter[str]:
    """sha256 of every file a complete fetch must store (ZIP deliveries as their members)."""
    hashes: Counter[str] = Counter()
    for shipment in sb.shipments():
        if shipment.defect in DEFECTS_THAT_FAIL and not include_failing:
            continue
        for doc in shipment.documents:
            if doc.compression == "ZIP":
                with zipfile.ZipFile(io.BytesIO(doc.read_all())) as archive:
                    for info in archive.infolist():
                        if not info.is_dir():
                            hashes[hashlib.sha256(archive.read(info)).hexdigest()] += 1
            else:
                hashes[doc.sha256] += 1
    return hashes


def stored_files(inbox: Path) -> list[Path]:
    return [p for p in inbox.rglob("*") if p.is_file() and ".bipro-ruv" not in p.relative_to(inbox).parts]


def stored_hashes(inbox: Path) -> Counter[str]:
    return Counter(hashlib.sha256(p.read_bytes()).hexdigest() for p in stored_files(inbox))


#: The account test records are kept under (a fetch uses the client's profile and user id).
ACCOUNT = Account("ruv", "rom4711")


def journal_document(shipment_id: str, path: str, **fields: Any) -> DocumentRecord:
    """A journal row of one PDF at ``path`` (relative to the inbox); ``fields`` override the rest."""
    row = DocumentRecord(
        account=ACCOUNT,
        shipment_id=shipment_id,
        seq=0,
        path=path,
        original_name="Police.pdf",
        content_type="application/pdf",
        document_type=None,
        vsnr=None,
        vu_number="5311",
        description=None,
        size=3,
        sha256="00" * 32,
        checksum_verified=None,
        archive_name=None,
    )
    return replace(row, **fields)


KNOWN_VSNR = "44090312655"  # in the sandbox's seeded book


def document(data: bytes, name: str = "Police.pdf", vsnr: str | None = KNOWN_VSNR) -> SeedDocument:
    def produce() -> Iterator[bytes]:
        for offset in range(0, len(data), 1000):
            yield data[offset : offset + 1000]

    return SeedDocument(
        file_name=name,
        content_type="application/pdf",
        dokumentart="Police",
        vsnr=vsnr,
        vu_number="5438" if vsnr else None,
        kurzbeschreibung="Versicherungsschein",
        compression="KEINE",
        checksum=("SHA256", hashlib.sha256(data).hexdigest()),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        produce=produce,
    )


def shipment(shipment_id: str, kategorie: str = "100007000", *docs: SeedDocument) -> SeedShipment:
    return SeedShipment(
        id=shipment_id,
        kategorie=kategorie,
        art_der_lieferung="1002",
        einstellzeitpunkt=datetime(2026, 11, 21, 3, 15, 0),
        verfuegbar_bis=date(2029, 11, 21),
        sparte="040",
        enthaelt_nur_daten=False,
        periodische_lieferung=False,
        documents=docs or (document(b"%PDF-1.4 " + shipment_id.encode() + b"\n%%EOF\n"),),
    )


def seed_shipment(shipment_id: str, *, documents: int = 1) -> SeedShipment:
    """A shipment of ``documents`` small, distinct PDFs."""
    docs = [
        document(b"%PDF-1.4 " + f"{shipment_id}-{n}".encode() + b"\n%%EOF\n", name=f"Dokument-{n}.pdf")
        for n in range(1, documents + 1)
    ]
    return shipment(shipment_id, "100007000", *docs)
