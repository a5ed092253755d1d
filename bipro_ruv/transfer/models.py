"""Models of the Norm 430 TransferService: ``Lieferung`` -> :class:`Shipment`,
``Datei`` -> :class:`Document`.

Raw values are kept beside parsed ones where providers are inconsistent
(timestamps without zone, dates in other formats).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from pathlib import Path

from pydantic import Field

from bipro_ruv._wire import timestamps
from bipro_ruv.models import FrozenModel
from bipro_ruv.store.protocol import DocumentRecord, ShipmentInfo, ShipmentRecord
from bipro_ruv.transfer.categories import category_label
from bipro_ruv.vsnr import Vsnr

__all__ = [
    "Document",
    "FetchEvent",
    "FetchEventKind",
    "FetchReport",
    "Outcome",
    "Shipment",
    "ShipmentResult",
]


class Shipment(FrozenModel):
    """One delivery (``tran:Lieferung``) in the broker's mailbox."""

    id: str = Field(..., description="ID (ST_LieferungID)")
    category: str | None = Field(None, description="Kategorie: 9-digit GeVo code")
    category_label: str | None = Field(None, description="German label of the Kategorie, if known")
    created_at: datetime | None = Field(None, description="Einstellzeitpunkt (naive: provider local time)")
    created_at_raw: str | None = Field(None, description="Einstellzeitpunkt as sent")
    available_until: date | None = Field(None, description="VerfuegbarBis")
    delivery_type: str | None = Field(None, description="ArtDerLieferung (Norm 430.4/430.5 use case)")
    data_only: bool | None = Field(None, description="EnthaeltNurDaten")
    periodic: bool | None = Field(None, description="PeriodischeLieferung")
    line_of_business: str | None = Field(
        None, description="Sparte (ST_Sparte, the GDV line of business, e.g. 040 Haftpflicht), as sent"
    )
    transfer_count: int | None = Field(None, description="AnzahlTransfers")


class Document(FrozenModel):
    """A delivered file (``allg:Datei``), stored on disk."""

    shipment_id: str = Field(..., description="ID of the Lieferung it came with")
    seq: int = Field(..., ge=0, description="Position within the shipment")
    path: Path = Field(..., description="Where the file is stored")
    file_name: str = Field(..., description="Safe name it was stored under")
    original_name: str | None = Field(
        None, description="Dateiname as delivered (may be hostile; never used as a path)"
    )
    content_type: str | None = Field(None, description="xmime:contentType / MIME type")
    document_type: str | None = Field(None, description="DokumentartID, e.g. Nachtrag, Police, Mahnung")
    description: str | None = Field(None, description="Kurzbeschreibung")
    size: int = Field(..., ge=0, description="Bytes")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    vsnr: Vsnr | None = Field(
        None, description="Versicherungsscheinnummer, normalized (None if absent/unreadable)"
    )
    vsnr_raw: str | None = Field(None, description="Versicherungsscheinnummer as delivered")
    vu_number: str | None = Field(None, description="VU-Nummer of the risk carrier, if delivered")
    checksum_verified: bool | None = Field(
        None, description="True: Pruefsumme matched; False: sent but not checkable; None: none sent"
    )
    archive_name: str | None = Field(None, description="Name of the ZIP it was unpacked from")
    warnings: tuple[str, ...] = Field(
        (),
        description="What was wrong with the reply but did not cost the document (e.g. a multipart "
        "reply without its closing delimiter); only on documents fetched in this run, not in the journal",
    )
    account: str | None = Field(None, description="Whose document: insurer profile/user id (``ruv/rom4711``)")
    category: str | None = Field(None, description="Kategorie of its shipment (9-digit GeVo code)")
    category_label: str | None = Field(None, description="German label of the Kategorie, if known")
    created_at: datetime | None = Field(
        None, description="Einstellzeitpunkt of its shipment (naive: provider local time)"
    )
    created_at_raw: str | None = Field(None, description="Einstellzeitpunkt as sent")

    @property
    def key(self) -> str:
        """A stable identity for an importer: ``profile/user/shipment id/position``.

        The same document has the same key in every run and every process, so an MVP that
        records the keys it imported (in the same transaction as the import) imports each
        document exactly once, even when it is handed a document again after a crash
        (:class:`~bipro_ruv.transfer.handoff.Handoff`)."""
        return f"{self.account or '-'}/{self.shipment_id}/{self.seq}"

    @classmethod
    def from_record(
        cls,
        record: DocumentRecord,
        inbox: Path,
        warnings: tuple[str, ...] = (),
        shipment: ShipmentRecord | ShipmentInfo | None = None,
    ) -> Document:
        """The document a store's record describes; ``inbox`` is what ``record.path`` is relative to.

        ``warnings`` are those of a document fetched in this run: a store does not keep them.
        ``shipment``: its shipment's record or info (category, label, Einstellzeitpunkt).
        """
        path = inbox / record.path
        category = shipment.category if shipment is not None else None
        label = shipment.category_label if shipment is not None else None
        created_raw = shipment.created_at_raw if shipment is not None else None
        return cls(
            account=str(record.account),
            category=category,
            category_label=label or category_label(category),
            created_at=einstellzeitpunkt(created_raw),
            created_at_raw=created_raw,
            shipment_id=record.shipment_id,
            seq=record.seq,
            path=path,
            file_name=path.name,
            original_name=record.original_name,
            content_type=record.content_type,
            document_type=record.document_type,
            description=record.description,
            size=record.size,
            sha256=record.sha256,
            vsnr=Vsnr.try_parse(record.vsnr),
            vsnr_raw=record.vsnr,
            vu_number=record.vu_number,
            checksum_verified=record.checksum_verified,
            archive_name=record.archive_name,
            warnings=warnings,
        )


