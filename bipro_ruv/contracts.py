"""The contract index: everything delivered for one contract, keyed by (VU-Nummer, VSNR).

Documents (Norm 430, from a :class:`~bipro_ruv.transfer.models.FetchReport` or a document
store: an inbox's fetch journal, or any :class:`~bipro_ruv.store.DocumentStore`) and, as
their parsers land, GDV contracts and CSV records are joined on the canonical
:class:`~bipro_ruv.vsnr.Vsnr` under the VU-Nummer of the risk carrier. The
VU-Nummer is part of the key because one number can name two contracts: when Condor
(5339) was merged into R+V Allgemeine (5438) in 2024, contracts kept their numbers, so
``(5339, 18560093318)`` and ``(5438, 18560093318)`` are two entries, never one
overwriting the other.

:meth:`ContractIndex.find` reads any written form of a number (separators, GDV padding,
Filialdirektion) and follows :class:`~bipro_ruv.migration.VsnrTranslator`'s rules: the
same canonical number first, then the nine digits alone when one side lacks the
Arbeitsgebiet (only if that names exactly one contract number), then the Condor
migration list when one is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from bipro_ruv._wire.fs import first_non_folder, resolve_folder, storage_error
from bipro_ruv.datapackages.packages import Package
from bipro_ruv.errors import JournalError, StorageError
from bipro_ruv.gdv.records import Contract as GdvContract
from bipro_ruv.migration import Migration, VsnrMatch, VsnrTranslator
from bipro_ruv.store import Account, DocumentRecord, DocumentStore, ShipmentState
from bipro_ruv.store.sqlite import SqliteStore, journal_path
from bipro_ruv.transfer.models import Document
from bipro_ruv.vsnr import Vsnr

__all__ = ["ContractEntry", "ContractIndex"]

R = TypeVar("R")

_VU_NUMBER = re.compile(r"\d{4,5}")
# Only these shipments have every document durably in place (see bipro_ruv.store.protocol).
_DURABLE = frozenset({ShipmentState.STORED, ShipmentState.ACKNOWLEDGED})


@dataclass(frozen=True)
class ContractEntry:
    """What the index holds for one contract (a snapshot; the index itself grows).

    ``records`` maps each record class (a GDV contract, a CSV row, ...) to its records in
    the order they were added; :meth:`records_of` reads one kind with its type.
    """

    vu_number: str
    vsnr: Vsnr
    documents: tuple[Document, ...] = ()
    records: Mapping[type, tuple[object, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> tuple[str, Vsnr]:
        return self.vu_number, self.vsnr

    def records_of(self, kind: type[R]) -> tuple[R, ...]:
        """The records of class ``kind`` (subclasses included)."""
        return tuple(
            record
            for record_kind, items in self.records.items()
            if issubclass(record_kind, kind)
            for record in items
            if isinstance(record, kind)
        )


@dataclass
class _Slot:
    documents: list[Document] = field(default_factory=list)
    records: dict[type, list[object]] = field(default_factory=dict)


class ContractIndex:
    """Documents and records per contract, keyed by ``(vu_number, Vsnr)``; never overwritten.

    Build it with :meth:`from_journal`, :meth:`from_store` or :meth:`add_documents`, and :meth:`add` any other
    record. Documents without a readable VSNR or a usable VU-Nummer are kept in
    :attr:`unassigned`. Iteration yields :class:`ContractEntry` snapshots ordered by
    VU-Nummer and number; ``len`` counts entries. ``migrations`` (the Condor migration
    list) lets :meth:`find` follow old numbers to new ones and back.
    """

    def __init__(self, migrations: Iterable[Migration] = ()) -> None:
        self._slots: dict[tuple[str, Vsnr], _Slot] = {}
        self._unassigned: list[Document] = []
        self._migrations = tuple(migrations)
        self._translators: dict[str | None, VsnrTranslator] = {}

    @classmethod
    def from_journal(
        cls,
        inbox: str | Path,
        migrations: Iterable[Migration] = (),
        *,
        account: Account | None = None,
    ) -> ContractIndex:
        """The documents of every stored shipment recorded in ``inbox``'s fetch journal
        (the SQLite store a fetch uses by default): of ``account``, or of every account.

        Shipments still being downloaded or stored are left out: their files may not be in
        place yet. Raises :class:`~bipro_ruv.errors.StorageError` when ``inbox`` is no
        folder, and :class:`~bipro_ruv.errors.JournalError` when it has no journal or the
        journal cannot be read.
        """
        folder = resolve_folder(Path(inbox), "the inbox")
        path = journal_path(folder)
        try:
            present = path.exists()  # anything else in its place: SqliteStore says what is wrong
        except OSError as exc:
            raise storage_error(exc, path, "look for the journal") from exc
        if not present:
            blocker = first_non_folder(folder)
            if blocker == folder:
                raise StorageError(f"the inbox {folder} is a file, not a folder", path=folder)
            if blocker is not None:
                raise StorageError(
                    f"there is no inbox {folder}: {blocker} is a file, not a folder", path=blocker
                )
            raise JournalError(f"there is no fetch journal at {path}; fetch into {folder} first", path=path)
        with SqliteStore(path) as store:
            return cls.from_store(store, folder, account=account, migrations=migrations)

    @classmethod
    def from_store(
        cls,
        store: DocumentStore,
        inbox: str | Path,
        *,
        account: Account | None = None,
        migrations: Iterable[Migration] = (),
    ) -> ContractIndex:
        """The documents of every stored shipment in ``store``: of ``account``, or of every
        account (also records of an older journal no fetch has adopted yet). ``inbox`` is the
        folder the store's paths are relative to. The store is read, not closed.
        """
        durable = {
            (item.account, item.shipment_id) for item in store.shipments(account) if item.state in _DURABLE
        }
        rows = [row for row in store.documents(account) if (row.account, row.shipment_id) in durable]
        index = cls(migrations)
        index.add_documents(rows, inbox=Path(inbox))
        return index

    # -- building -------------------------------------------------------------------------

    def add_documents(
        self,
        documents: Iterable[Document | DocumentRecord],
        *,
        inbox: str | Path | None = None,
        vu_number: str | None = None,
    ) -> None:
        """File documents under their contract.

        :param inbox: the folder a store's paths are relative to (needed for
            :class:`~bipro_ruv.store.DocumentRecord` rows only).
        :param vu_number: for documents that name no VU-Nummer (a fetch always records the
            profile's, so this is for documents from elsewhere).
        """
        default_vu = _check_vu_number(vu_number) if vu_number is not None else None
        for item in documents:
            document = item if isinstance(item, Document) else _from_record(item, inbox)
            vu = document.vu_number.strip() if document.vu_number else default_vu
            if document.vsnr is None or vu is None or not _VU_NUMBER.fullmatch(vu):
                self._unassigned.append(document)
            else:
                self._slot(vu, document.vsnr).documents.append(document)

    def add_gdv(self, contracts: Iterable[GdvContract]) -> list[GdvContract]:
        """File GDV contracts (:func:`bipro_ruv.gdv.parse` or a stream) under (VU-Nr, VSNR),
        beside the documents; ``entry.records_of(GdvContract)`` reads them back.

        Returns the contracts that could not be filed: a VSNR that is not R+V-shaped (another
        insurer's file) or a VU-Nummer that is no BaFin number. The same VSNR under two
        VU numbers (R+V's 2024 merger) is filed twice, once under each. Give the contracts
        of :func:`bipro_ruv.gdv.parse`: a stream yields the records of a contract that the
        file interleaves with another's as two contracts, and both would be filed.
        """
        skipped: list[GdvContract] = []
        for contract in contracts:
            vsnr = contract.vsnr
            if vsnr is None or not _VU_NUMBER.fullmatch(contract.vu_number):
                skipped.append(contract)
            else:
                self.add(contract.vu_number, vsnr, contract)
        return skipped

    def add_package(self, package: Package, vu_number: str) -> list[Any]:
        """File the rows of a data package (any of :data:`bipro_ruv.datapackages.TYPES`) under
        (VU-Nr, VSNR) beside the documents and GDV contracts; ``entry.records_of(SaldenRow)``
        reads them back.

        A CSV row names no VU, and one file covers every company of the group ("Vertragsnummer
        R+V - Kravag - Condor"). So a row goes to the VU under which the index already holds
        its number, when that is exactly one VU (add documents and GDV data first); else, and
        when the number is under several VUs of which ``vu_number`` is one (the 2024 merger),
        under ``vu_number``: the VU of the shipment the file came with
        (``PackageDelivery.vu_number``) or of the file's insurer. Returns the rows that could
        not be filed (no VSNR, as the Klärkonto total, or one that is no R+V number)."""
        default_vu = _check_vu_number(vu_number)
        known: dict[Vsnr, set[str]] = {}
        for vu, number in self._slots:
            known.setdefault(number, set()).add(vu)
        skipped: list[Any] = []
        for row in package.rows:
            if row.vsnr is None:
                skipped.append(row)
                continue
            vus = known.get(_key(row.vsnr), set())
            vu = next(iter(vus)) if len(vus) == 1 else default_vu
            self.add(vu, row.vsnr, row)
        return skipped

    def add(self, vu_number: str, vsnr: str | Vsnr, record: object) -> ContractEntry:
        """Add one record (a GDV contract, a CSV row, ...) under its contract; kept per class.

        Raises :class:`~bipro_ruv.vsnr.InvalidVsnr` for a number that is no VSNR.
        """
        slot = self._slot(vu_number, Vsnr(vsnr))
        slot.records.setdefault(type(record), []).append(record)
        entry = self.get(vu_number, vsnr)
        assert entry is not None
        return entry

    def _slot(self, vu_number: str, vsnr: Vsnr) -> _Slot:
        key = (_check_vu_number(vu_number), _key(vsnr))
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
            self._translators.clear()
        return slot

    # -- reading ------------------------------------------------------------------------

    @property
    def unassigned(self) -> tuple[Document, ...]:
        """Documents that name no contract: no readable VSNR, or no usable VU-Nummer."""
        return tuple(self._unassigned)

    def get(self, vu_number: str, vsnr: str | Vsnr) -> ContractEntry | None:
        """The entry with exactly this key (number in any written form), or None."""
        key = (vu_number, _key(Vsnr(vsnr, validate=False)))
        return self._entry(key) if key in self._slots else None

    def match(self, vsnr: str, *, vu_number: str | None = None) -> VsnrMatch:
        """How :meth:`find` reads ``vsnr``: the rule used and the indexed numbers it found.

        More than one candidate means the typed form is ambiguous (nine digits under
        several Arbeitsgebiete); :meth:`find` then returns nothing.
        """
        Vsnr(vsnr, validate=False)  # raise InvalidVsnr with its reason, not just "no match"
        return self._translator(vu_number).resolve(vsnr)

    def find(self, vsnr: str, *, vu_number: str | None = None) -> list[ContractEntry]:
        """Entries for any written form of ``vsnr``: under every VU-Nummer, or only ``vu_number``.

        ``32123456789``, ``32 123 456 789``, ``123/32/123456789`` and ``00000032123456789``
        find the same entries; ``123456789`` finds them when no other indexed number has
        those nine digits. Raises :class:`~bipro_ruv.vsnr.InvalidVsnr` for input that is
        no VSNR at all.
        """
        found = self.match(vsnr, vu_number=vu_number).stored
        if found is None:
            return []
        return [
            self._entry(key) for key in sorted(self._slots) if key[1] == found and vu_number in (None, key[0])
        ]

    def _translator(self, vu_number: str | None) -> VsnrTranslator:
        translator = self._translators.get(vu_number)
        if translator is None:
            numbers = (str(vsnr) for vu, vsnr in self._slots if vu_number in (None, vu))
            translator = self._translators[vu_number] = VsnrTranslator(numbers, self._migrations)
        return translator

    def _entry(self, key: tuple[str, Vsnr]) -> ContractEntry:
        slot = self._slots[key]
        records = MappingProxyType({kind: tuple(items) for kind, items in slot.records.items()})
        return ContractEntry(vu_number=key[0], vsnr=key[1], documents=tuple(slot.documents), records=records)

    def __iter__(self) -> Iterator[ContractEntry]:
        return (self._entry(key) for key in sorted(self._slots))

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        return f"ContractIndex({len(self)} contracts, {len(self._unassigned)} unassigned documents)"


def _key(vsnr: Vsnr) -> Vsnr:
    """The canonical number without the Filialdirektion, which is no part of the key."""
    return vsnr if vsnr.branch is None else Vsnr(str(vsnr), validate=False)


def _check_vu_number(vu_number: str) -> str:
    if not _VU_NUMBER.fullmatch(vu_number):
        raise ValueError(f"a VU-Nummer has 4 or 5 digits, got {vu_number!r}")
    return vu_number


def _from_record(row: DocumentRecord, inbox: str | Path | None) -> Document:
    if inbox is None:
        raise TypeError("store records hold paths relative to the inbox: pass inbox=")
    return Document.from_record(row, Path(inbox))
