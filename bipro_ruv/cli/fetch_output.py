"""What ``bipro-ruv fetch`` (and the demo) prints: progress while it runs, then the documents by
contract and the shipments that need attention, or one JSON document / NDJSON lines.

The JSON shape is fixed by ``docs/fetch-report.schema.json`` (a test validates the output
against it): a cron job, a monitor or a non-Python MVP reads it instead of the tables.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bipro_ruv.cli._common import shown
from bipro_ruv.transfer.models import (
    Document,
    FetchEvent,
    FetchEventKind,
    FetchReport,
    Outcome,
    ShipmentResult,
)

__all__ = ["SCHEMA_ID", "fetch_progress", "report_json", "report_tables", "summary_line", "write_ndjson"]

SCHEMA_ID = "https://bipro-ruv.invalid/schemas/fetch-report/1"
"""``$id`` of docs/fetch-report.schema.json; every JSON report names it in ``schema``."""

_FINISHED = (FetchEventKind.DONE, FetchEventKind.FAILED, FetchEventKind.QUARANTINED)


# -- progress ------------------------------------------------------------------------------


class _Bar:
    """A rich progress bar with counts and the time left (a terminal)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("Lieferungen", total=None)

    def __call__(self, event: FetchEvent) -> None:
        if event.kind is FetchEventKind.LISTED:
            self.progress.update(self.task, total=event.count)
        elif event.kind in _FINISHED and event.shipment_id:
            self.progress.advance(self.task)


class _Lines:
    """Plain progress lines (a log file, a cron mail): the count at most every ``every`` seconds."""

    def __init__(self, out: Console, every: float = 30.0) -> None:
        self.out = out
        self.every = every
        self.total = 0
        self.done = 0
        self.started = self.last = time.monotonic()

    def __call__(self, event: FetchEvent) -> None:
        if event.kind is FetchEventKind.LISTED:
            self.total = event.count
            self.out.print(f"fetch: {event.count} shipments to fetch", soft_wrap=True, highlight=False)
        elif event.kind in _FINISHED and event.shipment_id:
            self.done += 1
            now = time.monotonic()
            if now - self.last >= self.every and self.done < self.total:
                self.last = now
                rate = self.done / (now - self.started)
                left = (self.total - self.done) / rate if rate else 0
                self.out.print(
                    f"fetch: {self.done}/{self.total} shipments done, about {left:.0f} s left",
                    soft_wrap=True,
                    highlight=False,
                )


@contextmanager
def fetch_progress(out: Console, *, quiet: bool = False) -> Iterator[Callable[[FetchEvent], None] | None]:
    """The progress callback of a fetch: a bar with the time left on a terminal, a plain line
    now and then otherwise, nothing with ``quiet``."""
    if quiet:
        yield None
        return
    if not out.is_terminal:
        yield _Lines(out)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("noch"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=True) as progress:
        yield _Bar(progress)


# -- tables --------------------------------------------------------------------------------


def report_tables(report: FetchReport) -> list[Table]:
    """Documents grouped by contract, then the shipments that need attention."""
    documents = Table(title=f"Dokumente nach Vertrag ({len(report.documents)})")
    for column in ("Vertrag (VSNR)", "VU", "Dokumentart", "Datei", "Bytes"):
        documents.add_column(column)
    rows = sorted(report.documents, key=lambda d: (d.vsnr is None, str(d.vsnr or ""), d.path.as_posix()))
    for doc in rows:
        documents.add_row(
            doc.vsnr.formatted if doc.vsnr else "(ohne VSNR)",
            doc.vu_number or "",
            doc.document_type or "",
            doc.path.relative_to(report.inbox).as_posix(),
            f"{doc.size:,}".replace(",", "."),
        )
    tables = [documents] if report.documents else []
    odd = [doc for doc in report.documents if doc.warnings]
    if odd:
        warned = Table(
            title=f"Gespeichert trotz fehlerhafter Antwort ({len(odd)}): bitte prüfen", style="yellow"
        )
        for column in ("Datei", "Prüfsumme", "Hinweis"):
            warned.add_column(column)
        for doc in odd:
            checked = {True: "geprüft", False: "falsch", None: "keine gesendet"}[doc.checksum_verified]
            warned.add_row(
                doc.path.relative_to(report.inbox).as_posix(), checked, shown("; ".join(doc.warnings))
            )
        tables.append(warned)
    if report.failures:
        problems = Table(title=f"Nicht erledigt ({len(report.failures)})", style="red")
        for column in ("Lieferung", "Ergebnis", "Fehler"):
            problems.add_column(column)
        for result in report.failures:
            problems.add_row(result.shipment_id, result.outcome.value, shown(result.error or ""))
        tables.append(problems)
    if report.quarantined:
        held = Table(
            title=f"In Quarantäne ({len(report.quarantined)}): im Postfach gelassen (bipro-ruv shipments)",
            style="yellow",
        )
        for column in ("Lieferung", "Grund"):
            held.add_column(column)
        for result in report.quarantined:
            held.add_row(result.shipment_id, shown(result.error or ""))
        tables.append(held)
    return tables


