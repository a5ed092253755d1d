"""xs:dateTime / xs:date in every flavour BiPRO servers send, read alike on every Python."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bipro_ruv._wire.timestamps import parse_date, parse_datetime
from bipro_ruv.transfer import _parse

UTC = timezone.utc
CET = timezone(timedelta(hours=1))
LATEST = timezone(timedelta(hours=23, minutes=59))  # the largest offset ISO 8601 can write


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # .NET ("o" format): seven digits, the seventh cut off
        ("2026-11-30T17:35:01.1234567Z", datetime(2026, 11, 30, 17, 35, 1, 123456, UTC)),
        ("2026-11-30T17:35:01.1234567+01:00", datetime(2026, 11, 30, 17, 35, 1, 123456, CET)),
        ("2026-11-30T17:35:01.1234567", datetime(2026, 11, 30, 17, 35, 1, 123456)),
        # more than six digits are truncated, never rounded into the next second, day or year
        ("2026-11-30T17:35:01.9999999Z", datetime(2026, 11, 30, 17, 35, 1, 999999, UTC)),
        ("2026-12-31T23:59:59.999999999+01:00", datetime(2026, 12, 31, 23, 59, 59, 999999, CET)),
        ("2026-11-30T17:35:01.1234567890123Z", datetime(2026, 11, 30, 17, 35, 1, 123456, UTC)),
        # fewer digits are tenths, hundredths...
        ("2026-11-30T17:35:01.5Z", datetime(2026, 11, 30, 17, 35, 1, 500000, UTC)),
        ("2026-11-30T17:35:01.05Z", datetime(2026, 11, 30, 17, 35, 1, 50000, UTC)),
        ("2026-11-30T17:35:01.000Z", datetime(2026, 11, 30, 17, 35, 1, 0, UTC)),
        # comma as decimal sign (ISO 8601's preferred one)
        ("2026-11-30T17:35:01,25Z", datetime(2026, 11, 30, 17, 35, 1, 250000, UTC)),
        # zones
        ("2026-11-30T17:35:01Z", datetime(2026, 11, 30, 17, 35, 1, tzinfo=UTC)),
        ("2026-11-30T17:35:01z", datetime(2026, 11, 30, 17, 35, 1, tzinfo=UTC)),
        ("2026-11-30T17:35:01+00:00", datetime(2026, 11, 30, 17, 35, 1, tzinfo=UTC)),
        ("2026-11-30T17:35:01-00:00", datetime(2026, 11, 30, 17, 35, 1, tzinfo=UTC)),
        ("2026-11-30T17:35:01+01:00", datetime(2026, 11, 30, 17, 35, 1, tzinfo=CET)),
        ("2026-11-30T17:35:01+0100", datetime(2026, 11, 30, 17, 35, 1, tzinfo=CET)),
        ("2026-11-30T17:35:01+01", datetime(2026, 11, 30, 17, 35, 1, tzinfo=CET)),
        (
            "2026-11-30T17:35:01-05:30",
            datetime(2026, 11, 30, 17, 35, 1, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("2026-11-30T17:35:01+23:59", datetime(2026, 11, 30, 17, 35, 1, tzinfo=LATEST)),
        # no zone: naive (the server's local time)
        ("2026-11-30T17:35:01", datetime(2026, 11, 30, 17, 35, 1)),
        # seconds left out
        ("2026-11-30T17:35Z", datetime(2026, 11, 30, 17, 35, tzinfo=UTC)),
        ("2026-11-30T17:35", datetime(2026, 11, 30, 17, 35)),
        ("2026-11-30T17:35+0100", datetime(2026, 11, 30, 17, 35, tzinfo=CET)),
        # separators and surrounding whitespace
        ("2026-11-30t17:35:01Z", datetime(2026, 11, 30, 17, 35, 1, tzinfo=UTC)),
        ("2026-11-30 17:35:01", datetime(2026, 11, 30, 17, 35, 1)),
        ("\n  2026-11-30T17:35:01Z \t", datetime(2026, 11, 30, 17, 35, 1, tzinfo=UTC)),
        # 24:00:00 is the first instant of the next day (XML Schema 1.0)
        ("2026-11-30T24:00:00", datetime(2026, 12, 1)),
        ("2026-12-31T24:00:00.0000000Z", datetime(2027, 1, 1, tzinfo=UTC)),
        ("2028-02-28T24:00", datetime(2028, 2, 29)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert (parsed, parsed.tzinfo) == (expected, expected.tzinfo)


def test_utc_is_the_utc_singleton_however_it_is_written() -> None:
    for text in ("2026-11-30T17:35:01Z", "2026-11-30T17:35:01+00:00", "2026-11-30T17:35:01-0000"):
        assert parse_datetime(text).tzinfo is timezone.utc


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "2026-11-30",  # a date where a date and time is expected
        "2026-11-30T",
        "2026-11-30T17",
        "2026-11-30T17:35:01.",  # decimal sign without digits
        "2026-11-30T17:35,5",  # fractions of a minute
        "2026-11-30T17:35:01.Z",
        "2026-11-30T17:35:1Z",
        "2026-11-30T7:35:01Z",
        "26-11-30T17:35:01Z",
        "20261130T173501Z",  # ISO 8601 basic format
        "2026-W48-1T17:35:01",  # week date
        "2026-334T17:35:01",  # ordinal date
        "2026-11-30T17:35:60Z",  # leap second
        "2026-11-30T25:00:00",
        "2026-11-30T24:00:01",
        "2026-11-30T24:30:00",
        "2026-11-30T24:00:00.0000001",
        "2026-02-29T12:00:00",
        "2026-13-01T12:00:00",
        "0000-01-01T00:00:00",
        "9999-12-31T24:00:00",
        "2026-11-30T17:35:01+24:00",
        "2026-11-30T17:35:01+01:60",
        "2026-11-30T17:35:01+1",
        "2026-11-30T17:35:01+01:",
        "2026-11-30T17:35:01+01:00:00",
        "2026-11-30T17:35:01 Z",
        "2026-11-30T17:35:01Z+01:00",
        "2026-11-30T17:35:01ZZ",
        "2026-11-30T17:35:01 CET",
        "2026-11-30T17:35:01\n2026-11-30T17:35:01",
        "\u0662\u0660\u0662\u0666-11-30T17:35:01",  # Arabic-Indic digits: int() takes them, we do not
        "2026-11-30T17:35:01.\u0661\u0662",
    ],
)
def test_unreadable_datetimes_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_datetime(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2029-11-21", date(2029, 11, 21)),
        (" 2029-11-21\n", date(2029, 11, 21)),
        ("2029-11-21Z", date(2029, 11, 21)),  # xs:date may carry a zone; it is not applied
        ("2029-11-21+01:00", date(2029, 11, 21)),
        ("2029-11-21-0500", date(2029, 11, 21)),
        # a full timestamp where a date is expected: its date as written
        ("2029-11-21T23:30:00-05:00", date(2029, 11, 21)),
        ("2029-11-21T00:00:00.0000000Z", date(2029, 11, 21)),
        ("2029-11-21T24:00:00", date(2029, 11, 22)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "2029-11", "2029-11-31", "2029-11-21+25:00", "2029-11-21T", "21.11.2029", "2029-11-21 00"]
)
def test_unreadable_dates_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(text)


# -- properties ----------------------------------------------------------------------------


_ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)


def _fields(moment: datetime) -> tuple[datetime, timedelta | None]:
    """Wall time and offset: equal instants written in other zones must not pass as equal."""
    return moment.replace(tzinfo=None), moment.utcoffset()


def _render_seven_digits(
    moment: datetime, seventh: int, separator: str, decimal_sign: str, zone_style: str
) -> str:
    """``moment`` as a .NET-style timestamp with one more digit than Python keeps."""
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        f"{decimal_sign}{moment.microsecond:06d}{seventh}"
    )
    offset = moment.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0) and zone_style == "Z":
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    colon = "" if zone_style == "basic" else ":"
    return f"{text}{sign}{minutes // 60:02d}{colon}{minutes % 60:02d}"


@settings(max_examples=400)
@given(
    moment=st.datetimes(timezones=_ZONES),
    seventh=st.integers(0, 9),
    separator=st.sampled_from("Tt "),
    decimal_sign=st.sampled_from(".,"),
    zone_style=st.sampled_from(["Z", "extended", "basic"]),
)
def test_seven_digit_timestamps_read_back_to_the_microsecond(
    moment: datetime, seventh: int, separator: str, decimal_sign: str, zone_style: str
) -> None:
    parsed = parse_datetime(_render_seven_digits(moment, seventh, separator, decimal_sign, zone_style))
    assert _fields(parsed) == _fields(moment)


@settings(max_examples=200)
@given(
    moment=st.datetimes(timezones=_ZONES),
    timespec=st.sampled_from(["auto", "minutes", "seconds", "milliseconds", "microseconds"]),
)
def test_what_isoformat_writes_reads_as_fromisoformat_reads_it(moment: datetime, timespec: str) -> None:
    text = moment.isoformat(timespec=timespec)  # fromisoformat reads this on every Python version
    assert _fields(parse_datetime(text)) == _fields(datetime.fromisoformat(text))


@given(day=st.dates())
def test_dates_read_back(day: date) -> None:
    assert parse_date(day.isoformat()) == day


# -- the Norm 430 readers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("2026-11-21T03:15:00", datetime(2026, 11, 21, 3, 15)),
        ("2026-11-21T03:15:00.1234567+01:00", datetime(2026, 11, 21, 3, 15, 0, 123456, CET)),
        ("2026-11-21t03:15:00,5", datetime(2026, 11, 21, 3, 15, 0, 500000)),
        ("21.11.2026 03:15", None),  # unreadable: Shipment.created_at_raw keeps it
        ("2026-11-21", None),  # Einstellzeitpunkt is a date and time
    ],
)
def test_einstellzeitpunkt(raw: str | None, expected: datetime | None) -> None:
    assert _parse.parse_datetime(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("2029-11-21", date(2029, 11, 21)),
        ("2029-11-21+01:00", date(2029, 11, 21)),
        ("2029-11-21T00:00:00.0000000Z", date(2029, 11, 21)),
        ("21.11.2029", date(2029, 11, 21)),  # as some providers send it
        ("31.11.2029", None),
        ("bald", None),
    ],
)
def test_verfuegbar_bis(raw: str | None, expected: date | None) -> None:
    assert _parse.parse_date(raw) == expected
