"""Crash safety of fetch_open_documents: SIGKILL at many points, then rerun.

The fetch runs in a child process that kills itself with SIGKILL when a chosen
progress event occurs (during a download, after a shipment's folder was made but
before its plan, after the journal planned the paths,
between moving files, after "stored", after the server confirmed an acknowledgement
but before the journal recorded it, ...). The sandbox runs in this process and checks,
at every acknowledgement it receives, that the shipment's documents are already on
disk with the right bytes and recorded as stored in the journal. After the reruns,
every document must be present exactly once with the right bytes, directly in its
shipment's folder (``inbox/<id>/<name>``, no ``<id> (2)``), and every shipment
acknowledged.
"""

from __future__ import annotations

import hashlib
import itertools
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest

from bipro_ruv import Client
from bipro_ruv.sandbox import Sandbox, SandboxConfig
from bipro_ruv.store import STATE_DIR
from bipro_ruv.store.sqlite import journal_path
from bipro_ruv.transfer.models import FetchEvent
from tests._expected import expected_hashes, stored_files, stored_hashes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from bipro_ruv import Client

    url, user, password, inbox, kind, occurrence = sys.argv[1:7]
    seen = 0

    def progress(event):
        global seen
        if kind and event.kind.value == kind:
            seen += 1
            if seen == int(occurrence):
                os.kill(os.getpid(), signal.SIGKILL)

    with Client(user, password, base_url=url) as client:
        report = client.fetch_open_documents(inbox, workers=1, progress=progress)
    sys.exit(0 if report.ok else 1)
    """
)

#: The mailbox is seeded for a fixed date, so every run sees the same shipments.
TODAY = date(2026, 11, 20)
CONFIG = {"large_document_bytes": 600_000, "today": TODAY}

#: Where the child dies: (event kind, occurrence), or a named place that a rehearsal run
#: resolves to one (the default mailbox plus one 600 kB document: 16 shipments, 17
#: files, the 600 kB one read in ten chunks).
KILL_POINTS: list[str | tuple[str, int]] = [
    ("listed", 1),
    ("downloading", 1),
    ("downloading", 6),
    ("bytes", 1),
    ("bytes", 9),
    "mid-download-first-chunk",
    "mid-download-middle-chunk",
    ("folder_created", 1),
    ("folder_created", 13),  # the shipment with two documents
    ("planned", 1),
    ("planned", 5),
    ("file_stored", 1),
    ("file_stored", 3),
    ("file_stored", 8),
    "between-two-files-of-one-shipment",
    ("stored", 1),
    ("stored", 7),
    ("acknowledged", 1),
    ("acknowledged", 4),
    ("acknowledged", 11),
    ("done", 1),
    ("done", 9),
    ("done", 15),
]
#: Two kills in a row: the second one hits the recovery of the first.
DOUBLE_KILLS: list[tuple[str | tuple[str, int], str | tuple[str, int]]] = [
    (("stored", 3), ("acknowledged", 1)),
    ("between-two-files-of-one-shipment", ("planned", 1)),
    (("acknowledged", 2), ("done", 1)),
    ("mid-download-middle-chunk", ("file_stored", 1)),
    # The rerun uses the first folder (no event) and is killed after making the second.
    (("folder_created", 1), ("folder_created", 1)),
]


def _label(point: str | tuple[str, int]) -> str:
    return point if isinstance(point, str) else f"{point[0]}-{point[1]}"


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> list[FetchEvent]:
    """The event sequence of an uninterrupted fetch of the same mailbox."""
    events: list[FetchEvent] = []
    with (
        Sandbox(SandboxConfig(**CONFIG)) as sb,
        Client(sb.username, sb.password, base_url=sb.base_url) as client,
    ):
        client.fetch_open_documents(tmp_path_factory.mktemp("rehearsal"), workers=1, progress=events.append)
    return events


def _occurrences(events: list[FetchEvent]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    result = []
    for event in events:
        seen[event.kind.value] = seen.get(event.kind.value, 0) + 1
        result.append((event.kind.value, seen[event.kind.value]))
    return result


def resolve(point: str | tuple[str, int], events: list[FetchEvent]) -> tuple[str, int]:
    """A named place as the (kind, occurrence) of the event right before it."""
    if not isinstance(point, str):
        return point
    keys = _occurrences(events)
    pairs = list(itertools.pairwise(events))
    if point == "between-two-files-of-one-shipment":
        matches = [
            i
            for i, (a, b) in enumerate(pairs)
            if a.kind.value == b.kind.value == "file_stored" and a.shipment_id == b.shipment_id
        ]
    elif point.startswith("mid-download"):
        matches = [
            i
            for i, (a, b) in enumerate(pairs)
            if a.kind.value == b.kind.value == "bytes" and a.shipment_id == b.shipment_id
        ]
        matches = matches[:1] if point.endswith("first-chunk") else matches[len(matches) // 2 :][:1]
    else:
        raise ValueError(point)
    assert matches, f"the mailbox has no place {point!r}; the crash matrix needs one"
    return keys[matches[0]]


def run_child(sb: Sandbox, inbox: Path, kill: tuple[str, int] | None) -> int:
    kind, occurrence = kill or ("", 0)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            sb.base_url,
            sb.username,
            sb.password,
            str(inbox),
            kind,
            str(occurrence),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode


class AckWitness:
    """Called by the sandbox before it records an acknowledgement.

    What must hold at that moment: the journal has the shipment's plan (every document
    with its path and hash, committed durably before any file was moved into place) and
    every planned file is on disk with exactly those bytes. The state may still read
    ``storing``: a fetch that acknowledges records "stored" together with the
    acknowledgement, and a rerun completes a plan from the files.
    """

    def __init__(self, inbox: Path, sb: Sandbox) -> None:
        self.inbox = inbox
        self.sb = sb
        self.violations: list[str] = []
        self.checked = 0

    def __call__(self, shipment_id: str) -> None:
        self.checked += 1
        with sqlite3.connect(f"file:{journal_path(self.inbox)}?mode=ro", uri=True) as db:
            state = db.execute("SELECT state FROM shipments WHERE shipment_id = ?", (shipment_id,)).fetchone()
            rows = db.execute(
                "SELECT path, sha256 FROM documents WHERE shipment_id = ?", (shipment_id,)
            ).fetchall()
        if state is None or state[0] not in ("storing", "stored", "acknowledged"):
            self.violations.append(f"{shipment_id}: acknowledged while journal state is {state}")
        if not rows:
            self.violations.append(f"{shipment_id}: acknowledged with no document recorded")
        for path, sha256 in rows:
            file = self.inbox / path
            if not file.is_file() or hashlib.sha256(file.read_bytes()).hexdigest() != sha256:
                self.violations.append(f"{shipment_id}: {path} not on disk with its bytes at acknowledgement")


@pytest.fixture
def crash_sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Path, AckWitness]]:
    # A medium document makes downloads span several chunks, so kills land mid-download.
    sb = Sandbox(SandboxConfig(**CONFIG))
    sb.start()
    inbox = tmp_path / "inbox"
    witness = AckWitness(inbox, sb)
    sb.before_acknowledge = witness
    try:
        yield sb, inbox, witness
    finally:
        sb.stop()


def check_layout(sb: Sandbox, inbox: Path) -> None:
    """``inbox/<shipment id>/<name>``: each document in its shipment's own folder, and no
    other folder (a kill between a folder's mkdir and its plan once left the documents
    in ``<id> (2)`` beside an empty ``<id>``). The sandbox's IDs are safe folder names."""
    with sqlite3.connect(f"file:{journal_path(inbox)}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT shipment_id, path FROM documents").fetchall()
    misplaced = [(sid, path) for sid, path in rows if Path(path).parent != Path(sid)]
    assert misplaced == []
    on_disk = sorted(file.relative_to(inbox).as_posix() for file in stored_files(inbox))
    assert sorted(path for _, path in rows) == on_disk
    folders = sorted(entry.name for entry in inbox.iterdir() if entry.name != STATE_DIR)
    assert folders == sorted(shipment.id for shipment in sb.shipments())


