"""How long a SecurityContextToken may be used (Norm 410 Lifetime, often without zone)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from bipro_ruv import Client, ProtocolError
from bipro_ruv.auth.sts import token_expiry

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("created", "expires", "expected"),
    [
        (None, None, 600.0),
        ("2026-11-22T12:00:00Z", "2026-11-22T12:30:00Z", 1800.0),
        ("2026-11-22T13:00:00", "2026-11-22T13:10:00", 600.0),  # both naive: their difference
        ("2022-10-01T15:57:44", "2022-10-01T16:27:44", 1800.0),  # old clock on the server: still 30 min
        (None, "2026-11-22T12:05:00Z", 300.0),
        (None, "2026-11-22T13:05:00+01:00", 300.0),
        (None, "2026-11-22T14:05:00", 300.0),  # naive: earliest reading (CEST) is 5 min ahead
        (None, "2026-11-22T12:30:00", 600.0),  # naive, only UTC reading in the future: capped at default
        ("2026-11-22T12:00:00Z", "2026-11-22T12:10:00", 600.0),  # mixed styles: naive rule, capped
        # .NET: seven fractional digits (Python 3.10's fromisoformat refused them)
        ("2026-11-22T12:00:00.1234567Z", "2026-11-22T12:30:00.1234567Z", 1800.0),
        ("2026-11-22T13:00:00.0000000", "2026-11-22T13:10:00.0000000", 600.0),
        (None, "2026-11-22T12:05:00.9999999Z", 300.999999),
        (None, "2026-11-22T13:05:00+0100", 300.0),
        (None, "2026-11-22T12:05Z", 300.0),
        ("2026-11-22t12:00:00,5z", "2026-11-22t12:20:00,5z", 1200.0),
    ],
)
def test_token_expiry(created: str | None, expires: str | None, expected: float) -> None:
    assert token_expiry(created, expires, now=NOW, default_s=600.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("created", "expires"),
    [
        ("2026-11-22T12:10:00Z", "2026-11-22T12:00:00Z"),
        (None, "2026-11-22T11:00:00Z"),
        (None, "2026-11-22T09:00:00"),
        (None, "tomorrow"),
        (None, "2026-11-22"),  # a date is no point in time
        ("gestern", "2026-11-22T12:30:00Z"),
    ],
)
def test_impossible_lifetimes_are_protocol_errors(created: str | None, expires: str) -> None:
    with pytest.raises(ProtocolError):
        token_expiry(created, expires, now=NOW, default_s=600.0)


@pytest.mark.parametrize("style", ["utc", "naive", "offset", "dotnet"])
def test_login_reads_the_lifetime_in_every_style(make_sandbox: Any, style: str) -> None:
    sb = make_sandbox(mailbox="empty", lifetime_style=style, token_lifetime_s=1800)
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        info = client.login()
    # Created and Expires in one style: their difference, not the 600 s assumed without one.
    assert info.lifetime_s == pytest.approx(1800.0, abs=1.0)
