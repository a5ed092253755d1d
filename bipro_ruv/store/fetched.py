"""What a service that reads fetched files needs of a fetch, as protocols.

``client.gdv`` and ``client.datapackages`` read files the transfer service stored; they stand
beside it in the services layer and must not import it. These protocols describe the little
they use of it (a fetch report's shipments and their stored documents, and the fetch itself);
:class:`~bipro_ruv.transfer.service.TransferService` and its models satisfy them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = ["DocumentFetcher", "FetchedShipment", "FetchReportLike", "StoredDocument"]


class StoredDocument(Protocol):
    @property
    def path(self) -> Path: ...
    @property
    def file_name(self) -> str: ...
    @property
    def shipment_id(self) -> str: ...
    @property
    def vu_number(self) -> str | None: ...


class FetchedShipment(Protocol):
    @property
    def shipment_id(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def documents(self) -> Sequence[StoredDocument]: ...


class FetchReportLike(Protocol):
    @property
    def results(self) -> Sequence[FetchedShipment]: ...


class DocumentFetcher(Protocol):
    def fetch_open_documents(
        self,
        inbox: str | Path,
        *,
        acknowledge: bool = ...,
        categories: Sequence[str] | None = ...,
        workers: int = ...,
        progress: Callable[[Any], None] | None = ...,
        store: Any = ...,
    ) -> Any: ...
