"""GDV deliveries through the Dokumenten-TransferService (BiPRO Norm 430): ``client.gdv``.

R+V puts the weekly Gesamtbestand, the delta files and the Inkasso data into the same
mailbox as letters (ruv-specifics.md §5): Lieferungen of the GeVo family ``999`` (GDV-Daten;
``999010010`` Gesamtbestand, ``999010020`` Bestandsänderungen, ``999050000``
Vermittlerabrechnung/Inkasso; see :data:`GDV_CATEGORIES`). :meth:`GdvService.fetch` takes
them through the very path documents take (:meth:`TransferService.fetch_open_documents`:
stored durably, journaled, then acknowledged; safe to rerun after a crash), and only then
parses what was stored. A
file that cannot be parsed is therefore never lost: it lies in the inbox, and the
delivery says why it could not be read.

Besides the category, the content decides (a GDV file that came under another category,
say in a Sammellieferung, is still found): :func:`looks_like_gdv` sniffs the first record.

The transfer service is reached through the small protocols of :mod:`bipro_ruv.store.fetched`,
so this module does not import it (services stand side by side; the client wires them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bipro_ruv.errors import GdvFormatError
from bipro_ruv.gdv.parser import DEFAULT_ENCODING, GdvFile, iter_contracts, parse
from bipro_ruv.gdv.records import Contract
from bipro_ruv.gdv.values import GdvWarning
from bipro_ruv.store.fetched import DocumentFetcher, FetchReportLike

__all__ = ["GDV_CATEGORIES", "GdvDelivery", "GdvService", "looks_like_gdv"]

GDV_CATEGORIES: tuple[str, ...] = ("999010", "999020", "999030", "999040", "999050", "999060")
"""GeVo prefixes of the GDV file deliveries: 999010 Bestand (010 Gesamtbestand, 020
Bestandsänderungen), 999020 VU an VU, 999030 Kfz-Schadendaten, 999040 Antragsdaten, 999050
Vermittlerabrechnung (Inkasso), 999060 Geschäftsvorfälle. Not the bare ``999000000``
"GDV-Daten": R+V's CSV data packages come under it (found by content when fetched)."""

_SNIFF = 600


def looks_like_gdv(path: str | Path) -> bool:
    """True when the file begins like a GDV VU-Vermittler file: a Vorsatz (``0001``) record
    (a UTF-8 byte-order mark before it allowed), 256 bytes or cut short at a line break, and
    then a line break or the next record's four-digit Satzart."""
    head = _head(path)
    return head is not None and _begins_like_gdv(head)


def _head(path: str | Path) -> bytes | None:
    try:
        with Path(path).open("rb") as handle:
            return handle.read(_SNIFF)
    except OSError:
        return None


def _begins_like_gdv(head: bytes) -> bool:
    head = head.removeprefix(b"\xef\xbb\xbf")
    vu_number = head[4:9].rstrip(b" ")
    if not head.startswith(b"0001") or not (vu_number.isascii() and vu_number.isdigit()):
        return False  # Satzart 0001, then the VU-Nummer (cols 5-9, digits, left-aligned)
    end = head.find(b"\n", 0, 258)
    if end != -1:  # a line break within the first record: CRLF, LF, or trailing blanks cut
        following = head[end + 1 : end + 5]
        return len(following) == 0 or (following.isascii() and following.isdigit())
    if len(head) < 256:
        return False
    following = head[256:260]
    return following[:1] in (b"\r", b"") or (following.isascii() and following.isdigit())


@dataclass
class GdvDelivery:
    """One stored GDV file from the mailbox, parsed (or why it could not be).

    The file is in the inbox whatever happened to the parse: ``path`` is where.
    """

    shipment_id: str
    category: str | None
    path: Path
    file_name: str
    encoding: str = DEFAULT_ENCODING
    file: GdvFile | None = None
    """The parsed file (``None`` when ``parse=False`` was asked, or the parse failed)."""
    error: str | None = None
    """Why the stored file could not be read as GDV (it is still stored)."""
    warnings: list[GdvWarning] = field(default_factory=list)

    def parse(self) -> GdvFile:
        """Parse the stored file into memory (what :meth:`GdvService.fetch` does by default)."""
        return parse(self.path, encoding=self.encoding)

    def iter_contracts(self) -> Iterator[Contract]:
        """Stream the stored file's contracts in bounded memory (for very large Bestände)."""
        return iter_contracts(self.path, encoding=self.encoding)


class GdvService:
    """GDV Bestand and Inkasso files from the mailbox, as contract objects (``client.gdv``)."""

    def __init__(self, transfer: DocumentFetcher) -> None:
        self._transfer = transfer

    def fetch(
        self,
        inbox: str | Path,
        *,
        acknowledge: bool = True,
        categories: Sequence[str] = GDV_CATEGORIES,
        encoding: str = DEFAULT_ENCODING,
        parse: bool = True,
        workers: int = 3,
        progress: Callable[[Any], None] | None = None,
        store: Any = None,
    ) -> list[GdvDelivery]:
        """Fetch the open GDV shipments into ``inbox`` (stored, journaled, then acknowledged,
        exactly like documents) and read every stored file that is GDV data.

        ``parse=False`` only finds them (parse large files yourself with
        :meth:`GdvDelivery.iter_contracts`). A file that fails to parse is reported in its
        delivery's ``error``; it stays stored and acknowledged, as R+V's only copy must.
        """
        report = self._transfer.fetch_open_documents(
            inbox,
            acknowledge=acknowledge,
            categories=categories,
            workers=workers,
            progress=progress,
            store=store,
        )
        return self.deliveries(report, encoding=encoding, parse=parse)

    def deliveries(
        self, report: FetchReportLike, *, encoding: str = DEFAULT_ENCODING, parse: bool = True
    ) -> list[GdvDelivery]:
        """The GDV files among the documents of a fetch report (by category or by content),
        e.g. of a plain ``client.fetch_open_documents(inbox)`` that fetched everything."""
        found: list[GdvDelivery] = []
        for result in report.results:
            is_gdv_category = (result.category or "").startswith(GDV_CATEGORIES)
            for document in result.documents:
                head = _head(document.path)
                if head is None:
                    continue
                gdv_file = _begins_like_gdv(head)
                # Under a GDV category any text is tried (a parse error then says why it is none).
                if not (gdv_file or (is_gdv_category and not head.startswith((b"%PDF", b"PK\x03\x04")))):
                    continue
                delivery = GdvDelivery(
                    shipment_id=result.shipment_id,
                    category=result.category,
                    path=Path(document.path),
                    file_name=document.file_name,
                    encoding=encoding,
                )
                if parse:
                    try:
                        delivery.file = delivery.parse()
                    except GdvFormatError as exc:
                        delivery.error = str(exc)
                    except Exception as exc:  # noqa: BLE001 - the shipment is acknowledged: report, never drop
                        delivery.error = f"{type(exc).__name__}: {exc}"
                    else:
                        delivery.warnings = list(delivery.file.warnings)
                found.append(delivery)
        return found
