"""GDV VU-Vermittler files (Bestand and Inkasso): our own writer, for the sandbox, tests and benchmark.

Physical format (gdv-format.md §1.1): records (Teildatensätze) of exactly 256 bytes, each followed by LF, CRLF
or nothing; the encoding is not declared in the file (ISO-8859-15 by default; CP850 and UTF-8 also written,
field widths always counted in bytes). Positions are 1-based byte columns, inclusive, as in the GDV handbook.

Three layers:

* :func:`encode_record` / :func:`encode_record_bytes`: one record of any layout the parser knows
  (:func:`bipro_ruv.gdv.layouts.layouts_of`, releases 2009-2023), from a dict of field values. A value that
  does not fit raises :class:`ValueError`; the writer never cuts. :func:`expected_values` says what a reader
  must decode from it (the ground truth of a round trip).
* :class:`GdvWriter`: Datenpakete record by record to a sink, in bounded memory: the Vorsatz (0001, every
  Teildatensatz) states the release's version of each Satzart, the Nachsatz (9999) counts the records between
  Vorsatz and Nachsatz and sums the 0200 Teildatensatz 1 Gesamtbeitrag (Netto) and the 0400 Brutto and
  Provision.
* :func:`generate_gdv`, :func:`generate_gdv_with_truth` and :func:`write_gdv`: realistic R+V files from one
  seed (Leben with its Wagnisarten and fund records, Unfall, Haftpflicht, Kfz, Hausrat, Wohngebäude,
  Beteiligung 0300, Inkasso 0400-0430 with signed amounts, cancelled contracts, the 2024 merger). Drawing
  a contract afresh is the slow part (Python, ~200 µs); ``distinct`` below 1 repeats recent customers'
  records under new VSNRs instead, which is how :func:`write_gdv` (``distinct=0.25``) reaches the speed a
  benchmark file of 100 MB and more needs.

:func:`bestand_file` and :func:`inkasso_file` write the small files of the sandbox mailbox from its seeded
book of contracts (release 2023, CRLF, ISO-8859-1): Vorsatz 0001 Teildatensatz 1, per contract 0100 and 0200
Teildatensatz 1 and 2 (plus 0210.050 for Kfz), or 0400 Teildatensatz 1 and 2 per installment, and a Nachsatz
with the same count and sums as above.
"""

from __future__ import annotations

import bisect
import codecs
import itertools
import os
import random
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from bipro_ruv.gdv.layouts import NEWEST, WAGNISART_GROUPS, Field, Layout, layouts_of, versions_of
from bipro_ruv.gdv.values import FieldValue, PartialDate
from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER, BROKER_NAME, SandboxContract

__all__ = [
    "DEFAULT_CREATED",
    "DEFAULT_ENCODING",
    "ENCODING",
    "LINE_END",
    "RECORD_LENGTH",
    "VU_SENDERS",
    "GdvWriter",
    "GeneratedFile",
    "Kind",
    "WrittenRecord",
    "bestand_file",
    "encode_record",
    "encode_record_bytes",
    "expected_values",
    "fixed_fields",
    "generate_gdv",
    "generate_gdv_with_truth",
    "inkasso_file",
    "installment_period",
    "partial_date",
    "write_gdv",
]

DEFAULT_ENCODING = "iso-8859-15"
"""What :class:`GdvWriter` writes by default (the parser's default too)."""
DEFAULT_CREATED = date(2025, 1, 8)
"""The default creation date of generated files (a Wednesday, R+V's Bestand day)."""
_ISO_8859_15 = codecs.lookup(DEFAULT_ENCODING).name
_LATIN1_NOT_15 = "¤¦¨´¸¼½¾"
"""The characters of ISO-8859-1 whose bytes ISO-8859-15 gives to €, Š, š, Ž, ž, Œ, œ, Ÿ."""

RECORD_LENGTH = 256
ENCODING = "latin-1"
"""The encoding of :func:`bestand_file` and :func:`inkasso_file`."""
LINE_END = b"\r\n"

# Satzart versions of release 2023 (gdv-format.md §1.6), written into the Vorsatz Teildatensatz 1 slots.
_VERSION_SLOTS: dict[str, tuple[int, str]] = {
    "0001": (96, "2.5"),
    "0100": (99, "2.3"),
    "0200": (102, "2.5"),
    "0210.050": (105, "2.7"),
    "0400": (213, "1.7"),
    "9999": (225, "1.1"),
}

# The absender field is 30 bytes; the full names of KRAVAG and Condor do not fit.
_ABSENDER = {
    "5438": "R+V Allgemeine Versicherung AG",
    "5058": "KRAVAG-ALLGEMEINE Vers.-AG",
    "5339": "Condor Allgemeine Vers.-AG",
    "1141": "R+V Lebensversicherung AG",
}

_SOLLSTELLUNG_BEITRAG = "01"  # Sollstellungsart; the code list is not in our reference, "01" = premium debit


class _Record:
    """One 256-byte Teildatensatz under construction; columns are 1-based and inclusive."""

    def __init__(self, satzart: str) -> None:
        self._buf = bytearray(b" " * RECORD_LENGTH)
        self.text(1, 4, satzart)

    def _put(self, first: int, last: int, raw: bytes) -> None:
        if len(raw) != last - first + 1:
            raise ValueError(f"field {first}-{last} needs {last - first + 1} bytes, got {raw!r}")
        self._buf[first - 1 : last] = raw

    def text(self, first: int, last: int, value: str) -> None:
        """Alphanumeric: left-aligned, blank-padded, cut to the field width (as insurers cut long names)."""
        width = last - first + 1
        self._put(first, last, value.encode(ENCODING)[:width].ljust(width))

    def right(self, first: int, last: int, value: str) -> None:
        """Right-aligned, blank-padded on the left: the VSNR rule of fields 14-30."""
        width = last - first + 1
        raw = value.encode(ENCODING)
        if len(raw) > width:
            raise ValueError(f"{value!r} does not fit into {width} bytes")
        self._put(first, last, raw.rjust(width))

    def number(self, first: int, last: int, value: int) -> None:
        self._put(first, last, str(value).zfill(last - first + 1).encode("ascii"))

    def amount(self, first: int, last: int, value: Decimal, sign_at: int | None = None) -> None:
        """Fliesskomma with two implied decimals; the sign, if any, in its own byte after the amount."""
        cents = int((value * 100).to_integral_value())
        if sign_at is None and cents < 0:
            raise ValueError(f"unsigned field {first}-{last} cannot hold {value}")
        self.number(first, last, abs(cents))
        if sign_at is not None:
            self.text(sign_at, sign_at, "-" if cents < 0 else "+")

    def date(self, first: int, last: int, value: date | None) -> None:
        self.text(first, last, value.strftime("%d%m%Y") if value else "00000000")

    def key(self, contract: SandboxContract, agency: str) -> None:
        """Fields 1-7 shared by all 01xx-06xx records (gdv-format.md §1.2)."""
        self.text(5, 9, contract.vu_number)
        self.text(10, 10, "1" if contract.bundled else " ")
        self.text(11, 13, contract.sparte)
        self.right(14, 30, contract.vsnr)
        self.text(31, 32, "01")  # Folgenummer
        self.text(33, 42, agency)

    def teildatensatz(self, number: int) -> None:
        self.text(256, 256, str(number))

    def bytes(self) -> bytes:
        return bytes(self._buf)


@dataclass
class _Totals:
    records: int = 0
    gesamtbeitrag: Decimal = Decimal(0)
    brutto: Decimal = Decimal(0)
    provision: Decimal = Decimal(0)


def _vorsatz(vu_number: str, satzarten: Sequence[str], period: tuple[date, date], agency: str) -> bytes:
    record = _Record("0001")
    record.text(5, 9, vu_number)
    record.text(10, 39, _ABSENDER.get(vu_number, vu_number))
    record.text(40, 69, BROKER_NAME)
    record.date(70, 77, period[0])
    record.date(78, 85, period[1])
    record.text(86, 95, agency)
    for satzart in ("0001", *satzarten, "9999"):
        first, version = _VERSION_SLOTS[satzart]
        record.text(first, first + 2, version)
    record.teildatensatz(1)
    return record.bytes()


def _nachsatz(totals: _Totals, agency: str) -> bytes:
    record = _Record("9999")
    record.number(5, 14, totals.records)
    record.text(15, 24, agency)
    record.amount(25, 39, totals.gesamtbeitrag)
    record.amount(40, 53, totals.brutto, sign_at=54)
    record.amount(55, 68, totals.provision, sign_at=69)
    record.amount(70, 83, Decimal(0), sign_at=84)
    record.amount(85, 98, Decimal(0), sign_at=99)
    return record.bytes()


def _partner(contract: SandboxContract, agency: str) -> list[bytes]:
    customer = contract.customer
    first = _Record("0100")
    first.key(contract, agency)
    first.text(43, 43, customer.salutation)
    first.text(44, 73, customer.last_name)
    first.text(104, 133, customer.first_name)
    first.text(154, 156, "D")
    first.text(157, 162, customer.postcode)
    first.text(163, 187, customer.city)
    first.text(188, 217, customer.street)
    first.date(226, 233, customer.birth_date)
    first.text(237, 238, "01")  # Adresskennzeichen 01 = Versicherungsnehmer
    first.text(255, 255, {"1": "1", "2": "2"}.get(customer.salutation, " "))  # Geschlecht
    first.teildatensatz(1)
    second = _Record("0100")
    second.key(contract, agency)
    second.text(43, 59, customer.customer_number)
    second.teildatensatz(2)
    return [first.bytes(), second.bytes()]


def _next_due(contract: SandboxContract, on: date) -> date:
    """Hauptfälligkeit: the next anniversary of the contract start on or after ``on``."""
    anniversary = _same_day(contract.start, on.year)
    return anniversary if anniversary >= on else _same_day(contract.start, on.year + 1)


def _same_day(day: date, year: int, month: int | None = None) -> date:
    month = month or day.month
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(f"no day {day.day} in {year}-{month}")


