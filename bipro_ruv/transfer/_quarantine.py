"""The quarantine of shipments that fail the same way run after run (see :mod:`.fetch`).

:func:`failure_key` says what a failure is about, and whether it counts: the store counts the
failures in a row with the same key (:meth:`~bipro_ruv.store.DocumentStore.mark_failed`), and
at :data:`QUARANTINE_AFTER` the fetcher quarantines the shipment. :func:`keep_reply` keeps
what a person (or the insurer's support) needs to look at: the reply once more, unparsed,
and the error, under ``<inbox>/.bipro-ruv/quarantine/<id>/``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bipro_ruv.errors import BiproError, ServiceError, SessionExpiredError, TransportError
from bipro_ruv.store import STATE_DIR, Account
from bipro_ruv.transfer._files import safe_filename, unique_path

__all__ = ["QUARANTINE_AFTER", "failure_key", "keep_reply"]

log = logging.getLogger("bipro_ruv.fetch")

#: A shipment that failed this many times in a row for the same non-transient reason is
#: quarantined (:func:`failure_key`).
QUARANTINE_AFTER = 3


def failure_key(exc: BaseException) -> str | None:
    """What a shipment's failure is about, if it is not transient: the key the quarantine
    counts by (the error class; for a BiPRO status NOK also its message codes).

    Transient, and never counted: the network before the server answers (refused or failed
    connections, timeouts, HTTP errors without a SOAP reply), an expired session, and local
    file system errors (the whole inbox is a :class:`~bipro_ruv.errors.StorageError`, which
    ends the run instead). Everything the server sent for this one shipment is not: a
    malformed or unsafe reply, a broken multipart, a wrong checksum, a zip bomb, a status
    NOK, and a reply that began and then broke off or never ended
    (:attr:`~bipro_ruv.errors.TransportError.during_reply`): the same shipment's reply
    breaking off run after run, while the login and the list worked, is that reply's fault.
    """
    if isinstance(exc, TransportError):
        return f"{type(exc).__name__}:reply" if exc.during_reply else None
    if isinstance(exc, SessionExpiredError | OSError):
        return None
    if isinstance(exc, ServiceError):
        codes = ",".join(sorted({m.code for m in exc.messages if m.code}))
        return f"{type(exc).__name__}:{codes}" if codes else type(exc).__name__
    return type(exc).__name__


def keep_reply(
    download_raw: Callable[[str, Path], dict[str, Any]],
    inbox: Path,
    account: Account,
    shipment_id: str,
    error: str,
    count: int,
) -> str | None:
    """The shipment's reply once more, unparsed (``download_raw``), with the error beside it;
    the folder relative to ``inbox``, or None if not even the error could be written."""
    folder = _new_folder(inbox / STATE_DIR / "quarantine", shipment_id)
    if folder is None:
        return None
    note = [
        f"shipment: {shipment_id}",
        f"account: {account}",
        f"quarantined: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"failures in a row: {count}",
        f"error: {error}",
    ]
    try:
        reply = download_raw(shipment_id, folder / "reply.bin")
    except (BiproError, OSError) as exc:
        note.append(f"reply: not kept ({type(exc).__name__}: {exc})")
    else:
        note.append(f"reply: reply.bin, {reply['bytes']} bytes, {reply['ended']}")
        note.append(f"http: {reply['http_status']} {reply['http_reason']}")
        note.extend(f"header {name}: {value}" for name, value in sorted(reply["headers"].items()))
    try:
        (folder / "error.txt").write_text("\n".join(note) + "\n", encoding="utf-8")
    except OSError as exc:
        log.warning("the error of quarantined shipment %s is not kept: %s", shipment_id, exc)
    return folder.relative_to(inbox).as_posix()


def _new_folder(root: Path, shipment_id: str) -> Path | None:
    """A folder of its own for the shipment; another worker may take a name meanwhile (ids
    alike once made safe), so a name taken between the choice and the mkdir is chosen again."""
    try:
        root.mkdir(exist_ok=True)
        for _ in range(100):
            candidate = unique_path(root, safe_filename(shipment_id), [])
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        log.warning("the reply of quarantined shipment %s is not kept: %s", shipment_id, exc)
        return None
    log.warning("the reply of quarantined shipment %s is not kept: no free folder name", shipment_id)
    return None
