"""GDV contracts as JSON and CSV, for broker software (MVPs) that does not run Python.

Both writers stream: they take any iterable of :class:`~bipro_ruv.gdv.Contract` (a
:class:`~bipro_ruv.gdv.GdvReader` for a file of any size) and write each contract as it
comes, so memory stays bounded however large the file is.

**JSON** (:func:`write_json`): one JSON array of contracts, one contract per line::

    [
    {"vu_number":"5438","vsnr":"43987654321","vsnr_normalized":"43987654321","packet":0,
     "sparte":"040","records":[{"kind":"0100",...},{"kind":"0200","satzart":"0200","sparte":null,
     "line":6,"parts":[{"number":1,"fields":{"start_date":"2023-01-15","total_premium_net":"123.45",
     ...}}]},{"kind":"0052","line":7,"raw":"00525438  040      43987654321..."}]},
    ...
    ]

One array, because that is what every JSON library reads in one call; one contract per
line, so that a consumer of a huge file can also read it line by line (strip the ``,``)
without a streaming JSON parser. Field values (see :func:`encode_value`):

* amount (GDV Fliesskomma): a string with exactly its decimals, ``"4806.00"``, never a
  float (a float cannot hold every cent amount and would drop the decimals);
* date: ``"YYYY-MM-DD"``; a date with ``00`` for day or month (GDV: "nicht vorhanden"):
  ``{"raw": "00082024", "year": 2024, "month": 8, "day": null}``;
* a value that breaks its type (letters in an amount): ``{"invalid": "<raw text>"}``;
* everything else (codes, numbers with leading zeros, text): a string.

A field that is blank in the file is **left out** of ``fields``: absent means blank (on
the GDV sample file that saves a quarter of the size against listing every field). The
field names are the English names of the layouts (:class:`~bipro_ruv.gdv.Field`); which
Teildatensatz a field belongs to is ``parts[].number``. A record the library does not decode is
``{"kind", "line", "raw"}`` with its 256 characters. ``line`` is the 1-based record
number in the file, ``packet`` the 0-based Datenpaket; a record's ``sparte`` is ``null``
for Satzarten without one (0100, 0200), the contract's for a contract without any.

When streaming, a file that interleaves the records of two contracts yields the same
contract more than once (:class:`~bipro_ruv.gdv.GdvReader`); :func:`~bipro_ruv.gdv.parse`
merges them, at the price of holding the file in memory.

**CSV** (:func:`write_csv`): one row per contract, the columns of :data:`CSV_COLUMNS`.
The format is what a German office opens in Excel and what German import dialogs
expect: ``;`` as delimiter, decimal comma (``411,41``: with ``;`` as delimiter a comma
is free, and Excel in a German locale reads ``411.41`` as text and ``1.50`` as a date),
dates as ISO ``2004-05-01`` (unambiguous, and read as dates by Excel in every locale),
UTF-8 **with** BOM (:data:`CSV_ENCODING`; without it Excel reads UTF-8 as Windows-1252
and breaks every umlaut). A text cell that begins with ``=``, ``+``, ``-``, ``@`` or a
control character gets a leading ``'`` so Excel does not run it as a formula (CSV
injection: names and streets come from outside); amounts and dates are never changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, Final, TextIO

from bipro_ruv.gdv.parser import GdvFile, GdvReader
from bipro_ruv.gdv.records import Contract, Packet, RawRecord, Record
from bipro_ruv.gdv.values import GdvWarning, InvalidValue, PartialDate

__all__ = [
    "CSV_COLUMNS",
    "CSV_ENCODING",
    "PacketSummary",
    "Summary",
    "contract_to_json",
    "csv_row",
    "encode_value",
    "write_csv",
    "write_json",
]

CSV_ENCODING: Final = "utf-8-sig"
"""Open the CSV file with this encoding (UTF-8 with BOM) and ``newline=""``."""

# (column, where the value comes from): "0200" the Allgemeiner Vertragsteil, "vn" the
# Versicherungsnehmer's 0100 Adressteil (Adresskennzeichen 01).
_GENERAL_COLUMNS: Final = (
    "contract_status",
    "start_date",
    "end_date",
    "main_due_date",
    "payment_frequency",
    "total_premium_net",
    "currency",
    "cancellation_reason",
    "cancellation_date",
)
_POLICYHOLDER_COLUMNS: Final = ("name_1", "name_3", "street", "postcode", "city", "birth_date")

CSV_COLUMNS: Final = (
    "vu_number",
    "vsnr",
    "sparte",
    *_GENERAL_COLUMNS,
    *(f"policyholder_{name}" for name in _POLICYHOLDER_COLUMNS),
    "records",
    "raw_records",
)
"""The CSV header. ``vu_number`` and ``vsnr`` as the file writes them (cols 5-9, 14-30);
``sparte`` the contract's Sparte (:attr:`Contract.sparte`); then the 0200 fields of the
same English names (``total_premium_net``: Gesamtbeitrag (Netto) of Teildatensatz 1);
``policyholder_*``: the Versicherungsnehmer's 0100 (``name_1`` surname or company,
``name_3`` first name); ``records``: the contract's Datensätze, ``raw_records`` those of
them kept as text (Satzarten the library does not decode)."""


# -- JSON ----------------------------------------------------------------------------------


def _decimal(value: Decimal) -> str:
    return format(value, "f")  # "f", not str(): str(Decimal("0.0000000")) is "0E-7"


def _date(value: dt.date) -> str:
    return value.isoformat()


def _partial(value: PartialDate) -> dict[str, Any]:
    return {"raw": value.raw, "year": value.year, "month": value.month, "day": value.day}


def _invalid(value: InvalidValue) -> dict[str, str]:
    return {"invalid": str.__str__(value)}


# By exact type: one dict lookup per value on the hot path (str is handled before it).
_ENCODERS: Final[dict[type, Callable[[Any], Any]]] = {
    Decimal: _decimal,
    dt.date: _date,
    PartialDate: _partial,
    InvalidValue: _invalid,
}


def encode_value(value: Any) -> Any:
    """One field value as JSON-ready data (see the module docstring); ``None`` stays ``None``."""
    if value is None or type(value) is str:
        return value
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    # Subclasses, in the order that matters: InvalidValue is a str, datetime a date.
    if isinstance(value, InvalidValue):
        return _invalid(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return _date(value)
    if isinstance(value, PartialDate):
        return _partial(value)
    raise TypeError(f"a GDV field value cannot be {type(value).__name__}: {value!r}")


def _record_to_json(record: Record | RawRecord) -> dict[str, Any]:
    if type(record) is RawRecord:
        return {"kind": record.kind, "line": record.line, "raw": record.text}
    assert type(record) is Record
    encoders = _ENCODERS
    parts = []
    for part in record.parts:
        fields: dict[str, Any] = {}
        for name, value in zip(part.layout.names, part, strict=True):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                fields[name] = value
            else:
                encoder = encoders.get(kind)
                fields[name] = encoder(value) if encoder is not None else encode_value(value)
        parts.append({"number": part.layout.part, "fields": fields})
    return {
        "kind": record.kind,
        "satzart": record.satzart,
        "sparte": record.sparte or None,
        "line": record.line,
        "parts": parts,
    }


def contract_to_json(contract: Contract) -> dict[str, Any]:
    """One contract as JSON-ready data: only ``dict``, ``list``, ``str``, ``int`` and ``None``.

    ``json.dumps(contract_to_json(c))`` works without a custom encoder; the shape is in the
    module docstring.
    """
    vsnr = contract.vsnr
    return {
        "vu_number": contract.vu_number,
        "vsnr": contract.vsnr_text,
        "vsnr_normalized": str(vsnr) if vsnr is not None else None,
        "packet": contract.packet,
        "sparte": contract.sparte,
        "records": [_record_to_json(record) for record in contract.records],
    }


def write_json(contracts: Iterable[Contract], out: TextIO) -> int:
    """Write ``contracts`` to ``out`` as one JSON array, one contract per line; return how many.

    Streams: each contract is written when the iterable yields it. The opening ``[`` is
    written with the first contract, so an iterable that raises before (a file that is not
    GDV at all) leaves ``out`` untouched. No contracts give ``[]``. Text is written as is
    (not ``\\u``-escaped): open ``out`` as UTF-8.
    """
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    for contract in contracts:
        out.write("[\n" if not count else ",\n")
        out.write(dumps(contract_to_json(contract)))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


# -- CSV -----------------------------------------------------------------------------------

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: Any) -> str:
    """A field value as a CSV cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, dt.date | PartialDate):
        return value.isoformat()  # PartialDate: "2024-08", or the raw text ("01010000")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(contract: Contract) -> list[str]:
    """The cells of one contract, in the order of :data:`CSV_COLUMNS`."""
    general = contract.general
    holder = contract.policyholder
    raw = sum(1 for record in contract.records if type(record) is RawRecord)
    return [
        _cell(contract.vu_number),
        _cell(contract.vsnr_text),
        _cell(contract.sparte),
        *(_cell(general.get(name) if general is not None else None) for name in _GENERAL_COLUMNS),
        *(_cell(holder.get(name) if holder is not None else None) for name in _POLICYHOLDER_COLUMNS),
        str(len(contract.records)),
        str(raw),
    ]