def _vertrag(contract: SandboxContract, created: date, agency: str) -> list[bytes]:
    first = _Record("0200")
    first.key(contract, agency)
    first.text(43, 43, contract.collection)
    first.date(44, 51, contract.start)
    first.date(52, 59, contract.expiry)
    first.date(60, 67, _next_due(contract, created))
    first.text(68, 68, str(contract.payment_frequency))
    first.text(69, 69, contract.status)
    if contract.abgangsgrund:
        first.text(70, 71, contract.abgangsgrund)
        first.text(72, 79, contract.abgangsdatum or "00000000")
    first.text(113, 115, "EUR")
    first.amount(116, 127, contract.annual_premium)
    first.text(159, 175, contract.customer.customer_number)
    first.date(201, 208, contract.start)
    if contract.previous_vsnr:
        # Referenz-VSNR without separators ("ohne Sonderzeichen"); Spezifikation 1 = it is the old number.
        first.right(209, 225, "".join(ch for ch in contract.previous_vsnr if ch.isalnum()))
        first.text(226, 226, "1")
    first.teildatensatz(1)
    second = _Record("0200")
    second.key(contract, agency)
    second.amount(72, 83, contract.annual_premium + contract.tax_on(contract.annual_premium))
    second.text(84, 113, contract.vsnr)  # druckaufbereitete VSNR: R+V's print format is not public
    second.text(114, 133, contract.product)
    second.teildatensatz(2)
    return [first.bytes(), second.bytes()]


def _fahrzeug(contract: SandboxContract, agency: str) -> list[bytes]:
    vehicle = contract.vehicle
    if vehicle is None or contract.sparte != "050":
        return []
    record = _Record("0210")
    record.key(contract, agency)
    record.text(43, 45, "112")  # Wagniskennziffer Pkw
    record.text(50, 64, vehicle.manufacturer)
    record.text(65, 89, vehicle.model)
    record.text(90, 93, vehicle.hsn)
    record.text(94, 96, vehicle.tsn)
    record.text(97, 113, vehicle.fin)
    record.text(114, 125, vehicle.kennzeichen)
    record.date(126, 133, vehicle.first_registration)
    record.amount(152, 163, contract.annual_premium)
    record.teildatensatz(1)
    return [record.bytes()]


def _by_vu(contracts: Iterable[SandboxContract]) -> dict[str, list[SandboxContract]]:
    groups: dict[str, list[SandboxContract]] = {}
    for contract in contracts:
        groups.setdefault(contract.vu_number, []).append(contract)
    return dict(sorted(groups.items()))


def _join(records: Iterable[bytes], line_end: bytes) -> bytes:
    return b"".join(record + line_end for record in records)


def bestand_file(
    contracts: Iterable[SandboxContract],
    *,
    created: date,
    agency: str = AGENCY_NUMBER,
    line_end: bytes = LINE_END,
) -> bytes:
    """A GDV Gesamtbestand file: one Datenpaket per VU number, all contracts (cancelled ones too)."""
    records: list[bytes] = []
    for vu_number, group in _by_vu(contracts).items():
        body: list[bytes] = []
        totals = _Totals()
        for contract in group:
            body += (
                _partner(contract, agency) + _vertrag(contract, created, agency) + _fahrzeug(contract, agency)
            )
            totals.gesamtbeitrag += contract.annual_premium
        totals.records = len(body)
        satzarten = ["0100", "0200"] + (["0210.050"] if any(c.vehicle for c in group) else [])
        records += [
            _vorsatz(vu_number, satzarten, (created, created), agency),
            *body,
            _nachsatz(totals, agency),
        ]
    return _join(records, line_end)


def installment_period(contract: SandboxContract, on: date) -> tuple[date, date]:
    """The Abrechnungszeitraum (from, to) of the installment that covers ``on``."""
    months = 12 // contract.payment_frequency
    elapsed = (on.year - contract.start.year) * 12 + on.month - contract.start.month
    if on.day < contract.start.day:
        elapsed -= 1
    begin_index = elapsed - elapsed % months
    begin = _month_shift(contract.start, begin_index)
    end = _month_shift(contract.start, begin_index + months)
    return begin, date.fromordinal(end.toordinal() - 1)


