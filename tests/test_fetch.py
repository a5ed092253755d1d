"""fetch_open_documents: every document stored once, durably, before it is acknowledged."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import Client, ConfigurationError, RetryPolicy, StorageError
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox
from bipro_ruv.sandbox.content.hostile import DEFECTS_THAT_FAIL
from bipro_ruv.store import STATE_DIR, Account, ShipmentInfo, ShipmentState
from bipro_ruv.store.sqlite import SqliteStore
from bipro_ruv.transfer._inbox import InboxLayout, InboxLock
from bipro_ruv.transfer.models import FetchEvent, FetchEventKind, Outcome
from tests._expected import expected_hashes, journal_document, stored_files, stored_hashes


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "inline"])
def test_fetch_stores_every_document_once_and_acknowledges(
    make_sandbox: Any, tmp_path: Path, mtom: bool
) -> None:
    sb = make_sandbox(mtom=mtom)
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(tmp_path)
    assert report.ok
    assert report.count(Outcome.ACKNOWLEDGED) == len(sb.shipments())
    assert stored_hashes(tmp_path) == expected_hashes(sb)
    assert sb.open_shipment_ids() == []
    assert {d.sha256 for d in report.documents} == set(expected_hashes(sb))


def test_rerun_after_a_complete_fetch_does_nothing(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    client.fetch_open_documents(tmp_path)
    before = stored_hashes(tmp_path)
    report = client.fetch_open_documents(tmp_path)
    assert report.results == ()
    assert stored_hashes(tmp_path) == before


def test_dry_run_stores_without_acknowledging_and_a_later_run_only_acknowledges(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    dry = client.fetch_open_documents(tmp_path, acknowledge=False)
    assert dry.count(Outcome.STORED) == len(sandbox.shipments())
    assert sandbox.stats.acknowledged == []
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    report = client.fetch_open_documents(tmp_path)
    assert report.count(Outcome.RECOVERED) == len(sandbox.shipments())
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads  # nothing downloaded again
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)
    assert sandbox.open_shipment_ids() == []


def test_category_filter(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    report = client.fetch_open_documents(tmp_path, categories=["999"])
    assert report.results
    assert all((r.category or "").startswith("999") for r in report.results)
    assert all(not (s.category or "").startswith("999") for s in client.list_shipments())


def test_one_failing_shipment_does_not_stop_the_others(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    sandbox.inject(FaultRule(kind=FaultKind.SOAP_FAULT, operation="getShipment", times=1))
    report = client.fetch_open_documents(tmp_path, workers=1)
    assert report.count(Outcome.FAILED) == 1
    assert report.count(Outcome.ACKNOWLEDGED) == len(sandbox.shipments()) - 1
    (failed,) = report.failures
    assert failed.error_type == "ServiceError"
    assert sandbox.open_shipment_ids() == [failed.shipment_id]
    again = client.fetch_open_documents(tmp_path)
    assert again.count(Outcome.ACKNOWLEDGED) == 1
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)


@pytest.mark.parametrize("kind", [FaultKind.HTTP_429, FaultKind.HTTP_503])
def test_busy_server_during_download_is_retried(
    sandbox: Sandbox, client: Client, tmp_path: Path, kind: FaultKind
) -> None:
    sandbox.inject(FaultRule(kind=kind, operation="getShipment", times=2, retry_after=0))
    report = client.fetch_open_documents(tmp_path)
    assert report.ok
    assert sandbox.open_shipment_ids() == []


def test_failed_acknowledgement_keeps_the_shipment_stored_for_the_next_run(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    sandbox.inject(FaultRule(kind=FaultKind.SOAP_FAULT, operation="acknowledgeShipment", times=1))
    report = client.fetch_open_documents(tmp_path, workers=1)
    stuck = [r for r in report.results if r.outcome is Outcome.STORED]
    assert len(stuck) == 1
    assert stuck[0].error is not None
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    again = client.fetch_open_documents(tmp_path)
    assert [r.outcome for r in again.results] == [Outcome.RECOVERED]
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads
    assert sandbox.open_shipment_ids() == []


def test_hostile_shipments_fail_alone_and_write_nothing_outside_the_inbox(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(hostile=True)
    inbox = tmp_path / "deep" / "inbox"
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "neighbour.txt").write_text("untouched")
    outside_before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file())
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(inbox)
    failing = {s.id for s in sb.shipments() if s.defect in DEFECTS_THAT_FAIL}
    assert {r.shipment_id for r in report.failures} == failing
    assert set(sb.open_shipment_ids()) == failing  # not acknowledged: still in the mailbox
    outside_after = sorted(
        (p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file() and inbox not in p.parents
    )
    assert outside_after == outside_before
    assert stored_hashes(inbox) == expected_hashes(sb)
    for path in stored_files(inbox):
        assert path.resolve().is_relative_to(inbox.resolve())
        assert path.name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
        assert len(path.name.encode()) <= 180
    assert not Path("/etc/cron.d/evil").exists()


def test_error_types_of_hostile_shipments(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(hostile=True, mailbox="empty")
    fast = RetryPolicy(attempts=2, base_delay=0.001)  # the cut body is downloaded twice, then given up
    with Client(sb.username, sb.password, base_url=sb.base_url, retry=fast) as client:
        report = client.fetch_open_documents(tmp_path)
    defects = {s.id: s.defect for s in sb.shipments()}
    errors = {defects[r.shipment_id]: r.error_type for r in report.failures}
    assert errors == {
        "zip_bomb": "UnsafeArchiveError",
        "nested_zip": "UnsafeArchiveError",
        "wrong_checksum": "ChecksumMismatchError",
        "broken_multipart": "NetworkError",  # cut on the wire (a complete body would be accepted)
    }


def test_a_worker_spool_holds_nothing_of_the_shipment_before(make_sandbox: Any, tmp_path: Path) -> None:
    # One worker takes every shipment in turn: a ZIP delivery unpacked into the worker's spool
    # left its folder there once its files were moved into the inbox, and the next ZIP
    # delivery on that worker failed with "File exists" (seen with the zip bomb after the
    # default mailbox's ZIP). Every shipment must find the spool empty, whatever came before.
    sb = make_sandbox(hostile=True)
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(tmp_path, workers=1)
    defects = {s.id: s.defect for s in sb.shipments()}
    errors = {defects[r.shipment_id]: r.error_type for r in report.failures}
    assert errors["zip_bomb"] == errors["nested_zip"] == "UnsafeArchiveError"
    assert set(errors) == DEFECTS_THAT_FAIL
    assert stored_hashes(tmp_path) == expected_hashes(sb)
    assert list((tmp_path / STATE_DIR).glob("spool/*/*")) == []


@pytest.mark.parametrize(
    ("code", "says"), [(errno.ENOSPC, "the disk is full"), (errno.EACCES, "permission denied")]
)
def test_a_full_disk_ends_the_run_with_one_storage_error(
    sandbox: Sandbox, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, says: str
) -> None:
    # Every shipment would fail the same way: one StorageError ends the run (the CLI's exit 4),
    # not a table of identical failures; nothing unstored is acknowledged.
    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code), str(tmp_path / "x"))

    monkeypatch.setattr(InboxLayout, "move_into_place", full)
    with pytest.raises(StorageError, match=says):
        client.fetch_open_documents(tmp_path)
    assert sorted(sandbox.open_shipment_ids()) == sorted(s.id for s in sandbox.shipments())


def test_journal_records_every_document(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    report = client.fetch_open_documents(tmp_path)
    with SqliteStore(tmp_path / STATE_DIR / "journal.sqlite3") as journal:
        states = {s.state for s in journal.shipments()}
        paths = sorted(d.path for d in journal.documents())
    assert states == {ShipmentState.ACKNOWLEDGED}
    assert paths == sorted(d.path.relative_to(tmp_path).as_posix() for d in report.documents)


def test_states_a_power_loss_took_back_are_completed_from_the_files(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    # "stored" and "acknowledged" are committed without an fsync of their own: after a
    # power loss the journal may say "storing" for a shipment the server no longer lists.
    client.fetch_open_documents(tmp_path)
    path = tmp_path / STATE_DIR / "journal.sqlite3"
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE shipments SET state = 'storing', stored_at = NULL, acknowledged_at = NULL")
    db.close()
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    report = client.fetch_open_documents(tmp_path)
    assert report.count(Outcome.RECOVERED) == len(sandbox.shipments())
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads
    with SqliteStore(path) as journal:
        assert {s.state for s in journal.shipments()} == {ShipmentState.ACKNOWLEDGED}
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)


def test_an_incomplete_plan_is_not_taken_for_stored(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    client.fetch_open_documents(tmp_path, acknowledge=False)
    path = tmp_path / STATE_DIR / "journal.sqlite3"
    with SqliteStore(path) as journal:
        victim = journal.documents()[0]
    (tmp_path / victim.path).unlink()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE shipments SET state = 'storing' WHERE shipment_id = ?", (victim.shipment_id,))
    db.close()
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    report = client.fetch_open_documents(tmp_path)
    assert report.ok
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads + 1  # only the broken one
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)


def test_a_shipment_that_failed_after_its_files_were_in_place_is_not_downloaded_again(
    sandbox: Sandbox, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bipro_ruv.transfer._inbox as inbox_module

    def broken_fsync(directory: Path) -> None:
        # Not EIO, ENOSPC or EACCES: those are the disk's, and end the whole run at once
        # (test_a_full_disk_ends_the_run_with_one_storage_error); this one is the shipment's.
        raise OSError(errno.EINVAL, "Invalid argument", str(directory))

    # Every file is renamed into place, then the folder fsync fails: recorded as failed.
    monkeypatch.setattr(inbox_module, "fsync_directory", broken_fsync)
    failed = client.fetch_open_documents(tmp_path)
    assert failed.failures
    assert not sandbox.stats.acknowledged
    with SqliteStore(tmp_path / STATE_DIR / "journal.sqlite3") as journal:
        assert {s.state for s in journal.shipments()} == {ShipmentState.FAILED}
    monkeypatch.undo()
    downloads = sandbox.stats.requests_by_operation["getShipment"]
    report = client.fetch_open_documents(tmp_path)
    assert report.ok
    assert report.count(Outcome.RECOVERED) == len(sandbox.shipments())
    assert sandbox.stats.requests_by_operation["getShipment"] == downloads
    assert stored_hashes(tmp_path) == expected_hashes(sandbox)


def test_progress_events_follow_the_safe_order(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    events: list[FetchEvent] = []
    client.fetch_open_documents(tmp_path, workers=1, progress=events.append)
    first = sandbox.shipments()[0].id
    kinds = [e.kind for e in events if e.shipment_id == first and e.kind is not FetchEventKind.BYTES]
    assert kinds[:3] == [FetchEventKind.DOWNLOADING, FetchEventKind.FOLDER_CREATED, FetchEventKind.PLANNED]
    assert kinds.index(FetchEventKind.STORED) < kinds.index(FetchEventKind.ACKNOWLEDGED)
    assert kinds[-1] is FetchEventKind.DONE


def test_a_second_fetch_on_the_same_inbox_is_refused(client: Client, tmp_path: Path) -> None:
    state = tmp_path / STATE_DIR
    state.mkdir()
    with InboxLock(state / "lock"), pytest.raises(ConfigurationError, match="already running"):
        client.fetch_open_documents(tmp_path)


def test_inbox_that_is_a_file_is_a_clear_error(client: Client, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "inbox"
    not_a_folder.write_text("a file, not a folder")
    with pytest.raises(StorageError, match="is a file, not a folder") as raised:
        client.fetch_open_documents(not_a_folder)
    assert raised.value.path == not_a_folder
    assert not_a_folder.read_text() == "a file, not a folder"


# -- the shipment's folder (issue 9) ----------------------------------------------------------


class _Killed(BaseException):
    """A SIGKILL inside the test process: nothing in the fetch handles it."""


def _kill_at(kind: FetchEventKind) -> Callable[[FetchEvent], None]:
    def progress(event: FetchEvent) -> None:
        if event.kind is kind:
            raise _Killed(kind.value)

    return progress


def _folders(inbox: Path) -> list[str]:
    return sorted(entry.name for entry in inbox.iterdir() if entry.name != STATE_DIR)


def test_a_folder_left_by_a_run_killed_before_its_plan_is_used_by_the_rerun(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(mailbox="empty", bulk_shipments=2)
    first = sb.shipments()[0].id
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        with pytest.raises(_Killed):
            client.fetch_open_documents(tmp_path, workers=1, progress=_kill_at(FetchEventKind.FOLDER_CREATED))
        assert _folders(tmp_path) == [first]  # made and fsync'ed, but no plan names it
        assert list((tmp_path / first).iterdir()) == []
        report = client.fetch_open_documents(tmp_path, workers=1)
    assert report.ok
    assert _folders(tmp_path) == sorted(s.id for s in sb.shipments())
    assert all(doc.path.parent == tmp_path / doc.shipment_id for doc in report.documents)
    assert stored_hashes(tmp_path) == expected_hashes(sb)


def _user_folder_with_a_clashing_file(inbox: Path, folder: str, document: str) -> None:
    (inbox / folder).mkdir()
    (inbox / folder / document.upper()).write_text("the user's own file")


def _file(inbox: Path, folder: str, document: str) -> None:
    (inbox / folder).write_text("the user's own file")


def _symlink_out(inbox: Path, folder: str, document: str) -> None:
    (inbox.parent / "elsewhere").mkdir()
    os.symlink(inbox.parent / "elsewhere", inbox / folder)


def _symlink_in(inbox: Path, folder: str, document: str) -> None:
    (inbox / "elsewhere").mkdir()
    os.symlink(inbox / "elsewhere", inbox / folder)


def _planned_by_another_shipment(inbox: Path, folder: str, document: str) -> None:
    (inbox / folder).mkdir()
    other = Account("zweites-konto", "rom0815")
    row = journal_document("ANDERE-LIEFERUNG", f"{folder}/Police.pdf", account=other)
    with SqliteStore(inbox / STATE_DIR / "journal.sqlite3") as journal:
        journal.plan(other, "ANDERE-LIEFERUNG", ShipmentInfo(), folder, [row])


def _files_with_bytes(root: Path) -> dict[Path, bytes]:
    """Every file below ``root`` but the journal, with its bytes (symlinked folders are not walked)."""
    return {
        path: path.read_bytes() for path in root.rglob("*") if path.is_file() and STATE_DIR not in path.parts
    }


#: What stands where the shipment's folder would go, and the folder its documents get.
IN_THE_WAY: list[tuple[Callable[[Path, str, str], None], str]] = [
    (_user_folder_with_a_clashing_file, "{id}"),
    (_file, "{id} (2)"),
    (_symlink_out, "{id} (2)"),
    (_symlink_in, "{id} (2)"),
    (_planned_by_another_shipment, "{id} (2)"),
]


@pytest.mark.parametrize(("setup", "folder"), IN_THE_WAY, ids=[setup.__name__[1:] for setup, _ in IN_THE_WAY])
def test_what_is_in_the_way_of_the_shipment_folder(
    make_sandbox: Any, tmp_path: Path, setup: Callable[[Path, str, str], None], folder: str
) -> None:
    sb = make_sandbox(mailbox="empty", bulk_shipments=1)
    (shipment,) = sb.shipments()
    name = shipment.documents[0].file_name
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    setup(inbox, shipment.id, name)
    before = _files_with_bytes(tmp_path)
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(inbox)
    assert report.ok
    (doc,) = report.documents
    assert doc.path.parent == inbox / folder.format(id=shipment.id)
    beside = {path.name.casefold() for path in before if path.parent == doc.path.parent}
    assert doc.path.name.casefold() not in beside
    after = _files_with_bytes(tmp_path)
    assert {path: data for path, data in after.items() if path != doc.path} == before  # nothing else touched
    assert doc.path.read_bytes() == shipment.documents[0].read_all()
