"""The Norm 430 TransferService of one account: ``client.transfer``.

List the shipments (Lieferungen) waiting in the mailbox, download one (getShipment,
streamed to disk), acknowledge one, and :meth:`TransferService.fetch_open_documents`:
every open shipment stored durably, then acknowledged (see :mod:`.fetch`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.fs import make_folder, resolve_folder, storage_error
from bipro_ruv._wire.soap import check_status
from bipro_ruv.auth.connection import Connection
from bipro_ruv.models import Status
from bipro_ruv.store import DEFAULT_CONSUMER, Account, DocumentStore
from bipro_ruv.transfer._download import DownloadedShipment, download_raw, download_shipment
from bipro_ruv.transfer._files import move_unique
from bipro_ruv.transfer._parse import parse_list_reply, response_element
from bipro_ruv.transfer.categories import category_label, matches_category, validate_category_filter
from bipro_ruv.transfer.fetch import QUARANTINE_AFTER, Fetcher
from bipro_ruv.transfer.handoff import Handoff
from bipro_ruv.transfer.models import Document, FetchEvent, FetchReport, Shipment

__all__ = ["TransferService"]


class TransferService:
    """BiPRO Norm 430 (TransferService) for the account of one :class:`~bipro_ruv.Client`."""

    def __init__(self, connection: Connection, account: Account) -> None:
        self._connection = connection
        #: Whose records a fetch keeps in the document store (profile + user id).
        self.account = account

    @property
    def profile_key(self) -> str:
        return self._connection.profile.key

    @property
    def vu_number(self) -> str:
        return self._connection.profile.vu_number

    def _request(self, **fields: Any) -> dict[str, Any]:
        profile = self._connection.profile
        request: dict[str, Any] = {"BiPROVersion": profile.transfer.bipro_version}
        if profile.consumer_id:
            request["ConsumerID"] = profile.consumer_id
        request.update(fields)
        return request

    def list_shipments(
        self, *, categories: Sequence[str] | None = None, include_acknowledged: bool = False
    ) -> list[Shipment]:
        """The shipments (``Lieferungen``) waiting in the mailbox (``listShipments``).

        ``categories``: 3-, 6- or 9-digit GeVo prefixes, filtered on our side (providers
        differ in which ``KategorieDerLieferung`` granularity they accept).
        """
        wanted = validate_category_filter(categories or ())
        fields: dict[str, Any] = {}
        if include_acknowledged or self._connection.profile.send_bestaetige_lieferungen:
            fields["BestaetigeLieferungen"] = include_acknowledged
        payload = self._connection.call(
            ServiceKind.TRANSFER, "listShipments", idempotent=True, Request=self._request(**fields)
        )
        shipments, _status = parse_list_reply(payload, category_label)
        return [item for item in shipments if matches_category(item.category, wanted)]

    def download_to_spool(
        self, shipment_id: str, spool_dir: Path, on_bytes: Callable[[int], None] | None = None
    ) -> DownloadedShipment:
        """getShipment, with every document decoded and checked into ``spool_dir`` (streamed)."""
        endpoint = self._connection.endpoint(ServiceKind.TRANSFER)
        request = self._request(ID=shipment_id)
        return self._connection.with_token(
            lambda token: download_shipment(endpoint, token.header, request, spool_dir, on_bytes=on_bytes)
        )

    def download_raw(self, shipment_id: str, target: Path) -> dict[str, Any]:
        """getShipment with its reply body written to ``target`` unparsed (for the quarantine);
        returns the HTTP status, headers, size and how the reply ended."""
        endpoint = self._connection.endpoint(ServiceKind.TRANSFER)
        request = self._request(ID=shipment_id)
        return self._connection.with_token(
            lambda token: download_raw(endpoint, token.header, request, target)
        )

    def get_shipment(self, shipment_id: str, directory: str | Path) -> tuple[Shipment, list[Document]]:
        """Download one shipment (``getShipment``) and store its documents in ``directory``.

        Attachments are streamed to disk (constant memory), checked against their
        ``Pruefsumme``, ZIPs unpacked with limits, and stored under safe, unique names.
        It does *not* acknowledge; see :meth:`fetch_open_documents` for the safe loop.
        ``directory`` is created if it is missing (its parent folder is not); a folder
        that cannot be written into raises :class:`~bipro_ruv.errors.StorageError`.
        """
        target = resolve_folder(Path(directory), "the target folder")
        make_folder(target, "the target folder")
        try:
            with tempfile.TemporaryDirectory(dir=target, prefix=".bipro-spool-") as spool:
                downloaded = self.download_to_spool(shipment_id, Path(spool))
                documents = []
                taken: list[str] = []
                for doc in downloaded.documents:
                    final = move_unique(doc.path, target, doc.safe_name(), taken)
                    taken.append(final.name)
                    row = doc.record(self.account, shipment_id, final.name, self.vu_number)
                    documents.append(Document.from_record(row, target, doc.warnings))
        except OSError as exc:
            # The network's OSErrors are TransportErrors by now: this is the disk.
            raise storage_error(exc, target, f"store shipment {shipment_id!r} in") from exc
        return downloaded.shipment, documents

    def acknowledge_shipment(self, shipment_id: str) -> Status:
        """Confirm receipt (``acknowledgeShipment``): the shipment leaves the mailbox for good."""
        payload = self._connection.call(
            ServiceKind.TRANSFER, "acknowledgeShipment", Request=self._request(ID=shipment_id)
        )
        return check_status(response_element(payload, "acknowledgeShipment"), "acknowledgeShipment")

    def fetch_open_documents(
        self,
        inbox: str | Path,
        *,
        acknowledge: bool = True,
        categories: Sequence[str] | None = None,
        workers: int = 3,
        progress: Callable[[FetchEvent], None] | None = None,
        store: DocumentStore | None = None,
        on_document: Callable[[Document], object] | None = None,
        consumer: str = DEFAULT_CONSUMER,
        quarantine_after: int = QUARANTINE_AFTER,
    ) -> FetchReport:
        """Fetch every open shipment into ``inbox``, store it durably, then acknowledge it.

        Safe to rerun after any crash: nothing is acknowledged before it is on disk
        (fsync'ed, recorded in the SQLite journal ``inbox/.bipro-ruv/journal.sqlite3``),
        nothing is stored twice, and stored-but-unacknowledged shipments are
        acknowledged without downloading them again. ``acknowledge=False`` is a dry
        run. One failing shipment is reported in the result and does not stop the
        others. ``progress`` is called (from worker threads, serialized) with
        :class:`FetchEvent` objects. ``store``: your own document store instead of the
        inbox's journal (records keyed by this account; flushed at the end, not closed).

        ``on_document``: the push form of the hand-off (:class:`~.handoff.Handoff`): called
        with each stored document once its files are durable, one at a time, and the
        document marked taken by ``consumer`` after it returns; at the end of the run also
        with every document still pending for ``consumer`` (stored earlier, or whose
        hand-off failed). An exception from it stops the hand-off for this run
        (``report.handoff_error``), never the fetch; its documents stay pending.

        ``quarantine_after``: a shipment that failed this many times in a row for the same
        non-transient reason (:func:`~.fetch.failure_key`) is quarantined: its reply and the
        error are kept under ``inbox/.bipro-ruv/quarantine/``, it stays in the mailbox and
        is not downloaded again until released (``bipro-ruv shipments retry``).
        """
        self._connection.check_open()
        fetcher = Fetcher(
            self,
            Path(inbox),
            account=self.account,
            store=store,
            acknowledge=acknowledge,
            categories=validate_category_filter(categories or ()),
            workers=workers,
            progress=progress,
            quarantine_after=quarantine_after,
            on_document=on_document,
            consumer=consumer,
        )
        return fetcher.run()

    def handoff(
        self, inbox: str | Path, *, consumer: str = DEFAULT_CONSUMER, store: DocumentStore | None = None
    ) -> Handoff:
        """The documents stored in ``inbox`` for this account that ``consumer`` has not taken
        (:class:`~.handoff.Handoff`; close it, or use it in a ``with`` block)."""
        return Handoff(inbox, self.account, consumer=consumer, store=store)
