"""Bad replies give typed errors and never hang; 429/503 are retried per Retry-After."""

from __future__ import annotations

from typing import Any

import pytest

from bipro_ruv import (
    BiproError,
    Client,
    HttpStatusError,
    MalformedXmlError,
    RequestTimeout,
    RetryableHttpError,
    RetryPolicy,
    ServiceError,
    Timeouts,
    UnsafeXmlError,
)
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.MALFORMED_XML, MalformedXmlError),
        (FaultKind.XXE, UnsafeXmlError),
        (FaultKind.ENTITY_BOMB, UnsafeXmlError),
        (FaultKind.HTML_ERROR, HttpStatusError),  # 502, repeated until the policy gives up
        (FaultKind.EMPTY_BODY, MalformedXmlError),
        (FaultKind.SOAP_FAULT, ServiceError),
        (FaultKind.NOK, ServiceError),
    ],
)
def test_bad_reply_gives_typed_error(sandbox: Sandbox, kind: FaultKind, error: type) -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.001)
    with Client(sandbox.username, sandbox.password, base_url=sandbox.base_url, retry=policy) as client:
        client.login()
        sandbox.inject(FaultRule(kind=kind, operation="listShipments", times=2))
        with pytest.raises(error):
            client.list_shipments()
        sandbox.clear_faults()
        assert client.list_shipments() is not None  # the client is still usable afterwards


@pytest.mark.parametrize("kind", [FaultKind.MALFORMED_XML, FaultKind.XXE, FaultKind.EMPTY_BODY])
def test_bad_sts_reply_is_not_a_password_rejection(sandbox: Sandbox, client: Client, kind: FaultKind) -> None:
    sandbox.inject(FaultRule(kind=kind, operation="RequestSecurityToken"))
    with pytest.raises(BiproError):
        client.login()
    assert client.login().lifetime_s > 0  # the password was not blocked


def test_slow_reply_times_out(make_sandbox: Any) -> None:
    sb = make_sandbox()
    sb.inject(FaultRule(kind=FaultKind.SLOW, operation="listShipments", delay=30))
    with Client(
        sb.username,
        sb.password,
        base_url=sb.base_url,
        timeouts=Timeouts(connect=2, read=0.5),
        retry=RetryPolicy(attempts=1),  # a read may be repeated after a timeout; not here
    ) as client:
        client.login()
        with pytest.raises(RequestTimeout):
            client.list_shipments()


@pytest.mark.parametrize("kind", [FaultKind.HTTP_429, FaultKind.HTTP_503])
def test_busy_server_is_retried_after_retry_after(sandbox: Sandbox, client: Client, kind: FaultKind) -> None:
    client.login()
    sandbox.inject(FaultRule(kind=kind, operation="listShipments", times=2, retry_after=0))
    assert client.list_shipments() is not None
    assert sandbox.stats.requests_by_operation["listShipments"] == 3


def test_busy_server_gives_up_after_the_policy_attempts(make_sandbox: Any) -> None:
    sb = make_sandbox()
    sb.inject(FaultRule(kind=FaultKind.HTTP_503, operation="listShipments", times=10, retry_after=0))
    client = Client(sb.username, sb.password, base_url=sb.base_url, retry=RetryPolicy(attempts=3))
    with client, pytest.raises(RetryableHttpError) as info:
        client.list_shipments()
    assert info.value.status_code == 503
    assert sb.stats.requests_by_operation["listShipments"] == 3
