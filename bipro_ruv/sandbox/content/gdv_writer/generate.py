"""Realistic R+V GDV files from one seed: :func:`generate_gdv`, :func:`generate_gdv_with_truth`,
:func:`write_gdv` (see the package doc)."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bipro_ruv.gdv.layouts import NEWEST, Layout, versions_of
from bipro_ruv.sandbox.content.gdv_writer.book import Book
from bipro_ruv.sandbox.content.gdv_writer.encoding import WrittenRecord
from bipro_ruv.sandbox.content.gdv_writer.packets import GdvWriter, _add_amounts, _Sums
from bipro_ruv.sandbox.content.gdv_writer.people import (
    _BROKERS,
    _MERGER_DATE,
    _MERGER_REASON,
    Kind,
    _Contract,
    _formatted_vsnr,
)
from bipro_ruv.sandbox.content.gdv_writer.seeded import DEFAULT_CREATED, DEFAULT_ENCODING


def _satzarten(kind: Kind, release: str) -> list[tuple[str, str]]:
    """The (Satzart, Sparte) the generator may write, for the Vorsatz versions."""
    inkasso = {"0400", "0410", "0420", "0430"}
    found = []
    for satzart, sparte in versions_of(release):
        if satzart in ("0001", "9999"):
            continue
        is_inkasso = satzart in inkasso
        if (kind == "bestand" and is_inkasso) or (kind == "inkasso" and not is_inkasso):
            continue
        if sparte and sparte[:2] not in ("01", "03", "04", "05", "13", "14"):
            continue
        found.append((satzart, sparte))
    return found


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """What :func:`write_gdv` wrote."""

    path: Path
    bytes_written: int
    records: int
    """Lines, Vorsätze and Nachsätze included."""
    contracts: int
    """Contract entries ((VU-Nr, VSNR) per Datenpaket; a merged contract counts under both VUs)."""
    packets: int


@dataclass(slots=True)
class _Template:
    """A fresh contract as written, for further contracts of the same customer (see :meth:`_Run.variant`)."""

    vsnr: str
    sparte: str
    records: Sequence[tuple[Layout, Mapping[str, object], str]]
    block: str
    """The records' texts joined by the line ending: a variant is one ``str.replace`` of it."""
    sums: _Sums


_TEMPLATES = 64
"""Recent fresh contracts a variant may copy (memory stays flat)."""