def einstellzeitpunkt(raw: str | None) -> datetime | None:
    """``Einstellzeitpunkt`` (``xs:dateTime``, any flavour :mod:`bipro_ruv._wire.timestamps`
    reads); None if absent or unreadable (the caller keeps the raw text)."""
    if not raw:
        return None
    try:
        return timestamps.parse_datetime(raw)
    except ValueError:
        return None


class Outcome(str, Enum):
    """What happened to one shipment during a fetch."""

    ACKNOWLEDGED = "acknowledged"  # stored and acknowledged in this run
    STORED = "stored"  # stored; not acknowledged (dry run, or the acknowledgement failed)
    RECOVERED = "recovered"  # stored in an earlier run, acknowledged now without downloading again
    FAILED = "failed"  # nothing acknowledged; it stays in the mailbox for the next run
    QUARANTINED = "quarantined"  # failed for the same reason run after run: left alone until released


class ShipmentResult(FrozenModel):
    shipment_id: str
    category: str | None = None
    category_label: str | None = None
    outcome: Outcome
    documents: tuple[Document, ...] = ()
    error: str | None = Field(None, description="What went wrong (failed, or stored but not acknowledged)")
    error_type: str | None = Field(None, description="Exception class name of the error")


class FetchReport(FrozenModel):
    """Result of :meth:`bipro_ruv.Client.fetch_open_documents`."""

    inbox: Path
    acknowledge: bool
    results: tuple[ShipmentResult, ...]
    started_at: datetime
    finished_at: datetime

    @property
    def documents(self) -> tuple[Document, ...]:
        return tuple(doc for result in self.results for doc in result.documents)

    interrupted: bool = Field(
        False, description="Stopped by Ctrl-C/SIGTERM: the shipments not listed here stay in the mailbox"
    )
    handed_off: int = Field(0, description="Documents the on_document callback took in this run")
    handoff_error: str | None = Field(
        None, description="Why the hand-off to on_document stopped; its documents stay pending"
    )

    @property
    def failures(self) -> tuple[ShipmentResult, ...]:
        """Shipments that failed in this run, or were stored but not acknowledged (quarantined
        ones are not failures: they are reported by :attr:`quarantined`)."""
        return tuple(
            result
            for result in self.results
            if result.outcome is not Outcome.QUARANTINED
            and (result.outcome is Outcome.FAILED or result.error is not None)
        )

    @property
    def quarantined(self) -> tuple[ShipmentResult, ...]:
        """Shipments in quarantine: left in the mailbox, not downloaded (``bipro-ruv shipments``)."""
        return tuple(result for result in self.results if result.outcome is Outcome.QUARANTINED)

    @property
    def ok(self) -> bool:
        return not self.failures

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)


class FetchEventKind(str, Enum):
    LISTED = "listed"  # count = number of shipments to fetch
    DOWNLOADING = "downloading"
    BYTES = "bytes"  # count = bytes received in this chunk
    FOLDER_CREATED = "folder_created"  # a new folder for the shipment, durable; its plan comes next
    PLANNED = "planned"  # journal holds the documents' final paths
    FILE_STORED = "file_stored"  # one document renamed into place (its folder is fsync'ed after the last)
    STORED = "stored"  # journal: all documents durable
    ACKNOWLEDGED = "acknowledged"  # the server confirmed; journal not yet updated
    DONE = "done"  # journal: acknowledged (or stored, in a dry run)
    FAILED = "failed"
    QUARANTINED = "quarantined"  # message = the reason; not downloaded (again) until released


class FetchEvent(FrozenModel):
    """Progress of a fetch, for progress bars and monitoring."""

    kind: FetchEventKind
    shipment_id: str | None = None
    count: int = 0
    message: str | None = None
