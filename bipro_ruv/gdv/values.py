"""Field values of the GDV VU-Vermittler format, and the fast decoders behind them.

GDV rules (release 2009 ff., "Allgemeine Beschreibung"; facts in gdv-format.md §1.5):

* **N** (numerisch): right-aligned, zero-padded. Most N fields are codes or keys (Sparte
  ``010``, Abgangsgrund ``37``, Folgenummer ``01``) whose leading zeros mean something,
  so an N value is the ``str`` of its digits, not an ``int``.
* **AN** (alphanumerisch): left-aligned, blank-padded; trailing blanks are cut.
* **Fliesskomma**: implied decimals, no sign inside the number; the sign, where there is
  one, is a separate ``+``/``-`` byte after the amount (0400-0420, 9999) and is applied to
  the amount. Value: :class:`~decimal.Decimal` with exactly that many decimals.
* **Datum**: TTMMJJJJ (or MMJJJJ). "Sollten Tag und/oder Monat nicht vorhanden sein, muss
  '00' geschlüsselt werden": such a date is a :class:`PartialDate`. All zeros means no date.

A blank field is ``None``. A value that breaks its type (letters in an amount, 31.02.) is
an :class:`InvalidValue`, a ``str`` holding the raw text, and the parser records a
:class:`GdvWarning` for it: real R+V files have had "nicht-numerische Zeichen in
numerischen Feldern" (gdv-neuerungen 2018), and one bad field must not cost a delivery.

Speed: the parser decodes hundreds of thousands of records a second. Values repeat a lot
(zero amounts, dates, codes), so each kind has a :class:`_Memo`, a dict whose
``__missing__`` converts a raw text once; a hit is one C-level dict lookup. Every memo
is bounded (it empties itself when full), so streaming a file of any size keeps its
memory. Invalid values are never memoised, so each occurrence is counted and warned.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Final

__all__ = ["FieldValue", "GdvWarning", "InvalidValue", "PartialDate"]

_MEMO_LIMIT: Final = 16_384
_DIGITS: Final = frozenset("0123456789")


class InvalidValue(str):
    """The raw text of a field whose content breaks its type (a :class:`GdvWarning` says which)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"InvalidValue({str.__repr__(self)})"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A GDV date with day and/or month ``00`` ("nicht vorhanden"), e.g. Abgangsdatum ``00082024``.

    ``raw`` is the field as written; ``year``, ``month`` and ``day`` are what it states
    (``None`` where it says ``00``). :attr:`earliest` is the first day it can mean.
    """

    raw: str
    year: int | None
    month: int | None
    day: int | None

    @property
    def earliest(self) -> dt.date | None:
        """The first day the date can mean; ``None`` without a year (a yearly due date ``01010000``)."""
        if self.year is None:
            return None
        return dt.date(self.year, self.month or 1, self.day or 1)

    def isoformat(self) -> str:
        """ISO 8601 reduced precision where it can say it: ``2024-08`` or ``2024``; else the raw text."""
        if self.year is None:
            return self.raw
        if self.month is None:
            return f"{self.year:04d}" if self.day is None else self.raw
        return f"{self.year:04d}-{self.month:02d}" if self.day is None else self.raw

    def __str__(self) -> str:
        return self.raw


FieldValue = str | Decimal | dt.date | PartialDate | None
"""What a decoded field holds (an :class:`InvalidValue` is a ``str``)."""


@dataclass(frozen=True, slots=True)
class GdvWarning:
    """Something a reader of the file should know, that did not stop the parse.

    ``line`` is the 1-based record number in the file (``None`` for the file as a whole),
    ``code`` a stable identifier to filter on, ``message`` one sentence for an office admin.
    """

    code: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"record {self.line}: " if self.line is not None else ""
        return f"{where}{self.message}"


class _Counter:
    """How many invalid values the decoders produced (so the reader scans a record only then)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


INVALID: Final = _Counter()
_COUNTING: Final = threading.Lock()


def _invalid(raw: str) -> InvalidValue:
    """Every invalid value is counted where it is made: the reader then looks for it.

    The count is shared by all threads; the lock keeps two increments from becoming one
    (a reader compares the count with the one it saw last, so a lost increment could hide
    its invalid value). Invalid values are rare, so the lock costs nothing measurable.
    """
    with _COUNTING:
        INVALID.count += 1
    return InvalidValue(raw)