class _Run:
    """Drives a :class:`GdvWriter`: Datenpakete per VU number, contracts until the count (or size)."""

    def __init__(
        self,
        writer: GdvWriter,
        *,
        seed: int,
        kind: Kind,
        vu_numbers: Sequence[str],
        packets: int,
        created: date,
        distinct: float,
    ) -> None:
        if kind not in ("bestand", "inkasso", "both"):
            raise ValueError(f"kind must be bestand, inkasso or both, not {kind!r}")
        if not vu_numbers or packets < 1:
            raise ValueError("at least one VU number and one Datenpaket are needed")
        if not 0 < distinct <= 1:
            raise ValueError("distinct is the share of fresh contracts: more than 0, at most 1")
        self.writer = writer
        self.kind = kind
        self.vu_numbers = tuple(vu_numbers)
        self.packets = packets
        self.created = created
        self.distinct = distinct
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.book = Book(self.rng, writer.release, created)
        self.templates: list[_Template] = []
        self.contracts = 0

    def shares(self, contracts: int | None, size_bytes: int | None) -> tuple[list[int], int]:
        """Per Datenpaket: contracts (or records) to write; and how many contracts may move in the merger."""
        vu_count, packets = len(self.vu_numbers), self.packets
        total = vu_count * packets
        if contracts is not None:
            per_vu = [contracts // vu_count + (1 if i < contracts % vu_count else 0) for i in range(vu_count)]
            shares = [
                share // packets + (1 if j < share % packets else 0)
                for share in per_vu
                for j in range(packets)
            ]
            return shares, shares[(vu_count - 1) * packets] if vu_count > 1 else 0
        if size_bytes is None:
            raise ValueError("give either contracts or size_bytes")
        budget = max(1, size_bytes // self.writer.record_size)  # records
        unlimited = 10**12 if vu_count > 1 else 0
        return [budget // total + (1 if i < budget % total else 0) for i in range(total)], unlimited

    def run(self, *, contracts: int | None, size_bytes: int | None) -> int:
        if (contracts is None) == (size_bytes is None):
            raise ValueError("give either contracts or size_bytes")
        shares, merger_room = self.shares(contracts, size_bytes)
        writer, book, rng = self.writer, self.book, self.rng
        addressee = book.pick(_BROKERS)
        satzarten = _satzarten(self.kind, writer.release)
        vu_count, packets = len(self.vu_numbers), self.packets
        migrated: list[tuple[int, str, str]] = []
        for packet, share in enumerate(shares):
            vu = self.vu_numbers[packet // packets]
            writer.begin_packet(
                vu,
                addressee=addressee,
                agency=book.agency,
                period=(self.created, self.created),
                satzarten=satzarten,
            )
            self.templates = []
            done = 0
            if vu_count > 1 and packet == (vu_count - 1) * packets:
                for contract_seed, vsnr, sparte in migrated:  # the Zugang: same VSNR, now under the last VU
                    entry = Book(random.Random(contract_seed), writer.release, self.created)  # noqa: S311
                    contract = entry.contract(vu, vsnr=vsnr, sparte=sparte)
                    contract.status, contract.reason, contract.cancelled = "1", None, None
                    self.emit(entry, contract)
                    done += 1
                migrated = []
            merging_out = vu_count > 1 and packet < packets
            while (done < share) if contracts is not None else (writer.packet_records < share):
                if self.templates and rng.random() >= self.distinct:
                    self.variant(self.templates[int(rng.random() * len(self.templates))])
                elif merging_out and len(migrated) < merger_room and rng.random() < 0.05:
                    contract_seed = rng.getrandbits(64)
                    entry = Book(random.Random(contract_seed), writer.release, self.created)  # noqa: S311
                    contract = entry.contract(vu, numbering=book)
                    contract.status, contract.reason, contract.cancelled = "4", _MERGER_REASON, _MERGER_DATE
                    migrated.append((contract_seed, contract.vsnr, contract.sparte))
                    self.emit(entry, contract)
                else:
                    self.emit(book, book.contract(vu), keep=self.distinct < 1)
                done += 1
            writer.end_packet({"agency": book.agency})
            self.contracts += done
        return self.contracts

    def emit(self, book: Book, contract: _Contract, *, keep: bool = False) -> None:
        kind = self.kind
        records = book.bestand(contract) if kind != "inkasso" else []
        if kind != "bestand":
            if not contract.premiums:
                book.premiums(contract)
            records += book.inkasso(contract)
        writer = self.writer
        if not keep:
            for key, values in records:
                writer.add(key, values)
            return
        kept = [(writer.layouts[key], values, writer.add(key, values)) for key, values in records]
        sums = _Sums(records=len(kept))
        for layout, written, _ in kept:
            _add_amounts(sums, layout, written)
        block = writer.line_ending.join(text for _, _, text in kept)
        self.templates.append(_Template(contract.vsnr, contract.sparte, kept, block, sums))
        if len(self.templates) > _TEMPLATES:
            del self.templates[0]

    def variant(self, template: _Template) -> None:
        """Another contract of a recent customer: the template's records under a new VSNR.

        The VSNR is 11 digits in all our contracts, so replacing it keeps every column.
        """
        old, new = template.vsnr, self.book.next_vsnr(template.sparte)
        old_printed, new_printed = _formatted_vsnr(old), _formatted_vsnr(new)
        writer = self.writer
        if writer.truth is None:
            block = template.block.replace(old, new).replace(old_printed, new_printed)
            writer._add_block(block, template.sums)
            return
        for layout, values, text in template.records:
            renamed = {
                name: value.replace(old, new).replace(old_printed, new_printed)
                if type(value) is str
                else value
                for name, value in values.items()
            }
            writer._add_text(layout, renamed, text.replace(old, new).replace(old_printed, new_printed))


def generate_gdv_with_truth(
    *,
    contracts: int,
    seed: int = 0,
    release: str = NEWEST,
    kind: Kind = "bestand",
    vu_numbers: Sequence[str] = ("5438",),
    line_ending: str = "\n",
    encoding: str = DEFAULT_ENCODING,
    packets: int = 1,
    final_newline: bool = True,
    created: date = DEFAULT_CREATED,
    distinct: float = 1.0,
) -> tuple[bytes, list[WrittenRecord]]:
    """:func:`generate_gdv`, and a :class:`WrittenRecord` per line (Vorsatz and Nachsatz included)."""
    writer = GdvWriter(
        release=release,
        encoding=encoding,
        line_ending=line_ending,
        final_newline=final_newline,
        keep_truth=True,
    )
    _Run(
        writer,
        seed=seed,
        kind=kind,
        vu_numbers=vu_numbers,
        packets=packets,
        created=created,
        distinct=distinct,
    ).run(contracts=contracts, size_bytes=None)
    data = writer.getvalue()
    assert writer.truth is not None
    return data, writer.truth


def generate_gdv(
    *,
    contracts: int,
    seed: int = 0,
    release: str = NEWEST,
    kind: Kind = "bestand",
    vu_numbers: Sequence[str] = ("5438",),
    line_ending: str = "\n",
    encoding: str = DEFAULT_ENCODING,
    packets: int = 1,
    final_newline: bool = True,
    created: date = DEFAULT_CREATED,
    distinct: float = 1.0,
) -> bytes:
    """A realistic R+V GDV file (``kind``: Bestand, Inkasso or both) of ``contracts`` contract entries.

    Per VU number, ``packets`` Datenpakete, each with a Vorsatz stating the release's versions and a
    Nachsatz with the right count and sums. With two or more VU numbers, some contracts of the first VU
    leave in the 2024 merger (Abgang: status 4, reason 37, date ``00082024``) and return under the last VU
    with the same VSNR. ``distinct`` below 1 makes the other contracts further contracts of a recent
    customer: its records again under a new VSNR, which is much faster than drawing a new one. The same
    arguments give the same bytes.
    """
    writer = GdvWriter(
        release=release, encoding=encoding, line_ending=line_ending, final_newline=final_newline
    )
    _Run(
        writer,
        seed=seed,
        kind=kind,
        vu_numbers=vu_numbers,
        packets=packets,
        created=created,
        distinct=distinct,
    ).run(contracts=contracts, size_bytes=None)
    return writer.getvalue()


def write_gdv(
    path: str | os.PathLike[str],
    *,
    size_bytes: int | None = None,
    contracts: int | None = None,
    seed: int = 0,
    release: str = NEWEST,
    kind: Kind = "bestand",
    vu_numbers: Sequence[str] = ("5438",),
    line_ending: str = "\n",
    encoding: str = DEFAULT_ENCODING,
    packets: int = 1,
    final_newline: bool = True,
    created: date = DEFAULT_CREATED,
    distinct: float = 0.25,
) -> GeneratedFile:
    """Stream a generated file to ``path`` in chunks of 1 MiB: memory stays flat at any size.

    Give ``contracts`` or ``size_bytes``. With ``size_bytes`` every Datenpaket takes contracts until it
    holds its share of the size, so the file ends a little past it (the last contract, the Nachsätze). The
    default ``distinct`` of 0.25 draws every fourth contract afresh (see :func:`generate_gdv`), for speed.
    """
    target = Path(path)
    try:
        with target.open("wb") as stream:
            writer = GdvWriter(
                stream.write,
                release=release,
                encoding=encoding,
                line_ending=line_ending,
                final_newline=final_newline,
            )
            run = _Run(
                writer,
                seed=seed,
                kind=kind,
                vu_numbers=vu_numbers,
                packets=packets,
                created=created,
                distinct=distinct,
            )
            run.run(contracts=contracts, size_bytes=size_bytes)
            writer.close()
    except BaseException:
        target.unlink(missing_ok=True)  # no half-written file that looks like a delivery
        raise
    return GeneratedFile(target, writer.bytes_written, writer.lines, run.contracts, len(vu_numbers) * packets)
