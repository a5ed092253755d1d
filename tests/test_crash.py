"""Crash safety of fetch_open_documents: SIGKILL at many points, then rerun.

The fetch runs in a child process that kills itself with SIGKILL when a chosen
progress event occurs (during a download, after the journal planned the paths,
between moving files, after "stored", after the server confirmed an acknowledgement
but before the journal recorded it, ...). The sandbox runs in this process and checks,
at every acknowledgement it receives, that the shipment's documents are already on
disk with the right bytes and recorded as stored in the journal. After the reruns,
every document must be present exactly once with the right bytes, and every shipment
acknowledged.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bipro_ruv.sandbox import Sandbox, SandboxConfig
from bipro_ruv.transfer.fetch import journal_path
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

#: (event kind, occurrence): where the child dies, in the sandbox's default mailbox plus
#: one 600 kB document (16 shipments, 17 files, 25 chunks read); file_stored-13 falls
#: between the two files of the one shipment that holds two documents.
KILL_POINTS: list[tuple[str, int]] = [
    ("listed", 1),
    ("downloading", 1),
    ("downloading", 6),
    ("bytes", 1),
    ("bytes", 9),
    ("bytes", 17),  # inside the 600 kB download (chunks 16-25)
    ("bytes", 21),
    ("planned", 1),
    ("planned", 5),
    ("file_stored", 1),
    ("file_stored", 2),
    ("file_stored", 3),
    ("file_stored", 8),
    ("file_stored", 13),  # between the two files of the one two-document shipment
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
DOUBLE_KILLS: list[tuple[tuple[str, int], tuple[str, int]]] = [
    (("stored", 3), ("acknowledged", 1)),
    (("file_stored", 2), ("planned", 1)),
    (("acknowledged", 2), ("done", 1)),
    (("bytes", 6), ("file_stored", 1)),
]


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
    """Called by the sandbox before it records an acknowledgement."""

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
        if state is None or state[0] not in ("stored", "acknowledged"):
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
    sb = Sandbox(SandboxConfig(large_document_bytes=600_000))
    sb.start()
    inbox = tmp_path / "inbox"
    witness = AckWitness(inbox, sb)
    sb.before_acknowledge = witness
    try:
        yield sb, inbox, witness
    finally:
        sb.stop()


def check_complete(sb: Sandbox, inbox: Path, witness: AckWitness, kills: Sequence[tuple[str, int]]) -> None:
    assert witness.violations == []
    assert witness.checked >= len(sb.shipments())
    assert sb.open_shipment_ids() == []
    expected = expected_hashes(sb)
    assert stored_hashes(inbox) == expected
    assert len(stored_files(inbox)) == sum(expected.values())
    downloads = sb.stats.requests_by_operation["getShipment"]
    # At most the shipment in flight at each kill is downloaded a second time.
    assert len(sb.shipments()) <= downloads <= len(sb.shipments()) + len(kills)


@pytest.mark.parametrize("kill", KILL_POINTS, ids=[f"{k}-{n}" for k, n in KILL_POINTS])
def test_kill_then_rerun_stores_everything_exactly_once(
    crash_sandbox: tuple[Sandbox, Path, AckWitness], kill: tuple[str, int]
) -> None:
    sb, inbox, witness = crash_sandbox
    assert run_child(sb, inbox, kill) == -signal.SIGKILL, "the child was expected to die at the kill point"
    assert run_child(sb, inbox, None) == 0
    check_complete(sb, inbox, witness, [kill])


@pytest.mark.parametrize("kills", DOUBLE_KILLS, ids=[f"{a[0]}-{a[1]}+{b[0]}-{b[1]}" for a, b in DOUBLE_KILLS])
def test_kill_during_recovery_then_rerun(
    crash_sandbox: tuple[Sandbox, Path, AckWitness], kills: tuple[tuple[str, int], tuple[str, int]]
) -> None:
    sb, inbox, witness = crash_sandbox
    for kill in kills:
        assert run_child(sb, inbox, kill) == -signal.SIGKILL
    assert run_child(sb, inbox, None) == 0
    check_complete(sb, inbox, witness, list(kills))


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


def test_kill_points_reach_the_intended_places(tmp_path: Path) -> None:
    """Guards the matrix: if the sandbox mailbox changes, the kill points must still land mid-way."""
    from bipro_ruv import Client
    from bipro_ruv.transfer.models import FetchEvent

    events: list[FetchEvent] = []
    with (
        Sandbox(SandboxConfig(large_document_bytes=600_000)) as sb,
        Client(sb.username, sb.password, base_url=sb.base_url) as client,
    ):
        client.fetch_open_documents(tmp_path, workers=1, progress=events.append)
    counts: dict[str, int] = {}
    positions: dict[tuple[str, int], int] = {}
    for index, event in enumerate(events):
        counts[event.kind.value] = counts.get(event.kind.value, 0) + 1
        positions[(event.kind.value, counts[event.kind.value])] = index
    for kill in KILL_POINTS + [k for pair in DOUBLE_KILLS for k in pair]:
        assert kill in positions, f"kill point {kill} never happens"
    between = events[positions[("file_stored", 13)] + 1]
    assert between.kind.value == "file_stored"
    assert between.shipment_id == events[positions[("file_stored", 13)]].shipment_id
    for n in (17, 21):  # these kills land between two chunks of one download
        assert events[positions[("bytes", n)] + 1].kind.value == "bytes"
