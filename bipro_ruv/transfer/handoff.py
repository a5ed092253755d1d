"""The hand-off of stored documents to the broker's management software (MVP), exactly once.

A fetch stores every document durably (:mod:`.fetch`). An MVP that imports them needs to
know which ones it already has, across its own crashes. :class:`Handoff` is a cursor over
the document store, per account and per *consumer* (the name of the importing program,
``"mvp"`` unless told otherwise; two programs importing the same inbox each get every
document):

.. code-block:: python

    with client.handoff(inbox) as handoff:
        for document in handoff.pending():
            mvp.import_document(document)      # idempotent by document.key, see below
            handoff.mark_taken(document)       # durable before it returns

or, the same loop in one call, ``handoff.take(mvp.import_document)``.

What it promises:

* a document is pending from the moment its shipment is stored (its files durable) until
  the consumer marks it taken; :meth:`Handoff.mark_taken` is durable (fsync'ed) before it
  returns, so a document marked taken is never given again;
* a crash of the consumer *between* its import and the mark gives the document again on
  the next :meth:`Handoff.pending`: never lost, possibly given twice. An MVP imports each
  document exactly once by keeping :attr:`~bipro_ruv.transfer.models.Document.key` with its
  import, in the same transaction, and skipping a key it has (``tests/test_handoff.py``
  kills an importer with SIGKILL at random points and checks exactly that).

It never takes the inbox lock: the MVP may import while a nightly fetch is running (the
journal is SQLite in WAL mode; a write waits up to 30 s for the other's).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from bipro_ruv._wire.fs import resolve_folder
from bipro_ruv.errors import ConfigurationError, StorageError
from bipro_ruv.store import DEFAULT_CONSUMER, Account, DocumentStore
from bipro_ruv.store.sqlite import SqliteStore, journal_path
from bipro_ruv.transfer.models import Document

__all__ = ["DEFAULT_CONSUMER", "Handoff", "PushHandoff"]

log = logging.getLogger("bipro_ruv.handoff")


class Handoff:
    """Stored documents a consumer has not taken yet, for one account of one inbox.

    ``store``: the document store the fetch wrote (default: the inbox's SQLite journal,
    opened here and closed by :meth:`close`). ``consumer``: who takes the documents.
    """

    def __init__(
        self,
        inbox: str | Path,
        account: Account,
        *,
        consumer: str = DEFAULT_CONSUMER,
        store: DocumentStore | None = None,
    ) -> None:
        if not consumer or not consumer.strip() or consumer != consumer.strip():
            raise ConfigurationError(f"a consumer needs a name without surrounding blanks, not {consumer!r}")
        self.inbox = resolve_folder(Path(inbox), "the inbox")
        self.account = account
        self.consumer = consumer
        self._own = store is None
        if store is None:
            if not journal_path(self.inbox).is_file():
                raise StorageError(
                    f"{self.inbox} has no journal of bipro-ruv ({journal_path(self.inbox)}): "
                    "no fetch has stored anything there yet",
                    path=self.inbox,
                )
            store = SqliteStore.for_inbox(self.inbox)
        self.store = store

    def pending(self, limit: int | None = None) -> list[Document]:
        """The stored documents this consumer has not taken, oldest stored first (at most
        ``limit``). Each carries its metadata (category and label, Einstellzeitpunkt,
        VSNR, VU, description, path, hash) and its :attr:`~Document.key`."""
        if limit is not None and limit < 1:
            raise ConfigurationError("limit must be at least 1")
        return [
            Document.from_record(record, self.inbox, shipment=shipment)
            for shipment, record in self.store.pending_documents(self.account, self.consumer, limit)
        ]

    def __iter__(self) -> Iterator[Document]:
        return iter(self.pending())

    def mark_taken(self, document: Document) -> bool:
        """This consumer has the document: never give it again. Durable before it returns.

        Returns False if it was marked before (harmless). Raises
        :class:`~bipro_ruv.errors.JournalError` for a document the store does not know.
        """
        if document.account is not None and document.account != str(self.account):
            raise ConfigurationError(
                f"document {document.key} belongs to {document.account}, not to {self.account}"
            )
        return self.store.mark_taken(self.account, self.consumer, document.shipment_id, document.seq)

    def take(self, handler: Callable[[Document], object], limit: int | None = None) -> int:
        """For each pending document: ``handler(document)``, then :meth:`mark_taken`.

        One document at a time, in order; a handler that raises leaves its document
        pending and ends the call with that exception (the documents before it are
        marked). Returns how many were taken.
        """
        taken = 0
        for document in self.pending(limit):
            handler(document)
            self.mark_taken(document)
            taken += 1
        return taken

    def close(self) -> None:
        """Close the journal if this hand-off opened it."""
        if self._own:
            self.store.close()

    def __enter__(self) -> Handoff:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Handoff({str(self.inbox)!r}, {self.account}, consumer={self.consumer!r})"


class PushHandoff:
    """The push form (``fetch_open_documents(on_document=...)``): ``callback(document)`` for
    each document, one at a time (from any worker thread), then :meth:`Handoff.mark_taken`.
    The first exception from the callback stops it for the run: that document and the ones
    after it stay pending, and :attr:`error` says why."""

    def __init__(self, handoff: Handoff, callback: Callable[[Document], object]) -> None:
        self.handoff = handoff
        self.callback = callback
        self.handed_off = 0
        self.error: str | None = None
        self._lock = threading.Lock()

    def deliver(self, documents: Sequence[Document]) -> None:
        with self._lock:
            for document in documents:
                if self.error is not None:
                    return
                try:
                    self.callback(document)
                except Exception as exc:  # noqa: BLE001 - the MVP's failure is reported, not ours
                    self.error = f"{document.key}: {type(exc).__name__}: {exc}"
                    log.warning(
                        "hand-off to %s stopped at %s: %s; it and the documents after it stay pending",
                        self.handoff.consumer,
                        document.key,
                        exc,
                    )
                    return
                self.handoff.mark_taken(document)
                self.handed_off += 1