def _month_shift(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return _same_day(day, total // 12, total % 12 + 1)


def _inkasso(contract: SandboxContract, booking: date, agency: str, totals: _Totals) -> list[bytes]:
    period = installment_period(contract, booking)
    net = contract.installment
    tax = contract.tax_on(net)
    gross = net + tax
    commission = contract.commission_on(net)
    first = _Record("0400")
    first.key(contract, agency)
    first.text(43, 43, contract.collection)
    first.text(44, 45, _SOLLSTELLUNG_BEITRAG)
    first.date(46, 53, booking)
    first.date(54, 61, period[0])
    first.date(62, 69, period[1])
    first.text(70, 70, str(contract.payment_frequency))
    first.text(92, 106, f"{agency}{booking:%Y%m}")  # Inkasso-Sammelnummer: one per agency and month
    first.text(107, 109, "EUR")
    first.amount(110, 120, net, sign_at=121)
    first.amount(122, 132, tax, sign_at=133)
    first.amount(134, 137, Decimal(0), sign_at=138)
    first.amount(139, 149, gross, sign_at=150)
    first.amount(151, 161, commission, sign_at=162)
    first.teildatensatz(1)
    second = _Record("0400")
    second.key(contract, agency)
    second.text(43, 59, f"{contract.vsnr}{period[0]:%m%y}")
    second.text(77, 106, contract.customer.list_name)
    # Abrechnungsbetrag: what the broker owes (Vermittlerinkasso) or is owed (Zentralinkasso).
    settled = gross - commission if contract.collection == "1" else -commission
    second.amount(107, 117, settled, sign_at=118)
    second.teildatensatz(2)
    totals.brutto += gross
    totals.provision += commission
    return [first.bytes(), second.bytes()]


def inkasso_file(
    contracts: Iterable[SandboxContract],
    *,
    booking_date: date,
    agency: str = AGENCY_NUMBER,
    line_end: bytes = LINE_END,
) -> bytes:
    """A GDV Inkasso file: the installments of all live contracts booked on ``booking_date``."""
    records: list[bytes] = []
    for vu_number, group in _by_vu(c for c in contracts if c.active).items():
        totals = _Totals()
        body: list[bytes] = []
        for contract in group:
            body += _inkasso(contract, booking_date, agency, totals)
        totals.records = len(body)
        period = (booking_date.replace(day=1), booking_date)
        records += [_vorsatz(vu_number, ["0400"], period, agency), *body, _nachsatz(totals, agency)]
    return _join(records, line_end)


# == Records of any layout: the encoder ===================================================================
#
# The layouts are the parser's own tables (bipro_ruv.gdv.layouts, releases 2009-2023); only those tables and
# the value types are imported here, never the parser. A round trip through the parser therefore tests its
# decoding, record routing and version choice (not the tables themselves).

_MONTH_FIELD = 6
"""A D field of 6 bytes is MMJJJJ ("Produktform gültig ab")."""

_LEBEN_SPARTE = "010"
_WAGNIS_COLUMN = 60

_Converter = Callable[[Any], str]


def _too_long(field: Field, value: object, size: int) -> ValueError:
    return ValueError(
        f"{field.name} (cols {field.start}-{field.end}) holds {field.length} bytes; {value!r} needs {size}"
    )


def _wrong_type(field: Field, value: object, wanted: str) -> ValueError:
    return ValueError(f"{field.name} (cols {field.start}-{field.end}) takes {wanted}, not {value!r}")


def _text_converter(field: Field, codec: str | None, *, right: bool) -> _Converter:
    """A: left-aligned, blank-padded (the VSNR right-aligned); ``codec`` set = count bytes, not characters."""
    width = field.length

    def convert(value: Any) -> str:
        if type(value) is not str:
            raise _wrong_type(field, value, "a str")
        text: str = value
        if not text.isprintable():
            raise ValueError(f"{field.name}: {text!r} holds a control character (a line break ends a record)")
        if codec is not None and not text.isascii():
            try:
                text = text.encode(codec).decode("latin-1")  # one character per byte from here on
            except UnicodeEncodeError as exc:
                raise ValueError(f"{field.name}: {value!r} cannot be written in {codec}") from exc
        if len(text) > width:
            raise _too_long(field, value, len(text))
        return text.rjust(width) if right else text.ljust(width)

    return convert


def _number_converter(field: Field) -> _Converter:
    """N: right-aligned, zero-padded digits; a ``str`` keeps its leading zeros, an ``int`` gets them."""
    width = field.length

    def convert(value: Any) -> str:
        kind = type(value)
        if kind is str:
            if not (value.isascii() and value.isdigit()):
                if value == "":
                    return " " * width
                raise _wrong_type(field, value, "digits")
            text: str = value
        elif kind is int and value >= 0:
            text = str(value)
        else:
            raise _wrong_type(field, value, "digits (str) or an int >= 0")
        if len(text) > width:
            raise _too_long(field, value, len(text))
        return text.rjust(width, "0")

    return convert


def _amount_converter(field: Field, *, signed: bool) -> _Converter:
    """F: the amount's digits with its implied decimals, zero-padded; the sign goes to the S field next."""
    width, decimals = field.length, field.decimals

    def convert(value: Any) -> str:
        kind = type(value)
        if kind is int:
            value = Decimal(value)
        elif kind is not Decimal:
            raise _wrong_type(field, value, "a Decimal or an int")
        if not value.is_finite():
            raise _wrong_type(field, value, "a finite amount")
        scaled = value.scaleb(decimals)
        units = int(scaled)
        if units != scaled:
            raise ValueError(f"{field.name} has {decimals} decimals; {value} would have to be rounded")
        if units < 0:
            if not signed:
                raise ValueError(
                    f"{field.name} (cols {field.start}-{field.end}) has no sign field for {value}"
                )
            units = -units
        text = str(units)
        if len(text) > width:
            raise _too_long(field, value, len(text))
        return text.rjust(width, "0")

    return convert


def partial_date(raw: str) -> PartialDate:
    """The :class:`~bipro_ruv.gdv.PartialDate` a GDV date field with ``00`` parts states (``00082024``)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) in (6, 8)):
        raise ValueError(f"a GDV date is TTMMJJJJ or MMJJJJ digits, not {raw!r}")
    day, month, year = (
        (0, int(raw[:2]), int(raw[2:])) if len(raw) == 6 else (int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    )
    if month > 12 or day > 31 or not (month or year):
        raise ValueError(f"{raw!r} is no GDV date")
    if year == 0:
        if len(raw) == _MONTH_FIELD or not (day and month):
            raise ValueError(f"{raw!r}: without a year, day and month must be given")
        date(2000, month, day)  # a leap year: 29.02. passes, 31.04. raises ValueError
    elif len(raw) == 8 and day and month:
        raise ValueError(f"{raw!r} is a complete date; pass a datetime.date")
    return PartialDate(raw, year or None, month or None, day or None)


def _date_converter(field: Field) -> _Converter:
    """D: TTMMJJJJ (MMJJJJ for 6-byte fields); a :class:`PartialDate` writes its raw text."""
    width = field.length

    def convert(value: Any) -> str:
        if isinstance(value, date):
            if width == _MONTH_FIELD:
                if value.day != 1:
                    raise ValueError(
                        f"{field.name} is MMJJJJ and cannot hold the day of {value}; "
                        "pass the 1st of the month or a PartialDate"
                    )
                return f"{value.month:02d}{value.year:04d}"
            if width != 8:
                raise ValueError(f"{field.name}: a {width}-byte date field is not TTMMJJJJ")
            return f"{value.day:02d}{value.month:02d}{value.year:04d}"
        if type(value) is PartialDate:
            if len(value.raw) != width or partial_date(value.raw) != value:
                raise ValueError(f"{field.name}: {value!r} is no {width}-digit GDV date")
            return value.raw
        raise _wrong_type(field, value, "a datetime.date or a PartialDate")

    return convert


def _sign_converter(field: Field) -> _Converter:
    def convert(value: Any) -> str:
        if value in ("+", "-", " ", ""):
            return str(value) or " "
        raise _wrong_type(field, value, "'+', '-' or ' '")

    return convert


def _fixed_converter(field: Field, allowed: Collection[str]) -> _Converter:
    """A key field the layout fixes (Satzart, Sparte, Satznummer, Wagnisart): a given value must agree."""

    def convert(value: Any) -> str:
        text = str(value).rjust(field.length, "0") if field.kind == "N" and type(value) is int else value
        if text not in allowed:
            raise ValueError(f"{field.name} of this layout is {' or '.join(sorted(allowed))}, not {value!r}")
        return str(text)

    return convert


def _fixed_values(layout: Layout) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (value written when none is given, values allowed) for the key fields the layout fixes."""
    fixed: dict[str, tuple[str, frozenset[str]]] = {}
    for field in layout.fields:
        value: str | None = None
        allowed: frozenset[str] | None = None
        if field.start == 1 and field.name == "record_type":
            value = layout.satzart
        elif field.start == 11 and field.name == "line_of_business" and layout.sparte:
            value = layout.sparte
        elif field.start == layout.satznummer_column or field.name == "part_number_repeat":
            value = str(layout.part)
        elif field.start == _WAGNIS_COLUMN and layout.wagnis and layout.sparte == _LEBEN_SPARTE:
            value, allowed = layout.wagnis[0], frozenset(layout.wagnis)
        if value is not None:
            if len(value) != field.length:
                raise ValueError(f"{layout}: fixed value {value!r} does not fill {field.name}")
            fixed[field.name] = (value, allowed or frozenset({value}))
    return fixed


_MEMO_LIMIT = 4096
_COMPILED_LIMIT = 256
_COMPILE_AFTER = 16


def _blank_aware(convert: _Converter, blank: str) -> _Converter:
    def blank_or_convert(value: Any) -> str:
        return blank if value is None else convert(value)

    return blank_or_convert


def _memoised(convert: _Converter, blank: str, memo: dict[Any, str], types: tuple[type, ...]) -> _Converter:
    """``convert`` that remembers its pieces for values of ``types`` (amounts, dates: they repeat)."""

    def remember(value: Any) -> str:
        if value is None:
            return blank
        piece = convert(value)
        if type(value) in types and len(memo) < _MEMO_LIMIT:
            memo[value] = piece
        return piece

    return remember


def fixed_fields(layout: Layout) -> dict[str, tuple[str, frozenset[str]]]:
    """The key fields ``layout`` fixes: name -> (value written when none is given, values allowed).

    Satzart, the Sparte of 0210-0230, the Satznummer (and its repetition) and Leben's Wagnisart (col 60,
    ``1`` or ``3`` for the group ``13``).
    """
    return dict(_fixed_values(layout))


class _Encoder:
    """One layout's encoder: a template of 256 characters in field pieces, and a converter per field.

    For speed, each set of field names it is called with (the generator's records repeat a few) gets a
    compiled function: one expression per field, the common case inline (a text that fits, a remembered
    amount or date), the converter only for the rest. Anything unusual takes the plain loop.
    """

    __slots__ = ("codec", "compiled", "fixed", "layout", "memos", "seen", "sign_fields", "slots", "template")

    def __init__(self, layout: Layout, codec: str | None) -> None:
        self.layout = layout
        self.codec = codec
        self.fixed = _fixed_values(layout)
        self.template: list[str] = []
        self.slots: dict[str, tuple[int, _Converter, int]] = {}
        self.sign_fields: dict[str, int] = {}
        """S field name -> index of the amount it signs."""
        self.compiled: dict[tuple[str, ...], Callable[..., str]] = {}
        self.seen: dict[tuple[str, ...], int] = {}
        self.memos: dict[int, dict[Any, str]] = {}
        fields = layout.fields
        for index, field in enumerate(fields):
            following = fields[index + 1] if index + 1 < len(fields) else None
            sign_index = index + 1 if following is not None and following.kind == "S" else -1
            convert: _Converter
            if field.name in self.fixed:
                value, allowed = self.fixed[field.name]
                self.template.append(value)
                convert = _fixed_converter(field, allowed)
            else:
                self.template.append(" " * field.length)
                if field.kind == "A":
                    right = field.name == "vsnr" and field.start == 14
                    convert = _text_converter(field, codec, right=right)
                elif field.kind == "N":
                    convert = _number_converter(field)
                elif field.kind == "F":
                    convert = _amount_converter(field, signed=sign_index >= 0)
                elif field.kind == "D":
                    convert = _date_converter(field)
                elif field.kind == "S":
                    convert = _sign_converter(field)
                    if index and fields[index - 1].kind == "F":
                        self.sign_fields[field.name] = index - 1
                else:
                    raise ValueError(f"{layout}: field {field.name} has unknown kind {field.kind!r}")
            self.slots[field.name] = (index, convert, sign_index if field.kind == "F" else -1)

    def __call__(self, values: Mapping[str, object]) -> str:
        names = tuple(values)
        fast = self.compiled.get(names)
        if fast is None:
            seen = self.seen.get(names, 0) + 1
            self.seen[names] = seen
            if seen == _COMPILE_AFTER:  # compile what repeats: one compile costs about 40 plain records
                fast = self._compile(names)
        if fast is not None:
            try:
                return fast(*values.values())
            except TypeError:  # an unhashable or odd value: the plain loop says what is wrong
                pass
        return self.encode(values)

    def encode(self, values: Mapping[str, object]) -> str:
        """The plain loop: every given field through its converter."""
        pieces = self.template.copy()
        slots = self.slots
        try:
            for name, value in values.items():
                if value is None:
                    continue
                index, convert, sign = slots[name]
                pieces[index] = convert(value)
                if sign >= 0:
                    pieces[sign] = "-" if value < 0 else "+"  # type: ignore[operator]
        except KeyError as exc:
            raise ValueError(f"{self.layout} has no field {exc.args[0]!r}") from None
        if self.sign_fields and not self.sign_fields.keys().isdisjoint(values):
            self._check_signs(values, pieces)
        return "".join(pieces)

    def _check_signs(self, values: Mapping[str, object], pieces: list[str]) -> None:
        """A sign given next to its amount must be the amount's sign (or blank for a zero amount)."""
        for name, amount_index in self.sign_fields.items():
            amount = values.get(self.layout.fields[amount_index].name)
            if name in values and isinstance(amount, int | Decimal):
                given = str(values[name] or " ")
                if given != ("-" if amount < 0 else "+") and not (given == " " and amount == 0):
                    raise ValueError(f"{name} says {given!r} but the amount before it is {amount}")
                pieces[amount_index + 1] = given

    def _compile(self, names: tuple[str, ...]) -> Callable[..., str] | None:
        """The straight-line encoder for records giving exactly ``names`` (None: use the plain loop)."""
        if len(self.compiled) >= _COMPILED_LIMIT or not self.slots.keys() >= set(names):
            return None
        if not self.sign_fields.keys().isdisjoint(names):
            return None
        fast = self.compiled[names] = self._build(names)
        return fast

    def _build(self, names: tuple[str, ...]) -> Callable[..., str]:
        position = {name: i for i, name in enumerate(names)}
        env: dict[str, Any] = {"Decimal": Decimal}
        parts: list[tuple[bool, str]] = []  # (constant, text or expression)
        fields = self.layout.fields
        for index, field in enumerate(fields):
            name = field.name
            if name not in position:
                amount = fields[index - 1].name if field.kind == "S" and index else ""
                if amount in position and fields[index - 1].kind == "F":
                    a = f"a{position[amount]}"
                    parts.append((False, f'(" " if {a} is None else "-" if {a} < 0 else "+")'))
                else:
                    parts.append((True, self.template[index]))
                continue
            a, c, n = f"a{position[name]}", f"C{index}", field.length
            convert = self.slots[name][1]
            blank = self.template[index]
            if name in self.fixed:
                env[c] = _blank_aware(convert, blank)
                env[f"K{index}"] = self.fixed[name][1]
                expression = f"({a} if {a} in K{index} else {c}({a}))"
            elif field.kind == "A":
                ascii_only = f" and {a}.isascii()" if self.codec is not None else ""
                align = "rjust" if name == "vsnr" and field.start == 14 else "ljust"
                env[c] = _blank_aware(convert, blank)
                expression = (
                    f"({a}.{align}({n}) if type({a}) is str and len({a}) <= {n}{ascii_only} "
                    f"and {a}.isprintable() else {c}({a}))"
                )
            elif field.kind == "N":
                env[c] = _blank_aware(convert, blank)
                expression = (
                    f"({a}.rjust({n}, '0') if type({a}) is str and len({a}) <= {n} and {a}.isdigit() "
                    f"and {a}.isascii() else {c}({a}))"
                )
            elif field.kind in ("F", "D"):
                memo = self.memos.setdefault(index, {})
                types: tuple[type, ...] = (Decimal,) if field.kind == "F" else (date, PartialDate)
                env[c] = _memoised(convert, blank, memo, types)
                env[f"M{index}"] = memo
                guard = f"type({a}) is Decimal and " if field.kind == "F" else f"type({a}) is not str and "
                expression = f"(M{index}[{a}] if {guard}{a} in M{index} else {c}({a}))"
            else:
                env[c] = _blank_aware(convert, blank)
                expression = f"{c}({a})"
            parts.append((False, expression))
        merged: list[str] = []
        for constant, group in itertools.groupby(parts, key=lambda part: part[0]):
            texts = [text for _, text in group]
            if constant:
                env[f"T{len(merged)}"] = "".join(texts)
                merged.append(f"T{len(merged)}")
            else:
                merged += texts
        arguments = ", ".join(f"a{i}" for i in range(len(names)))
        source = (
            f"def encode({arguments}):\n    return ''.join((\n        "
            + ",\n        ".join(merged)
            + ",\n    ))\n"
        )
        exec(compile(source, f"<gdv encoder {self.layout}>", "exec"), env)  # noqa: S102 - our own generated source
        return env["encode"]  # type: ignore[no-any-return]


_ENCODERS: dict[tuple[str, tuple[str, str, str, int], str | None], _Encoder] = {}


def _encoder(layout: Layout, codec: str | None = None) -> _Encoder:
    key = (layout.release, (layout.satzart, layout.sparte, layout.wagnis, layout.part), codec)
    encoder = _ENCODERS.get(key)
    if encoder is None or encoder.layout is not layout:
        encoder = _ENCODERS[key] = _Encoder(layout, codec)
    return encoder


def _single_byte(encoding: str) -> bool:
    """True when every byte is one character (ISO-8859-x, CP850): then a text column is a byte column."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    try:
        return len(bytes(range(256)).decode(name)) == RECORD_LENGTH
    except UnicodeDecodeError:
        return False


def encode_record(layout: Layout, values: Mapping[str, object]) -> str:
    """One Teildatensatz of ``layout`` as 256 characters (one per byte in a one-byte encoding).

    ``values`` maps field names (``layout.names``) to values: ``str`` for A fields (left-aligned; the
    ``vsnr`` at cols 14-30 right-aligned), digits as ``str`` or an ``int`` for N, :class:`~decimal.Decimal`
    or ``int`` for F (a negative amount writes ``-`` into the S field after it), ``datetime.date`` or
    :class:`~bipro_ruv.gdv.PartialDate` for D. A field not given, or given ``None``, is blank; the key
    fields Satzart, Sparte (0210-0230), Satznummer and the Leben Wagnisart (col 60) carry the layout's own
    values. A value that does not fit its field raises :class:`ValueError`: nothing is cut.
    """
    return _encoder(layout)(values)


def encode_record_bytes(
    layout: Layout, values: Mapping[str, object], *, encoding: str = DEFAULT_ENCODING
) -> bytes:
    """One Teildatensatz as exactly 256 bytes in ``encoding`` (field widths count bytes, also in UTF-8)."""
    if _single_byte(encoding):
        text = _encoder(layout)(values)
        try:
            return text.encode(encoding)
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{layout}: {text[exc.start : exc.end]!r} cannot be written in {encoding}"
            ) from exc
    return _encoder(layout, codecs.lookup(encoding).name)(values).encode("latin-1")


def expected_values(layout: Layout, values: Mapping[str, object]) -> dict[str, FieldValue]:
    """Every field of ``layout`` as a reader must decode the record :func:`encode_record` writes for
    ``values``: A rstripped (the VSNR stripped), N zero-padded digits, F :class:`~decimal.Decimal` (the
    sign applied), S ``'+'``/``'-'``, D ``date``/:class:`PartialDate`, ``None`` for a blank field."""
    fixed = _fixed_values(layout)
    result: dict[str, FieldValue] = {}
    fields = layout.fields
    for index, field in enumerate(fields):
        value = values.get(field.name)
        if field.name in fixed:
            text = fixed[field.name][0] if value is None else str(value)
            result[field.name] = text.rjust(field.length, "0") if field.kind == "N" else text
            continue
        expected: FieldValue = None
        if field.kind == "S":
            amount = values.get(fields[index - 1].name) if index and fields[index - 1].kind == "F" else None
            if isinstance(amount, int | Decimal):
                expected = "-" if amount < 0 else "+"
                if value == " " and amount == 0:
                    expected = None
            elif value not in (None, "", " "):
                expected = str(value)
        elif value is None or value == "":
            expected = None
        elif field.kind == "A":
            text = str(value)
            expected = (text.strip() if field.name == "vsnr" and field.start == 14 else text.rstrip()) or None
        elif field.kind == "N":
            expected = str(value).rjust(field.length, "0")
        elif field.kind == "F":
            expected = Decimal(value) if isinstance(value, int | Decimal) else None
        elif field.kind == "D":
            if type(value) is PartialDate:
                expected = value
            elif isinstance(value, date):
                expected = (
                    partial_date(f"{value.month:02d}{value.year:04d}")
                    if field.length == _MONTH_FIELD
                    else value
                )
        result[field.name] = expected
    return result


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    """What the writer put on one line: the ground truth of a round trip."""

    line: int
    """1-based record number in the file (Vorsatz and Nachsatz lines counted)."""
    layout: Layout
    values: Mapping[str, object]
    """The values the record was encoded from (fields not named are blank or fixed by the layout)."""

    @property
    def key(self) -> tuple[str, str, str, int]:
        """(Satzart, Sparte, Wagnisart group, Teildatensatz), as in ``layouts_of(release)``."""
        layout = self.layout
        return layout.satzart, layout.sparte, layout.wagnis, layout.part

    @property
    def release(self) -> str:
        return str(self.layout.release)

    def expected(self) -> dict[str, FieldValue]:
        """Every field as a reader must decode it (:func:`expected_values`)."""
        return expected_values(self.layout, self.values)


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


# == The realistic generator: R+V Bestand and Inkasso files ================================================
#
# Everything below draws from one random.Random(seed), so a seed gives the same bytes on every run. The
# content follows R+V's published habits (ruv-specifics.md §5, gdv-format.md §1.8): 11-digit VSNRs
# (Arbeitsgebiet + 9 digits), net premiums, cancelled contracts with status 4, the 2024 merger (an Abgang
# under 5339 with reason 37 and date 00082024, then a Zugang of the same VSNR under 5438). Code values
# the references do not give (Kommunikationstyp, Sollstellungsart, ...) are plausible, not R+V's.


Kind = Literal["bestand", "inkasso", "both"]
_Key = tuple[str, str, str, int]
_Planned = tuple[_Key, dict[str, object]]

VU_SENDERS: dict[str, str] = dict(_ABSENDER)
"""Absender (30 bytes) per VU number, for the Vorsatz."""


def _table(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


_SURNAMES = _table(
    "Müller|Schäfer|Schröder|Köhler|Jäger|Krüger|Böhm|Weiß|Groß|Möller|Günther|Schmidt|Schneider|Fischer|"
    "Weber|Meyer|Wagner|Becker|Hoffmann|Schulz|Koch|Richter|Klein|Wolf|Neumann|Zimmermann|Braun|Hartmann|"
    "Lange|Krause|Lehmann|Köster|Lüders|Büttner|Dörfler|Röder|Süßmuth|Nußbaum|Straßer|Kühn|Götz|Hölzl|"
    "Brüggemann|Öztürk|Jürgensen|Kößler|Mäurer|Thür|Fuß|Blümel"
)
_MALE = _table(
    "Jürgen|Jörg|Björn|Sören|Günter|Hans-Jürgen|Lukas|Jonas|Maximilian|Thomas|Michael|Andreas|Stefan|Klaus|"
    "Uwe|Jörn|Ömer|Malte|Florian|Jens"
)
_FEMALE = _table(
    "Bärbel|Käthe|Jördis|Anna|Maria|Ursula|Sabine|Petra|Monika|Renate|Hannah|Lea|Sophie|Gesine|Dörte|"
    "Mareike|Frauke|Zoë|Ilse|Marlies"
)
_COMPANIES = _table(
    "Bäckerei {} GmbH|{} & Söhne KG|Autohaus {} GmbH|Gärtnerei {} e.K.|Schreinerei {} OHG|"
    "Malerbetrieb {} GmbH|Metzgerei {} e.K.|Ingenieurbüro {} GbR|Zahnarztpraxis Dr. {}|Blumenhaus {} OHG"
)
_PLACES = tuple(
    (place[:5], place[6:])
    for place in _table(
        "65189 Wiesbaden|80331 München|50667 Köln|40213 Düsseldorf|90402 Nürnberg|97070 Würzburg|"
        "23552 Lübeck|37073 Göttingen|66111 Saarbrücken|48143 Münster|90762 Fürth|49074 Osnabrück|"
        "60311 Frankfurt am Main|20095 Hamburg|10115 Berlin|70173 Stuttgart|04109 Leipzig|01067 Dresden|"
        "99084 Erfurt|55116 Mainz|87435 Kempten (Allgäu)|06108 Halle (Saale)|35390 Gießen|"
        "61348 Bad Homburg vor der Höhe|65549 Limburg an der Lahn|79098 Freiburg im Breisgau|95444 Bayreuth|"
        "63739 Aschaffenburg"
    )
)
_STREETS = _table(
    "Hauptstraße|Schloßallee|Mühlweg|Königstraße|Lindenstraße|Gartenstraße|Am Bürgerpark|Schillerstraße|"
    "Goethestraße|Bahnhofstraße|Kirchgäßchen|Wilhelm-Röpke-Straße|Försterweg|Brückenstraße|Kölner Straße|"
    "Dörnbergstraße|Grüner Weg|Jägerstraße|Heinrich-Böll-Straße|Höhenweg|Lärchenweg|Raiffeisenstraße"
)
_HOUSE_SUFFIXES = ("", "", "", "", "a", "b", " b", " 1/2")
_BANKS = (
    ("Wiesbadener Volksbank eG", "51090000", "WIBADE5W"),
    ("Volksbank Mittelhessen eG", "51390000", "VBMHDE5F"),
    ("Sparkasse KölnBonn", "37050198", "COLSDE33"),
    ("Frankfurter Volksbank eG", "50190000", "FFVBDEFF"),
    ("Münchner Bank eG", "70190000", "GENODEF1M01"),
    ("Hamburger Sparkasse", "20050550", "HASPDEHH"),
)
_BROKERS = (
    BROKER_NAME,
    "Assekuranzmakler Jörg Köhler",
    "Versicherungskontor Süd GmbH",
    "Maklerhaus Bäumer & Groß",
)
_VEHICLES = (
    ("VW", "Golf VIII 1.5 eTSI", "0603", "CAX", Decimal("110.0")),
    ("VW", "Passat Variant 2.0 TDI", "0603", "BZT", Decimal("110.0")),
    ("OPEL", "Astra L 1.2", "0035", "EKF", Decimal("96.0")),
    ("BMW", "320d Touring", "0005", "CKG", Decimal("140.0")),
    ("MERCEDES-BENZ", "C 200 T-Modell", "1313", "CHB", Decimal("150.0")),
    ("SKODA", "Octavia Combi 2.0 TDI", "8004", "AVT", Decimal("85.0")),
    ("FORD", "Fiesta 1.0 EcoBoost", "8566", "BLZ", Decimal("74.0")),
    ("TESLA", "Model 3 Long Range", "4302", "AAE", Decimal("324.0")),
)
_PLATE_AREAS = ("WI", "MZ", "F", "K", "M", "B", "HH", "DA", "GI", "LM", "FB", "HG")
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_FUNDS = _table(
    "Aktienfonds Welt Nachhaltig|Rentenfonds Euro Klassik|Mischfonds Ausgewogen|Aktienfonds Europa Wachstum|"
    "Immobilienfonds Deutschland|Geldmarktfonds Euro"
)
_HOUSEHOLD_COVERS = ("Fahrraddiebstahl", "Glasbruch", "Überspannungsschäden", "Elementarschäden")
_BUILDINGS = (
    "Einfamilienhaus",
    "Zweifamilienhaus",
    "Reihenmittelhaus",
    "Doppelhaushälfte",
    "Mehrfamilienhaus",
)
_BUILDING_EXTRAS = (
    "Photovoltaikanlage",
    "Ableitungsrohre außerhalb",
    "Carport und Gartenhäuschen",
    "Wärmepumpe",
)
_LIABILITY_RISKS = (
    ("PHV", "Privat-Haftpflicht Familie"),
    ("THV", "Tierhalter-Haftpflicht Hund"),
    ("HUG", "Haus- und Grundbesitzer"),
    ("BHV", "Betriebs-Haftpflicht Handwerk"),
)
_ACCIDENT_BENEFITS = (
    ("001", "Invalidität"),
    ("002", "Unfall-Tod"),
    ("004", "Krankenhaustagegeld"),
    ("007", "Übergangsleistung"),
    ("009", "Kosmetische Operationen"),
)
_OCCUPATIONS = ("Bürokauffrau", "Schreiner", "Lehrerin", "Bäckermeister", "Softwareentwickler", "Ärztin")

# Sparte -> (weight, Arbeitsgebiete, product names) for R+V's main Sparten.
_SPARTEN: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "010": (12, ("70",), ("Rente Klassik", "Risikoleben", "Fondsrente Chance", "BU Komfort")),
    "030": (12, ("10", "15", "16"), ("Unfall Komfort", "Unfall Premium", "Kinder-Unfall")),
    "040": (18, ("29", "25", "28"), ("Privathaftpflicht", "Tierhalter-HV", "Betriebshaftpflicht")),
    "050": (30, ("30", "32"), ("Kfz Komfort", "Kfz Premium", "Kfz Classic")),
    "130": (15, ("34", "56"), ("Hausrat Komfort", "Hausrat Premium")),
    "140": (13, ("48",), ("Wohngebäude Komfort", "Wohngebäude Premium")),
}
_SPARTE_ORDER = tuple(_SPARTEN)
_SPARTE_CUMULATIVE = tuple(itertools.accumulate(weight for weight, _, _ in _SPARTEN.values()))
_KFZ_PARTS = ("051", "052", "053", "054", "055")
_LEBEN_MAIN = ("1", "3", "2", "7", "9")
_LEBEN_RIDERS = ("4", "6", "5")
_MERGER_DATE = PartialDate("00082024", 2024, 8, None)
_MERGER_REASON = "37"
_TAX = Decimal("0.19")
_CENT = Decimal("0.01")


def _iban(bank_code: str, account: int) -> str:
    """A German IBAN with correct check digits (ISO 13616 mod 97)."""
    bban = f"{bank_code}{account:010d}"
    check = 98 - int(f"{bban}131400") % 97
    return f"DE{check:02d}{bban}"


def _isin(body: str) -> str:
    """ISIN with its check digit (Luhn over the letters as numbers)."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return f"{body}{(10 - total % 10) % 10}"


@dataclass(slots=True)
class _Person:
    salutation: str
    name_1: str
    name_3: str
    title: str
    postcode: str
    city: str
    street: str
    birth_date: date | None
    gender: str

    @property
    def list_name(self) -> str:
        return f"{self.name_1}, {self.name_3}" if self.name_3 else self.name_1


@dataclass(slots=True)
class _Contract:
    """One contract entry of the file (an Abgang and its Zugang are two entries)."""

    vu: str
    vsnr: str
    sparte: str
    """0200 Sparte: one of _SPARTEN, or 000 for a bundled Privatpolice."""
    product: str
    person: _Person
    customer_number: str
    start: date
    end: date | None
    frequency: str
    collection: str
    status: str = "1"
    reason: str | None = None
    cancelled: date | PartialDate | None = None
    premiums: dict[str, Decimal] = dataclass_field(default_factory=dict)
    """Annual net premium per Sparte-record group (051, 052, ... for Kfz)."""

    @property
    def premium(self) -> Decimal:
        return sum(self.premiums.values(), Decimal("0.00"))

    @property
    def tax_rate(self) -> Decimal:
        return Decimal(0) if self.sparte == _LEBEN_SPARTE else _TAX


class _Book:
    """Draws contracts and their records from one ``random.Random``."""

    def __init__(self, rng: random.Random, release: str, created: date) -> None:
        self.rng = rng
        self.release = release
        self.layouts = layouts_of(release)
        self.created = created
        self.agency = AGENCY_NUMBER
        self.serial = 0
        self.serial_base = rng.randrange(10**9)
        self.key_head: dict[str, object] = {}
        self.head: dict[str, object] = {}

    # -- small draws -------------------------------------------------------------------------------------

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def digits(self, count: int) -> str:
        return f"{int(self.rng.random() * 10**count):0{count}d}"

    def money(self, low: int, high: int) -> Decimal:
        """An amount in EUR between low and high, in cents."""
        return Decimal(low * 100 + int(self.rng.random() * (high - low) * 100)).scaleb(-2)

    def day(self, first: date, last: date) -> date:
        return date.fromordinal(
            first.toordinal() + int(self.rng.random() * (last.toordinal() - first.toordinal()))
        )

    def has(self, key: _Key) -> bool:
        return key in self.layouts

    def fit(self, key: _Key, values: dict[str, object]) -> _Planned:
        """The record with only the fields its layout has in this release (for the few that differ)."""
        names = self.layouts[key].index
        return key, {name: value for name, value in values.items() if name in names}

    # -- the contract ------------------------------------------------------------------------------------

    def next_vsnr(self, sparte: str) -> str:
        self.serial += 1
        area = self.pick(_SPARTEN[sparte][1]) if sparte in _SPARTEN else "34"
        return f"{area}{(self.serial * 7919 + self.serial_base) % 10**9:09d}"

    def person(self, *, company: bool = False) -> _Person:
        surname = self.pick(_SURNAMES)
        postcode, city = self.pick(_PLACES)
        street = f"{self.pick(_STREETS)} {1 + int(self.rng.random() * 120)}{self.pick(_HOUSE_SUFFIXES)}"
        if company:
            return _Person(
                "3", self.pick(_COMPANIES).format(surname), "", "", postcode, city, street, None, " "
            )
        female = self.chance(0.5)
        born = self.day(date(1940, 1, 1), date(2006, 12, 31))
        title = "Dr." if self.chance(0.06) else ""
        first = self.pick(_FEMALE if female else _MALE)
        return _Person(
            "2" if female else "1",
            surname,
            first,
            title,
            postcode,
            city,
            street,
            born,
            "2" if female else "1",
        )

    def contract(
        self, vu: str, *, vsnr: str | None = None, sparte: str | None = None, numbering: _Book | None = None
    ) -> _Contract:
        """A new contract entry; ``numbering`` draws the VSNR (the main book, so numbers stay unique)."""
        draw = self.rng.random() * _SPARTE_CUMULATIVE[-1]
        drawn = _SPARTE_ORDER[bisect.bisect_right(_SPARTE_CUMULATIVE, draw)]
        bundled = self.chance(0.05)
        if sparte is None:
            sparte = "000" if bundled else drawn
        company = self.chance(0.15) and sparte != _LEBEN_SPARTE
        person = self.person(company=company)
        start = self.day(date(2005, 1, 1), self.created)
        start = start.replace(day=1)
        if sparte in ("010", "030"):  # long terms
            end = date(start.year + 12 + int(self.rng.random() * 25), start.month, 1)
        else:  # one year, renewed: the next anniversary after the file's date
            end = date(self.created.year, start.month, 1)
            end = end if end > self.created else date(self.created.year + 1, start.month, 1)
        contract = _Contract(
            vu=vu,
            vsnr=vsnr or (numbering or self).next_vsnr(sparte),
            sparte=sparte,
            product=self.pick(_SPARTEN[sparte][2]) if sparte in _SPARTEN else "PrivatPolice Komfort",
            person=person,
            customer_number=f"{int(self.rng.random() * 10**10):010d}",
            start=start,
            end=end,
            frequency=self.pick(("1", "1", "2", "4")),
            collection=self.pick(("2", "2", "2", "1")),
        )
        if self.chance(0.07):
            contract.status, contract.reason = "4", _MERGER_REASON
            month = date(self.created.year - int(self.rng.random() * 2), 1 + int(self.rng.random() * 12), 1)
            contract.cancelled = partial_date(f"00{month:%m%Y}") if self.chance(0.5) else month
        return contract

    # -- Bestand -----------------------------------------------------------------------------------------

    def bestand(self, contract: _Contract) -> list[_Planned]:
        bundle = {"bundle_flag": "1"} if contract.sparte == "000" else {}
        self.key_head = {
            "insurer_number": contract.vu,
            **bundle,
            "vsnr": contract.vsnr,
            "sequence_number": "01",
            "agency": self.agency,
        }
        self.head = {**self.key_head, "line_of_business": contract.sparte}
        sparte_records: list[_Planned] = []
        if contract.sparte == "000":
            for part in ("040", "130", "030") if self.chance(0.4) else ("040", "130"):
                sparte_records += self.sparte(part, contract)
        else:
            sparte_records = self.sparte(contract.sparte, contract)
        records = self.addresses(contract)
        records += self.general(contract)
        records += sparte_records
        if self.chance(0.08):
            records += self.participation(contract)
        return records

    def sparte(self, sparte: str, contract: _Contract) -> list[_Planned]:
        builder = {
            "010": self.leben,
            "030": self.unfall,
            "040": self.haftpflicht,
            "050": self.kfz,
            "130": self.hausrat,
            "140": self.wohngebaeude,
        }[sparte]
        return builder(contract)

    def addresses(self, contract: _Contract) -> list[_Planned]:
        person = contract.person
        records = self.address("01", person, contract)
        if contract.sparte in ("010", "030") and self.chance(0.5):
            records += self.address("02", self.person(), contract)  # versicherte Person
        if self.chance(0.15):
            records += self.address("08", self.person(), contract)  # Beitragszahler (code illustrative)
        return records

    def address(self, role: str, person: _Person, contract: _Contract) -> list[_Planned]:
        head = self.head
        first: dict[str, object] = {
            **head,
            "salutation_code": person.salutation,
            "name_1": person.name_1,
            "name_3": person.name_3,
            "title": person.title,
            "country": "D",
            "postcode": person.postcode,
            "city": person.city,
            "street": person.street,
            "birth_date": person.birth_date,
            "address_role": role,
            "gender": person.gender,
        }
        if person.salutation == "3":
            first["name_2"] = "z. Hd. Geschäftsführung"
        second: dict[str, object] = {
            **head,
            "insurer_customer_number": contract.customer_number if role == "01" else self.digits(10),
            "agent_customer_number": f"K{self.digits(6)}",
            "comm_type_1": "10",
            "comm_number_1": f"0{self.digits(3)} {self.digits(7)}",
            "payment_method": "1" if contract.collection == "2" else "2",
            "person_seq": f"{1 + int(self.rng.random() * 999999):06d}",
        }
        if self.chance(0.3):
            second["comm_type_2"] = "60"
            second["comm_number_2"] = f"kunde{self.digits(4)}@web.de"
        records: list[_Planned] = [(("0100", "", "", 1), first), (("0100", "", "", 2), second)]
        if role == "01" and self.chance(0.35):
            bank, code, bic = self.pick(_BANKS)
            records.append(
                (
                    ("0100", "", "", 4),
                    {
                        **head,
                        "bank_name_1": bank,
                        "bic_1": bic,
                        "iban_1": _iban(code, int(self.rng.random() * 10**10)),
                    },
                )
            )
        return records

    def general(self, contract: _Contract) -> list[_Planned]:
        premium = contract.premium
        first: dict[str, object] = {
            **self.head,
            "collection_type": contract.collection,
            "start_date": contract.start,
            "end_date": contract.end,
            "main_due_date": contract.start.replace(year=self.created.year),
            "payment_frequency": contract.frequency,
            "contract_status": contract.status,
            "currency": "EUR",
            "total_premium_net": premium,
            "insurer_customer_number": contract.customer_number,
            "application_date": date.fromordinal(contract.start.toordinal() - 14),
        }
        if contract.status == "4":
            first["cancellation_reason"] = contract.reason
            first["cancellation_date"] = contract.cancelled
        if self.chance(0.05):
            first["reference_vsnr"] = f"74{self.digits(9)}"
            first["reference_vsnr_spec"] = "1"
        gross = premium + (premium * contract.tax_rate).quantize(_CENT)
        vsnr = contract.vsnr
        second: dict[str, object] = {
            **self.head,
            "agent_vsnr": f"VM{vsnr}",
            "total_premium_gross": gross,
            "vsnr_formatted": _formatted_vsnr(vsnr),
            "product_name": contract.product,
            "policy_issue_date": date.fromordinal(contract.start.toordinal() - 3),
        }
        return [(("0200", "", "", 1), first), (("0200", "", "", 2), second)]

    def participation(self, contract: _Contract) -> list[_Planned]:
        ours = Decimal(50 + int(self.rng.random() * 40))
        first: dict[str, object] = {
            **self.head,
            "change_date": contract.start,
            "insurer_share": ours,
            "record_seq": "01",
            "coinsurer_number": "5058",
            "coinsurer_share": Decimal(100) - ours,
            "coinsurer_vsnr": f"K{self.digits(10)}",
        }
        records: list[_Planned] = [(("0300", "", "", 1), first)]
        if self.chance(0.3):
            records.append((("0300", "", "", 2), {**self.head, "filing_reference": f"BT-{self.digits(8)}"}))
        return records

    # Leben (010): Wagnisart 0 = versicherte Person, then the Wagnisart records with their extension parts.

    def leben(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        main = self.pick(_LEBEN_MAIN)
        monthly = self.money(25, 400)
        annual = monthly * 12
        contract.premiums["010"] = annual
        records: list[_Planned] = [
            (
                ("0210", "010", "", 1),
                {
                    **head,
                    "currency": "EUR",
                    "contract_form": "1",
                    "acquisition_commission": Decimal("25.00"),
                    "payment_start_date": contract.start,
                },
            ),
        ]
        if self.chance(0.4):
            records.append(
                (
                    ("0210", "010", "", 2),
                    {**head, "product_name": contract.product, "capital_gains_tax_liable": "J"},
                )
            )
        insured = contract.person if contract.person.name_3 else self.person()
        records.append(
            (
                ("0220", "010", "0", 1),
                {
                    **head,
                    "insured_person_seq": "1",
                    "risk_type": "0",
                    "insured_person_name": insured.name_1,
                    "insured_person_first_name": insured.name_3,
                    "insured_person_birth_date": insured.birth_date,
                    "insured_person_gender": insured.gender,
                    "occupation_text": self.pick(_OCCUPATIONS),
                },
            )
        )
        records += self.wagnis(main, contract, monthly, rider=False)
        if self.chance(0.35):
            records += self.wagnis(self.pick(_LEBEN_RIDERS), contract, self.money(5, 60), rider=True)
        if main in ("7", "9"):
            for seq in range(1, 2 + int(self.rng.random() * 3)):
                fund_name = self.pick(_FUNDS)
                records.append(
                    (
                        ("0230", "010", "", 1),
                        {
                            **head,
                            "insured_person_seq": "1",
                            "risk_type": main,
                            "risk_type_seq": "1",
                            "fund_seq": f"{seq:04d}",
                            "wkn": f"A{self.digits(5)}",
                            "isin": _isin(f"DE000A{self.digits(5)}"),
                            "fund_name": fund_name,
                            "units": Decimal(int(self.rng.random() * 10**9)).scaleb(-6),
                            "valuation_date": self.created,
                            "allocation_pct": Decimal("25.0000"),
                        },
                    )
                )
        if self.chance(0.2):
            records.append((("0211", "010", "", 1), {**head, "future_total_premium": annual}))
        return records

    def wagnis(self, wagnisart: str, contract: _Contract, monthly: Decimal, *, rider: bool) -> list[_Planned]:
        group = WAGNISART_GROUPS[wagnisart]
        head: dict[str, object] = {
            **self.key_head,
            "insured_person_seq": "1",
            "risk_type": wagnisart,
            "risk_type_seq": "1",
        }
        term = (contract.end.year - contract.start.year) if contract.end else 30
        first: dict[str, object] = {
            **head,
            "inception_date": contract.start,
            "expiry_date": contract.end,
            "contract_term": f"{term:03d}",
            "contract_type": "1",
            "status": "1" if contract.status == "1" else "4",
        }
        sums = 10_000 + int(self.rng.random() * 400) * 1000
        if group == "13":
            first.update(
                premium=monthly,
                survival_sum_at_expiry=str(sums),
                death_sum_at_expiry=str(sums),
                tariff_name=f"L{wagnisart}K{self.digits(2)}",
            )
        elif group == "2":
            first.update(
                premium=monthly,
                tariff_name=f"R2{self.digits(3)}",
                annual_pension=self.money(1200, 24000),
                pension_start_date=contract.end,
            )
        elif group == "48":
            first.update(
                occ_disability_premium=monthly,
                net_premium=monthly,
                annual_pension=self.money(6000, 36000),
            )
        elif group == "5":
            first.update(premium=monthly, sum_insured=str(sums), net_premium=monthly)
        elif group == "6":
            first.update(premium=monthly, accident_sum=str(sums), net_premium=monthly)
        elif group == "7":
            first.update(
                premium=monthly,
                premium_sum=str(sums),
                death_sum_insured=str(sums),
                tariff_name=f"FL7{self.digits(2)}",
            )
        else:
            first.update(
                premium=monthly,
                tariff_name=f"FR9{self.digits(2)}",
                annual_pension=self.money(1200, 24000),
                pension_start_date=contract.end,
                surrender_value=self.money(0, 80000),
            )
        records: list[_Planned] = [(("0220", "010", group, 1), first)]
        second: dict[str, object] = {**head, "indexation_start": contract.start}
        if group in ("48", "5", "6"):
            second["tariff_name"] = f"Z{wagnisart}{self.digits(3)} Zusatzversicherung"
        elif not rider:
            second["future_premium_amount"] = monthly
        records.append((("0220", "010", group, 2), second))
        if not rider:
            if group == "13" and self.chance(0.3):
                records.append(
                    (("0220", "010", group, 3), {**head, "survival_sum_at_call_off": Decimal(sums)})
                )
            elif group in ("7", "9") and self.chance(0.5):
                strategy = {"investment_strategy": self.pick(("Chance", "Balance", "Sicherheit"))}
                records.append((("0220", "010", group, 3), {**head, **strategy}))
            if group == "9" and self.chance(0.3) and self.has(("0220", "010", "9", 4)):
                records.append(
                    self.fit(("0220", "010", "9", 4), {**head, "retirement_assets": self.money(1000, 90000)})
                )
        for part in (6, 7, 8, 9):
            key = ("0220", "010", group, part)
            if self.has(key) and self.chance(0.15):
                records.append((key, self.extension(part, head, contract)))
        extension = ("0221", "010", group, 1)
        if self.has(extension) and self.chance(0.3) and group in ("13", "7"):
            records.append((extension, {**head, "death_sum_insured": Decimal(sums)}))
        elif self.has(extension) and self.chance(0.3) and group in ("2", "13", "7"):
            records.append((extension, {**head, "surrender_value": self.money(0, 50000)}))
        return records

    def extension(self, part: int, head: dict[str, object], contract: _Contract) -> dict[str, object]:
        layout = self.layouts[("0220", "010", WAGNISART_GROUPS[str(head["risk_type"])], part)]
        values: dict[str, object] = {**head, "record_type_seq": "01"}
        if part == 6:
            heir = self.person()
            for when in ("death", "benefit", "survival"):
                values[f"beneficiary_on_{when}"] = "1"
                values[f"other_beneficiary_on_{when}"] = f"{heir.name_3} {heir.name_1}"
                values[f"beneficiary_share_on_{when}"] = Decimal("100.00")
        elif part == 7:
            values["next_payout_date"] = date(self.created.year + 1, 1, 1)
            values["payout_count"] = "01"
        elif part == 8:
            values["death_benefit_change"] = "1"
            values["death_change_interval"] = "012"
            values["death_change_pct"] = Decimal("5.00")
        else:
            values["commissionable_premium_sum"] = self.money(1000, 90000)
            values["liability_from"] = contract.start
            values["liability_to"] = contract.end
        names = layout.index
        return {name: value for name, value in values.items() if name in names}

    # Unfall (030): 0220 per versicherte Person with the Satznummer at col 49 (TD 3: col 43, TD 9: col 60).

    def unfall(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        records: list[_Planned] = []
        total = Decimal("0.00")
        for seq in range(1, 2 + int(self.rng.random() * 3)):
            person = contract.person if seq == 1 and contract.person.name_3 else self.person()
            premium = self.money(60, 400)
            total += premium
            number = f"{seq:06d}"
            insured = {**head, "insured_person_or_group_seq": number}
            records.append(
                (
                    ("0220", "030", "", 1),
                    {
                        **insured,
                        "insured_person_name": person.name_1,
                        "insured_person_first_name": person.name_3,
                        "insured_person_birth_date": person.birth_date,
                        "insured_person_gender": person.gender,
                        "occupation_text": self.pick(_OCCUPATIONS),
                        "hazard_group": self.pick(("A", "B")),
                        "currency": "EUR",
                        "premium_per_person_or_group": premium,
                        "person_inclusion_date": contract.start,
                    },
                )
            )
            disability = 50_000 + int(self.rng.random() * 40) * 10_000
            records.append(
                (
                    ("0220", "030", "", 2),
                    {
                        **insured,
                        "death": f"{disability // 5:09d}",
                        "death_premium_rate": Decimal("0.52000"),
                        "disability": f"{disability:09d}",
                        "progressive_disability_flag": "1",
                        "hospital_daily_allowance": Decimal("30.0"),
                        "additional_record_id": "X",
                    },
                )
            )
            if self.chance(0.4):
                records.append(
                    (
                        ("0220", "030", "", 3),
                        # A 5-character VP number: col 49 (the Satznummer column of TD 1/2/4) stays blank.
                        {
                            **head,
                            "insured_person_insurer_number": f"{seq:05d}",
                            "death_premium": (premium / 4).quantize(_CENT),
                            "disability_premium": (premium / 2).quantize(_CENT),
                            "insured_person_or_group_seq": number,
                        },
                    )
                )
            if contract.vsnr.startswith("15") and self.chance(0.6):
                records.append(
                    (
                        ("0220", "030", "", 4),
                        {
                            **insured,
                            "premium_payment_until": contract.end,
                            "refund_sum_at_expiry": self.money(2000, 20000),
                        },
                    )
                )
            if self.chance(0.15):
                heir = self.person()
                records.append(
                    (
                        ("0220", "030", "", 9),
                        {
                            **head,
                            "insured_person_or_group_seq_9": number,
                            "record_type_seq": "01",
                            "beneficiary_on_benefit": "1",
                            "other_beneficiary_on_benefit": f"{heir.name_3} {heir.name_1}",
                            "beneficiary_share_on_benefit": Decimal("100.00"),
                            "insured_person_or_group_seq": number,
                        },
                    )
                )
            if self.chance(0.25):
                records.append(
                    (
                        ("0221", "030", "", 2),
                        {**insured, "death": Decimal(disability // 5), "disability": Decimal(disability)},
                    )
                )
            if self.chance(0.3):
                code, name = self.pick(_ACCIDENT_BENEFITS)
                records.append(
                    (
                        ("0230", "030", "", 1),
                        {
                            **insured,
                            "benefit_type": code,
                            "benefit_description": name,
                            "benefit_type_seq": "001",
                            "benefit_amount": Decimal(disability),
                            "premium": (premium / 2).quantize(_CENT),
                        },
                    )
                )
        contract.premiums["030"] = total
        general: dict[str, object] = {
            **head,
            "contract_status": contract.status,
            "inception_date": contract.start,
            "exclusion_date": contract.cancelled if type(contract.cancelled) is date else None,
            "general_conditions": "2020",
            "indexation": "1",
            "indexation_pct": Decimal("5.000"),
            "currency": "EUR",
            "total_premium": total,
            "tariff_name": "Unfall-Tarif 2020",
            "product_name": contract.product,
        }
        return [(("0210", "030", "", 1), general), *records]

    def haftpflicht(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        millions = self.pick((5, 10, 15, 50))
        records: list[_Planned] = []
        total = Decimal("0.00")
        for number in range(1, 2 + int(self.rng.random() * 2)):
            code, text = self.pick(_LIABILITY_RISKS)
            premium = self.money(40, 900)
            total += premium
            risk = {**head, "risk_type": code, "risk_addition_number": f"{number:02d}"}
            records.append(
                (
                    ("0220", "040", "", 1),
                    {
                        **risk,
                        "calculation_unit": "001",
                        "risk_quantity": "000000000001",
                        "currency": "EUR",
                        "premium_per_unit": premium,
                        "total_premium": premium,
                        "inception_date": contract.start,
                    },
                )
            )
            if self.chance(0.5):
                records.append(
                    (
                        ("0220", "040", "", 2),
                        {
                            **head,
                            "risk_type": code,
                            "risk_part_number": f"{number:02d}",
                            "risk_text": text,
                            "risk_postcode": contract.person.postcode,
                            "risk_city": contract.person.city,
                            "risk_street": contract.person.street,
                        },
                    )
                )
            if self.chance(0.2):
                records.append(
                    (("0221", "040", "", 1), {**risk, "cover_limit_1": Decimal(millions * 1_000_000)})
                )
        contract.premiums["040"] = total
        general: dict[str, object] = {
            **head,
            "contract_status": contract.status,
            "inception_date": contract.start,
            "sum_type_1": "1",
            "currency_1": "EUR",
            "cover_limit_1_thousands": f"{millions * 1000:09d}",
            "general_conditions": "2016",
            "currency": "EUR",
            "total_premium": total,
            "product_name": contract.product,
        }
        records[:0] = [(("0210", "040", "", 1), general)]
        if self.chance(0.2):
            records.insert(
                1, (("0211", "040", "", 1), {**head, "cover_limit_1": Decimal(millions * 1_000_000)})
            )
        return records

    def kfz(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        maker, model, hsn, tsn, power = self.pick(_VEHICLES)
        registered = self.day(date(2008, 1, 1), self.created)
        letters = "".join(chr(65 + int(self.rng.random() * 26)) for _ in range(2))
        plate = f"{self.pick(_PLATE_AREAS)}-{letters} {1 + int(self.rng.random() * 9998)}"
        vin = "W" + "".join(self.rng.choices(_VIN_CHARS, k=16))
        parts = ["051"]
        casco = self.rng.random()
        if casco < 0.45:
            parts.append("052")
        elif casco < 0.75:
            parts.append("053")
        if self.chance(0.05):
            parts.append("054")
        if self.chance(0.25):
            parts.append("055")
        records: list[_Planned] = []
        for part in parts:
            premium = Decimal(int(self.rng.random() * 9000) + 300).scaleb(-1)  # F8.1: one decimal
            contract.premiums[part] = premium
            records += self.kfz_part(part, premium, contract)
        if self.chance(0.03) and self.has(("0230", "050", "", 1)):
            records.append(
                (
                    ("0230", "050", "", 1),
                    {**head, "licence_plate": plate, "plate_type": "01", "insurer": contract.vu},
                )
            )
        vehicle: dict[str, object] = {
            **head,
            "vehicle_risk_code": "112",
            "engine_power": power,
            "manufacturer_name": maker,
            "model_name": model,
            "manufacturer_code_hsn": hsn,
            "type_code_tsn": tsn,
            "vin": vin,
            "licence_plate": plate,
            "first_registration_date": registered,
            "new_price": f"{20_000 + int(self.rng.random() * 60_000):07d}",
            "currency": "EUR",
            "total_premium": contract.premium,
            "insurer_customer_number": contract.customer_number,
        }
        head_records: list[_Planned] = [(("0210", "050", "", 1), vehicle)]
        if self.chance(0.5):
            head_records.append(
                (
                    ("0210", "050", "", 2),
                    {
                        **head,
                        "vehicle_type": "Personenkraftwagen",
                        "annual_mileage": f"{self.pick((9, 12, 15, 20, 25)):03d}000",
                        "garage": "01",
                        "product_name": contract.product,
                        "cover_start_date": contract.start,
                    },
                )
            )
        if self.chance(0.15):
            head_records.append((("0211", "050", "", 1), {**head, "new_price": self.money(20_000, 80_000)}))
        return head_records + records

    def kfz_part(self, part: str, premium: Decimal, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        start = contract.start
        if part == "051":
            first: dict[str, object] = {
                **head,
                "mtpl_start_date": start,
                "mtpl_tariff_group": "R8",
                "mtpl_cover_type": "01",
                "mtpl_no_claims_class": f"SF{1 + int(self.rng.random() * 35)}",
                "mtpl_premium_rates": "045",
                "mtpl_premium": premium,
                "akb_conditions": "2015",
                "commission": Decimal("6.00"),
                "tariff": "KH-2025",
            }
            extension: dict[str, object] = {**head, "mtpl_premium": premium}
        elif part == "052":
            first = {
                **head,
                "full_casco_start_date": start,
                "full_casco_tariff_group": "R8",
                "full_casco_cover_type": "01",
                "full_casco_no_claims_class": f"SF{1 + int(self.rng.random() * 35)}",
                "full_casco_premium": premium,
                "full_casco_type_class": "22",
                "full_casco_agreed_deductible": "0000000300",
                "tariff": "VK-2025",
            }
            extension = {
                **head,
                "full_casco_premium": premium,
                "full_casco_agreed_deductible": Decimal("300.00"),
            }
        elif part == "053":
            first = {
                **head,
                "partial_casco_start_date": start,
                "partial_casco_tariff_group": "R8",
                "partial_casco_cover_type": "01",
                "partial_casco_premium": premium,
                "partial_casco_type_class": "19",
                "partial_casco_agreed_deductible": "0000000150",
            }
            extension = {
                **head,
                "partial_casco_premium": premium,
                "partial_casco_agreed_deductible": Decimal("150.00"),
            }
        elif part == "054":
            first = {
                **head,
                "motor_accident_start_date": start,
                "motor_accident_cover_risk_1": "1",
                "death_risk_1": "0010",
                "disability_risk_1": "0020",
                "motor_accident_premium": premium,
            }
            extension = {**head, "death_risk_1": Decimal("10000.00"), "motor_accident_premium": premium}
        else:
            first = {
                **head,
                "module_code": "SB",
                "module_name": self.pick(("Schutzbrief", "Fahrerschutz", "Auslandsschaden")),
                "module_start_date": start,
                "currency": "EUR",
                "premium": premium,
                "ref_sub_line": "051",
            }
            extension = {**head, "premium": premium, "ref_sub_line": "051"}
        records: list[_Planned] = [(("0220", part, "", 1), first)]
        if self.chance(0.3):
            second: dict[str, object] = {**head, "insured_perils": "Feuer, Diebstahl, Glasbruch"}
            if part == "055":
                second["ref_sub_line"] = "051"
            else:
                second["territorial_scope"] = "Europa"
            records.append((("0220", part, "", 2), second))
        if self.chance(0.25):
            records.append((("0221", part, "", 1), extension))
        return records

    # Hausrat (130): Satznummer at col 251, Objektnummer at 252-256; 0211/0220/0221 have no Satznummer.

    def hausrat(self, contract: _Contract) -> list[_Planned]:
        head = {**self.key_head, "object_number": "00001"}
        area = 40 + int(self.rng.random() * 160)
        sum_insured = area * 650
        records: list[_Planned] = []
        total = Decimal("0.00")
        for seq, cover in enumerate(
            ("Hausrat-Grunddeckung", *(c for c in _HOUSEHOLD_COVERS if self.chance(0.25))), 1
        ):
            premium = self.money(15, 250)
            total += premium
            records.append(
                self.fit(  # release 2009 has no additional_cover_name
                    ("0220", "130", "", 1),
                    {
                        **head,
                        "inception_date": contract.start,
                        "sum_type": "001",
                        "current_rate_per_mille": Decimal("1.250"),
                        "sum_insured_or_indemnity_limit": f"{sum_insured:012d}",
                        "premium": premium,
                        "peril_seq": f"{seq:06d}",
                        "additional_cover_name": cover,
                    },
                )
            )
            if self.chance(0.2):
                records.append(
                    (
                        ("0221", "130", "", 1),
                        {
                            **head,
                            "sum_type": "001",
                            "sum_insured_or_indemnity_limit": Decimal(sum_insured),
                            "peril_seq": f"{seq:06d}",
                        },
                    )
                )
        contract.premiums["130"] = total
        general: dict[str, object] = {
            **head,
            "contract_status": contract.status,
            "inception_date": contract.start,
            "risk_postcode": contract.person.postcode,
            "risk_city": contract.person.city,
            "risk_street": contract.person.street,
            "currency": "EUR",
            "total_sum_insured": f"{sum_insured:012d}",
            "total_premium": total,
            "living_area_sqm": f"{area:05d}",
            "tariff_zone": str(1 + int(self.rng.random() * 4)),
        }
        head_records: list[_Planned] = [(("0210", "130", "", 1), general)]
        if self.chance(0.4):
            head_records.append((("0210", "130", "", 2), {**head, "product_name": contract.product}))
        if self.chance(0.2):
            head_records.append((("0211", "130", "", 1), {**head, "total_sum_insured": Decimal(sum_insured)}))
        return head_records + records

    def wohngebaeude(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        base = 15_000 + int(self.rng.random() * 60) * 1000  # Versicherungssumme 1914 in Mark
        index = Decimal("2431.4")
        current = int(base * index / 100)
        premium = self.money(250, 2200)
        contract.premiums["140"] = premium
        risk = {**head, "risk_number": "0001", "object_number": "0001"}
        records: list[_Planned] = [
            (
                ("0210", "140", "", 1),
                {
                    **head,
                    "contract_status": contract.status,
                    "inception_date": contract.start,
                    "currency": "EUR",
                    "total_sum_insured": f"{current:012d}",
                    "total_premium": premium,
                    "conditions": "2022",
                    "product_name": contract.product,
                    "conditions_name": "VGB 2022 Wert 1914",
                },
            ),
            (
                ("0220", "140", "", 1),
                {
                    **risk,
                    "inception_date": contract.start,
                    "risk_country": "D",
                    "risk_postcode": contract.person.postcode,
                    "risk_city": contract.person.city,
                    "risk_street": contract.person.street,
                    "storm_zone": str(1 + int(self.rng.random() * 4)),
                    "construction_class": "1",
                    "year_built": str(1900 + int(self.rng.random() * 124)),
                    "storeys": "02",
                    "dwelling_unit_count": "001",
                },
            ),
            (
                ("0220", "140", "", 2),
                {
                    **risk,
                    "object_description": self.pick(_BUILDINGS),
                    "sum_type": "001",
                    "base_year": "1914",
                    "base_sum_insured": f"{base:012d}",
                    "construction_price_index": index,
                    "current_sum_insured": f"{current:012d}",
                    "premium_rate": Decimal("0.950"),
                    "current_premium": premium,
                    "natural_hazards": self.pick(("J", "N")),
                },
            ),
        ]
        if self.chance(0.2):
            records.insert(1, (("0211", "140", "", 1), {**head, "total_sum_insured": Decimal(current)}))
        if self.chance(0.2):
            records.append(
                (
                    ("0221", "140", "", 2),
                    {**risk, "base_sum_insured": Decimal(base), "current_sum_insured": Decimal(current)},
                )
            )
        if self.chance(0.25) and self.has(("0230", "140", "", 1)):
            records.append(
                (
                    ("0230", "140", "", 1),
                    {
                        **head,
                        "ref_risk_number": "0001",
                        "ref_object_number": "0001",
                        "additional_cover_seq": "001",
                        "additional_cover_name": self.pick(_BUILDING_EXTRAS),
                        "sum_insured_or_indemnity_limit": f"{25_000:012d}",
                        "premium": self.money(10, 90),
                    },
                )
            )
        return records

    def premiums(self, contract: _Contract) -> None:
        """The annual Sparte premiums alone: an Inkasso file books them without the Bestand records."""
        for sparte in ("040", "130") if contract.sparte == "000" else (contract.sparte,):
            if sparte == "050":
                parts = ["051"]
                casco = self.rng.random()
                parts += ["052"] if casco < 0.45 else ["053"] if casco < 0.75 else []
                parts += ["055"] if self.chance(0.25) else []
                for part in parts:
                    contract.premiums[part] = Decimal(int(self.rng.random() * 9000) + 300).scaleb(-1)
            elif sparte == _LEBEN_SPARTE:
                contract.premiums[sparte] = self.money(25, 400) * 12
            else:
                contract.premiums[sparte] = self.money(40, 1500)

    # -- Inkasso -----------------------------------------------------------------------------------------

    def inkasso(self, contract: _Contract) -> list[_Planned]:
        """One booking: a debit for a live contract, a refund (negative amounts) for a cancelled one."""
        head = {
            "insurer_number": contract.vu,
            **({"bundle_flag": "1"} if contract.sparte == "000" else {}),
            "line_of_business": contract.sparte,
            "vsnr": contract.vsnr,
            "sequence_number": "01",
            "agency": self.agency,
        }
        per_year = int(contract.frequency)
        months = 12 // per_year
        begin = date(self.created.year, 1 + (self.created.month - 1) // months * months, 1)
        last = date.fromordinal(
            date(
                begin.year + (begin.month + months - 1) // 12, (begin.month + months - 1) % 12 + 1, 1
            ).toordinal()
            - 1
        )
        refund = contract.status == "4" or self.chance(0.04)
        factor = -1 if refund else 1
        parts = contract.premiums or {contract.sparte: self.money(100, 900)}
        rate = contract.tax_rate
        commission_rate = Decimal("0.02") if contract.sparte == _LEBEN_SPARTE else Decimal("0.12")
        lines: list[tuple[str, Decimal, Decimal, Decimal]] = []
        for sparte, annual in parts.items():
            net = (annual / per_year).quantize(_CENT) * factor
            tax = (net * rate).quantize(_CENT)
            lines.append((sparte, net, tax, (net * commission_rate).quantize(_CENT)))
        net = sum((x[1] for x in lines), Decimal("0.00"))
        tax = sum((x[2] for x in lines), Decimal("0.00"))
        commission = sum((x[3] for x in lines), Decimal("0.00"))
        gross = net + tax
        booked = self.created
        first: dict[str, object] = {
            **head,
            "collection_type": contract.collection,
            "receivable_type": "02" if refund else "01",
            "booking_date": booked,
            "billing_period_from": begin,
            "billing_period_to": last,
            "payment_frequency": contract.frequency,
            "creation_date": booked,
            "collection_batch_number": f"{self.agency}{booked:%Y%m}",
            "currency": "EUR",
            "total_premium_net": net,
            "insurance_tax": tax,
            "fee": Decimal("0.00"),
            "total_premium_gross": gross,
            "total_commission": commission,
        }
        settled = gross - commission if contract.collection == "1" else -commission
        second: dict[str, object] = {
            **head,
            "insurer_reference_number": f"{contract.vsnr}{begin:%m%y}",
            "policyholder_name": contract.person.list_name[:30],
            "settlement_amount": settled,
            "currency": "EUR",
        }
        records: list[_Planned] = [(("0400", "", "", 1), first), (("0400", "", "", 2), second)]
        for sparte, part_net, part_tax, part_commission in lines:
            records.append(
                (
                    ("0410", "", "", 1),
                    {
                        **head,
                        "line_of_business": sparte,
                        "billing_period_from": begin,
                        "billing_period_to": last,
                        "sub_line_premium_net": part_net,
                        "sub_line_tax": part_tax,
                        "sub_line_tax_rate": rate * 100,
                        "commissionable_amount_1": part_net,
                        "commission_rate_1": commission_rate * 100,
                        "sub_line_commission_1": part_commission,
                        "commission_type_1": "1",
                    },
                )
            )
        if tax and self.chance(0.3):
            records.append(
                (
                    ("0420", "", "", 1),
                    {
                        **head,
                        "seq_number": "01",
                        "tax_type": "VSt",
                        "tax_category": "001",
                        "tax_rate": rate * 100,
                        "taxable_amount": net,
                        "tax_amount": tax,
                        "currency": "EUR",
                        "tax_paid_by": "1",
                    },
                )
            )
        if refund or self.chance(0.1):
            text = "Rückerstattung nach Vertragsbeendigung" if refund else "Beitrag gemäß Beitragsanpassung"
            records.append(
                (
                    ("0430", "", "", 1),
                    {
                        **head,
                        "text_type_1": "1",
                        "text_1": text,
                        "text_type_2": "2",
                        "text_2": f"Zeitraum {begin:%d.%m.%Y} bis {last:%d.%m.%Y}",
                    },
                )
            )
        return records


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


def _formatted_vsnr(vsnr: str) -> str:
    """The druckaufbereitete VSNR we write: ``30 123 456 789`` (R+V's print format is not public)."""
    return f"{vsnr[:2]} {vsnr[2:5]} {vsnr[5:8]} {vsnr[8:]}"


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
        self.book = _Book(self.rng, writer.release, created)
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
                    entry = _Book(random.Random(contract_seed), writer.release, self.created)  # noqa: S311
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
                    entry = _Book(random.Random(contract_seed), writer.release, self.created)  # noqa: S311
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

    def emit(self, book: _Book, contract: _Contract, *, keep: bool = False) -> None:
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
