"""What ``bipro-ruv gdv`` prints: the contracts as a fixed-width table, the summary on stderr,
stdout in the encoding an export needs, and the one-line check of ``--encoding``."""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console

from bipro_ruv.errors import GdvFormatError
from bipro_ruv.gdv import Contract, PartialDate
from bipro_ruv.gdv.export import Summary

__all__ = ["check_encoding", "print_contracts", "print_summary", "silence_stdout", "stdout_as"]

_GDV_WARNINGS_SHOWN = 10
_GDV_BATCH = 200
"""Table rows printed at once."""

# GDV Anlage 1 (BerVersV), the Sparten of the VU-Vermittler records (gdv-format.md §1.2).
_SPARTEN = {
    "000": "gebündelt",
    "010": "Leben",
    "020": "Kranken",
    "030": "Unfall",
    "040": "Haftpflicht",
    "050": "Kraftfahrt",
    "070": "Rechtsschutz",
    "130": "Hausrat",
    "140": "Wohngebäude",
}


def _german_date(value: Any) -> str:
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, PartialDate) and value.year is not None and value.month is not None:
        return f"{value.month:02d}.{value.year:04d}" if value.day is None else str(value)
    return "" if value is None else str(value)


def _german_amount(value: Decimal | None, currency: Any) -> str:
    if value is None:
        return ""
    text = f"{value:,f}".translate(str.maketrans(",.", ".,"))
    return f"{text} {currency}" if currency else text


# (header, width, right-aligned): every value fits its width (VU-Nr 5, VSNR 17 characters,
# the largest Gesamtbeitrag with its currency 20), so rows line up without cutting anything.
_GDV_COLUMNS = (
    ("VU", 5, False),
    ("VSNR", 17, False),
    ("Sparte", 6, False),
    ("Beginn", 10, False),
    ("Ablauf", 10, False),
    ("Status", 6, False),
    ("Beitrag", 20, True),
    ("Versicherungsnehmer", 0, False),
)


def _contract_cells(contract: Contract) -> list[str]:
    general = contract.general
    holder = contract.policyholder
    names = [holder.get(name) for name in ("name_1", "name_3")] if holder is not None else []
    return [
        contract.vu_number,
        contract.vsnr_text,
        contract.sparte or "",
        _german_date(contract.start_date),
        _german_date(contract.end_date),
        str(general.get("contract_status") or "") if general is not None else "",
        _german_amount(contract.total_premium_net, general.get("currency") if general else None),
        ", ".join(str(name) for name in names if name),
    ]


def _table_line(cells: Sequence[str]) -> str:
    return "  ".join(
        cell.rjust(width) if right else cell.ljust(width)
        for cell, (_, width, right) in zip(cells, _GDV_COLUMNS, strict=True)
    ).rstrip()


def print_contracts(contracts: Iterable[Contract], console: Console) -> None:
    """The contracts as a table, printed as they are read.

    Not a rich Table: that measures every cell again for each batch (0.6 ms a row, minutes
    for a large Bestand); fixed columns stream at a few microseconds a row.
    """
    header = _table_line([name for name, _, _ in _GDV_COLUMNS])
    rows: list[str] = []
    for contract in contracts:
        if not rows and header:
            console.out(header, style="bold", highlight=False)
            console.out("─" * len(header), highlight=False)
            header = ""
        rows.append(_table_line(_contract_cells(contract)))
        if len(rows) >= _GDV_BATCH:
            console.out("\n".join(rows), highlight=False)  # out(): no markup, no wrapping
            rows.clear()
    if rows:
        console.out("\n".join(rows), highlight=False)


@contextmanager
def stdout_as(encoding: str) -> Iterator[TextIO]:
    """stdout as text in ``encoding``, whatever the console's is; sys.stdout stays open."""
    sys.stdout.flush()
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")
    try:
        yield stream
    finally:
        try:
            stream.detach()  # flushes; detached, the wrapper can never close sys.stdout
        except BrokenPipeError:
            silence_stdout()
            stream.detach()
            raise


def silence_stdout() -> None:
    """The reader of stdout went away (``| head``): send what is left to nowhere, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def print_summary(summary: Summary, err_console: Console) -> None:
    def say(text: str) -> None:
        err_console.print(text, markup=False, highlight=False, soft_wrap=True)

    for packet in summary.packets:
        sender = packet.sender or "(kein Vorsatz)"
        vu = f" (VU {packet.vu_number})" if packet.vu_number else ""
        to = f" for {packet.addressee}" if packet.addressee else ""
        start, end = packet.period  # Erstellungsdatum vom / bis
        when = "-".join(dict.fromkeys(_german_date(day) for day in (start, end) if day is not None))
        say(
            f"Datenpaket {packet.index + 1}: {sender}{vu}{to}"
            f"{', ' + when if when else ''}, {packet.records} records"
        )
    by_sparte = ", ".join(
        f"{sparte or 'ohne Sparte'}{' ' + _SPARTEN[sparte] if sparte in _SPARTEN else ''} {count}"
        for sparte, count in sorted(summary.by_sparte.items())
    )
    say(f"Contracts: {summary.contracts}{f' ({by_sparte})' if by_sparte else ''}")
    total = summary.warning_count
    if total:
        say(f"Warnings: {total}")
        for warning in summary.warnings[:_GDV_WARNINGS_SHOWN]:
            say(f"  {warning}")
        if total > _GDV_WARNINGS_SHOWN:
            say(f"  ... and {total - _GDV_WARNINGS_SHOWN} more")
    else:
        say("Warnings: none")


def check_encoding(encoding: str) -> None:
    """Name the problem in one line: an unknown codec, or one that cannot decode text (hex, idna)."""
    hint = "use e.g. iso-8859-15, cp850 or utf-8"
    try:
        b"0".decode(encoding, "ignore")  # not b"": Python decodes no bytes without asking the codec
    except LookupError:
        raise GdvFormatError(f"unknown encoding {encoding!r}; {hint}") from None
    except UnicodeError:
        raise GdvFormatError(f"the encoding {encoding!r} cannot read a GDV file; {hint}") from None
