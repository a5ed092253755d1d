"""Group commit: plans of concurrent workers share one durable transaction, a folder fsync is shared.

The batching is made deterministic here: the test holds the lock the committer needs
until every thread has handed in its work, then lets go and counts commits and fsyncs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bipro_ruv.errors import JournalError
from bipro_ruv.store import ShipmentInfo, ShipmentState
from bipro_ruv.store.sqlite import ACK_BATCH, SqliteStore
from bipro_ruv.transfer._files import DirectorySync
from tests._expected import ACCOUNT, journal_document

WORKERS = 6


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the threads never got there"
        time.sleep(0.005)


def _plan_concurrently(journal: SqliteStore, paths: list[str]) -> dict[str, BaseException | None]:
    outcome: dict[str, BaseException | None] = {}

    def plan(number: int) -> None:
        sid = f"S{number}"
        try:
            journal.plan(
                ACCOUNT, sid, ShipmentInfo(), sid, [journal_document(sid, paths[number])], replace=False
            )
            outcome[sid] = None
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome[sid] = exc

    threads = [threading.Thread(target=plan, args=(n,)) for n in range(len(paths))]
    with journal._lock:  # the committer's lock: every plan queues up behind it
        for thread in threads:
            thread.start()
        _wait_for(lambda: len(journal._queue) == len(paths))
    for thread in threads:
        thread.join(10)
    return outcome


def test_concurrent_plans_share_one_durable_transaction(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "journal.sqlite3") as journal:
        outcome = _plan_concurrently(journal, [f"S{n}/Police.pdf" for n in range(WORKERS)])
        assert outcome == {f"S{n}": None for n in range(WORKERS)}
        assert journal.plan_commits == 1
        assert {s.shipment_id for s in journal.shipments(ACCOUNT, ShipmentState.STORING)} == set(outcome)
        assert len(journal.documents(ACCOUNT)) == WORKERS
        assert journal.directory_keys() == {f"s{n}" for n in range(WORKERS)}


def test_one_bad_plan_in_a_batch_fails_alone(tmp_path: Path) -> None:
    paths = [f"S{n}/Police.pdf" for n in range(WORKERS)]
    paths[3] = paths[1]  # two shipments claiming one file: the journal refuses the second
    with SqliteStore(tmp_path / "journal.sqlite3") as journal:
        outcome = _plan_concurrently(journal, paths)
        failed = {sid for sid, error in outcome.items() if error is not None}
        assert len(failed) == 1
        assert failed <= {"S1", "S3"}
        error = outcome[failed.pop()]
        assert isinstance(error, JournalError)
        assert isinstance(error.__cause__, sqlite3.IntegrityError)
        assert journal.plan_commits == 1
        assert len(journal.documents(ACCOUNT)) == WORKERS - 1
        assert len(journal.shipments(ACCOUNT)) == WORKERS - 1


def test_a_plan_returns_only_once_it_is_committed(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "journal.sqlite3") as journal:
        journal.plan(ACCOUNT, "A", ShipmentInfo(), "A", [journal_document("A", "A/x.pdf")], replace=False)
        # Read back through a second connection: the plan is committed, not just queued.
        with sqlite3.connect(tmp_path / "journal.sqlite3") as other:
            assert other.execute("SELECT state FROM shipments").fetchall() == [("storing",)]


def test_concurrent_directory_syncs_share_one_fsync(tmp_path: Path) -> None:
    sync = DirectorySync(tmp_path)
    sync.sync()
    sync.sync()
    assert sync.fsyncs == 2  # one after the other: each change gets its own
    threads = [threading.Thread(target=sync.sync) for _ in range(WORKERS)]
    with sync._sync_lock:
        for thread in threads:
            thread.start()
        _wait_for(lambda: sync._requested == 2 + WORKERS)
    for thread in threads:
        thread.join(10)
    assert sync.fsyncs == 3  # the first to get the lock covered every ticket taken before it


def test_a_change_after_an_fsync_began_gets_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sync = DirectorySync(tmp_path)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow_fsync(directory: Path) -> None:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            release.wait(10)

    monkeypatch.setattr("bipro_ruv.transfer._files.fsync_directory", slow_fsync)
    first = threading.Thread(target=sync.sync)
    first.start()
    started.wait(10)
    second = threading.Thread(target=sync.sync)  # its change came after the fsync began
    second.start()
    _wait_for(lambda: sync._requested == 2)
    release.set()
    first.join(10)
    second.join(10)
    assert len(calls) == 2


def _states(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as other:
        return dict(other.execute("SELECT shipment_id, state FROM shipments").fetchall())


def test_acknowledgements_are_written_in_batches_and_on_close(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    ids = [f"S{n}" for n in range(ACK_BATCH + 3)]
    with SqliteStore(path) as journal:
        for sid in ids:
            journal.plan(
                ACCOUNT, sid, ShipmentInfo(), sid, [journal_document(sid, f"{sid}/x.pdf")], replace=False
            )
        for sid in ids[: ACK_BATCH - 1]:
            journal.mark_acknowledged(ACCOUNT, sid)
        assert set(_states(path).values()) == {"storing"}  # not written yet
        journal.mark_acknowledged(ACCOUNT, ids[ACK_BATCH - 1])  # the batch is full
        states = _states(path)
        assert [states[sid] for sid in ids[:ACK_BATCH]] == ["acknowledged"] * ACK_BATCH
        for sid in ids[ACK_BATCH:]:
            journal.mark_acknowledged(ACCOUNT, sid)
        assert {states[sid] for sid in ids[ACK_BATCH:]} == {"storing"}
    assert set(_states(path).values()) == {"acknowledged"}  # close() wrote the rest
