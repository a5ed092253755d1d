"""The quarantine (issue 12, point 2): a shipment that fails for the same non-transient reason
run after run is left in the mailbox, its reply kept for a person, and not downloaded again
until released; transient failures (the network) never count.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import Client, ConfigurationError, RetryPolicy, Timeouts
from bipro_ruv.errors import (
    AccountLockedError,
    AmbiguousDocumentError,
    AuthenticationError,
    BiproError,
    ChecksumMismatchError,
    DocumentError,
    HttpStatusError,
    MalformedXmlError,
    MimeError,
    NetworkError,
    ProtocolError,
    RedirectRefusedError,
    ReplyDeadlineExceeded,
    ReplyTooLargeError,
    RequestTimeout,
    RetryableHttpError,
    ServiceError,
    SessionExpiredError,
    TransportError,
    UnsafeArchiveError,
    UnsafeXmlError,
    WrongShipmentError,
)
from bipro_ruv.models import Message
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox
from bipro_ruv.sandbox.content.hostile import DEFECTS_THAT_FAIL, hostile_shipments
from bipro_ruv.sandbox.content.shipments import SeedShipment
from bipro_ruv.store import STATE_DIR, ShipmentInfo, ShipmentRecord, ShipmentState
from bipro_ruv.store.sqlite import SqliteStore
from bipro_ruv.transfer import _quarantine
from bipro_ruv.transfer._files import unique_path
from bipro_ruv.transfer.fetch import QUARANTINE_AFTER, failure_key
from bipro_ruv.transfer.models import FetchEvent, FetchEventKind, FetchReport, Outcome
from tests._expected import ACCOUNT, expected_hashes, seed_shipment, stored_hashes

#: Retries without real waiting; a network failure is still tried twice per run.
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01)

#: The error class each always-failing hostile shipment fails with, and its failure key.
EXPECTED_ERROR = {
    "zip_bomb": ("UnsafeArchiveError", "UnsafeArchiveError"),
    "nested_zip": ("UnsafeArchiveError", "UnsafeArchiveError"),
    "wrong_checksum": ("ChecksumMismatchError", "ChecksumMismatchError"),
    # Cut on the wire (more bytes announced than sent): a reply that began and broke off.
    "broken_multipart": ("NetworkError", "NetworkError:reply"),
}


def client_for(sb: Sandbox, **options: Any) -> Client:
    return Client(sb.username, sb.password, base_url=sb.base_url, **{"retry": FAST, **options})


def hostile(defect: str) -> SeedShipment:
    (shipment,) = [s for s in hostile_shipments() if s.defect == defect]
    return shipment


def mailbox(make_sandbox: Callable[..., Sandbox], *shipments: SeedShipment) -> Sandbox:
    sb = make_sandbox(mailbox="empty")
    sb.add_shipments(shipments)
    return sb


def journal(inbox: Path, shipment_id: str) -> ShipmentRecord:
    with SqliteStore.for_inbox(inbox) as store:
        record = store.shipment(ACCOUNT, shipment_id)
    assert record is not None
    return record


def outcome_of(report: FetchReport, shipment_id: str) -> Outcome:
    (result,) = [r for r in report.results if r.shipment_id == shipment_id]
    return result.outcome


def downloads(sb: Sandbox) -> int:
    return sb.stats.requests_by_operation["getShipment"]


def without_ids(reply: bytes) -> bytes:
    """A reply without what differs on every request (ProzessID, Zeitstempel)."""
    return re.sub(rb"<((?:\w+:)?(?:ProzessID|Zeitstempel))>[^<]*</", rb"<\1>...</", reply)


def quarantine_root(inbox: Path) -> Path:
    return inbox / STATE_DIR / "quarantine"


# -- issue 12, point 2: the always-failing shipments of the sandbox ----------------------------------


@pytest.mark.parametrize("defect", sorted(DEFECTS_THAT_FAIL))
def test_an_always_failing_shipment_is_quarantined_on_the_third_run_and_then_left_alone(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, defect: str
) -> None:
    bad = hostile(defect)
    sid = bad.id
    error_type, key = EXPECTED_ERROR[defect]
    cut = defect == "broken_multipart"
    tries = FAST.attempts if cut else 1  # a body cut on the wire is repeated within the run
    sb = mailbox(make_sandbox, bad, seed_shipment("GUT-1"), seed_shipment("GUT-2", documents=2))
    inbox = tmp_path / "inbox"
    events: list[FetchEvent] = []
    with client_for(sb) as client:
        # Runs 1 and 2: failed, counted, still in the mailbox; the good shipments are done in run 1.
        for run, count in ((1, 1), (2, 2)):
            events.clear()
            before = downloads(sb)
            report = client.fetch_open_documents(inbox, progress=events.append)
            assert outcome_of(report, sid) is Outcome.FAILED, f"run {run}"
            assert [(r.shipment_id, r.error_type) for r in report.failures] == [(sid, error_type)]
            assert report.quarantined == ()
            assert not report.ok
            record = journal(inbox, sid)
            assert (record.state, record.failure_key, record.failure_count) == (
                ShipmentState.FAILED,
                key,
                count,
            )
            assert record.quarantine_dir is None
            assert (FetchEventKind.FAILED, sid) in {(e.kind, e.shipment_id) for e in events}
            if run == 1:
                assert downloads(sb) == before + tries + 2
                assert outcome_of(report, "GUT-1") is Outcome.ACKNOWLEDGED
                assert outcome_of(report, "GUT-2") is Outcome.ACKNOWLEDGED
                assert stored_hashes(inbox) == expected_hashes(sb)
                assert not quarantine_root(inbox).exists()
            else:
                assert downloads(sb) == before + tries
            assert sb.open_shipment_ids() == [sid]

        # Run 3: the third failure in a row for the same reason quarantines it.
        events.clear()
        before = downloads(sb)
        third = client.fetch_open_documents(inbox, progress=events.append)
        assert [(r.shipment_id, r.outcome) for r in third.results] == [(sid, Outcome.QUARANTINED)]
        assert third.ok  # quarantined is no failure...
        assert third.failures == ()
        assert [r.shipment_id for r in third.quarantined] == [sid]  # ...but reported
        assert third.quarantined[0].error_type == error_type
        assert (FetchEventKind.QUARANTINED, sid) in {(e.kind, e.shipment_id) for e in events}
        assert (FetchEventKind.FAILED, sid) not in {(e.kind, e.shipment_id) for e in events}
        assert downloads(sb) == before + tries + 1  # the failing download, then the raw copy

        # Run 4: reported as quarantined, not requested; a new shipment is fetched as usual.
        sb.add_shipments([seed_shipment("GUT-3")])
        events.clear()
        before = downloads(sb)
        fourth = client.fetch_open_documents(inbox, progress=events.append)
        assert downloads(sb) == before + 1  # GUT-3 only
        assert outcome_of(fourth, "GUT-3") is Outcome.ACKNOWLEDGED
        assert outcome_of(fourth, sid) is Outcome.QUARANTINED
        assert fourth.ok
        assert [r.shipment_id for r in fourth.quarantined] == [sid]
        assert fourth.quarantined[0].error_type == error_type
        assert (FetchEventKind.QUARANTINED, sid) in {(e.kind, e.shipment_id) for e in events}
        assert (FetchEventKind.DOWNLOADING, sid) not in {(e.kind, e.shipment_id) for e in events}
        assert sb.open_shipment_ids() == [sid]  # never acknowledged
        assert not sb.is_acknowledged(sid)

        # The reply as the server sends it, to compare the kept copy with.
        again = tmp_path / "again.bin"
        client.transfer.download_raw(sid, again)

    record = journal(inbox, sid)
    assert record.state is ShipmentState.QUARANTINED
    assert (record.failure_key, record.failure_count) == (key, QUARANTINE_AFTER) == (key, 3)
    assert record.quarantined_at is not None
    assert record.quarantine_dir is not None
    folder = inbox / record.quarantine_dir
    assert folder.parent == quarantine_root(inbox)
    assert folder.name == sid
    assert sorted(p.name for p in folder.iterdir()) == ["error.txt", "reply.bin"]

    reply = (folder / "reply.bin").read_bytes()
    assert without_ids(reply) == without_ids(again.read_bytes())
    assert reply.removeprefix(b"This is a multi-part message in MIME format.\r\n").startswith(b"--")
    assert b"Content-Type: application/xop+xml" in reply[:300]
    assert b"Envelope" in reply[:1000]
    assert sid.encode() in reply
    document = bad.documents[0].read_all()
    if cut:  # the attachment breaks off half-way; what came is kept
        assert document[: len(document) // 2] in reply
        assert document not in reply
    else:  # the document as delivered (MTOM: raw)
        assert document in reply

    note = (folder / "error.txt").read_text(encoding="utf-8")
    assert f"shipment: {sid}\n" in note
    assert f"account: {ACCOUNT}\n" in note
    assert "failures in a row: 3\n" in note
    assert f"error: {error_type}: " in note
    ending = "cut off: NetworkError: " if cut else "complete\n"
    assert f"reply: reply.bin, {len(reply)} bytes, {ending}" in note
    assert "http: 200 OK\n" in note
    announced = len(reply) + 4096 if cut else len(reply)  # the sandbox announces 4096 bytes more
    assert f"header Content-Length: {announced}\n" in note
    assert "header Content-Type: multipart/related" in note


# -- the limit -----------------------------------------------------------------------------------


def test_quarantine_after_one_quarantines_on_the_first_failure(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    bad = hostile("wrong_checksum")
    sb = mailbox(make_sandbox, bad, seed_shipment("GUT-1"))
    with client_for(sb) as client:
        first = client.fetch_open_documents(tmp_path, quarantine_after=1)
        assert outcome_of(first, bad.id) is Outcome.QUARANTINED
        assert outcome_of(first, "GUT-1") is Outcome.ACKNOWLEDGED
        assert first.ok
        assert [r.error_type for r in first.quarantined] == ["ChecksumMismatchError"]
        record = journal(tmp_path, bad.id)
        assert (record.state, record.failure_count) == (ShipmentState.QUARANTINED, 1)
        note = (tmp_path / str(record.quarantine_dir) / "error.txt").read_text(encoding="utf-8")
        assert "failures in a row: 1\n" in note
        before = downloads(sb)
        second = client.fetch_open_documents(tmp_path, quarantine_after=1)
    assert downloads(sb) == before
    assert [(r.shipment_id, r.outcome) for r in second.results] == [(bad.id, Outcome.QUARANTINED)]
    assert sb.open_shipment_ids() == [bad.id]


def test_a_higher_limit_waits_longer(make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    bad = hostile("nested_zip")
    sb = mailbox(make_sandbox, bad)
    with client_for(sb) as client:
        outcomes = [
            outcome_of(client.fetch_open_documents(tmp_path, quarantine_after=5), bad.id) for _ in range(5)
        ]
    assert outcomes == [Outcome.FAILED] * 4 + [Outcome.QUARANTINED]


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused_before_anything_is_sent(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, limit: int
) -> None:
    sb = mailbox(make_sandbox, seed_shipment("GUT-1"))
    with client_for(sb) as client, pytest.raises(ConfigurationError, match="quarantine_after"):
        client.fetch_open_documents(tmp_path, quarantine_after=limit)
    assert sb.stats.requests_by_operation["listShipments"] == 0
    assert downloads(sb) == 0
    assert sb.open_shipment_ids() == ["GUT-1"]


# -- transient failures never quarantine ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "client_options"),
    [
        (FaultRule(FaultKind.HTTP_503, operation="getShipment", times=100, retry_after=0), {}),
        (FaultRule(FaultKind.CONNECTION_RESET, operation="getShipment", times=100), {}),
        (FaultRule(FaultKind.HTML_ERROR, operation="getShipment", times=100, http_status=502), {}),
        (
            FaultRule(FaultKind.SLOW, operation="getShipment", times=100, delay=5),
            {"timeouts": Timeouts(read=0.5), "retry": RetryPolicy(attempts=1)},
        ),
        (FaultRule(FaultKind.INVALID_SESSION, operation="getShipment", times=100), {}),
    ],
    ids=["http-503", "connection-reset", "gateway-502", "read-timeout", "session-expired"],
)
def test_a_shipment_that_only_ever_fails_transiently_is_never_quarantined(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, rule: FaultRule, client_options: dict[str, Any]
) -> None:
    sb = mailbox(make_sandbox, seed_shipment("NETZ-1"))
    sb.inject(rule)
    with client_for(sb, **client_options) as client:
        for run in range(1, 6):
            report = client.fetch_open_documents(tmp_path, quarantine_after=2)
            assert outcome_of(report, "NETZ-1") is Outcome.FAILED, f"run {run}"
            assert report.quarantined == ()
            record = journal(tmp_path, "NETZ-1")
            assert record.state is ShipmentState.FAILED
            assert (record.failure_key, record.failure_count) == (None, 0)
    assert downloads(sb) >= 5  # requested on every run
    assert not quarantine_root(tmp_path).exists()
    assert sb.open_shipment_ids() == ["NETZ-1"]


@pytest.mark.parametrize(
    ("rule", "client_options", "key"),
    [
        (FaultRule(FaultKind.TRUNCATED_BODY, operation="getShipment", times=100), {}, "NetworkError:reply"),
        (
            FaultRule(FaultKind.SLOW_DRIP, operation="getShipment", times=100, delay=0.05),
            {"timeouts": Timeouts(reply=1.0)},
            "ReplyDeadlineExceeded:reply",
        ),
    ],
    ids=["body-cut", "reply-deadline"],
)
def test_a_reply_that_breaks_off_every_time_is_counted_and_kept_as_far_as_it_came(
    make_sandbox: Callable[..., Sandbox],
    tmp_path: Path,
    rule: FaultRule,
    client_options: dict[str, Any],
    key: str,
) -> None:
    # The server answered (login and list worked) and this shipment's reply broke off, run
    # after run: the reply's fault, not the network's (failure_key: during_reply).
    sb = mailbox(make_sandbox, seed_shipment("ABBRUCH-1"))
    sb.inject(rule)
    with client_for(sb, **client_options) as client:
        first = client.fetch_open_documents(tmp_path, quarantine_after=2)
        assert outcome_of(first, "ABBRUCH-1") is Outcome.FAILED
        assert journal(tmp_path, "ABBRUCH-1").failure_count == 1
        second = client.fetch_open_documents(tmp_path, quarantine_after=2)
    assert outcome_of(second, "ABBRUCH-1") is Outcome.QUARANTINED
    assert second.quarantined[0].error_type == key.split(":")[0]
    record = journal(tmp_path, "ABBRUCH-1")
    assert (record.state, record.failure_key, record.failure_count) == (ShipmentState.QUARANTINED, key, 2)
    folder = tmp_path / str(record.quarantine_dir)
    reply = (folder / "reply.bin").read_bytes()
    assert len(reply) > 0
    note = (folder / "error.txt").read_text(encoding="utf-8")
    assert f"reply: reply.bin, {len(reply)} bytes, cut off: {key.split(':')[0]}: " in note
    assert "http: 200 OK\n" in note
    assert sb.open_shipment_ids() == ["ABBRUCH-1"]


def test_a_transient_failure_between_two_others_neither_counts_nor_resets(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    # non-transient, transient, non-transient, non-transient: quarantined on the 4th run,
    # the 3rd failure that counts (DocumentStore.mark_failed: transient ones neither count nor reset).
    sb = mailbox(make_sandbox, seed_shipment("WECHSEL-1"))
    soap_fault = FaultRule(FaultKind.SOAP_FAULT, operation="getShipment")
    busy = FaultRule(FaultKind.HTTP_503, operation="getShipment", times=FAST.attempts, retry_after=0)
    seen: list[tuple[Outcome, ShipmentState, str | None, int]] = []
    with client_for(sb) as client:
        for rule in (soap_fault, busy, soap_fault, soap_fault):
            sb.inject(rule)
            report = client.fetch_open_documents(tmp_path)
            record = journal(tmp_path, "WECHSEL-1")
            seen.append(
                (outcome_of(report, "WECHSEL-1"), record.state, record.failure_key, record.failure_count)
            )
    key = "ServiceError:99999"
    assert seen == [
        (Outcome.FAILED, ShipmentState.FAILED, key, 1),
        (Outcome.FAILED, ShipmentState.FAILED, key, 1),  # the 503: not counted, not reset
        (Outcome.FAILED, ShipmentState.FAILED, key, 2),
        (Outcome.QUARANTINED, ShipmentState.QUARANTINED, key, 3),
    ]
    assert sb.open_shipment_ids() == ["WECHSEL-1"]


def test_a_different_reason_starts_the_count_again(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    # Two SOAP Faults (99999), then a status NOK (00930): a different key, counted from 1.
    sb = mailbox(make_sandbox, seed_shipment("WECHSEL-2"))
    counts: list[tuple[str | None, int]] = []
    with client_for(sb) as client:
        for kind in (FaultKind.SOAP_FAULT, FaultKind.SOAP_FAULT, FaultKind.NOK, FaultKind.NOK):
            sb.inject(FaultRule(kind, operation="getShipment"))
            report = client.fetch_open_documents(tmp_path)
            assert outcome_of(report, "WECHSEL-2") is Outcome.FAILED
            record = journal(tmp_path, "WECHSEL-2")
            counts.append((record.failure_key, record.failure_count))
    assert counts == [
        ("ServiceError:99999", 1),
        ("ServiceError:99999", 2),
        ("ServiceError:00930", 1),
        ("ServiceError:00930", 2),
    ]


def test_the_store_counts_failures_in_a_row_per_reason(tmp_path: Path) -> None:
    info = ShipmentInfo(vu_number="5311", category="100007000")
    with SqliteStore.for_inbox(tmp_path) as store:
        assert store.mark_failed(ACCOUNT, "L-1", info, "A: x", failure_key="A") == 1
        assert store.mark_failed(ACCOUNT, "L-1", info, "A: x", failure_key="A") == 2
        assert store.mark_failed(ACCOUNT, "L-1", info, "B: y", failure_key="B") == 1  # another reason
        assert store.mark_failed(ACCOUNT, "L-1", info, "net", failure_key=None) == 0  # transient
        record = store.shipment(ACCOUNT, "L-1")
        assert record is not None
        assert (record.state, record.failure_key, record.failure_count) == (ShipmentState.FAILED, "B", 1)
        assert record.error == "net"  # the last error is kept, whatever it was
        assert store.mark_failed(ACCOUNT, "L-1", info, "B: y", failure_key="B") == 2
        assert store.mark_failed(ACCOUNT, "L-1", info, "A: x", failure_key="A") == 1
        # Another shipment and another account count on their own.
        assert store.mark_failed(ACCOUNT, "L-2", info, "A: x", failure_key="A") == 1
        other = type(ACCOUNT)("ruv", "rom0815")
        assert store.mark_failed(other, "L-1", info, "A: x", failure_key="A") == 1
        # A transient first failure records the shipment without a count.
        assert store.mark_failed(ACCOUNT, "L-3", info, "net", failure_key=None) == 0
        record = store.shipment(ACCOUNT, "L-3")
        assert record is not None
        assert (record.state, record.failure_key, record.failure_count) == (ShipmentState.FAILED, None, 0)


def test_the_store_quarantines_and_releases(tmp_path: Path) -> None:
    info = ShipmentInfo(vu_number="5311", category="100007000")
    with SqliteStore.for_inbox(tmp_path) as store:
        for _ in range(3):
            store.mark_failed(ACCOUNT, "L-1", info, "A: x", failure_key="A")
        store.quarantine(ACCOUNT, "L-1", ".bipro-ruv/quarantine/L-1")
        record = store.shipment(ACCOUNT, "L-1")
        assert record is not None
        assert record.state is ShipmentState.QUARANTINED
        assert record.quarantine_dir == ".bipro-ruv/quarantine/L-1"
        assert record.quarantined_at is not None
        assert [r.shipment_id for r in store.shipments(ACCOUNT, ShipmentState.QUARANTINED)] == ["L-1"]
        released = store.release(ACCOUNT, "L-1")
        assert (released.state, released.failure_key, released.failure_count) == (
            ShipmentState.FAILED,
            None,
            0,
        )
        assert released.quarantined_at is None
        assert store.shipment(ACCOUNT, "L-1") == released
        assert store.mark_failed(ACCOUNT, "L-1", info, "A: x", failure_key="A") == 1  # counted from 1 again
        with pytest.raises(BiproError):
            store.release(ACCOUNT, "UNBEKANNT")
        with pytest.raises(BiproError):
            store.quarantine(ACCOUNT, "UNBEKANNT", None)


# -- release ---------------------------------------------------------------------------------------


def test_a_released_shipment_is_downloaded_and_stored_once_the_server_sends_it_right(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = mailbox(make_sandbox, seed_shipment("FREI-1", documents=2))
    with client_for(sb) as client:
        for _ in range(QUARANTINE_AFTER):
            sb.inject(FaultRule(FaultKind.SOAP_FAULT, operation="getShipment"))
            report = client.fetch_open_documents(tmp_path)
        assert outcome_of(report, "FREI-1") is Outcome.QUARANTINED
        before = downloads(sb)
        held = client.fetch_open_documents(tmp_path)  # the server is fine now, but it is left alone
        assert outcome_of(held, "FREI-1") is Outcome.QUARANTINED
        assert downloads(sb) == before

        with SqliteStore.for_inbox(tmp_path) as store:
            released = store.release(ACCOUNT, "FREI-1")
        assert (released.state, released.failure_count) == (ShipmentState.FAILED, 0)

        after = client.fetch_open_documents(tmp_path)
    assert downloads(sb) == before + 1
    assert [(r.shipment_id, r.outcome) for r in after.results] == [("FREI-1", Outcome.ACKNOWLEDGED)]
    assert after.ok
    assert after.quarantined == ()
    assert len(after.documents) == 2
    assert stored_hashes(tmp_path) == expected_hashes(sb)
    assert sb.open_shipment_ids() == []
    assert journal(tmp_path, "FREI-1").state is ShipmentState.ACKNOWLEDGED


def test_a_released_shipment_that_still_fails_is_counted_from_one_again(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    bad = hostile("wrong_checksum")
    sb = mailbox(make_sandbox, bad)
    with client_for(sb) as client:
        for _ in range(2):
            report = client.fetch_open_documents(tmp_path, quarantine_after=2)
        assert outcome_of(report, bad.id) is Outcome.QUARANTINED
        first_dir = journal(tmp_path, bad.id).quarantine_dir
        assert first_dir is not None

        with SqliteStore.for_inbox(tmp_path) as store:
            store.release(ACCOUNT, bad.id)
        before = downloads(sb)
        again = client.fetch_open_documents(tmp_path, quarantine_after=2)
        assert downloads(sb) == before + 1  # requested again
        assert outcome_of(again, bad.id) is Outcome.FAILED
        record = journal(tmp_path, bad.id)
        assert (record.state, record.failure_count) == (ShipmentState.FAILED, 1)

        last = client.fetch_open_documents(tmp_path, quarantine_after=2)
    assert outcome_of(last, bad.id) is Outcome.QUARANTINED
    record = journal(tmp_path, bad.id)
    assert (record.state, record.failure_count) == (ShipmentState.QUARANTINED, 2)
    # The second quarantine keeps its own copy beside the first one.
    assert record.quarantine_dir is not None
    assert record.quarantine_dir != first_dir
    for folder in (first_dir, record.quarantine_dir):
        assert (tmp_path / folder / "reply.bin").stat().st_size > 0
        assert (tmp_path / folder / "error.txt").is_file()
    assert sb.open_shipment_ids() == [bad.id]


def test_shipment_ids_are_made_safe_and_unique_for_their_quarantine_folders(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    ids = ["../../../Ausbruch", "Fall:1", "Fall_1", "FALL_1"]
    sb = mailbox(make_sandbox, *(seed_shipment(i) for i in ids))
    sb.inject(FaultRule(FaultKind.SOAP_FAULT, operation="getShipment", times=2 * len(ids)))
    with client_for(sb) as client:
        report = client.fetch_open_documents(tmp_path, quarantine_after=1, workers=1)
    assert {r.shipment_id for r in report.quarantined} == set(ids)
    root = quarantine_root(tmp_path).resolve()
    folders = {i: journal(tmp_path, i).quarantine_dir for i in ids}
    assert None not in folders.values()
    assert len({str(f).casefold() for f in folders.values()}) == len(ids)
    for shipment_id, folder in folders.items():
        path = (tmp_path / str(folder)).resolve()
        assert path.parent == root
        assert f"shipment: {shipment_id}\n" in (path / "error.txt").read_text(encoding="utf-8")
    assert not (tmp_path / "Ausbruch").exists()
    assert not (tmp_path.parent / "Ausbruch").exists()


def test_two_workers_quarantining_colliding_names_at_once_both_keep_their_reply(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_chose = threading.Barrier(2, timeout=2)
    choose = unique_path

    def unique_path_then_wait(*args: Any, **kwargs: Any) -> Path:
        # Both workers have chosen their folder before either creates it (the race, made certain).
        chosen = choose(*args, **kwargs)
        if args and args[0].name == "quarantine":
            # A fix that serializes the choice: the other worker cannot get here yet.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_chose.wait()
        return chosen

    monkeypatch.setattr(_quarantine, "unique_path", unique_path_then_wait)
    ids = ["Fall:1", "Fall_1"]
    sb = mailbox(make_sandbox, *(seed_shipment(i) for i in ids))
    sb.inject(FaultRule(FaultKind.SOAP_FAULT, operation="getShipment", times=2 * len(ids)))
    with client_for(sb) as client:
        report = client.fetch_open_documents(tmp_path, quarantine_after=1, workers=2)
    assert {r.shipment_id for r in report.quarantined} == set(ids)
    folders = [journal(tmp_path, i).quarantine_dir for i in ids]
    assert None not in folders
    assert len(set(folders)) == 2
    for folder in folders:
        assert (tmp_path / str(folder) / "error.txt").is_file()


# -- the raw copy cannot be made --------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(FaultKind.CONNECTION_RESET, operation="getShipment", times=FAST.attempts),
        FaultRule(FaultKind.HTTP_503, operation="getShipment", times=FAST.attempts, retry_after=0),
    ],
    ids=["connection-reset", "http-503"],
)
def test_a_shipment_is_quarantined_even_if_its_reply_cannot_be_kept(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, rule: FaultRule
) -> None:
    sb = mailbox(make_sandbox, seed_shipment("KOPIE-1"))
    # The first getShipment answers with a SOAP Fault (the failure); every attempt of the raw
    # copy that follows meets the network fault (rules are used up in order).
    sb.inject(FaultRule(FaultKind.SOAP_FAULT, operation="getShipment"))
    sb.inject(rule)
    with client_for(sb) as client:
        report = client.fetch_open_documents(tmp_path, quarantine_after=1)
        assert downloads(sb) == 1 + FAST.attempts
        assert outcome_of(report, "KOPIE-1") is Outcome.QUARANTINED
        assert report.ok
        record = journal(tmp_path, "KOPIE-1")
        assert record.state is ShipmentState.QUARANTINED
        assert record.quarantine_dir is not None
        folder = tmp_path / record.quarantine_dir
        note = (folder / "error.txt").read_text(encoding="utf-8")
        assert "shipment: KOPIE-1\n" in note
        assert "error: ServiceError: " in note
        assert "failures in a row: 1\n" in note
        error_class = "NetworkError" if rule.kind is FaultKind.CONNECTION_RESET else "RetryableHttpError"
        assert f"reply: not kept ({error_class}: " in note
        assert "reply: reply.bin" not in note
        assert not (folder / "reply.bin").exists() or (folder / "reply.bin").stat().st_size == 0
        before = downloads(sb)
        later = client.fetch_open_documents(tmp_path)
    assert downloads(sb) == before
    assert outcome_of(later, "KOPIE-1") is Outcome.QUARANTINED
    assert sb.open_shipment_ids() == ["KOPIE-1"]


def test_a_raw_copy_that_breaks_off_is_kept_as_far_as_it_came(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = mailbox(make_sandbox, seed_shipment("KOPIE-2"))
    sb.inject(FaultRule(FaultKind.SOAP_FAULT, operation="getShipment"))
    sb.inject(FaultRule(FaultKind.TRUNCATED_BODY, operation="getShipment"))
    with client_for(sb) as client:
        report = client.fetch_open_documents(tmp_path, quarantine_after=1)
    assert downloads(sb) == 2  # the copy is not repeated: what came is what the server sent
    assert outcome_of(report, "KOPIE-2") is Outcome.QUARANTINED
    folder = tmp_path / str(journal(tmp_path, "KOPIE-2").quarantine_dir)
    reply = (folder / "reply.bin").read_bytes()
    note = (folder / "error.txt").read_text(encoding="utf-8")
    assert len(reply) > 0
    assert reply.removeprefix(b"This is a multi-part message in MIME format.\r\n").startswith(b"--")
    assert f"reply: reply.bin, {len(reply)} bytes, cut off: NetworkError: " in note
    content_length = int(note.split("header Content-Length: ")[1].split("\n")[0])
    assert content_length > len(reply)


# -- failure_key ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        TransportError("x"),
        NetworkError("connection refused", request_sent=False),
        NetworkError("reset mid-exchange"),
        RequestTimeout("read timed out"),
        ReplyDeadlineExceeded("reply deadline"),
        HttpStatusError("bad gateway", status_code=502),
        RetryableHttpError("busy", status_code=503, retry_after=None),
        RetryableHttpError("slow down", status_code=429, retry_after=1.0),
        RedirectRefusedError("moved", status_code=307, target_host="example.org"),
        SessionExpiredError("00962", messages=[Message(code="00962", text="Session ungültig")]),
        OSError(5, "Input/output error"),
        FileNotFoundError(2, "gone"),
        PermissionError(13, "denied"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_transient_failures_have_no_key(exc: BaseException) -> None:
    assert failure_key(exc) is None


@pytest.mark.parametrize(
    "exc",
    [
        ChecksumMismatchError("Pruefsumme mismatch"),
        UnsafeArchiveError("zip bomb?"),
        DocumentError("cannot store"),
        MimeError("no closing delimiter"),
        MalformedXmlError("not XML"),
        UnsafeXmlError("DOCTYPE"),
        ReplyTooLargeError("too large", limit_name="ReplyLimits.xml_bytes", limit=1),
        WrongShipmentError("other Lieferung"),
        AmbiguousDocumentError("same cid"),
        ProtocolError("not SOAP"),
        BiproError("anything else"),
        ValueError("a bug"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_non_transient_failures_are_keyed_by_their_class(exc: BaseException) -> None:
    assert failure_key(exc) == type(exc).__name__


@pytest.mark.parametrize(
    "cls", [TransportError, NetworkError, RequestTimeout, ReplyDeadlineExceeded], ids=lambda cls: cls.__name__
)
def test_a_reply_that_broke_off_is_keyed_by_its_class_and_reply(cls: type[TransportError]) -> None:
    exc = cls("broke off")
    assert exc.during_reply is False
    assert failure_key(exc) is None
    exc.during_reply = True  # set where the body is read (Exchange.chunks)
    assert failure_key(exc) == f"{cls.__name__}:reply"


def test_a_service_error_is_keyed_by_its_class_and_message_codes() -> None:
    def service_error(*codes: str | None, cls: type[ServiceError] = ServiceError) -> ServiceError:
        return cls("NOK", messages=[Message(code=code, text="t") for code in codes])

    assert failure_key(service_error()) == "ServiceError"
    assert failure_key(service_error(None)) == "ServiceError"
    assert failure_key(service_error("00930")) == "ServiceError:00930"
    # Sorted and without repeats: the same Meldungen in another order are the same reason.
    assert failure_key(service_error("04003", "00930", "04003", None)) == "ServiceError:00930,04003"
    assert failure_key(service_error("00930", "04003")) == failure_key(service_error("04003", "00930"))
    assert failure_key(service_error("00930")) != failure_key(service_error("99999"))
    # Subclasses keep their own name (a login failure ends the run before it is counted).
    assert failure_key(service_error("00964", cls=AuthenticationError)) == "AuthenticationError:00964"
    assert failure_key(AccountLockedError("locked")) == "AccountLockedError"
    # An expired session is transient although it is a ServiceError.
    assert failure_key(service_error("00960", cls=SessionExpiredError)) is None
