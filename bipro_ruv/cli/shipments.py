"""``bipro-ruv shipments list|show|retry|acknowledge``: the shipments an inbox's journal knows.

For an office admin: what the nightly fetch could not store (failed, quarantined), and the
two ways to resolve a quarantined shipment by hand: ``retry`` (the next fetch downloads it
again) or ``acknowledge --confirm`` (removes it from the insurer's mailbox although
bipro-ruv never stored it: only after getting its documents another way).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from bipro_ruv.cli._common import Connection, ExitCode, client_options, console, errors, fail, inbox_of, shown
from bipro_ruv.errors import StorageError
from bipro_ruv.store import Account, ShipmentRecord, ShipmentState, SqliteStore
from bipro_ruv.store.sqlite import journal_path

__all__ = ["shipments"]

#: What ``list`` shows without ``--all``: the shipments that need someone's attention.
_ATTENTION = (ShipmentState.QUARANTINED, ShipmentState.FAILED, ShipmentState.STORING, ShipmentState.STORED)
_STATE_WORDS = {
    ShipmentState.QUARANTINED: "quarantined (not downloaded again until retried)",
    ShipmentState.FAILED: "failed (the next fetch tries again)",
    ShipmentState.STORING: "storing (interrupted; the next fetch completes it)",
    ShipmentState.STORED: "stored, not acknowledged (the next fetch acknowledges it)",
    ShipmentState.ACKNOWLEDGED: "stored and acknowledged",
}

_inbox_option = click.option(
    "--inbox",
    type=click.Path(path_type=Path),
    help="The inbox a fetch stores into (its journal is in INBOX/.bipro-ruv/) [BIPRO_RUV_INBOX].",
)


@contextmanager
def _journal(inbox: Path) -> Iterator[SqliteStore]:
    path = journal_path(inbox)
    if not path.is_file():
        raise StorageError(
            f"{inbox} has no journal of bipro-ruv ({path}): no fetch has stored anything there", path=inbox
        )
    with SqliteStore(path) as store:
        yield store


def _account(store: SqliteStore, connection: Connection) -> Account:
    """The account the command is about: ``--username`` (with ``--profile``), or the only
    account the journal knows."""
    user = connection.account_user
    if user:
        return Account(connection.account_profile, user)
    accounts = sorted({record.account for record in store.shipments()}, key=str)
    if len(accounts) == 1:
        return accounts[0]
    listed = ", ".join(str(a) for a in accounts) or "none"
    fail(
        f"the journal holds the shipments of several accounts ({listed})",
        "name one with --username (and --profile), or set BIPRO_RUV_USERNAME.",
        ExitCode.USAGE,
    )


def _record(store: SqliteStore, account: Account, shipment_id: str) -> ShipmentRecord:
    record = store.shipment(account, shipment_id)
    if record is None:
        fail(
            f"the journal has no shipment {shipment_id!r} of {account}",
            "`bipro-ruv shipments list --all --inbox ...` lists the ones it has.",
            ExitCode.USAGE,
        )
    return record


def _as_json(record: ShipmentRecord) -> dict[str, Any]:
    data = asdict(record)
    data["account"] = str(record.account)
    data["state"] = record.state.value
    return data


@click.group()
def shipments() -> None:
    """The shipments of an inbox's journal: list, show, retry or acknowledge one by hand."""


@shipments.command("list")
@client_options
@_inbox_option
@click.option("--all", "show_all", is_flag=True, help="Also the stored and acknowledged ones.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array (for scripts and monitoring).")
def list_command(connection: Connection, inbox: Path | None, show_all: bool, as_json: bool) -> None:
    """The shipments that need attention (quarantined, failed, interrupted), or --all."""
    with errors(), _journal(inbox_of(connection, inbox)) as store:
        account = _account(store, connection)
        records = [r for r in store.shipments(account) if show_all or r.state in _ATTENTION]
        records.sort(key=lambda r: (_ATTENTION.index(r.state) if r.state in _ATTENTION else 9, r.shipment_id))
        if as_json:
            click.echo(json.dumps([_as_json(r) for r in records], ensure_ascii=False, indent=1))
            return
        if not records:
            console.print(f"No shipment of {account} needs attention." if not show_all else "No shipments.")
            return
        table = Table(title=f"Lieferungen von {account} ({len(records)})")
        for column in ("ID", "Zustand", "Versuche", "Kategorie", "Fehler"):
            table.add_column(column)
        for record in records:
            table.add_row(
                record.shipment_id,
                record.state.value,
                str(record.attempts),
                " ".join(x for x in (record.category, record.category_label) if x),
                shown(record.error or ""),
            )
        console.print(table)
        quarantined = sum(1 for r in records if r.state is ShipmentState.QUARANTINED)
        if quarantined:
            console.print(
                f"{quarantined} quarantined: `bipro-ruv shipments show ID` says why; `retry ID` lets the "
                "next fetch download it again."
            )