def write_csv(contracts: Iterable[Contract], out: TextIO) -> int:
    """Write the header and one row per contract to ``out``; return the number of rows.

    Streams like :func:`write_json`, and like it writes the header with the first contract
    (a source that raises before leaves ``out`` untouched); no contracts give the header
    alone. Open a file as ``open(path, "w", encoding=CSV_ENCODING, newline="")``: the BOM
    comes from the encoding, the ``\\r\\n`` line ends from the csv module.
    """
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    count = 0
    for contract in contracts:
        if not count:
            writer.writerow(CSV_COLUMNS)
        writer.writerow(csv_row(contract))
        count += 1
    if not count:
        writer.writerow(CSV_COLUMNS)
    return count


# -- summary -------------------------------------------------------------------------------


class PacketSummary:
    """One Datenpaket as a summary shows it: who sent it, when, how many records."""

    __slots__ = ("addressee", "index", "period", "records", "sender", "vu_number")

    def __init__(self, packet: Packet) -> None:
        vorsatz = packet.vorsatz
        self.index = packet.index
        self.vu_number = vorsatz.vu_number if vorsatz else None
        self.sender: str | None = vorsatz.sender if vorsatz else None
        self.addressee: str | None = vorsatz.addressee if vorsatz else None
        self.period = vorsatz.period if vorsatz else (None, None)
        """Erstellungsdatum vom / bis of the Vorsatz."""
        self.records = packet.record_count
        """Records between Vorsatz and Nachsatz."""

    def __repr__(self) -> str:
        return f"<PacketSummary {self.index} from {self.sender!r}, {self.records} records>"


