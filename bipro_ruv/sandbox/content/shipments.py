"""Seeded shipments of the sandbox TransferService (BiPRO Norm 430.4/430.5 ``Lieferung`` and ``Datei``).

:class:`SeedShipment` is one ``tran:Lieferung`` as the sandbox lists and delivers it; each of its
:class:`SeedDocument` becomes one ``tran:Transfer`` with one ``gevo:Datei``. The builders here are shared by
the content modules: :mod:`~bipro_ruv.sandbox.content.mailbox` (default, bulk and large shipments),
:mod:`~bipro_ruv.sandbox.content.letters` (the broker copies of the default mailbox) and
:mod:`~bipro_ruv.sandbox.content.hostile` (hostile shipments). A document's bytes are produced on demand, in
chunks of at most :data:`CHUNK_SIZE`, so the server can stream a document of any size without holding it.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bipro_ruv.sandbox.content.contracts import SandboxContract

__all__ = [
    "CHUNK_SIZE",
    "CSV_TYPE",
    "PDF_TYPE",
    "ZIP_TYPE",
    "MailboxPlan",
    "SeedDocument",
    "SeedShipment",
    "make_document",
    "make_shipment",
    "zip_archive",
    "zip_info",
]

CHUNK_SIZE = 1 << 20
"""Largest chunk ``SeedDocument.produce`` yields (1 MiB)."""

_AVAILABLE_YEARS = 3  # VerfuegbarBis: the public BiPRO sample shows Einstellzeitpunkt + 3 years
PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv"
ZIP_TYPE = "application/zip"


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
    defect: str | None = None  # hostile shipments: what is wrong (see hostile.DEFECTS_THAT_*)


# -- builders ------------------------------------------------------------------------------------------------


def _chunked(data: bytes) -> Callable[[], Iterator[bytes]]:
    def produce() -> Iterator[bytes]:
        for offset in range(0, len(data), CHUNK_SIZE):
            yield data[offset : offset + CHUNK_SIZE]

    return produce


def _checksum(kind: str | None, data: bytes) -> tuple[str, str] | None:
    if kind is None:
        return None
    return kind, hashlib.new(kind.lower(), data).hexdigest()


def make_document(
    data: bytes,
    file_name: str,
    *,
    content_type: str = PDF_TYPE,
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


def zip_archive(members: Sequence[tuple[str, bytes]], stamp: datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zip_info(name, stamp), data)
    return buffer.getvalue()


def zip_info(name: str, stamp: datetime) -> zipfile.ZipInfo:
    # A fixed timestamp and creator system keep the archive bytes deterministic.
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0
    return info


def make_shipment(
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


# -- the default mailbox's plan ------------------------------------------------------------------------------


@dataclass
class MailboxPlan:
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
