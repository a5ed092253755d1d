"""The document store interface: what the fetcher and the contract index need to keep.

A document store records, per account, every shipment (Norm 430 ``Lieferung``) a fetch
has seen and every document of it with its final path and sha256. The fetcher
(:mod:`bipro_ruv.transfer.fetch`) writes it in a fixed order that makes fetching
crash-safe (R+V delivers these documents *instead of* paper mail, and an acknowledged
shipment is gone from the mailbox for good):

1. :meth:`DocumentStore.plan`: every document's final path and hash, durably, before any
   file appears in the inbox (state ``storing``);
2. the files are moved into place (fsync'ed);
3. :meth:`DocumentStore.mark_stored` (``stored``), or straight to
4. :meth:`DocumentStore.mark_acknowledged` (``acknowledged``) once the server confirmed.

``failed`` (:meth:`DocumentStore.mark_failed`) records the last error of a shipment that
was not stored; one that failed for the same non-transient reason again and again is
``quarantined`` (:meth:`DocumentStore.quarantine`): not downloaded again until someone
releases it (:meth:`DocumentStore.release`).

The hand-off to a consumer (the broker's management software, "MVP"): every document of a
stored shipment is *pending* for a consumer until the consumer marks it *taken*
(:meth:`DocumentStore.pending_documents`, :meth:`DocumentStore.mark_taken`); the mark is
durable before the call returns. Only the plan must survive a power loss; the later states may be taken
back by one, because the fetcher re-establishes them from the plan and the files.

Every record is keyed by an :class:`Account` (insurer profile + user id), so one store can
serve many accounts. A store holds the records of one inbox: paths are relative to it, and
no two plans (of any account) may name the same shipment folder or file.

The first implementation is :class:`bipro_ruv.store.sqlite.SqliteStore` (the journal in
``<inbox>/.bipro-ruv/``); a PostgreSQL store follows as one more module beside it. Nothing
here knows how records are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

__all__ = [
    "DEFAULT_CONSUMER",
    "STATE_DIR",
    "UNKNOWN_USER",
    "Account",
    "DocumentRecord",
    "DocumentStore",
    "ShipmentInfo",
    "ShipmentRecord",
    "ShipmentState",
    "path_key",
]

#: The folder in an inbox where bipro-ruv keeps its own state: the inbox lock, the spool
#: and the SQLite store of that inbox.
STATE_DIR = ".bipro-ruv"

#: The consumer of the hand-off when none is named (the broker's management software).
DEFAULT_CONSUMER = "mvp"

#: The user id of records written before stores keyed by user (schema 1 of the SQLite
#: journal keyed by profile only). Such records belong to no account until the first fetch
#: of their profile adopts them (:meth:`DocumentStore.adopt`).
UNKNOWN_USER = "(unknown)"


@dataclass(frozen=True)
class Account:
    """Whose records: the insurer profile key (``"ruv"``, ``"kravag"``...) and the user id.

    The user id is compared case-folded and without surrounding blanks, as the record of
    rejected passwords does: if the portal does not tell ``ROM4711`` from ``rom4711``, two
    spellings must find the same records (or a rerun would download a stored shipment
    again). ``str()`` gives ``profile/user``.
    """

    profile: str
    user_id: str

    def __post_init__(self) -> None:
        if not self.profile or not self.profile.strip():
            raise ValueError("an account needs an insurer profile key")
        user_id = self.user_id.strip().casefold()
        if not user_id:
            raise ValueError("an account needs a user id")
        object.__setattr__(self, "user_id", user_id)

    @property
    def is_unknown(self) -> bool:
        """Records of an older store that no fetch has adopted yet (see :data:`UNKNOWN_USER`)."""
        return self.user_id == UNKNOWN_USER

    def __str__(self) -> str:
        return f"{self.profile}/{self.user_id}"


class ShipmentState(str, Enum):
    STORING = "storing"  # planned durably; files being moved into place
    STORED = "stored"  # every file durable; may be acknowledged
    ACKNOWLEDGED = "acknowledged"  # the server confirmed the acknowledgement
    FAILED = "failed"  # not stored; the last error is recorded
    QUARANTINED = "quarantined"  # failed for the same reason again and again; left alone until released


@dataclass(frozen=True)
class ShipmentInfo:
    """What the store keeps about a shipment besides its state (from listShipments)."""

    vu_number: str | None = None
    category: str | None = None
    category_label: str | None = None
    created_at_raw: str | None = None


@dataclass(frozen=True)
class ShipmentRecord:
    """A shipment as recorded; ``directory`` is its folder's name in the inbox."""

    account: Account
    shipment_id: str
    state: ShipmentState
    category: str | None
    attempts: int
    error: str | None
    stored_at: str | None
    acknowledged_at: str | None
    directory: str | None
    vu_number: str | None = None
    category_label: str | None = None
    created_at_raw: str | None = None
    failure_key: str | None = None
    """What the last non-transient failures had in common (an error class), or None."""
    failure_count: int = 0
    """How many non-transient failures in a row had :attr:`failure_key`."""
    quarantined_at: str | None = None
    quarantine_dir: str | None = None
    """Where the quarantined reply and its error are kept, relative to the inbox."""
    first_seen_at: str | None = None