class Summary:
    """What a read of a GDV file found: Datenpakete, contracts per Sparte, warnings.

    Streaming: ``summary = Summary(); for c in summary.count(reader): ...``, then
    ``summary.finish(reader)``; for a parsed file ``Summary.of(gdv_file)``.
    """

    __slots__ = ("by_sparte", "contracts", "packets", "suppressed_warnings", "warnings")

    def __init__(self) -> None:
        self.contracts = 0
        """Contracts seen (streaming: a contract whose records the file interleaves counts twice)."""
        self.by_sparte: Counter[str] = Counter()
        """Contracts by Sparte (``""`` for a contract without one)."""
        self.packets: list[PacketSummary] = []
        self.warnings: list[GdvWarning] = []
        self.suppressed_warnings = 0
        """Warnings counted but not kept (a badly broken file cannot fill memory)."""

    @property
    def warning_count(self) -> int:
        return len(self.warnings) + self.suppressed_warnings

    def add(self, contract: Contract) -> None:
        self.contracts += 1
        self.by_sparte[contract.sparte or ""] += 1

    def count(self, contracts: Iterable[Contract]) -> Iterator[Contract]:
        """Pass ``contracts`` through, counting each."""
        for contract in contracts:
            self.add(contract)
            yield contract

    def finish(self, source: GdvReader | GdvFile) -> Summary:
        """Take the Datenpakete and warnings of ``source`` once it has been read; returns self."""
        self.packets = [PacketSummary(packet) for packet in source.packets]
        self.warnings = source.warnings
        self.suppressed_warnings = source.suppressed_warnings
        return self

    @classmethod
    def of(cls, gdv_file: GdvFile) -> Summary:
        summary = cls()
        for contract in gdv_file.contracts:
            summary.add(contract)
        return summary.finish(gdv_file)

    def __repr__(self) -> str:
        return (
            f"<Summary {len(self.packets)} packets, {self.contracts} contracts, "
            f"{self.warning_count} warnings>"
        )