def check_complete(sb: Sandbox, inbox: Path, witness: AckWitness, kills: Sequence[tuple[str, int]]) -> None:
    assert witness.violations == []
    assert witness.checked >= len(sb.shipments())
    assert sb.open_shipment_ids() == []
    expected = expected_hashes(sb)
    assert stored_hashes(inbox) == expected
    assert len(stored_files(inbox)) == sum(expected.values())
    check_layout(sb, inbox)
    downloads = sb.stats.requests_by_operation["getShipment"]
    # At most the shipment in flight at each kill is downloaded a second time.
    assert len(sb.shipments()) <= downloads <= len(sb.shipments()) + len(kills)


@pytest.mark.parametrize("point", KILL_POINTS, ids=[_label(p) for p in KILL_POINTS])
def test_kill_then_rerun_stores_everything_exactly_once(
    crash_sandbox: tuple[Sandbox, Path, AckWitness], rehearsal: list[FetchEvent], point: str | tuple[str, int]
) -> None:
    sb, inbox, witness = crash_sandbox
    kill = resolve(point, rehearsal)
    assert run_child(sb, inbox, kill) == -signal.SIGKILL, "the child was expected to die at the kill point"
    assert run_child(sb, inbox, None) == 0
    check_complete(sb, inbox, witness, [kill])


@pytest.mark.parametrize("points", DOUBLE_KILLS, ids=[f"{_label(a)}+{_label(b)}" for a, b in DOUBLE_KILLS])
def test_kill_during_recovery_then_rerun(
    crash_sandbox: tuple[Sandbox, Path, AckWitness],
    rehearsal: list[FetchEvent],
    points: tuple[str | tuple[str, int], str | tuple[str, int]],
) -> None:
    sb, inbox, witness = crash_sandbox
    kills = [resolve(point, rehearsal) for point in points]
    for kill in kills:
        assert run_child(sb, inbox, kill) == -signal.SIGKILL
    assert run_child(sb, inbox, None) == 0
    check_complete(sb, inbox, witness, kills)


def test_stored_but_unacknowledged_is_not_downloaded_again(
    crash_sandbox: tuple[Sandbox, Path, AckWitness],
) -> None:
    sb, inbox, witness = crash_sandbox
    assert run_child(sb, inbox, ("stored", 5)) == -signal.SIGKILL
    downloads_before = sb.stats.requests_by_operation["getShipment"]
    assert downloads_before == 5
    assert run_child(sb, inbox, None) == 0
    # Shipment 5 was stored before the kill: only the remaining ones are downloaded.
    assert sb.stats.requests_by_operation["getShipment"] == len(sb.shipments())
    check_complete(sb, inbox, witness, [("stored", 5)])


def test_every_kill_point_happens_in_an_uninterrupted_run(rehearsal: list[FetchEvent]) -> None:
    """Guards the matrix: a kill point that never happens would make its test pass vacuously."""
    keys = set(_occurrences(rehearsal))
    points = KILL_POINTS + [point for pair in DOUBLE_KILLS for point in pair]
    missing = [_label(p) for p in points if resolve(p, rehearsal) not in keys]
    assert missing == []
    assert len({resolve(p, rehearsal) for p in KILL_POINTS}) == len(KILL_POINTS) >= 20
