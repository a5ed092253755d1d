"""Tokens are reused, renewed before expiry, and a stale session is recovered once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bipro_ruv import Client, SessionExpiredError
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox


@pytest.mark.slow
@pytest.mark.parametrize("lifetime_style", ["utc", "naive", "offset", "absent"])
def test_calls_across_several_token_expiries(make_sandbox: Any, lifetime_style: str) -> None:
    sb = make_sandbox(token_lifetime_s=2.0, lifetime_style=lifetime_style)
    calls = 0
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        # Keep calling until the server has seen three expiries (bounded by a deadline).
        deadline = time.monotonic() + 30
        while sb.stats.tokens_issued < 4 and time.monotonic() < deadline:
            client.list_shipments()
            calls += 1
    assert sb.stats.tokens_issued >= 4
    assert calls > 4


def test_invalid_session_logs_in_again_and_repeats_the_call_once(sandbox: Sandbox, client: Client) -> None:
    client.login()
    sandbox.expire_tokens()
    assert client.list_shipments()
    assert client.logins == 2


def test_second_invalid_session_in_a_row_is_raised(sandbox: Sandbox, client: Client) -> None:
    sandbox.inject(FaultRule(kind=FaultKind.INVALID_SESSION, operation="listShipments", times=2))
    with pytest.raises(SessionExpiredError):
        client.list_shipments()
    assert client.logins == 2


def test_concurrent_callers_share_one_login(sandbox: Sandbox, client: Client) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        try:
            start.wait()
            client.list_shipments()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox.stats.sts_requests == 1
