"""Bytes -> GDV records -> contracts (GDV VU-Vermittler Datensatz, releases 2009-2023).

The records of a file come from :mod:`bipro_ruv.gdv._physical` (256 bytes each, whatever
the line endings and the encoding; ISO-8859-15 by default, CP850 and UTF-8 on request);
:mod:`bipro_ruv.gdv._routing` finds each one's layout. A file may hold several Datenpakete
(Vorsatz 0001 ... Nachsatz 9999) and may stop without a Nachsatz. Consecutive records with
the same fields 1-7 and ascending Teildatensatz numbers form one Datensatz (gdv-format.md
§1.3); missing or out-of-order Teildatensätze start a new one rather than being lost.

Nothing here raises for damage inside a readable file: it becomes a :class:`GdvWarning`
and, where a line cannot be decoded, a :class:`RawRecord`. Only input that is not a GDV
file at all (or an unknown encoding) raises :class:`~bipro_ruv.errors.GdvFormatError`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Final

from bipro_ruv.errors import GdvFormatError
from bipro_ruv.gdv._physical import RecordStream, Source
from bipro_ruv.gdv._routing import Route, route
from bipro_ruv.gdv.layouts import NEWEST, Part, choose_release, layouts_of
from bipro_ruv.gdv.records import Contract, Nachsatz, Packet, RawRecord, Record, Vorsatz
from bipro_ruv.gdv.values import INVALID, GdvWarning, InvalidValue

__all__ = ["DEFAULT_ENCODING", "GdvFile", "GdvReader", "Source", "iter_contracts", "parse"]

DEFAULT_ENCODING: Final = "iso-8859-15"
MAX_WARNINGS: Final = 1000
"""Warnings kept in detail per Datenpaket; more are counted."""
MAX_FILE_WARNINGS: Final = 10_000
"""Warnings kept in detail per file, over all Datenpakete; more are counted."""

_DIGITS: Final = frozenset("0123456789")
_FRAME: Final = frozenset({"0001", "9999"})
_ROUTES: Final = 4096
"""Kept ways to the layouts (by Satzart, VU-Nr, Bündelungskennzeichen, Sparte) per Datenpaket."""


class GdvReader:
    """Stream the contracts of a GDV file in bounded memory.

    ``for contract in GdvReader(path): ...`` yields each :class:`Contract` once its records
    are complete (when the next contract or Datenpaket begins). :attr:`packets` fills as
    the file is read (Vorsatz, Nachsatz, warnings; not the contracts, which would grow
    with the file), :attr:`warnings` lists every warning of the file.

    Contracts are yielded in file order; a file that interleaves the records of two
    contracts yields the same key more than once (:func:`parse` merges them).
    """

    def __init__(self, source: Source, *, encoding: str = DEFAULT_ENCODING) -> None:
        self._records = RecordStream(source, encoding)
        self.encoding = encoding
        self.packets: list[Packet] = []
        self.records = 0
        """Records (256-byte lines) read so far."""
        self.suppressed_warnings = 0
        self._kept = 0
        self._pending: list[GdvWarning] = []
        self._used = False

    @property
    def warnings(self) -> list[GdvWarning]:
        return [w for p in self.packets for w in p.warnings]

    def __iter__(self) -> Iterator[Contract]:
        if self._used:
            raise RuntimeError("a GdvReader reads its source once; make a new one")
        self._used = True
        return self._contracts()

    def _contracts(self) -> Iterator[Contract]:
        packet: Packet | None = None
        routes: dict[str, Route] = {}
        contract: Contract | None = None
        record: Record | None = None
        record_prefix = ""
        record_group = ""
        record_part = 0  # the Teildatensatz number of the last part of ``record``
        vorsatz_parts: list[Part] = []
        transcode = not self._records.one_byte
        encoding = self.encoding
        invalid = INVALID
        seen_invalid = invalid.count
        line = 0
        steady = False  # inside a Datenpaket's data records: the fast path below

        def warn(code: str, message: str, at: int | None) -> None:
            # Before the first record is read (the first chunk is split), there is no packet
            # yet: such warnings wait for the first one.
            target = packet.warnings if packet is not None else self._pending
            if len(target) < MAX_WARNINGS and self._kept < MAX_FILE_WARNINGS:
                target.append(GdvWarning(code, message, at))
                self._kept += 1
            else:
                self.suppressed_warnings += 1

        queued: list[GdvWarning] = []  # from splitting: filed when their record is read

        def queue(code: str, message: str, at: int | None) -> None:
            queued.append(GdvWarning(code, message, at))

        def file_queued(upto: int) -> int:
            """File the queued warnings of records before ``upto``; the next one's record."""
            while queued and (queued[0].line or 0) < upto:
                item = queued.pop(0)
                warn(item.code, item.message, item.line)
            return (queued[0].line or 0) if queued else 0

        vu_raw = vsnr_raw = ""
        next_queued = 0
        for chunk in self._records.chunks(queue):
            if queued and not next_queued:
                next_queued = (queued[0].line or 0) + 1 if queued else 0
            for text in chunk:
                line += 1
                if next_queued and line >= next_queued:
                    # The record a warning is about is read: it now has its packet.
                    following = file_queued(line)
                    next_queued = following + 1 if following else 0
                satzart = text[:4]
                if not steady or satzart in _FRAME:
                    if not _DIGITS.issuperset(satzart) and line == 1:
                        raise GdvFormatError(
                            f"this is not a GDV file: record 1 begins with {satzart!r}, "
                            "not with a four-digit Satzart",
                            line=1,
                        )
                    if satzart == "0001":
                        if (
                            packet is None
                            or packet.record_count
                            or packet.nachsatz is not None
                            or text[255] == "1"
                        ):
                            if contract is not None:
                                yield contract
                                contract = None
                            if packet is not None and packet.nachsatz is None:
                                if packet.record_count:
                                    warn(
                                        "no-nachsatz",
                                        "the Datenpaket ends without a Nachsatz (9999): a new Vorsatz "
                                        "follows; it may be cut off",
                                        line - 1,
                                    )
                                self._close(packet, line - 1)
                            packet = self._implicit(line)
                            routes = {}
                            record = None
                            vorsatz_parts = []
                        vorsatz = self._vorsatz_part(text, len(vorsatz_parts), packet)
                        if invalid.count != seen_invalid:
                            seen_invalid = invalid.count
                            self._report_invalid(vorsatz, line, warn)
                        if transcode and not text.isascii():
                            vorsatz = self._transcode(vorsatz, encoding, line, warn)
                        vorsatz_parts.append(vorsatz)
                        packet.vorsatz = Vorsatz(packet.first_line, vorsatz_parts)
                        steady = True
                        continue
                    if satzart == "9999":
                        if contract is not None:
                            yield contract
                            contract = None
                        record = None
                        if packet is None or packet.nachsatz is not None:
                            packet = self._implicit(line)
                            warn("no-vorsatz", "a Nachsatz without a Vorsatz before it", line)
                        trailer = self._nachsatz_part(packet, text)
                        if invalid.count != seen_invalid:
                            seen_invalid = invalid.count
                            self._report_invalid(trailer, line, warn)
                        packet.nachsatz = Nachsatz(line, trailer)
                        self._close(packet, line)
                        steady = False
                        continue
                    if packet is None or packet.nachsatz is not None:
                        if packet is not None:
                            warn("after-nachsatz", "records follow the Nachsatz without a new Vorsatz", line)
                        if contract is not None:
                            yield contract
                            contract = None
                        packet = self._implicit(line)
                        if line == 1:
                            warn(
                                "no-vorsatz",
                                f"the file does not begin with a Vorsatz (0001); read with release {NEWEST}",
                                1,
                            )
                        routes = {}
                        record = None
                    steady = True
                packet.record_count += 1  # type: ignore[union-attr]  # steady: a packet exists

                # The contract: VU-Nr (5-9) and VSNR (14-30).
                if contract is None or text[13:30] != vsnr_raw or text[4:9] != vu_raw:
                    if contract is not None:
                        yield contract
                    vu_raw = text[4:9]
                    vsnr_raw = text[13:30]
                    contract = Contract(vu_raw.rstrip(), vsnr_raw.strip(), packet.index)  # type: ignore[union-attr]  # steady: a packet exists
                    record = None

                route = routes.get(text[:13])
                if route is None:
                    if len(routes) >= _ROUTES:  # damaged files vary cols 5-13 endlessly
                        routes.clear()
                    route = routes[text[:13]] = self._route(text, packet)  # type: ignore[arg-type]  # steady: a packet exists
                column, pick = route
                layout = pick[text[column]] if column >= 0 else pick(text)
                if layout is None:
                    if not _DIGITS.issuperset(satzart):
                        warn(
                            "not-a-record",
                            f"this line is no GDV record (it begins with {satzart!r}); kept as text",
                            line,
                        )
                    contract.records.append(RawRecord(line, self._text(text) if transcode else text))
                    record = None
                    continue
                part = (layout.decoder or layout.compile())(text)
                if invalid.count != seen_invalid:
                    seen_invalid = invalid.count
                    self._report_invalid(part, line, warn)
                if transcode and not text.isascii():
                    part = self._transcode(part, encoding, line, warn)
                if satzart == "0200" and layout.part == 1:
                    premium = part.get("total_premium_net")
                    if type(premium) is Decimal:
                        packet.premium_sum += premium  # type: ignore[union-attr]  # steady: a packet exists
                prefix = text[:42]
                number = layout.part
                if (
                    record is not None
                    and record_part < number
                    and record_group == layout.group
                    and record_prefix == prefix
                ):
                    record.append(part)
                else:
                    record = Record((part,))
                    record.line = line
                    record_group = layout.group
                    record_prefix = prefix
                    contract.records.append(record)
                record_part = number
        self.records = line
        file_queued(line + 1)
        if line == 0:
            raise GdvFormatError("the file is empty")
        if contract is not None:
            yield contract
        if packet is not None and packet.nachsatz is None:
            warn("no-nachsatz", "the file ends without a Nachsatz (9999): it may be cut off", line)
            self._close(packet, line)
        if self.suppressed_warnings and self.packets:
            self.packets[-1].warnings.append(
                GdvWarning(
                    "more-warnings",
                    f"{self.suppressed_warnings} more warnings are not listed "
                    f"(only the first {MAX_WARNINGS} per Datenpaket and {MAX_FILE_WARNINGS} per file are)",
                )
            )

    # -- packets ---------------------------------------------------------------------

    def _implicit(self, line: int) -> Packet:
        """A new Datenpaket; it takes the warnings that came before any packet."""
        packet = Packet(len(self.packets), line)
        self.packets.append(packet)
        if self._pending:
            packet.warnings[:0] = self._pending
            self._pending = []
        return packet

    def _vorsatz_part(self, text: str, index: int, packet: Packet) -> Part:
        """A Vorsatz Teildatensatz, read with the release that the version of Satzart 0001
        names; only Teildatensatz 1 states it (cols 96-98), the others follow it."""
        number = int(text[255]) if text[255] in _DIGITS else index + 1
        release = packet.releases.get(("0001", "")) if index else None
        if release is None:
            release, _ = choose_release("0001", "", text[95:98].strip())
            packet.releases[("0001", "")] = release
        layouts = layouts_of(release)
        layout = layouts.get(("0001", "", "", number)) or layouts[("0001", "", "", 1)]
        return layout.decode(text)

    def _nachsatz_part(self, packet: Packet, text: str) -> Part:
        release = packet.releases.get(("9999", ""))
        if release is None:
            release, _ = choose_release("9999", "", self._stated(packet, "9999", ""))
            packet.releases[("9999", "")] = release
        return layouts_of(release)[("9999", "", "", 1)].decode(text)

    @staticmethod
    def _stated(packet: Packet, satzart: str, sparte: str) -> str | None:
        if packet.vorsatz is None:
            return None
        versions = packet.vorsatz.versions
        return versions.get((satzart, sparte)) or (versions.get((satzart, "")) if sparte else None)

    def _close(self, packet: Packet, line: int) -> None:
        """The Nachsatz checks (gdv-format.md §1.4): warnings, never exceptions."""
        packet.last_line = line
        if packet.inexact:
            listed = ", ".join(f"{kind} {version}" for kind, (version, _) in sorted(packet.inexact.items()))
            used = sorted({release for _, release in packet.inexact.values()})
            packet.warnings.append(
                GdvWarning(
                    "version",
                    f"the Vorsatz states versions that no GDV release 2009-2023 has ({listed}); "
                    f"read with the nearest layouts (release {', '.join(used)})",
                    packet.first_line,
                )
            )
            packet.inexact = {}
        nachsatz = packet.nachsatz
        if nachsatz is None:
            return
        stated = nachsatz.record_count
        if stated is not None and stated != packet.record_count:
            packet.warnings.append(
                GdvWarning(
                    "nachsatz-count",
                    f"the Nachsatz states {stated} records, the Datenpaket has {packet.record_count}",
                    nachsatz.line,
                )
            )
        total = nachsatz.total_premium
        if total is not None and total != packet.premium_sum:
            packet.warnings.append(
                GdvWarning(
                    "nachsatz-premium",
                    f"the Nachsatz states a Gesamtbeitrag of {total}, "
                    f"the 0200 records add up to {packet.premium_sum}",
                    nachsatz.line,
                )
            )

    # -- layouts ---------------------------------------------------------------------

    def _route(self, text: str, packet: Packet) -> Route:
        """The way to the layout of lines that begin like ``text`` (Satzart, VU, Sparte), in
        the release the packet's Vorsatz chooses for their Satzart."""
        satzart = text[:4]
        sparte = text[10:13] if satzart[:2] == "02" and satzart != "0200" else ""
        stated = self._stated(packet, satzart, sparte)
        release, exact = choose_release(satzart, sparte, stated)
        layouts = layouts_of(release)
        if (satzart, sparte) not in packet.releases:
            packet.releases[(satzart, sparte)] = release
            if stated and not exact and any(key[:2] == (satzart, sparte) for key in layouts):
                packet.inexact[f"{satzart}{'.' + sparte if sparte else ''}"] = (stated, release)
        return route(layouts, satzart, sparte)

    @staticmethod
    def _report_invalid(part: Part, line: int, warn: Callable[[str, str, int | None], None]) -> None:
        layout = part.layout
        for field, value in zip(layout.fields, part, strict=True):
            if type(value) is InvalidValue:
                warn(
                    "invalid-value",
                    f"{layout.satzart} field {field.german!r} (cols {field.start}-{field.end}) "
                    f"holds {str(value)!r}, which is no valid {_KIND_NAMES[field.kind]}; kept as text",
                    line,
                )

    def _text(self, text: str) -> str:
        """A whole record (a raw one) in the file's multi-byte encoding."""
        return text.encode("latin-1").decode(self.encoding, "replace")

    @staticmethod
    def _transcode(
        part: Part, encoding: str, line: int, warn: Callable[[str, str, int | None], None]
    ) -> Part:
        values = []
        broken = False
        for value in part:
            if type(value) is str and not value.isascii():
                raw = value.encode("latin-1")
                try:
                    value = raw.decode(encoding)
                except UnicodeError:
                    value = raw.decode(encoding, "replace")
                    broken = True
            values.append(value)
        if broken:
            warn(
                "encoding", f"a text field is no valid {encoding}; unreadable characters became U+FFFD", line
            )
        return tuple.__new__(type(part), values)


