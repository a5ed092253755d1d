"""The small GDV files of the sandbox mailbox, written from its seeded book of contracts.

Release 2023, CRLF, ISO-8859-1: Vorsatz 0001 Teildatensatz 1, per contract 0100 and 0200 Teildatensatz 1
and 2 (plus 0210.050 for Kfz), or 0400 Teildatensatz 1 and 2 per installment, and a Nachsatz that counts the
records between Vorsatz and Nachsatz and sums the Gesamtbeitrag.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER, BROKER_NAME, SandboxContract

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