class _Memo(dict[str, Any]):
    """raw text -> value, converting on a miss; invalid values are not kept.

    Bounded: at ``limit`` entries it empties itself down to its ``common`` texts (blank,
    zeros), which every field of its kind holds again and again.
    """

    __slots__ = ("common", "convert", "limit")

    def __init__(self, convert: Any, *, limit: int = _MEMO_LIMIT, common: Iterable[str] = ()) -> None:
        super().__init__()
        self.convert = convert
        self.limit = limit
        self.common = {raw: convert(raw) for raw in common}
        self.update(self.common)

    def __missing__(self, raw: str) -> Any:
        value = self.convert(raw)
        if type(value) is InvalidValue:
            return value
        if len(self) >= self.limit:
            self.clear()
            self.update(self.common)
        self[raw] = value
        return value


def numeric(raw: str) -> str | None:
    """An N field: the ``str`` of its digits (leading zeros kept), ``None`` when blank."""
    if raw.isdigit() and raw.isascii():
        return raw
    text = raw.strip()
    if not text:
        return None
    if _DIGITS.issuperset(text):
        return text
    return _invalid(raw)


def amount_converter(decimals: int) -> Any:
    """The converter of an amount field with ``decimals`` implied decimals."""

    def convert(raw: str) -> Decimal | InvalidValue | None:
        if raw.isdigit() and raw.isascii():  # the usual zero-padded amount: no strip, no checks
            text = raw
        else:
            text = raw.strip()
            if not text:
                return None
            if not _DIGITS.issuperset(text):
                return _invalid(raw)
        if decimals == 0:
            return Decimal(text)
        if len(text) <= decimals:
            text = text.rjust(decimals + 1, "0")
        return Decimal(f"{text[:-decimals]}.{text[-decimals:]}")

    return convert


def _date(raw: str) -> dt.date | PartialDate | InvalidValue | None:
    text = raw.strip()
    if not text or not text.strip("0"):
        return None
    if len(raw) not in (6, 8) or not _DIGITS.issuperset(raw):
        return _invalid(raw)
    if len(raw) == 6:  # MMJJJJ, e.g. "Produktform gültig ab"
        day, month, year = 0, int(raw[:2]), int(raw[2:])
    else:
        day, month, year = int(raw[:2]), int(raw[2:4]), int(raw[4:])
    if month > 12 or (year == 0 and not (day and month)):
        return _invalid(raw)
    if year == 0:
        # "01010000": day and month without a year, as Kfz files write the Hauptfälligkeit.
        try:
            dt.date(2000, month, day)  # a leap year, so 29.02. passes
        except ValueError:
            return _invalid(raw)
        return PartialDate(raw, None, month, day)
    if len(raw) == 8 and day and month:
        try:
            return dt.date(year, month, day)
        except ValueError:
            return _invalid(raw)
    if day and not month:
        # "00" month with a day: the GDV rule allows it; the day cannot be checked.
        if day > 31:
            return _invalid(raw)
    elif day > 31:
        return _invalid(raw)
    return PartialDate(raw, year, month or None, day or None)


def _rstripped(raw: str) -> str | None:
    return raw.rstrip() or None


NUMERIC: Final = _Memo(numeric)
DATE: Final = _Memo(_date)
TEXT: Final = _Memo(_rstripped)
"""For short codes and key fields, which repeat on every record of a contract."""

_LONG: Final = 9
"""Amounts and numbers this long vary from record to record, like free text: their memos
keep a smaller window (which still shares repeated values in memory)."""
_WINDOW: Final = 4096


@cache
def amounts(length: int, decimals: int) -> _Memo:
    """The memo of amount fields of this width (shared by all of them)."""
    if length < _LONG:  # percentages and rates repeat
        return _Memo(amount_converter(decimals), common=("0" * length, " " * length))
    return _Memo(amount_converter(decimals), limit=_WINDOW, common=("0" * length, " " * length))


@cache
def numbers(length: int) -> _Memo:
    """The memo of N fields of this width: codes and keys share one; long numbers vary."""
    if length < _LONG:
        return NUMERIC
    return _Memo(numeric, limit=_WINDOW, common=("0" * length, " " * length))


@cache
def texts(length: int) -> _Memo:
    """Free text (names, streets): mostly new, blank in half the fields."""
    return _Memo(_rstripped, limit=_WINDOW, common=(" " * length,))


def negate(value: Any) -> Any:
    """Apply a ``-`` sign byte to a decoded amount (``None`` and invalid values stay)."""
    if type(value) is Decimal and value:
        return -value
    return value


VSNR: Final = _Memo(lambda raw: raw.strip() or None)
"""The VSNR field (cols 14-30) is right-aligned: "mit Leerstellen linksbündig auffüllen"."""


def _sign(raw: str) -> str | None:
    """A sign field: ``+`` or ``-``; blank (real files leave it blank when the amount is 0,
    gdv.xport issue #96) is ``None``; anything else is invalid and the amount stays positive."""
    if raw in ("+", "-"):
        return raw
    if not raw.strip():
        return None
    return _invalid(raw)


SIGN: Final = _Memo(_sign)
