"""R+V's data packages from the mailbox: ``client.datapackages``.

The transfer service delivers the CSV packages under the GeVo category ``999000000``
("GDV-Daten", ruv-specifics.md §3/§5) beside letters and GDV files. :meth:`DataPackageService.fetch`
takes them through the very path documents take (stored durably, journaled, then
acknowledged), and only then reads what was stored, so a file that cannot be read is never
lost: it lies in the inbox and its delivery says why. Besides the category, the content
decides (:func:`package_kind` reads the header line): a package under another category is
found too. A CSV file under the category whose header this version does not know is
reported with its error, never dropped.

The transfer service is reached through the small protocols of :mod:`bipro_ruv.store.fetched`,
as ``client.gdv`` does: this module does not import it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bipro_ruv.datapackages.packages import Package, detect_kind, read_package
from bipro_ruv.errors import CsvFormatError, DataPackageError, StorageError
from bipro_ruv.store.fetched import DocumentFetcher, FetchReportLike

__all__ = ["DATAPACKAGE_CATEGORIES", "DataPackageService", "PackageDelivery", "package_kind"]

DATAPACKAGE_CATEGORIES: tuple[str, ...] = ("999000000",)
"""The category R+V's CSV packages come under (the bare GDV-Daten code)."""

_SNIFF = 16384


def package_kind(path: str | Path) -> str | None:
    """The kind of data package the file's header names (:func:`detect_kind` on its first
    lines), or None: not one this version reads."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head[: len(head) // 2 * 2]
    elif len(head) == _SNIFF:
        head = head[: head.rfind(b"\n") + 1] or head  # no character cut in two
    try:
        return detect_kind(head)
    except DataPackageError:
        return None


@dataclass
class PackageDelivery:
    """One stored data package from the mailbox, read (or why it could not be). The file is in
    the inbox whatever happened: ``path`` is where."""

    shipment_id: str
    category: str | None
    path: Path
    file_name: str
    vu_number: str | None
    kind: str | None
    package: Package | None = None
    error: str | None = None


class DataPackageService:
    """R+V's CSV data packages of one account's mailbox (``client.datapackages``)."""

    def __init__(self, transfer: DocumentFetcher) -> None:
        self._transfer = transfer

    def fetch(self, inbox: str | Path, **fetch_options: Any) -> list[PackageDelivery]:
        """Fetch the shipments of :data:`DATAPACKAGE_CATEGORIES` (stored, journaled,
        acknowledged as every document), then read the packages among them."""
        report = self._transfer.fetch_open_documents(
            inbox, categories=DATAPACKAGE_CATEGORIES, **fetch_options
        )
        return self.deliveries(report)

    def deliveries(self, report: FetchReportLike) -> list[PackageDelivery]:
        """The data packages among the documents of any fetch report: by category (also an
        unreadable one, with its error) or by content."""
        found: list[PackageDelivery] = []
        for result in report.results:
            by_category = (result.category or "") in DATAPACKAGE_CATEGORIES
            for document in result.documents:
                kind = package_kind(document.path)
                if kind is None and not (by_category and _looks_like_csv(document.file_name)):
                    continue
                delivery = PackageDelivery(
                    shipment_id=result.shipment_id,
                    category=result.category,
                    path=document.path,
                    file_name=document.file_name,
                    vu_number=document.vu_number,
                    kind=kind,
                )
                if kind is None:
                    delivery.error = (
                        "no data package this version of bipro-ruv reads (its header is unknown); if its "
                        "columns are only named otherwise, read_package(path, kind=..., names=...) reads it"
                    )
                else:
                    try:
                        delivery.package = read_package(document.path, kind=kind)
                    except (CsvFormatError, StorageError) as exc:
                        delivery.error = str(exc)
                found.append(delivery)
        return found


def _looks_like_csv(name: str) -> bool:
    return name.lower().endswith((".csv", ".txt", ".text", ".dat"))
