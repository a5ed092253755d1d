"""The hand-off of stored documents to the MVP (:mod:`bipro_ruv.transfer.handoff`), exactly once.

The pull form (:class:`Handoff`: ``pending`` / ``mark_taken`` / ``take``), the push form
(``fetch_open_documents(on_document=...)``), and the promise both rest on: an MVP that
keeps :attr:`Document.key` with its import, and is killed with SIGKILL at random points
while importing, has every document exactly once after its reruns
(``tests/_mvp_standin.py`` is that MVP).
"""

from __future__ import annotations

import hashlib
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import Client, ConfigurationError, StorageError
from bipro_ruv.errors import JournalError
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.store import Account
from bipro_ruv.store.sqlite import SqliteStore, journal_path
from bipro_ruv.transfer.categories import category_label
from bipro_ruv.transfer.handoff import Handoff
from bipro_ruv.transfer.models import Document, FetchEvent, FetchEventKind, FetchReport, Outcome
from tests._expected import ACCOUNT, expected_hashes, stored_hashes

#: The mailbox is seeded for a fixed date: every run sees the same shipments.
TODAY = date(2026, 11, 20)
STANDIN = Path(__file__).with_name("_mvp_standin.py")
FAULT_ENV = "BIPRO_TEST_STANDIN_FAULT"


def _client(sb: Sandbox) -> Client:
    return Client(sb.username, sb.password, base_url=sb.base_url)


def _fetch(sb: Sandbox, inbox: Path, **options: Any) -> FetchReport:
    with _client(sb) as client:
        report = client.fetch_open_documents(inbox, **options)
    assert report.ok, report.failures
    return report


def _journal_sha256(inbox: Path) -> dict[str, str]:
    """key -> sha256 of every document the journal holds for the sandbox's account."""
    with SqliteStore(journal_path(inbox)) as journal:
        return {f"{ACCOUNT}/{d.shipment_id}/{d.seq}": d.sha256 for d in journal.documents(ACCOUNT)}


def _keys(documents: list[Document] | tuple[Document, ...]) -> list[str]:
    return [document.key for document in documents]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the MVP stand-in, killed at random points ----------------------------------------------

MAX_RUNS = 60
SEED = 1207


def _wait_until_ready(process: subprocess.Popen[str], log: Path) -> None:
    """Until the stand-in has its pending documents (or has ended)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and any(line.startswith("ready ") for line in log.read_text().splitlines()):
            return
        if process.poll() is not None:
            return
        time.sleep(0.002)
    process.kill()
    process.communicate()
    pytest.fail(f"the MVP stand-in did not get ready: {log.read_text() if log.exists() else 'no log'}")


def _run_standin(
    inbox: Path, mvp_db: Path, log: Path, run: int, kill_after: float | None, ready: bool
) -> int:
    """One run of the stand-in; SIGKILL ``kill_after`` seconds after its start (``ready``
    False) or after it listed its pending documents (``ready`` True). Its exit status."""
    argv = [sys.executable, str(STANDIN), str(inbox), ACCOUNT.profile, ACCOUNT.user_id]
    argv += [str(mvp_db), str(log), str(run), str(SEED)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ready:
        _wait_until_ready(process, log)
    try:
        _, err = process.communicate(timeout=kill_after if kill_after is not None else 120)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate()
    assert process.returncode in (0, -signal.SIGKILL), f"stand-in run {run} failed:\n{err}"
    return process.returncode


def _step(words: list[str]) -> str:
    """What a line of the stand-in's log says it did: ``imported``, ``mark BEGIN``, ..."""
    return " ".join(words[:2]) if words[0] == "mark" else words[0]


