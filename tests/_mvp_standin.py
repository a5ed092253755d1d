"""An MVP stand-in for ``tests/test_handoff.py``: a separate process that imports every
pending document of an inbox into its own SQLite database, then marks it taken.

    python tests/_mvp_standin.py INBOX PROFILE USER MVP_DB LOG RUN SEED

It does what the hand-off asks of an importer (:mod:`bipro_ruv.transfer.handoff`): the
import of a document is one transaction of its own database, keyed by
:attr:`~bipro_ruv.transfer.models.Document.key`, and a key it already has is not imported
again (the event ``again`` is recorded instead); only after that commit does it call
:meth:`~bipro_ruv.transfer.handoff.Handoff.mark_taken`.

The test kills it with SIGKILL at random moments. Small sleeps spread those moments over
the steps: before the import, between the import's commit and the mark (the window in
which a kill makes the hand-off give the document again), and before every statement the
mark sends to the journal (so a kill can land inside the mark's transaction). ``LOG``
gets one line per step, written through at once (no fsync: a SIGKILL of the process loses
nothing the kernel has), so the test can tell where each kill landed.

``BIPRO_TEST_STANDIN_FAULT`` breaks the stand-in on purpose, to show that the test notices:
``naive`` imports a key it already has once more (no check of the key), ``no-mark`` never
marks a document taken.

Exit status: 0 when every pending document was handled, 3 when a file does not have the
hash the hand-off gave for it.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import time
from typing import Any

FAULT_ENV = "BIPRO_TEST_STANDIN_FAULT"

SCHEMA = """
CREATE TABLE IF NOT EXISTS imported (
    key      TEXT PRIMARY KEY,
    sha256   TEXT NOT NULL,
    imports  INTEGER NOT NULL,
    run      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    run      INTEGER NOT NULL,
    key      TEXT NOT NULL,
    event    TEXT NOT NULL
);
"""


def main(argv: list[str]) -> int:
    inbox, profile, user, mvp_path, log_path, run_arg, seed = argv
    run = int(run_arg)
    fault = os.environ.get(FAULT_ENV, "")
    rng = random.Random(f"{seed}/{run}")
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open until the process ends
    phase = "start"

    def note(*words: object) -> None:
        log.write(" ".join(str(word) for word in words) + "\n")

    # Every statement the journal's connection runs in the mark: noted, then a short wait,
    # so that kills land before BEGIN, inside the transaction and just before its COMMIT.
    real_connect = sqlite3.connect

    def on_statement(statement: str) -> None:
        if phase == "mark":
            note("mark", statement.split()[0].upper())
            time.sleep(0.001)

    def traced_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real_connect(database, *args, **kwargs)
        if str(database).endswith("journal.sqlite3"):
            connection.set_trace_callback(on_statement)
        return connection

    sqlite3.connect = traced_connect  # type: ignore[assignment]

    from bipro_ruv.store import Account
    from bipro_ruv.transfer.handoff import Handoff
    from bipro_ruv.transfer.models import Document

    mvp = real_connect(mvp_path, isolation_level=None, timeout=30)
    mvp.execute("PRAGMA journal_mode=WAL")
    mvp.execute("PRAGMA synchronous=FULL")
    mvp.executescript(SCHEMA)

    def import_document(document: Document) -> bool:
        """One transaction: the document with its key, or nothing if the key is there.
        True if the key was there (the hand-off gave the document again)."""
        digest = hashlib.sha256(document.path.read_bytes()).hexdigest()
        if digest != document.sha256:
            note("bad-hash", document.key, digest, document.sha256)
            raise SystemExit(3)
        mvp.execute("BEGIN IMMEDIATE")
        had = mvp.execute("SELECT 1 FROM imported WHERE key = ?", (document.key,)).fetchone() is not None
        if had and fault != "naive":
            mvp.execute("INSERT INTO events (run, key, event) VALUES (?, ?, 'again')", (run, document.key))
        else:
            mvp.execute(
                "INSERT INTO imported (key, sha256, imports, run) VALUES (?, ?, 1, ?)"
                " ON CONFLICT (key) DO UPDATE SET imports = imports + 1",
                (document.key, digest, run),
            )
            mvp.execute("INSERT INTO events (run, key, event) VALUES (?, ?, 'imported')", (run, document.key))
        mvp.execute("COMMIT")
        return had

    note("started", run)
    with Handoff(inbox, Account(profile, user)) as handoff:
        if fault == "no-mark":
            handoff.mark_taken = lambda document: True  # type: ignore[method-assign]
        documents = handoff.pending()
        note("ready", run, len(documents))
        for document in documents:
            phase = "handed"
            note("handed", document.key)
            time.sleep(rng.uniform(0, 0.004))
            phase = "import"
            had = import_document(document)
            note("again" if had else "imported", document.key)
            phase = "window"
            time.sleep(rng.uniform(0.005, 0.015))
            phase = "mark"
            taken = handoff.mark_taken(document)
            phase = "marked"
            note("marked", document.key, taken)
    mvp.close()
    note("done", run)
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
