"""A hostile or broken server costs no document, no password and no hung run (issue 9).

Each case is a fault kind of the real sandbox, so it stays fixed: redirects, a slow
drip, a gzip bomb, a body cut off on the wire, a reset connection, gateway errors,
a reply for another shipment, two documents sharing one attachment, a huge inline
document.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import (
    Client,
    NetworkError,
    RedirectRefusedError,
    ReplyDeadlineExceeded,
    ReplyLimits,
    ReplyTooLargeError,
    RetryPolicy,
    Timeouts,
    WrongShipmentError,
)
from bipro_ruv._wire.deadline import _Watchdog
from bipro_ruv.errors import AmbiguousDocumentError, HttpStatusError, RequestTimeout
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox, SandboxConfig
from bipro_ruv.sandbox.content.mailbox import large_document_shipment
from tests._expected import seed_shipment

#: Retries without real waiting: the tests check what is repeated, not how long it waits.
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)


def client_for(sb: Sandbox, **options: Any) -> Client:
    return Client(sb.username, sb.password, base_url=sb.base_url, **{"retry": FAST, **options})


def spool_files(inbox: Path) -> list[Path]:
    return [p for p in inbox.rglob("*") if p.is_file() and ".bipro-ruv" not in p.parts]


# -- redirects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "host", "shown"),
    [
        (None, "collector.attacker.invalid", "plain http"),
        ("https://other.example.org/bipro/sts?user=rom4711&pw=x", "other.example.org", "https"),
    ],
    ids=["to-plain-http", "to-another-host"],
)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_never_followed(
    sandbox: Sandbox, status: int, location: str | None, host: str, shown: str
) -> None:
    sandbox.inject(
        FaultRule(FaultKind.REDIRECT, operation="RequestSecurityToken", http_status=status, location=location)
    )
    with client_for(sandbox) as client, pytest.raises(RedirectRefusedError) as info:
        client.login()
    error = info.value
    assert (error.status_code, error.target_host) == (status, host)
    for part in (f"HTTP {status}", host, shown):
        assert part in str(error)
    for part in ("?", "/bipro"):  # never the URL's path or query
        assert part not in str(error)
    assert sandbox.stats.sts_requests == 1  # one request, to the sandbox; none to the target


def test_a_redirect_of_a_transfer_call_is_refused_too(sandbox: Sandbox) -> None:
    with client_for(sandbox) as client:
        client.login()
        sandbox.inject(FaultRule(FaultKind.REDIRECT, operation="listShipments", times=5))
        with pytest.raises(RedirectRefusedError):
            client.list_shipments()
    assert sandbox.stats.requests_by_operation["listShipments"] == 1  # and never repeated


# -- deadline, size limits, compression -------------------------------------------------------------


def test_a_trickling_server_is_cut_off_at_the_reply_deadline(sandbox: Sandbox) -> None:
    # One byte every 50 ms never trips the 5 s read timeout; the reply deadline of 1 s ends it.
    with client_for(sandbox, timeouts=Timeouts(connect=2, read=5, reply=1)) as client:
        client.login()
        sandbox.inject(FaultRule(FaultKind.SLOW_DRIP, operation="listShipments", delay=0.05))
        started = time.monotonic()
        with pytest.raises(ReplyDeadlineExceeded, match=r"Timeouts\.reply"):
            client.list_shipments()
        assert time.monotonic() - started < 4
        assert sandbox.stats.requests_by_operation["listShipments"] == 1  # not repeated
        assert client.list_shipments()  # the client is still usable


def test_a_trickling_document_download_is_cut_off_too(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox()
    with client_for(sb, timeouts=Timeouts(connect=2, read=5, reply=1)) as client:
        shipment_id = client.list_shipments()[0].id
        sb.inject(FaultRule(FaultKind.SLOW_DRIP, operation="getShipment", delay=0.02))
        with pytest.raises(ReplyDeadlineExceeded):
            client.get_shipment(shipment_id, tmp_path / "out")
    assert spool_files(tmp_path) == []


def test_the_deadline_does_not_end_replies_that_come_in_time(sandbox: Sandbox) -> None:
    with client_for(sandbox, timeouts=Timeouts(reply=0.5)) as client:
        for _ in range(3):
            client.list_shipments()
            time.sleep(0.3)  # idle time on a kept-alive connection does not count
        assert client.list_shipments()


def test_a_gzip_bomb_is_a_typed_error_in_bounded_memory(sandbox: Sandbox) -> None:
    with client_for(sandbox, limits=ReplyLimits(xml_bytes=8 << 20)) as client:
        client.login()
        sandbox.inject(FaultRule(FaultKind.GZIP_BOMB, operation="listShipments"))
        with pytest.raises(ReplyTooLargeError) as info:
            client.list_shipments()
        assert info.value.limit_name == "ReplyLimits.xml_bytes"
        assert "8 MiB (ReplyLimits.xml_bytes)" in str(info.value)
        assert client.list_shipments()


def test_a_gzip_bomb_as_a_document_reply_stores_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    with client_for(sandbox, limits=ReplyLimits(xml_bytes=8 << 20)) as client:
        shipment_id = client.list_shipments()[0].id
        sandbox.inject(FaultRule(FaultKind.GZIP_BOMB, operation="getShipment"))
        with pytest.raises(ReplyTooLargeError):
            client.get_shipment(shipment_id, tmp_path / "out")
    assert spool_files(tmp_path) == []


def test_we_ask_for_identity_encoding(sandbox: Sandbox) -> None:
    with client_for(sandbox) as client:
        client.list_shipments()
    assert sandbox.stats.last_headers["listShipments"]["Accept-Encoding"] == "identity"


def test_a_huge_reply_is_refused_at_the_limit(make_sandbox: Any) -> None:
    sb = make_sandbox(bulk_shipments=400)
    with (
        client_for(sb, limits=ReplyLimits(xml_bytes=64 * 1024)) as client,
        pytest.raises(ReplyTooLargeError, match=r"larger than 65536 bytes \(ReplyLimits\.xml_bytes\)"),
    ):
        client.list_shipments()


# -- network failures: mapped, and repeated where that is safe ---------------------------------------


def test_a_body_cut_off_on_the_wire_is_a_network_error(sandbox: Sandbox, tmp_path: Path) -> None:
    with client_for(sandbox, retry=RetryPolicy(attempts=1)) as client:
        shipment_id = client.list_shipments()[0].id
        sandbox.inject(FaultRule(FaultKind.TRUNCATED_BODY, operation="getShipment"))
        with pytest.raises(NetworkError) as info:
            client.get_shipment(shipment_id, tmp_path / "out")
    assert info.value.request_sent
    assert spool_files(tmp_path) == []


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED_BODY, FaultKind.CONNECTION_RESET])
def test_a_read_that_may_run_twice_is_repeated_after_a_network_failure(
    sandbox: Sandbox, tmp_path: Path, kind: FaultKind
) -> None:
    with client_for(sandbox) as client:
        shipments = client.list_shipments()
        sandbox.inject(FaultRule(kind, operation="listShipments"))
        assert len(client.list_shipments()) == len(shipments)
        sandbox.inject(FaultRule(kind, operation="getShipment"))
        shipment, documents = client.get_shipment(shipments[0].id, tmp_path / "out")
    assert shipment.id == shipments[0].id
    assert documents
    assert sandbox.stats.requests_by_operation["getShipment"] == 2


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_repeated_for_reads(sandbox: Sandbox, status: int) -> None:
    with client_for(sandbox) as client:
        client.login()
        sandbox.inject(
            FaultRule(FaultKind.HTML_ERROR, operation="listShipments", http_status=status, times=2)
        )
        assert client.list_shipments()
        assert sandbox.stats.requests_by_operation["listShipments"] == 3
        sandbox.inject(
            FaultRule(FaultKind.HTML_ERROR, operation="listShipments", http_status=status, times=9)
        )
        with pytest.raises(HttpStatusError) as info:
            client.list_shipments()
        assert info.value.status_code == status


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(FaultKind.HTML_ERROR, http_status=502),
        FaultRule(FaultKind.CONNECTION_RESET),
        FaultRule(FaultKind.TRUNCATED_BODY),
    ],
    ids=["502", "reset", "cut"],
)
@pytest.mark.parametrize("operation", ["RequestSecurityToken", "acknowledgeShipment"])
def test_a_login_or_acknowledgement_is_never_sent_twice_on_a_guess(
    sandbox: Sandbox, rule: FaultRule, operation: str
) -> None:
    # The server may have processed it: a second login attempt counts towards the lockout,
    # a second acknowledgement answers "unknown shipment". The fetch loop recovers instead.
    with client_for(sandbox) as client:
        if operation != "RequestSecurityToken":
            client.login()
        rule.operation = operation
        sandbox.inject(rule)
        send = (
            client.login
            if operation == "RequestSecurityToken"
            else partial(client.acknowledge_shipment, "L-100")
        )
        with pytest.raises((NetworkError, HttpStatusError)):
            send()
    assert sandbox.stats.requests_by_operation[operation] == 1


def test_a_refused_connection_is_repeated_even_for_a_login(tmp_path: Path) -> None:
    # Nothing reached a server, so repeating is safe: the sandbox comes up while we back off.
    config = SandboxConfig()
    probe = Sandbox(config).start()
    port = int(probe.base_url.rsplit(":", 1)[1])
    probe.stop()
    late = Sandbox(config, port=port)
    starter = threading.Timer(0.3, late.start)
    starter.start()
    try:
        policy = RetryPolicy(attempts=6, base_delay=0.2, max_delay=0.5)
        with Client(late.username, late.password, base_url=probe.base_url, retry=policy) as client:
            assert client.login().lifetime_s > 0
    finally:
        starter.join()
        late.stop()
    assert late.stats.sts_requests == 1


def test_a_refused_connection_is_a_network_error_that_says_nothing_was_sent() -> None:
    probe = Sandbox().start()
    url = probe.base_url
    probe.stop()
    with (
        Client("rom1", "pw-geheim", base_url=url, retry=RetryPolicy(attempts=2, base_delay=0.001)) as client,
        pytest.raises(NetworkError) as info,
    ):
        client.login()
    assert not info.value.request_sent
    assert "could not connect" in str(info.value)


def test_retries_stop_at_max_elapsed(sandbox: Sandbox) -> None:
    # Waits: 0.05-0.1 s, then 0.1-0.2 s: the second would pass 0.12 s in all.
    policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=10, max_elapsed=0.12)
    with client_for(sandbox, retry=policy) as client:
        client.login()
        sandbox.inject(FaultRule(FaultKind.CONNECTION_RESET, operation="listShipments", times=10))
        with pytest.raises(NetworkError):
            client.list_shipments()
    assert sandbox.stats.requests_by_operation["listShipments"] == 2


def test_backoff_grows_with_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 10.0)]:
        delays = {policy.delay(attempt, None) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert policy.delay(3, 2.5) == 2.5  # Retry-After is taken as sent
    assert policy.delay(3, 99) == 10.0  # within max_delay


def test_a_read_timeout_is_repeated_for_reads_only(make_sandbox: Any) -> None:
    sb = make_sandbox()
    with client_for(sb, timeouts=Timeouts(connect=2, read=0.3)) as client:
        client.login()
        sb.inject(FaultRule(FaultKind.SLOW, operation="listShipments", delay=5))
        assert client.list_shipments()
        sb.inject(FaultRule(FaultKind.SLOW, operation="acknowledgeShipment", delay=5))
        with pytest.raises(RequestTimeout):
            client.acknowledge_shipment("L-100")


# -- the reply must be for the shipment asked for, one file per document ------------------------------


def test_a_reply_for_another_shipment_is_neither_stored_nor_acknowledged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with client_for(sandbox) as client:
        wanted = client.list_shipments()[0].id
        sandbox.inject(FaultRule(FaultKind.WRONG_SHIPMENT_ID, operation="getShipment", times=1))
        with pytest.raises(WrongShipmentError, match=wanted):
            client.get_shipment(wanted, tmp_path / "out")
        assert spool_files(tmp_path) == []
        sandbox.inject(FaultRule(FaultKind.WRONG_SHIPMENT_ID, operation="getShipment", times=1))
        report = client.fetch_open_documents(tmp_path / "inbox", workers=1)
    failed = [r for r in report.results if r.error]
    assert [r.error_type for r in failed] == ["WrongShipmentError"]
    assert not sandbox.is_acknowledged(failed[0].shipment_id)
    # Not even an empty folder: one left behind would push the next run's download into "<id> (2)".
    inbox = tmp_path / "inbox"
    assert not (inbox / failed[0].shipment_id).exists()
    stored_ids = {r.shipment_id for r in report.results if not r.error}
    assert len(stored_ids) == len(report.results) - 1
    assert {path.relative_to(inbox).parts[0] for path in spool_files(inbox)} == stored_ids
    assert all(sandbox.is_acknowledged(i) for i in stored_ids)


@pytest.mark.parametrize("documents", [1, 2])
def test_two_documents_sharing_one_attachment_store_nothing(tmp_path: Path, documents: int) -> None:
    with Sandbox(mailbox="empty") as sb:
        sb.add_shipments([seed_shipment("GETEILT-1", documents=documents)])
        sb.inject(FaultRule(FaultKind.SHARED_CID, operation="getShipment"))
        with client_for(sb) as client:
            report = client.fetch_open_documents(tmp_path / "inbox", workers=1)
        assert [r.error_type for r in report.results] == ["AmbiguousDocumentError"]
        assert not sb.is_acknowledged("GETEILT-1")
    assert spool_files(tmp_path / "inbox") == []


def test_shared_attachment_is_an_ambiguous_document_error(tmp_path: Path) -> None:
    with Sandbox(mailbox="empty") as sb:
        sb.add_shipments([seed_shipment("GETEILT-2", documents=2)])
        sb.inject(FaultRule(FaultKind.SHARED_CID, operation="getShipment"))
        with client_for(sb) as client, pytest.raises(AmbiguousDocumentError):
            client.get_shipment("GETEILT-2", tmp_path / "out")
    assert spool_files(tmp_path) == []


# -- large inline documents ---------------------------------------------------------------------------


def test_a_large_inline_document_is_streamed_to_disk(tmp_path: Path) -> None:
    # 12 MiB: its base64 text (16 MiB) is beyond libxml2's 10 MB text node limit.
    size = 12 * 1024 * 1024 + 7
    shipment = large_document_shipment(size)
    with Sandbox(mailbox="empty", mtom=False) as sb:
        sb.add_shipments([shipment])
        with client_for(sb) as client:
            _, documents = client.get_shipment(shipment.id, tmp_path / "out")
    assert [(d.size, d.sha256) for d in documents] == [(size, shipment.documents[0].sha256)]
    assert documents[0].path.stat().st_size == size


def test_a_later_alarm_with_an_earlier_deadline_still_fires_on_time() -> None:
    watchdog = _Watchdog()
    late = watchdog.arm(600)
    time.sleep(0.05)  # the watchdog thread now sleeps towards the 600 s deadline
    early = watchdog.arm(0.2)
    deadline = time.monotonic() + 5
    while not early.fired and time.monotonic() < deadline:
        time.sleep(0.01)
    assert early.fired
    assert not late.fired
    late.disarm()