def summary_line(report: FetchReport) -> str:
    """``Summary: 25 acknowledged, 2 failed, 1 quarantined. Inbox: ...`` (and what to do)."""
    parts = [f"{report.count(outcome)} {outcome.value}" for outcome in Outcome if report.count(outcome)]
    text = f"Summary: {', '.join(parts) or 'no open shipments'}. Inbox: {report.inbox}"
    if report.interrupted:
        text += ". Interrupted: the shipments not done stay in the mailbox for the next run"
    if report.quarantined:
        text += ". Quarantined shipments are not fetched again until `bipro-ruv shipments retry ID`"
    if report.handoff_error:
        text += f". Hand-off stopped: {report.handoff_error}"
    return text


# -- JSON ------------------------------------------------------------------------------------


def _document(doc: Document, report: FetchReport) -> dict[str, Any]:
    return {
        "key": doc.key,
        "path": str(doc.path),
        "relative_path": doc.path.relative_to(report.inbox).as_posix(),
        "file_name": doc.file_name,
        "original_name": doc.original_name,
        "content_type": doc.content_type,
        "document_type": doc.document_type,
        "description": doc.description,
        "size": doc.size,
        "sha256": doc.sha256,
        "vsnr": str(doc.vsnr) if doc.vsnr else None,
        "vsnr_raw": doc.vsnr_raw,
        "vu_number": doc.vu_number,
        "category": doc.category,
        "category_label": doc.category_label,
        "created_at": doc.created_at.isoformat() if doc.created_at else None,
        "checksum_verified": doc.checksum_verified,
        "archive_name": doc.archive_name,
        "warnings": list(doc.warnings),
    }


def _shipment(result: ShipmentResult, report: FetchReport) -> dict[str, Any]:
    return {
        "id": result.shipment_id,
        "outcome": result.outcome.value,
        "category": result.category,
        "category_label": result.category_label,
        "error": result.error,
        "error_type": result.error_type,
        "documents": [_document(doc, report) for doc in result.documents],
    }


def _counts(report: FetchReport) -> dict[str, int]:
    return {outcome.value: report.count(outcome) for outcome in Outcome}


def report_json(report: FetchReport, *, account: str, exit_code: int) -> dict[str, Any]:
    """The whole report as one JSON object (docs/fetch-report.schema.json)."""
    return {
        "schema": SCHEMA_ID,
        "type": "report",
        "account": account,
        "inbox": str(report.inbox),
        "acknowledge": report.acknowledge,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "ok": report.ok,
        "interrupted": report.interrupted,
        "exit_code": exit_code,
        "counts": _counts(report),
        "documents": len(report.documents),
        "handed_off": report.handed_off,
        "handoff_error": report.handoff_error,
        "shipments": [_shipment(result, report) for result in report.results],
    }


def write_ndjson(report: FetchReport, out: TextIO, *, account: str, exit_code: int) -> None:
    """One line per shipment (``"type": "shipment"``), then the report without its shipments
    (``"type": "summary"``): for log collectors that take one event a line."""
    for result in report.results:
        line = {"schema": SCHEMA_ID, "type": "shipment", "account": account, **_shipment(result, report)}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    summary = report_json(report, account=account, exit_code=exit_code)
    summary["type"] = "summary"
    del summary["shipments"]
    out.write(json.dumps(summary, ensure_ascii=False) + "\n")
