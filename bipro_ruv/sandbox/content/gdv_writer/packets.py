"""Datenpakete record by record: Vorsatz (every Teildatensatz, the release's versions), records, Nachsatz
(record count, Gesamtbeitrag, Inkasso sums), written to a sink in bounded memory.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from bipro_ruv.gdv.layouts import NEWEST, Layout, layouts_of, versions_of
from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER, BROKER_NAME
from bipro_ruv.sandbox.content.gdv_writer.encoding import WrittenRecord, _Encoder, _encoder, _single_byte
from bipro_ruv.sandbox.content.gdv_writer.people import VU_SENDERS
from bipro_ruv.sandbox.content.gdv_writer.seeded import (
    _ISO_8859_15,
    _LATIN1_NOT_15,
    DEFAULT_CREATED,
    DEFAULT_ENCODING,
    RECORD_LENGTH,
)

# == Datenpakete: Vorsatz, records, Nachsatz ==============================================================

_VERSION_FIELD = re.compile(r"^version_(\d{4})(?:_(\d{3}))?(?:_|$)")
_FUND_VERSIONS = {"Leben": "010", "Unfall": "030"}
"""0230 version slots named by content, not Sparte ("Fondsdatensatz - Leben 0230")."""


@cache
def _version_slots(release: str) -> dict[tuple[str, str], tuple[int, str]]:
    """(Satzart, Sparte) -> (Vorsatz Teildatensatz, field name) of the slot that states its version."""
    slots: dict[tuple[str, str], tuple[int, str]] = {}
    layouts = layouts_of(release)
    for part in (1, 2, 3):
        vorsatz = layouts.get(("0001", "", "", part))
        if vorsatz is None:
            continue
        for field in vorsatz.fields:
            match = _VERSION_FIELD.match(field.name)
            if not match:
                continue
            satzart, sparte = match.group(1), match.group(2) or ""
            if satzart == "0230" and not sparte:
                sparte = next((code for word, code in _FUND_VERSIONS.items() if word in field.german), "")
            slots.setdefault((satzart, sparte), (part, field.name))
    return slots


@dataclass
class _Sums:
    """What the Nachsatz states about its Datenpaket."""

    records: int = 0
    premium: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")
    commission: Decimal = Decimal("0.00")


class GdvWriter:
    """Writes Datenpakete record by record, keeping the Nachsatz counts; memory stays bounded.

    ``sink`` receives the file in chunks of about ``chunk_bytes`` (e.g. ``file.write``); without one the
    chunks are kept and :meth:`getvalue` returns the file. ``keep_truth`` records a :class:`WrittenRecord`
    per line in :attr:`truth`. Use :meth:`begin_packet`, :meth:`add` per record, :meth:`end_packet`, and
    :meth:`close` at the end.
    """

    def __init__(
        self,
        sink: Callable[[bytes], object] | None = None,
        *,
        release: str = NEWEST,
        encoding: str = DEFAULT_ENCODING,
        line_ending: str = "\n",
        final_newline: bool = True,
        keep_truth: bool = False,
        chunk_bytes: int = 1 << 20,
    ) -> None:
        if line_ending not in ("\n", "\r\n", ""):
            raise ValueError(f"line_ending must be LF, CRLF or empty, not {line_ending!r}")
        self.release = release
        self.layouts = layouts_of(release)
        self.encoding = encoding
        self._codec = None if _single_byte(encoding) else codecs.lookup(encoding).name
        self._wire = codecs.lookup(encoding).name if self._codec is None else "latin-1"
        self.line_ending = line_ending
        self.final_newline = final_newline
        self.truth: list[WrittenRecord] | None = [] if keep_truth else None
        self.lines = 0
        """Records written so far (all lines, Vorsätze and Nachsätze included)."""
        self.bytes_written = 0
        self._sink = sink
        self._kept: list[bytes] = []
        self._pending: list[str] = []
        self._pending_records = 0
        self._chunk_records = max(1, chunk_bytes // (RECORD_LENGTH + len(line_ending)))
        self._sums: _Sums | None = None
        self._encoders: dict[tuple[str, str, str, int], _Encoder] = {}
        self._closed = False

    @property
    def record_size(self) -> int:
        """Bytes per line: the 256 of the record and the line ending."""
        return RECORD_LENGTH + len(self.line_ending)

    def layout(self, key: tuple[str, str, str, int]) -> Layout:
        try:
            return self.layouts[key]
        except KeyError:
            raise ValueError(f"release {self.release} has no layout {key}") from None

    def _encoder_of(self, key: tuple[str, str, str, int]) -> _Encoder:
        encoder = self._encoders.get(key)
        if encoder is None:
            encoder = self._encoders[key] = _encoder(self.layout(key), self._codec)
        return encoder

    def begin_packet(
        self,
        vu_number: str,
        *,
        sender: str | None = None,
        addressee: str = BROKER_NAME,
        agency: str = AGENCY_NUMBER,
        period: tuple[date, date] = (DEFAULT_CREATED, DEFAULT_CREATED),
        satzarten: Iterable[tuple[str, str]] | None = None,
        values: Mapping[int, Mapping[str, object]] | None = None,
    ) -> None:
        """Write the Vorsatz (all its Teildatensätze) of a new Datenpaket.

        It states the release's version of every (Satzart, Sparte) in ``satzarten`` (default: every one the
        release has), plus 0001 and 9999. ``values`` adds or overrides fields per Teildatensatz number.
        """
        if self._sums is not None:
            raise RuntimeError("end_packet() first: the Datenpaket before is still open")
        versions = versions_of(self.release)
        wanted = set(versions) if satzarten is None else {*satzarten, ("0001", ""), ("9999", "")}
        slots = _version_slots(self.release)
        stated: dict[int, dict[str, object]] = {}
        for kind in sorted(wanted):
            slot = slots.get(kind)
            if slot is None:
                raise ValueError(f"the release {self.release} Vorsatz has no version slot for {kind}")
            if kind not in versions:
                raise ValueError(f"release {self.release} has no Satzart {kind}")
            stated.setdefault(slot[0], {})[slot[1]] = versions[kind]
        common = {
            "insurer_number": vu_number,
            "sender": sender if sender is not None else VU_SENDERS.get(vu_number, f"Versicherer {vu_number}"),
            "addressee": addressee,
            "creation_period_from_to": f"{period[0]:%d%m%Y}{period[1]:%d%m%Y}",
            "agency": agency,
        }
        for part in (1, 2, 3):
            key = ("0001", "", "", part)
            if key not in self.layouts:
                continue
            record: dict[str, object] = {**common, **stated.get(part, {})}
            if part == 1:
                record.update(sender_type="1", addressee_type="2")
            record.update((values or {}).get(part, {}))
            encoder = self._encoder_of(key)
            self._write(encoder.layout, record, encoder(record))
        self._sums = _Sums()

    def add(self, key: tuple[str, str, str, int], values: Mapping[str, object]) -> str:
        """Write one Teildatensatz (see :func:`encode_record`) into the open Datenpaket; returns its text
        (256 characters; for a multi-byte encoding one character per byte)."""
        encoder = self._encoder_of(key)
        text = encoder(values)
        self._add_text(encoder.layout, values, text)
        return text

    def _add_text(self, layout: Layout, values: Mapping[str, object], text: str) -> None:
        """Write a record already encoded (``values`` are what it was encoded from: sums and truth)."""
        sums = self._sums
        if sums is None:
            raise RuntimeError("begin_packet() first")
        self._write(layout, values, text)
        sums.records += 1
        _add_amounts(sums, layout, values)

    def _add_block(self, block: str, counted: _Sums) -> None:
        """Write records already encoded and joined by the line ending (no truth kept)."""
        sums = self._sums
        if sums is None or self.truth is not None or self._closed:
            raise RuntimeError("no open Datenpaket, or the writer keeps the truth per record")
        self._pending.append(block)
        self._pending_records += counted.records
        self.lines += counted.records
        sums.records += counted.records
        sums.premium += counted.premium
        sums.gross += counted.gross
        sums.commission += counted.commission
        if self._pending_records >= self._chunk_records:
            self._flush()

    def end_packet(self, values: Mapping[str, object] | None = None) -> None:
        """Write the Nachsatz: record count, Σ 0200 Gesamtbeitrag, Σ 0400 Brutto and Provision
        (``values`` overrides any of them)."""
        sums = self._sums
        if sums is None:
            raise RuntimeError("begin_packet() first")
        record: dict[str, object] = {
            "record_count": sums.records,
            "agency": AGENCY_NUMBER,
            "total_premium_net": sums.premium,
            "total_premium_gross": sums.gross,
            "total_commission": sums.commission,
            "benefits_paid": Decimal("0.00"),
            "claims_handling_costs": Decimal("0.00"),
        }
        record.update(values or {})
        encoder = self._encoder_of(("9999", "", "", 1))
        self._write(encoder.layout, record, encoder(record))
        self._sums = None

    @property
    def packet_records(self) -> int:
        """Records of the open Datenpaket so far (what its Nachsatz will count)."""
        return self._sums.records if self._sums is not None else 0

    def _write(self, layout: Layout, values: Mapping[str, object], text: str) -> None:
        if self._closed:
            raise RuntimeError("the writer is closed")
        self._pending.append(text)
        self._pending_records += 1
        self.lines += 1
        if self.truth is not None:
            self.truth.append(WrittenRecord(self.lines, layout, values))
        if self._pending_records >= self._chunk_records:
            self._flush()

    def _flush(self, *, last: bool = False) -> None:
        if not self._pending:
            return
        ending = self.line_ending
        text = ending.join(self._pending)
        if ending and not (last and not self.final_newline):
            text += ending
        first_line = self.lines - self._pending_records + 1
        self._pending = []
        self._pending_records = 0
        try:
            chunk = self._encode(text)
        except UnicodeEncodeError as exc:
            line = first_line + exc.start // self.record_size
            raise ValueError(
                f"record {line}: {text[exc.start : exc.end]!r} cannot be written in {self.encoding}"
            ) from exc
        self.bytes_written += len(chunk)
        if self._sink is None:
            self._kept.append(chunk)
        else:
            self._sink(chunk)

    def _encode(self, text: str) -> bytes:
        """ISO-8859-15 through the much faster latin-1 codec when the text has no character they differ in."""
        if self._wire == _ISO_8859_15 and not any(ch in text for ch in _LATIN1_NOT_15):
            try:
                return text.encode("latin-1")
            except UnicodeEncodeError:
                pass  # € and the other ISO-8859-15 letters: the real codec
        return text.encode(self._wire)

    def close(self) -> None:
        """Flush what is pending (without the last line ending when ``final_newline`` is False)."""
        if self._sums is not None:
            raise RuntimeError("end_packet() first: a Datenpaket is still open")
        if not self._closed:
            self._flush(last=True)
            self._closed = True

    def getvalue(self) -> bytes:
        """The whole file (only without a ``sink``); closes the writer."""
        if self._sink is not None:
            raise RuntimeError("the file went to the sink")
        self.close()
        return b"".join(self._kept)


def _add_amounts(sums: _Sums, layout: Layout, values: Mapping[str, object]) -> None:
    """Add a record's amounts to the Nachsatz sums: Σ 0200 TD 1 Gesamtbeitrag, Σ 0400 TD 1 Brutto and
    Provision."""
    if layout.part == 1:
        if layout.satzart == "0200":
            premium = values.get("total_premium_net")
            if isinstance(premium, Decimal | int):
                sums.premium += premium
        elif layout.satzart == "0400":
            gross, commission = values.get("total_premium_gross"), values.get("total_commission")
            if isinstance(gross, Decimal | int):
                sums.gross += gross
            if isinstance(commission, Decimal | int):
                sums.commission += commission
