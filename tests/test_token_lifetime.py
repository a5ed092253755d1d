"""How long a SecurityContextToken may be used (Norm 410 Lifetime, often without zone)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bipro_ruv import ProtocolError
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
    ],
)
def test_impossible_lifetimes_are_protocol_errors(created: str | None, expires: str) -> None:
    with pytest.raises(ProtocolError):
        token_expiry(created, expires, now=NOW, default_s=600.0)
