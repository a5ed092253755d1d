"""The text and the values of an R+V data package: encoding, German numbers and dates, header names.

See :mod:`.csvreader` for how the encoding is found; :func:`decode` does it. :func:`parse_amount`
reads ``1.234,56``, ``-12,30`` and ``12,30-``; :func:`parse_date` ``DD.MM.YYYY``;
:func:`header_key` is how header names are compared.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from bipro_ruv.errors import CsvFormatError

__all__ = ["decode", "detect_encoding", "header_key", "parse_amount", "parse_date"]


_AMOUNT = re.compile(r"^(?P<sign>[-+]?)(?P<digits>[\d.,' ]+?)(?P<trailing>-?)$")


def parse_amount(text: str, *, decimal_comma: bool = True) -> Decimal:
    """``1.234,56`` -> 1234.56, ``-12,30`` and ``12,30-`` -> -12.30; with
    ``decimal_comma=False``, ``1234.56`` and ``1,234.56``. Raises ValueError."""
    value = text.strip().replace("\u00a0", "").replace("€", "").strip()
    match = _AMOUNT.match(value)
    if not match or (match["sign"] == "-" and match["trailing"]):
        raise ValueError(f"{text!r} is no amount")
    digits = match["digits"].replace(" ", "").replace("'", "")
    thousands, point = (".", ",") if decimal_comma else (",", ".")
    if digits.count(point) > 1:
        raise ValueError(f"{text!r} is no amount")
    whole, _, fraction = digits.partition(point)
    if thousands in whole:
        groups = whole.split(thousands)
        if not groups[0] or any(len(group) != 3 for group in groups[1:]):
            raise ValueError(f"{text!r} is no amount (misplaced {thousands!r})")
        whole = "".join(groups)
    if not whole.isdigit() and not (whole == "" and fraction):
        raise ValueError(f"{text!r} is no amount")
    if fraction and not fraction.isdigit():
        raise ValueError(f"{text!r} is no amount")
    try:
        number = Decimal(f"{whole or '0'}.{fraction}" if fraction else whole)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is no amount") from exc
    return -number if (match["sign"] == "-" or match["trailing"]) else number


def parse_date(text: str) -> date:
    """``DD.MM.YYYY`` (or ``D.M.YYYY``, ``YYYY-MM-DD``). Raises ValueError."""
    value = text.strip()
    german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value)
    if german:
        day, month, year = (int(part) for part in german.groups())
        return date(year, month, day)
    return date.fromisoformat(value)


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def header_key(name: str) -> str:
    """A header name compared by its letters and digits only: ``" Abr.-Zeitraum  von "``,
    ``"abr zeitraum von"`` and ``"AbrZeitraumVon"`` are the same column, as are
    ``"Übertragungsdatum"`` and ``"Uebertragungsdatum"``."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", name).casefold()).translate(_UMLAUTS)
    return "".join(char for char in folded if char.isascii() and char.isalnum())


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """The encoding of ``data`` and whether it starts with a byte-order mark (see
    :func:`decode`, which also reads the text)."""
    _, encoding, bom = decode(data)
    return encoding, bom


_ISO_8859_15_LIKELY: Final = b"\xa4\xa6\xa8\xb8"
"""Bytes ISO-8859-15 reads as likely characters (€ Š š ž), Windows-1252 as unlikely ones (¤ ¦ ¨ ¸)."""
_WINDOWS_1252_LIKELY: Final = b"\xb4\xbc\xbd\xbe"
"""Bytes Windows-1252 reads as likely characters (´ ¼ ½ ¾: "SF ½"), ISO-8859-15 as rare ones (Ž Œ œ Ÿ)."""


def _iso_8859_15(data: bytes) -> bool:
    """Whether text without bytes 0x80-0x9F is rather ISO-8859-15 than Windows-1252: only the
    eight bytes the two read otherwise can tell, by which reading makes more of them likely
    characters; none of them (the two read the file alike) or a tie: Windows-1252."""
    iso = sum(data.count(byte) for byte in _ISO_8859_15_LIKELY)
    windows = sum(data.count(byte) for byte in _WINDOWS_1252_LIKELY)
    return iso > windows


def _undefined_as_latin_1(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


_UNDEFINED_AS_LATIN_1: Final = "bipro-ruv-undefined-as-latin-1"
codecs.register_error(_UNDEFINED_AS_LATIN_1, _undefined_as_latin_1)


def decode(data: bytes, *, source: str = "the file") -> tuple[str, str, bool]:
    """The text of ``data`` (byte-order mark removed, line ends as LF), its encoding and
    whether it had a byte-order mark. Raises :class:`~bipro_ruv.errors.CsvFormatError` for
    bytes that are no text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding, bom = _strict(data, "utf-16", source), "utf-16", True
    elif data.startswith(codecs.BOM_UTF8):
        text, encoding, bom = _strict(data[3:], "utf-8", source), "utf-8", True
    elif b"\x00" in data:
        raise CsvFormatError(
            f"{source} is binary, not a text list (an Excel workbook must be saved as CSV first)"
        )
    else:
        bom = False
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            if any(0x80 <= byte <= 0x9F for byte in data) or not _iso_8859_15(data):
                # The five bytes Windows-1252 leaves undefined are read as Latin-1 (U+0081 ...),
                # each on its own: € and „“ elsewhere in the file stay what they are.
                text, encoding = data.decode("cp1252", errors=_UNDEFINED_AS_LATIN_1), "cp1252"
            else:
                text, encoding = data.decode("iso-8859-15"), "iso-8859-15"
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding, bom


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"{source} starts with a {encoding.upper()} byte-order mark but is no {encoding.upper()} text "
            f"(byte {exc.start + 1})"
        ) from exc