@dataclass(frozen=True)
class DocumentRecord:
    """A document as recorded: ``path`` is relative to the inbox (``<folder>/<file name>``).

    :meth:`bipro_ruv.transfer.models.Document.from_record` makes the public
    :class:`~bipro_ruv.transfer.models.Document` of it.
    """

    account: Account
    shipment_id: str
    seq: int
    path: str
    original_name: str | None
    content_type: str | None
    document_type: str | None
    vsnr: str | None
    vu_number: str | None
    description: str | None
    size: int
    sha256: str
    checksum_verified: bool | None
    archive_name: str | None


def path_key(relative_path: str) -> str:
    """Case-insensitive key: two names that collide on Windows/macOS collide here too."""
    return relative_path.casefold()


class DocumentStore(Protocol):
    """Shipments and documents per account; what the fetcher and the contract index use.

    An implementation must keep these promises, on which the fetch's crash safety rests
    (the crash matrix in ``tests/test_crash.py`` checks them for the SQLite store):

    - Every method may be called from several worker threads at once.
    - :meth:`plan` returns only once the plan survives a power loss, and is atomic: all of
      a shipment's documents are recorded, or none. It refuses (raises) a folder or a file
      path (compared by :func:`path_key`) that another plan of any account holds.
    - ``stored`` and ``acknowledged`` are never taken back to ``storing`` or ``failed``,
      except by a power loss (the later states need not be durable).
    - Failures of the store itself raise :class:`~bipro_ruv.errors.StorageError` (the
      SQLite store: :class:`~bipro_ruv.errors.JournalError`), which ends a fetch before
      anything more is acknowledged.
    """

    # -- reads ---------------------------------------------------------------------

    def shipment(self, account: Account, shipment_id: str) -> ShipmentRecord | None:
        """The record of one shipment, or None."""
        ...

    def shipments(
        self, account: Account | None = None, state: ShipmentState | None = None
    ) -> list[ShipmentRecord]:
        """The shipments of ``account`` (None: of every account), of ``state`` if given."""
        ...

    def documents(
        self, account: Account | None = None, shipment_id: str | None = None
    ) -> list[DocumentRecord]:
        """The documents of ``account`` (None: of every account), of one shipment if given,
        ordered by account, shipment and position in the shipment."""
        ...

    def shipment_ids(self, account: Account) -> set[str]:
        """IDs of every shipment of ``account`` the store knows (any state)."""
        ...

    def directory_keys(self) -> set[str]:
        """:func:`path_key` of every planned shipment folder (all accounts)."""
        ...

    # -- state changes ---------------------------------------------------------------

    def adopt(self, account: Account) -> int:
        """Give ``account`` the records of its profile that belong to no user yet
        (:data:`UNKNOWN_USER`, written before stores keyed by user); returns how many
        shipments it took. A fetch calls this first, so a stored but unacknowledged
        shipment of an older store is acknowledged, not downloaded again. A store
        without such records returns 0."""
        ...

    def plan(
        self,
        account: Account,
        shipment_id: str,
        info: ShipmentInfo,
        directory: str,
        documents: Sequence[DocumentRecord],
        *,
        replace: bool = True,
    ) -> None:
        """Record the shipment, its folder and every document's final path and hash,
        durably; state ``storing``. Replaces an older plan of the shipment;
        ``replace=False`` promises there is none (a shipment the store does not know)."""
        ...

    def mark_stored(self, account: Account, shipment_id: str) -> None:
        """``stored``: every planned file is durable. Raises if the shipment is unknown."""
        ...

    def mark_acknowledged(self, account: Account, shipment_id: str) -> None:
        """``acknowledged`` (and ``stored_at``, if "stored" was not recorded separately).
        May be buffered until :meth:`flush`."""
        ...

    def mark_failed(
        self,
        account: Account,
        shipment_id: str,
        info: ShipmentInfo,
        error: str,
        *,
        failure_key: str | None = None,
    ) -> int:
        """Remember the error of a shipment that was not stored (a stored one stays stored).

        ``failure_key`` names a non-transient reason (an error class); None is a transient
        failure (the network), which neither counts nor resets the count. Returns how many
        failures in a row had this key (0 for a transient one): the fetcher quarantines a
        shipment when that reaches its limit. Durable: the count must survive the crash a
        broken shipment may cause."""
        ...

    def quarantine(self, account: Account, shipment_id: str, quarantine_dir: str | None) -> None:
        """``quarantined``: not downloaded again until :meth:`release`. ``quarantine_dir``:
        where its reply and error were kept (relative to the inbox), if anywhere."""
        ...

    def release(self, account: Account, shipment_id: str) -> ShipmentRecord:
        """A quarantined (or failed) shipment back to ``failed`` with its count reset: the
        next fetch downloads it again. Raises if the store does not know it."""
        ...

    # -- the hand-off to a consumer (the MVP) -------------------------------------------

    def pending_documents(
        self, account: Account, consumer: str, limit: int | None = None
    ) -> list[tuple[ShipmentRecord, DocumentRecord]]:
        """The documents of stored and acknowledged shipments that ``consumer`` has not
        taken, oldest stored first, each with its shipment."""
        ...

    def mark_taken(self, account: Account, consumer: str, shipment_id: str, seq: int) -> bool:
        """``consumer`` has taken this document: durable before it returns. False if it
        was taken before (a repeated mark is harmless). Raises if the store does not know
        the document."""
        ...

    def flush(self) -> None:
        """Write what is buffered (acknowledgements)."""
        ...

    def close(self) -> None:
        """Flush, then release the store's resources."""
        ...