_KIND_NAMES: Final = {"N": "number", "F": "amount", "D": "date", "A": "text", "S": "sign"}


class GdvFile:
    """A whole GDV file in memory: its Datenpakete with their contracts, and the warnings."""

    __slots__ = ("encoding", "packets", "records", "suppressed_warnings")

    def __init__(self, packets: list[Packet], records: int, encoding: str, suppressed_warnings: int) -> None:
        self.packets = packets
        self.records = records
        self.encoding = encoding
        self.suppressed_warnings = suppressed_warnings

    @property
    def contracts(self) -> list[Contract]:
        """Every contract of every Datenpaket, in file order."""
        return [c for p in self.packets for c in p.contracts.values()]

    @property
    def warnings(self) -> list[GdvWarning]:
        return [w for p in self.packets for w in p.warnings]

    def __iter__(self) -> Iterator[Contract]:
        return iter(self.contracts)

    def __len__(self) -> int:
        return sum(len(p.contracts) for p in self.packets)

    def __repr__(self) -> str:
        return f"<GdvFile {len(self.packets)} packets, {len(self)} contracts, {len(self.warnings)} warnings>"


def iter_contracts(source: Source, *, encoding: str = DEFAULT_ENCODING) -> Iterator[Contract]:
    """Stream the contracts of a GDV file (see :class:`GdvReader` for packets and warnings)."""
    return iter(GdvReader(source, encoding=encoding))


def parse(source: Source, *, encoding: str = DEFAULT_ENCODING) -> GdvFile:
    """Read a whole GDV file into memory, contracts grouped by (VU-Nr, VSNR) per Datenpaket.

    The records of one contract that the file interleaves with another's are merged into
    one :class:`Contract` here (the stream gives each run apart). While it runs, the cyclic
    garbage collector of the process is paused (it would walk the growing heap again and
    again; the parse creates no cycles); it is resumed when ``parse`` returns or raises.
    """
    reader = GdvReader(source, encoding=encoding)
    # The parse builds millions of small objects and no reference cycles: the cyclic
    # collector would walk the growing heap again and again (a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for contract in reader:
            contracts = reader.packets[contract.packet].contracts
            known = contracts.get(contract.key)
            if known is None:
                contracts[contract.key] = contract
            else:
                known.records.extend(contract.records)
    finally:
        if collecting:
            gc.enable()
    return GdvFile(reader.packets, _count(reader), encoding, reader.suppressed_warnings)


def _count(reader: GdvReader) -> int:
    return sum(p.record_count for p in reader.packets) + sum(
        (len(p.vorsatz.parts) if p.vorsatz else 0) + (1 if p.nachsatz else 0) for p in reader.packets
    )
