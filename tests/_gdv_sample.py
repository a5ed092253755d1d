"""Contracts with known values for the export and CLI tests, written with :mod:`tests._gdv`.

Every value sits at the 1-based columns of the GDV tables (release 2023, gdv-format.md
§1.2 and §1.4), so the tests know what each field holds without the third-party fixtures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tests._gdv import join, line, nachsatz, vorsatz

VU = "5438"


@dataclass(frozen=True)
class Vertrag:
    """One contract: a 0100 (Versicherungsnehmer) and a 0200; blank where ``""``."""

    vsnr: str
    sparte: str = "030"
    start: str = "01072024"
    end: str = "01072025"
    due: str = "01072025"
    status: str = "1"
    cancellation_reason: str = ""
    cancellation_date: str = ""
    premium_cents: int = 480600
    name_1: str = "Müller-Lüdenscheidt"
    name_3: str = "Jürgen"
    street: str = "Hauptstraße 1"
    postcode: str = "65189"
    city: str = "Wiesbaden"
    birth_date: str = "11111979"
    raw_record: bool = False
    """Add a 0052 record, a Satzart the library keeps as text."""

    @property
    def premium(self) -> Decimal:
        return Decimal(self.premium_cents).scaleb(-2)

    def lines(self) -> list[str]:
        key = {11: self.sparte, 31: "01", 33: "0815000000"}
        address = {
            **key,
            43: "1",
            44: self.name_1,
            104: self.name_3,
            154: "D",
            157: self.postcode,
            163: self.city,
            188: self.street,
            226: self.birth_date,
            237: "01",
            256: "1",
        }
        general = {
            **key,
            43: "2",
            44: self.start,
            52: self.end,
            60: self.due,
            68: "1",
            69: self.status,
            70: self.cancellation_reason,
            72: self.cancellation_date,
            113: "EUR",
            116: f"{self.premium_cents:012d}",
            256: "1",
        }
        lines = [line("0100", address, vu=VU, vsnr=self.vsnr), line("0200", general, vu=VU, vsnr=self.vsnr)]
        if self.raw_record:
            lines.append(line("0052", {**key, 43: "Kfz-Antrag, frei formuliert"}, vu=VU, vsnr=self.vsnr))
        return lines


def gdv_file(contracts: Iterable[Vertrag], *, nachsatz_count: int | None = None) -> bytes:
    """One Datenpaket: Vorsatz (release 2023), the contracts, a Nachsatz whose sums agree
    (unless ``nachsatz_count`` says otherwise)."""
    contracts = list(contracts)
    body = [text for contract in contracts for text in contract.lines()]
    cents = sum(contract.premium_cents for contract in contracts)
    count = len(body) if nachsatz_count is None else nachsatz_count
    return join([vorsatz(vu=VU), *body, nachsatz(count, cents)])


SAMPLE = (
    Vertrag("32123456789", raw_record=True),
    Vertrag(
        "43987654321",
        sparte="040",
        start="15012023",
        end="15012024",
        status="4",
        cancellation_reason="37",
        cancellation_date="00082024",
        premium_cents=12345,
        name_1="Schmidt [GmbH]",
        name_3="",
        street="=HYPERLINK(1)",
        birth_date="",
    ),
)
"""Two contracts: an Unfall with a raw 0052 record; a cancelled Haftpflicht whose
Abgangsdatum lacks the day (GDV ``00082024``), whose name holds rich markup characters
and whose street begins like an Excel formula."""
