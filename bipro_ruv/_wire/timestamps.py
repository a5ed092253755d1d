"""Timestamps as BiPRO servers write them: XML Schema ``xs:dateTime`` / ``xs:date`` (ISO 8601).

Read by the STS (Norm 410 ``wst:Lifetime``: ``wsu:Created``, ``wsu:Expires``) and the
TransferService (Norm 430 ``Einstellzeitpunkt``, ``VerfuegbarBis``). Servers differ:
.NET writes seven fractional digits (``2026-11-30T17:35:01.1234567Z``), Java up to
nine, some omit the zone or the seconds, some write ``+0100``. ``datetime.fromisoformat``
reads only part of this on Python 3.10 and more on 3.11; this module reads all of it
the same way on every version, with no help from either.

Read here:

* date ``YYYY-MM-DD``, then ``T``, ``t`` or a space, then ``hh:mm`` with optional ``:ss``;
* a fraction of the second after ``.`` or ``,`` (ISO 8601 prefers the comma), any number
  of digits: the first six are kept as microseconds, the rest cut off (never rounded up
  into the next second, which could also mean the next day);
* ``24:00:00`` (XML Schema 1.0: the first instant of the next day);
* a zone ``Z``/``z``, ``+hh:mm``, ``+hhmm`` or ``+hh``; without one the result is naive
  (the server's local time, whatever that is: the caller decides).

Not read: ISO 8601 basic format (``20261130T173501``), week and ordinal dates, years
outside 0001-9999, leap seconds (``:60``). Such text raises :class:`ValueError`; the
callers turn that into their own error or keep the raw text.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

__all__ = ["parse_date", "parse_datetime"]

_DATE = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
_TIME = r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
_ZONE = r"(?P<zone>[Zz]|(?P<sign>[+-])(?P<zone_hour>\d{2})(?::?(?P<zone_minute>\d{2}))?)?"
# re.ASCII: \d is 0-9 only, not every Unicode digit int() would accept.
_DATETIME = re.compile(rf"{_DATE}[Tt ]{_TIME}{_ZONE}", re.ASCII)
_DATE_ONLY = re.compile(rf"{_DATE}{_ZONE}", re.ASCII)


def _zone(match: re.Match[str]) -> timezone | None:
    if match["zone"] is None:
        return None
    if match["sign"] is None:
        return timezone.utc
    hours, minutes = int(match["zone_hour"]), int(match["zone_minute"] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"time zone offset out of range: {match['zone']!r}")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if match["sign"] == "-" else offset)  # +00:00 and -00:00 give timezone.utc


def parse_datetime(value: str) -> datetime:
    """An ``xs:dateTime`` as a datetime: aware if it names a zone, naive if not.

    Raises :class:`ValueError` for anything else, a date without time included.
    """
    match = _DATETIME.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 date and time: {value!r}")
    fraction = match["fraction"] or ""
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    microsecond = int(fraction[:6].ljust(6, "0"))
    next_day = hour == 24 and minute == second == 0 and not fraction.strip("0")
    try:
        moment = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            0 if next_day else hour,
            minute,
            second,
            microsecond,
            tzinfo=_zone(match),
        )
        return moment + timedelta(days=1) if next_day else moment
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date and time: {value!r} ({exc})") from exc


def parse_date(value: str) -> date:
    """An ``xs:date`` (a zone after it is ignored), or the date part of an ``xs:dateTime``
    as written (not converted to another zone).

    Raises :class:`ValueError` for anything else.
    """
    text = value.strip()
    match = _DATE_ONLY.fullmatch(text)
    if match is None:
        return parse_datetime(text).date()
    try:
        _zone(match)
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError as exc:
        raise ValueError(f"not a valid date: {value!r} ({exc})") from exc