def _log_lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_an_mvp_killed_at_random_points_imports_every_document_exactly_once(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """Issue 12, point 1: the MVP stand-in is killed (SIGKILL) at random points while
    importing; after reruns every document is imported exactly once."""
    sb = make_sandbox(today=TODAY, bulk_shipments=40)
    inbox = tmp_path / "inbox"
    _fetch(sb, inbox)
    expected = _journal_sha256(inbox)
    assert len(expected) >= 50

    mvp_db = tmp_path / "mvp.sqlite3"
    rng = random.Random(SEED)
    logs: list[Path] = []
    killed_where: list[str] = []  # the last step a killed run noted
    killed_mid_import = 0  # killed after it was handed at least one document
    for run in range(1, MAX_RUNS + 1):
        log = tmp_path / f"run-{run:02d}.log"
        logs.append(log)
        if rng.random() < 0.2:  # anywhere from the start: interpreter, imports, opening the journal
            status = _run_standin(inbox, mvp_db, log, run, rng.uniform(0, 0.6), ready=False)
        else:  # somewhere in the import loop; later runs get longer, so that one finishes
            status = _run_standin(inbox, mvp_db, log, run, rng.uniform(0, 0.2 + 0.02 * run), ready=True)
        if status == 0:
            break
        lines = _log_lines(log)
        killed_where.append(_step(lines[-1]) if lines else "before its first line")
        killed_mid_import += any(words[0] == "handed" for words in lines)
    else:
        pytest.fail(f"the stand-in never finished in {MAX_RUNS} runs")

    # Once more, undisturbed: nothing is pending, nothing imported.
    final = tmp_path / "run-final.log"
    assert _run_standin(inbox, mvp_db, final, MAX_RUNS + 1, None, ready=False) == 0
    assert ["ready", str(MAX_RUNS + 1), "0"] in _log_lines(final)
    logs.append(final)

    with closing(sqlite3.connect(mvp_db)) as db:
        imported = {
            key: (sha, count) for key, sha, count in db.execute("SELECT key, sha256, imports FROM imported")
        }
        again = [key for (key,) in db.execute("SELECT key FROM events WHERE event = 'again'")]
        import_events = Counter(
            key for (key,) in db.execute("SELECT key FROM events WHERE event = 'imported'")
        )
    with Handoff(inbox, ACCOUNT) as handoff:
        left = handoff.pending()

    # Every stored document in the MVP, with the bytes the journal recorded, exactly once.
    assert {key: sha for key, (sha, _) in imported.items()} == expected
    twice = {key: count for key, (_, count) in imported.items() if count != 1}
    assert not twice, f"imported more than once: {twice}"
    assert set(import_events) == set(expected)
    assert max(import_events.values()) == 1
    assert left == [], f"still pending: {_keys(left)}"

    # What the hand-off promised, read from the stand-in's notes: a document marked taken
    # is never given again; a mark of a pending document says True.
    marked: set[str] = set()
    given_after_mark = []
    handed = Counter[str]()
    for log in logs:
        for words in _log_lines(log):
            if words[0] == "handed":
                handed[words[1]] += 1
                if words[1] in marked:
                    given_after_mark.append(words[1])
            elif words[0] == "marked":
                assert words[2] == "True", words
                marked.add(words[1])
    assert not given_after_mark, f"handed again after mark_taken returned: {given_after_mark}"
    assert set(handed) == set(expected)

    # The kills really hit the import loop, and one of them the window between an import's
    # commit and its mark: that document was handed again and skipped by its key.
    kills = len(killed_where)
    assert kills >= 5, killed_where
    assert killed_mid_import >= 3, killed_where
    assert again, f"no document was handed again after a kill; kills landed at: {killed_where}"
    assert all(handed[key] >= 2 for key in again)
    print(f"\n{kills} kills ({killed_mid_import} in the import loop), {len(again)} documents given again;")
    print(f"the last step before each kill: {dict(Counter(killed_where))}")


# -- the pull form: Handoff ------------------------------------------------------------------


def test_pending_lists_every_stored_document_once_with_its_metadata(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(today=TODAY)
    report = _fetch(sb, tmp_path)
    with _client(sb) as client, client.handoff(tmp_path) as handoff:
        pending = handoff.pending()
        again = handoff.pending()
    keys = _keys(pending)
    assert len(keys) == len(set(keys))
    assert set(keys) == set(_journal_sha256(tmp_path)) == set(_keys(report.documents))
    assert pending == again  # a read changes nothing
    with Handoff(tmp_path, ACCOUNT) as handoff:
        assert list(handoff) == pending  # iterating is pending()
    # The same documents the fetch reported (which carry no warnings in this mailbox).
    assert {d.key: d for d in pending} == {d.key: d for d in report.documents}

    seeds = {shipment.id: shipment for shipment in sb.shipments()}
    for document in pending:
        seed = seeds[document.shipment_id]
        assert document.account == str(ACCOUNT)
        assert document.key == f"ruv/rom4711/{document.shipment_id}/{document.seq}"
        assert document.path.is_file()
        assert document.path.parent.parent == tmp_path
        assert _sha256(document.path) == document.sha256
        assert document.path.stat().st_size == document.size
        assert document.category == seed.kategorie
        assert document.category_label is not None
        assert document.category_label == category_label(seed.kategorie)
        assert document.created_at == seed.einstellzeitpunkt
        assert document.created_at_raw
        delivered = seed.documents[document.seq]
        assert document.vu_number == (delivered.vu_number or "5438")  # else the profile's
        assert document.description == delivered.kurzbeschreibung
        if document.archive_name is None:  # a ZIP delivery is stored as its members
            assert document.sha256 == delivered.sha256
            assert document.original_name == delivered.file_name
            assert document.vsnr_raw == delivered.vsnr
            assert (str(document.vsnr) if document.vsnr else None) == delivered.vsnr
    assert any(document.vsnr is not None for document in pending)
    assert len({document.category for document in pending}) > 3


def test_pending_gives_the_oldest_stored_first(make_sandbox: Any, tmp_path: Path) -> None:
    """Two fetches a second apart: the first fetch's documents come first, although the
    shipment ids of both interleave; a shipment's documents together, by position."""
    sb = make_sandbox(today=TODAY)
    first = _fetch(sb, tmp_path, categories=["999"])
    time.sleep(1.01 - time.time() % 1)  # the journal's timestamps have whole seconds
    second = _fetch(sb, tmp_path)
    early, late = _keys(first.documents), _keys(second.documents)
    assert early
    assert late
    assert sorted(early + late) != sorted(early) + sorted(late)  # the ids interleave
    with Handoff(tmp_path, ACCOUNT) as handoff:
        pending = handoff.pending()
        assert handoff.pending(limit=5) == pending[:5]
    keys = _keys(pending)
    assert set(keys[: len(early)]) == set(early)
    assert set(keys[len(early) :]) == set(late)
    # Within a fetch the order is by storing time (whole seconds: a fetch may span two), then
    # shipment id: a shipment's documents come together and by position.
    order = [(d.shipment_id, d.seq) for d in pending]
    for shipment in {shipment_id for shipment_id, _ in order}:
        places = [i for i, (shipment_id, _) in enumerate(order) if shipment_id == shipment]
        assert places == list(range(places[0], places[0] + len(places)))
        assert [order[i][1] for i in places] == sorted(order[i][1] for i in places)


def test_mark_taken_is_true_once_then_false_and_survives_reopening(sandbox: Sandbox, tmp_path: Path) -> None:
    _fetch(sandbox, tmp_path)
    with Handoff(tmp_path, ACCOUNT) as handoff:
        everything = handoff.pending()
        first, second = everything[0], everything[1]
        assert handoff.mark_taken(first) is True
        assert handoff.mark_taken(first) is False
        assert handoff.pending() == everything[1:]
    with Handoff(tmp_path, ACCOUNT) as handoff:
        assert handoff.pending() == everything[1:]
        assert handoff.mark_taken(first) is False
        assert handoff.mark_taken(second) is True
    # Another connection, another process's view: the marks are committed.
    with SqliteStore(journal_path(tmp_path)) as journal:
        pending = journal.pending_documents(ACCOUNT, "mvp")
    assert [(record.shipment_id, record.seq) for _, record in pending] == [
        (d.shipment_id, d.seq) for d in everything[2:]
    ]
    # A rerun of the fetch hands nothing again.
    _fetch(sandbox, tmp_path)
    with Handoff(tmp_path, ACCOUNT) as handoff:
        assert handoff.pending() == everything[2:]


def test_a_mark_taken_survives_a_sigkill_right_after_it_returns(sandbox: Sandbox, tmp_path: Path) -> None:
    _fetch(sandbox, tmp_path)
    with Handoff(tmp_path, ACCOUNT) as handoff:
        everything = handoff.pending()
    child = (
        "import os, signal, sys\n"
        "from bipro_ruv.store import Account\n"
        "from bipro_ruv.transfer.handoff import Handoff\n"
        "handoff = Handoff(sys.argv[1], Account('ruv', 'rom4711'))\n"
        "for document in handoff.pending(limit=3):\n"
        "    assert handoff.mark_taken(document)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    with Handoff(tmp_path, ACCOUNT) as handoff:
        assert handoff.pending() == everything[3:]


def test_two_consumers_are_independent(sandbox: Sandbox, tmp_path: Path) -> None:
    _fetch(sandbox, tmp_path)
    with _client(sandbox) as client:
        with client.handoff(tmp_path) as mvp:
            everything = mvp.pending()
            assert mvp.take(lambda document: None) == len(everything)
            assert mvp.pending() == []
        with client.handoff(tmp_path, consumer="archiv") as archive:
            assert archive.consumer == "archiv"
            assert archive.pending() == everything
            assert archive.mark_taken(everything[0]) is True
            assert archive.pending() == everything[1:]
        with Handoff(tmp_path, ACCOUNT, consumer="mvp") as mvp:
            assert mvp.pending() == []
            assert mvp.mark_taken(everything[0]) is False


def test_limit(sandbox: Sandbox, tmp_path: Path) -> None:
    _fetch(sandbox, tmp_path)
    with Handoff(tmp_path, ACCOUNT) as handoff:
        everything = handoff.pending()
        assert handoff.pending(limit=3) == everything[:3]
        assert handoff.pending(limit=len(everything) + 10) == everything
        seen: list[Document] = []
        assert handoff.take(seen.append, limit=2) == 2
        assert seen == everything[:2]
        assert handoff.pending(limit=1) == everything[2:3]
        for bad in (0, -1):
            with pytest.raises(ConfigurationError, match="limit"):
                handoff.pending(limit=bad)
            with pytest.raises(ConfigurationError, match="limit"):
                handoff.take(seen.append, limit=bad)
        assert handoff.pending() == everything[2:]


def test_a_document_of_another_account_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    _fetch(sandbox, tmp_path)
    other_account = Account("ruv", "rom0815")
    with Handoff(tmp_path, ACCOUNT) as handoff:
        everything = handoff.pending()
        document = everything[0]
        foreign = document.model_copy(update={"account": str(other_account)})
        with pytest.raises(ConfigurationError, match="rom0815"):
            handoff.mark_taken(foreign)
        unknown = document.model_copy(update={"shipment_id": "NOT-IN-THE-JOURNAL"})
        with pytest.raises(JournalError):
            handoff.mark_taken(unknown)
        assert handoff.pending() == everything  # nothing marked
    with Handoff(tmp_path, other_account) as other:
        assert other.pending() == []
        with pytest.raises(ConfigurationError, match="rom4711"):
            other.mark_taken(document)
    # The user id is compared case-folded, as everywhere in the store.
    with Handoff(tmp_path, Account("ruv", "ROM4711")) as same:
        assert same.pending() == everything
        assert same.mark_taken(document) is True
    with Handoff(tmp_path, ACCOUNT) as handoff:
        assert handoff.pending() == everything[1:]


def test_a_handoff_on_a_store_of_the_callers_leaves_it_open(sandbox: Sandbox, tmp_path: Path) -> None:
    _fetch(sandbox, tmp_path)
    with SqliteStore(journal_path(tmp_path)) as journal:
        with _client(sandbox) as client, client.handoff(tmp_path, store=journal) as handoff:
            assert handoff.store is journal
            first = handoff.pending(limit=1)[0]
            assert handoff.mark_taken(first) is True
        assert (first.shipment_id, first.seq) not in {
            (record.shipment_id, record.seq) for _, record in journal.pending_documents(ACCOUNT, "mvp")
        }


def test_handoff_on_an_inbox_without_a_journal_is_a_storage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no journal"):
        Handoff(tmp_path, ACCOUNT)
    with pytest.raises(StorageError):
        Handoff(tmp_path / "missing", ACCOUNT)
    with _client(sandbox) as client, pytest.raises(StorageError):
        client.handoff(tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize("consumer", ["", " ", " mvp", "mvp\n"])
def test_a_consumer_needs_a_name(sandbox: Sandbox, tmp_path: Path, consumer: str) -> None:
    _fetch(sandbox, tmp_path)
    with pytest.raises(ConfigurationError, match="consumer"):
        Handoff(tmp_path, ACCOUNT, consumer=consumer)


def test_take_stops_at_a_failing_handler_and_leaves_its_document_pending(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    _fetch(sandbox, tmp_path)
    with Handoff(tmp_path, ACCOUNT) as handoff:
        everything = handoff.pending()
        assert len(everything) > 4
        seen: list[str] = []

        def fails_on_the_third(document: Document) -> None:
            seen.append(document.key)
            if len(seen) == 3:
                raise RuntimeError("MVP down")

        with pytest.raises(RuntimeError, match="MVP down"):
            handoff.take(fails_on_the_third)
        assert seen == _keys(everything[:3])
        assert handoff.pending() == everything[2:]

        rest: list[str] = []
        assert handoff.take(lambda document: rest.append(document.key)) == len(everything) - 2
        assert rest == _keys(everything[2:])
        assert handoff.pending() == []
        assert handoff.take(lambda document: rest.append(document.key)) == 0


def test_the_mvp_can_take_documents_while_a_fetch_is_running(make_sandbox: Any, tmp_path: Path) -> None:
    """The hand-off takes no inbox lock: an MVP imports while the nightly fetch stores."""
    sb = make_sandbox(today=TODAY, bulk_shipments=20)
    taken_during: list[str] = []
    errors: list[BaseException] = []

    def import_document(document: Document) -> None:
        assert _sha256(document.path) == document.sha256  # stored before it is pending
        taken_during.append(document.key)

    def progress(event: FetchEvent) -> None:
        if event.kind is FetchEventKind.DONE and len(taken_during) < 10:
            try:
                with Handoff(tmp_path, ACCOUNT) as handoff:
                    handoff.take(import_document, limit=2)
            except Exception as exc:  # noqa: BLE001 - reported below, not lost in a worker thread
                errors.append(exc)

    report = _fetch(sb, tmp_path, progress=progress)
    assert not errors
    assert taken_during
    with Handoff(tmp_path, ACCOUNT) as handoff:
        rest = _keys(handoff.pending())
    assert len(taken_during) == len(set(taken_during))
    assert not set(taken_during) & set(rest)
    assert set(taken_during) | set(rest) == set(_keys(report.documents))


# -- the push form: fetch_open_documents(on_document=...) ----------------------------------


def _taken_in_journal(inbox: Path, consumer: str = "mvp") -> set[str]:
    """Keys the journal records as taken, read by a connection of its own."""
    with closing(sqlite3.connect(f"file:{journal_path(inbox)}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT profile, user_id, shipment_id, seq FROM handoffs WHERE consumer = ?", (consumer,)
        ).fetchall()
    return {f"{profile}/{user}/{sid}/{seq}" for profile, user, sid, seq in rows}


def test_on_document_gets_every_document_once_after_it_is_stored(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(today=TODAY, bulk_shipments=10)
    inbox = tmp_path / "inbox"
    seen: list[str] = []
    problems: list[str] = []
    active = 0
    lock = threading.Lock()

    def on_document(document: Document) -> None:
        nonlocal active
        with lock:
            active += 1
            if active > 1:
                problems.append(f"{document.key}: called while another call was running")
        try:
            # Stored before the call: the file with its bytes, the journal's plan naming it.
            if not document.path.is_file() or _sha256(document.path) != document.sha256:
                problems.append(f"{document.key}: file not in place")
            with closing(sqlite3.connect(f"file:{journal_path(inbox)}?mode=ro", uri=True)) as db:
                row = db.execute(
                    "SELECT path, sha256 FROM documents WHERE shipment_id = ? AND seq = ?",
                    (document.shipment_id, document.seq),
                ).fetchone()
            if row is None or inbox / row[0] != document.path or row[1] != document.sha256:
                problems.append(f"{document.key}: journal has {row}")
            # Marked after each call returns, durably before the next one.
            if _taken_in_journal(inbox) != set(seen):
                problems.append(
                    f"{document.key}: taken before its call: {_taken_in_journal(inbox) - set(seen)}"
                )
            seen.append(document.key)
            time.sleep(0.002)  # room for another worker's call to overlap, if they were not serialized
        finally:
            with lock:
                active -= 1

    report = _fetch(sb, inbox, on_document=on_document, workers=3)
    assert not problems
    assert len(seen) == len(set(seen))
    assert set(seen) == set(_keys(report.documents)) == set(_journal_sha256(inbox))
    assert report.handed_off == len(seen)
    assert report.handoff_error is None
    assert report.count(Outcome.ACKNOWLEDGED) == len(sb.shipments())
    assert _taken_in_journal(inbox) == set(seen)
    with Handoff(inbox, ACCOUNT) as handoff:
        assert handoff.pending() == []
    again = _fetch(sb, inbox, on_document=lambda document: seen.append(document.key))
    assert again.handed_off == 0
    assert len(seen) == len(set(seen))


def test_a_failing_on_document_stops_the_hand_off_not_the_fetch(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(today=TODAY, bulk_shipments=10)
    seen: list[str] = []

    def fails_on_the_third(document: Document) -> None:
        seen.append(document.key)
        if len(seen) == 3:
            raise RuntimeError("MVP database locked")

    report = _fetch(sb, tmp_path, on_document=fails_on_the_third)
    # The fetch is complete: everything stored and acknowledged.
    assert report.count(Outcome.ACKNOWLEDGED) == len(sb.shipments())
    assert sb.open_shipment_ids() == []
    assert stored_hashes(tmp_path) == expected_hashes(sb)
    # The hand-off stopped at the third document; it and all after it are pending.
    assert len(seen) == 3
    assert report.handed_off == 2
    assert report.handoff_error is not None
    assert seen[2] in report.handoff_error
    assert "MVP database locked" in report.handoff_error
    everything = set(_journal_sha256(tmp_path))
    with Handoff(tmp_path, ACCOUNT) as handoff:
        pending = _keys(handoff.pending())
    assert set(pending) == everything - set(seen[:2])
    assert seen[2] in pending

    # The next fetch has nothing to download and hands the rest, each once, in order.
    rest: list[str] = []
    second = _fetch(sb, tmp_path, on_document=lambda document: rest.append(document.key))
    assert second.results == ()
    assert rest == pending
    assert second.handed_off == len(rest)
    assert second.handoff_error is None
    assert sorted(seen[:2] + rest) == sorted(everything)
    with Handoff(tmp_path, ACCOUNT) as handoff:
        assert handoff.pending() == []


def test_documents_stored_before_are_handed_at_the_end_of_the_next_fetch(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first = _fetch(sandbox, tmp_path)  # no on_document: everything stays pending
    seen: list[str] = []
    second = _fetch(sandbox, tmp_path, on_document=lambda document: seen.append(document.key))
    assert second.results == ()
    assert sorted(seen) == sorted(_keys(first.documents))
    assert second.handed_off == len(seen)


def test_a_dry_run_hands_its_documents_and_the_later_acknowledgement_does_not_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    seen: list[str] = []
    dry = _fetch(sandbox, tmp_path, acknowledge=False, on_document=lambda document: seen.append(document.key))
    assert dry.count(Outcome.STORED) == len(sandbox.shipments())
    assert sorted(seen) == sorted(_keys(dry.documents))
    later = _fetch(sandbox, tmp_path, on_document=lambda document: seen.append(document.key))
    assert later.count(Outcome.RECOVERED) == len(sandbox.shipments())
    assert later.handed_off == 0
    assert sorted(seen) == sorted(_keys(dry.documents))


def test_on_document_of_one_consumer_leaves_the_others_pending(sandbox: Sandbox, tmp_path: Path) -> None:
    seen: list[str] = []
    report = _fetch(sandbox, tmp_path, on_document=lambda d: seen.append(d.key), consumer="archiv")
    assert sorted(seen) == sorted(_keys(report.documents))
    with Handoff(tmp_path, ACCOUNT, consumer="archiv") as archive:
        assert archive.pending() == []
    with Handoff(tmp_path, ACCOUNT) as mvp:
        assert sorted(_keys(mvp.pending())) == sorted(seen)