@shipments.command("show")
@client_options
@_inbox_option
@click.argument("shipment_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def show_command(connection: Connection, inbox: Path | None, shipment_id: str, as_json: bool) -> None:
    """Everything the journal knows of SHIPMENT_ID: state, error, documents, quarantine folder."""
    with errors(), _journal(inbox_of(connection, inbox)) as store:
        account = _account(store, connection)
        record = _record(store, account, shipment_id)
        documents = store.documents(account, shipment_id)
        if as_json:
            data = _as_json(record)
            data["documents"] = [
                {"path": d.path, "sha256": d.sha256, "size": d.size, "vsnr": d.vsnr} for d in documents
            ]
            click.echo(json.dumps(data, ensure_ascii=False, indent=1))
            return
        lines = [
            ("Lieferung", record.shipment_id),
            ("Konto", str(record.account)),
            ("Zustand", _STATE_WORDS[record.state]),
            ("Kategorie", " ".join(x for x in (record.category, record.category_label) if x)),
            ("Eingestellt", record.created_at_raw or ""),
            ("Versuche", str(record.attempts)),
            ("Zuerst gesehen", record.first_seen_at or ""),
            ("Gespeichert", record.stored_at or ""),
            ("Quittiert", record.acknowledged_at or ""),
            ("Fehler", record.error or ""),
        ]
        if record.failure_key:
            lines.append(("Gleicher Fehler in Folge", f"{record.failure_count} x {record.failure_key}"))
        if record.state is ShipmentState.QUARANTINED:
            lines.append(("In Quarantäne seit", record.quarantined_at or ""))
            folder = inbox_of(connection, inbox) / record.quarantine_dir if record.quarantine_dir else None
            lines.append(("Antwort und Fehler in", str(folder) if folder else "(nicht gespeichert)"))
        for label, value in lines:
            console.print(f"{label + ':':<26} {shown(value)}", soft_wrap=True)
        for document in documents:
            console.print(f"{'Dokument:':<26} {shown(document.path)} ({document.size} Bytes)", soft_wrap=True)
        if record.state is ShipmentState.QUARANTINED:
            console.print(
                f"Resolve it: `bipro-ruv shipments retry {shipment_id}` (the next fetch downloads it "
                f"again), or, once you have its documents from the portal, "
                f"`bipro-ruv shipments acknowledge {shipment_id} --confirm`."
            )


@shipments.command("retry")
@client_options
@_inbox_option
@click.argument("shipment_id")
def retry_command(connection: Connection, inbox: Path | None, shipment_id: str) -> None:
    """Let the next fetch download SHIPMENT_ID again (ends its quarantine, resets its count)."""
    with errors(), _journal(inbox_of(connection, inbox)) as store:
        account = _account(store, connection)
        record = _record(store, account, shipment_id)
        if record.state in (ShipmentState.STORED, ShipmentState.ACKNOWLEDGED):
            console.print(f"Shipment {shipment_id} is {record.state.value}: nothing to retry.")
            return
        store.release(account, shipment_id)
        console.print(
            f"Shipment {shipment_id} will be downloaded again by the next fetch "
            "(run `bipro-ruv fetch` to try now)."
        )


@shipments.command("acknowledge")
@client_options
@_inbox_option
@click.argument("shipment_id")
@click.option(
    "--confirm",
    is_flag=True,
    help="Required: you have the shipment's documents another way (bipro-ruv did not store them).",
)
def acknowledge_command(connection: Connection, inbox: Path | None, shipment_id: str, confirm: bool) -> None:
    """Remove SHIPMENT_ID from the insurer's mailbox for good, although it was not stored.

    Only for a shipment that cannot be stored (quarantined) and whose documents you got
    another way, e.g. from the portal: an acknowledged shipment is gone from the mailbox.
    """
    with errors():
        inbox = inbox_of(connection, inbox)
        with _journal(inbox) as store:
            account = _account(store, connection)
            record = _record(store, account, shipment_id)
        if record.state is ShipmentState.ACKNOWLEDGED:
            console.print(f"Shipment {shipment_id} is acknowledged already.")
            return
        if not confirm:
            stored = "stored" if record.state is ShipmentState.STORED else "not stored"
            fail(
                f"acknowledging removes shipment {shipment_id} from the insurer's mailbox for good, and "
                f"bipro-ruv has {stored} its documents",
                "get its documents another way (the portal), then run this again with --confirm; "
                f"or `bipro-ruv shipments retry {shipment_id}` to let the next fetch try again.",
                ExitCode.USAGE,
            )
        with connection.client() as client:
            client.acknowledge_shipment(shipment_id)
        with _journal(inbox) as store:
            store.mark_acknowledged(account, shipment_id)
        console.print(f"Shipment {shipment_id} is acknowledged: it is gone from the insurer's mailbox.")
        sys.stdout.flush()
