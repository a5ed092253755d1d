"""What a GDV file parses into: records, contracts, Datenpakete (GDV VU-Vermittler, 2009-2023).

* A :class:`Record` is one *Datensatz*: the Teildatensätze (:class:`~bipro_ruv.gdv.layouts.Part`)
  of one Satzart that belong together (same fields 1-7, ascending Satznummer; gdv-format.md
  §1.3). Field values are read by English name: ``record.total_premium_net``.
* A :class:`RawRecord` is a line of a Satzart the library does not decode (0052, 0500,
  Sparte 020, ...) or cannot read; it is kept, attached to its contract, never dropped.
* A :class:`Contract` holds every record of one (VU-Nr, VSNR) in file order; the
  properties pick the parts an MVP needs (addresses by role, the 0200 general part, the
  Sparte records, Inkasso).
* A :class:`Packet` is one Datenpaket: Vorsatz (0001) ... Nachsatz (9999).

These are slotted classes, not pydantic models: a 100 MB Bestand holds about 400,000
records, and building and holding them must stay within the speed and memory goals
(README, "GDV data"). They are read-only by convention.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from bipro_ruv.errors import InvalidVsnr
from bipro_ruv.gdv.layouts import Part
from bipro_ruv.gdv.values import DATE, GdvWarning, PartialDate
from bipro_ruv.vsnr import Vsnr

__all__ = ["Contract", "Nachsatz", "Packet", "RawRecord", "Record", "Vorsatz"]

# The Vorsatz names the Satzart of each version field in its German label: mostly
# "Satzart 0210 050", else a text with the Satzart number, or (for a few) only a text.
_VERSION_LABEL = re.compile(r"^Satzart (\d{4})(?: (\d{3}))?$")
_VERSION_NUMBER = re.compile(r"\b(0\d{3}|9\d{3})\b")
_VERSION_TEXTS = {
    "Fondsdatensatz - Leben 0230": ("0230", "010"),
    "Unfall Leistungsarten 0230": ("0230", "030"),
    "KFZ - Wechselkennzeichen W-AKZ": ("0230", "050"),
    "Verbundene Gebäude - Versicherte Sachen und Kosten": ("0230", "140"),
    "Kfz-Baustein": ("0220", "055"),
    "Leben/Rente-Leistungsarten": ("0225", "010"),
    "Unfallspezifische Antragsdaten 0222": ("0222", "030"),
}


def version_key(label: str) -> tuple[str, str] | None:
    """(Satzart, Sparte) a Vorsatz version field is about, from its German label."""
    match = _VERSION_LABEL.match(label)
    if match:
        return match.group(1), match.group(2) or ""
    if label in _VERSION_TEXTS:
        return _VERSION_TEXTS[label]
    found = _VERSION_NUMBER.search(label)
    if found and label != "Satznummer":
        satzart = found.group(1)
        return satzart, "190" if satzart in ("0250", "0251", "0260") else ""
    return None


# Anlage 1 (BerVersV) Sparten the library decodes, and the groups an MVP sorts by.
SPARTE_RECORDS = frozenset({"0210", "0211", "0220", "0221", "0230"})
INKASSO_RECORDS = frozenset({"0400", "0410", "0420", "0430"})


class Record(list[Part]):
    """One Datensatz: the decoded Teildatensätze (:class:`Part`) of one Satzart, in Satznummer order.

    A ``list`` of its parts (so building one costs no Python call in the parser's hot
    loop); :attr:`line` is the 1-based number of its first record in the file. Two records
    are equal only when they are the same object (a record is one place in one file);
    compare ``record.as_dict()`` to compare contents.
    """

    __slots__ = ("line",)
    line: int

    @property
    def parts(self) -> list[Part]:
        return self

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = object.__hash__  # type: ignore[assignment]

    @property
    def satzart(self) -> str:
        return self.parts[0].layout.satzart

    @property
    def sparte(self) -> str:
        """The Sparte of the layout (``050``), ``""`` for Satzarten without one (0100, 0200)."""
        return self.parts[0].layout.sparte

    @property
    def kind(self) -> str:
        """``0220.010.2``: Satzart, Sparte and Wagnisart group, as the GDV tables name them."""
        layout = self.parts[0].layout
        return ".".join(x for x in (layout.satzart, layout.sparte, layout.wagnis) if x)

    def part(self, number: int) -> Part | None:
        """Teildatensatz ``number``, or ``None`` when the file did not carry it."""
        for part in self.parts:
            if part.layout.part == number:
                return part
        return None

    def get(self, name: str, default: Any = None) -> Any:
        """The first Teildatensatz's value of field ``name`` that is not ``None``."""
        return _first(self, name, default)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        missing = object()
        value = self.get(name, missing)
        if value is missing:
            raise AttributeError(f"{self.kind} has no field {name!r}")
        return value

    def as_dict(self) -> dict[str, Any]:
        """Field name -> value over all Teildatensätze (the first non-``None`` value wins)."""
        result: dict[str, Any] = {}
        for part in self.parts:
            for name, value in zip(part.layout.names, part, strict=True):
                if result.get(name) is None:
                    result[name] = value
        return result

    def __repr__(self) -> str:
        numbers = ",".join(str(p.layout.part) for p in self.parts)
        return f"<Record {self.kind} TD {numbers} at record {self.line}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_record, (self.line, list(self)))


def _rebuild_record(line: int, parts: list[Part]) -> Record:
    record = Record(parts)
    record.line = line
    return record


def _first(parts: list[Part], name: str, missing: Any) -> Any:
    """The first value of field ``name`` that is not ``None`` (``None`` when all are),
    ``missing`` when no part has the field."""
    found = False
    for part in parts:
        position = part.layout.index.get(name)
        if position is not None:
            found = True
            value = tuple.__getitem__(part, position)
            if value is not None:
                return value
    return None if found else missing


class RawRecord:
    """A line kept as text: a Satzart the library does not decode, or one it could not read."""

    __slots__ = ("line", "text")

    def __init__(self, line: int, text: str) -> None:
        self.line = line
        self.text = text

    @property
    def satzart(self) -> str:
        return self.text[:4]

    @property
    def sparte(self) -> str:
        return self.text[10:13].strip()

    @property
    def kind(self) -> str:
        sparte = self.sparte
        return (
            f"{self.satzart}.{sparte}"
            if sparte and self.satzart[:2] == "02" and self.satzart != "0200"
            else self.satzart
        )

    def __repr__(self) -> str:
        return f"<RawRecord {self.kind} at record {self.line}>"


class Contract:
    """Every record of one contract, keyed by (VU-Nr, VSNR) as they appear in cols 5-9 and 14-30.

    The same VSNR under two VU numbers is two contracts: R+V's 2024 merger delivered an
    Abgang under VU 5339 and a Zugang under 5438 in one file (ruv-specifics.md §5).
    """

    __slots__ = ("packet", "records", "vsnr_text", "vu_number")

    def __init__(self, vu_number: str, vsnr_text: str, packet: int) -> None:
        self.vu_number = vu_number
        """VU-Nummer of the records (BaFin number), e.g. ``5438``."""
        self.vsnr_text = vsnr_text
        """The VSNR as the file writes it, blanks removed."""
        self.packet = packet
        """0-based index of the Datenpaket in the file."""
        self.records: list[Record | RawRecord] = []

    @property
    def vsnr(self) -> Vsnr | None:
        """The VSNR as :class:`~bipro_ruv.vsnr.Vsnr` (joins documents and CSV data), or
        ``None`` when the number is not R+V-shaped (other insurers' files)."""
        try:
            return Vsnr(self.vsnr_text, validate=False)
        except InvalidVsnr:
            return None

    @property
    def key(self) -> tuple[str, str]:
        """(VU-Nr, VSNR text): unique within a Datenpaket."""
        return self.vu_number, self.vsnr_text

    def of(self, *satzarten: str) -> list[Record]:
        """The decoded records of these Satzarten, in file order."""
        return [r for r in self.records if type(r) is Record and r.satzart in satzarten]

    @property
    def general(self) -> Record | None:
        """The 0200 Allgemeiner Vertragsteil (begin, end, status, premium, ...)."""
        for record in self.records:
            if type(record) is Record and record.satzart == "0200":
                return record
        return None

    @property
    def addresses(self) -> list[Record]:
        """The 0100 Adressteile, one per role (``address_role``: 01 VN, 02 versicherte Person, ...)."""
        return self.of("0100")

    def address(self, role: str) -> Record | None:
        """The first 0100 whose Adresskennzeichen is ``role`` (``"01"`` = Versicherungsnehmer)."""
        for record in self.addresses:
            if record.get("address_role") == role:
                return record
        return None

    @property
    def policyholder(self) -> Record | None:
        """The Versicherungsnehmer's address (Adresskennzeichen 01, else the first 0100)."""
        addresses = self.addresses
        return self.address("01") or (addresses[0] if addresses else None)

    @property
    def sparte_records(self) -> list[Record]:
        """0210/0211/0220/0221/0230: the Sparte-specific parts, in file order."""
        return [r for r in self.records if type(r) is Record and r.satzart in SPARTE_RECORDS]

    @property
    def sparte(self) -> str | None:
        """The contract's Sparte: from the 0200 (``000`` for a bundled contract), or, where
        the 0200 says ``000`` although the contract is not bundled (R+V 2021), from the
        first Sparte record; without a 0200 (an Inkasso file), from the records' key fields."""
        general = self.general
        stated = general.get("line_of_business") if general else None
        if stated and stated != "000":
            return str(stated)
        if stated and general is not None and general.get("bundle_flag") == "1":
            return "000"  # a bundled contract (Privatpolice): 000 is its Sparte
        for record in self.sparte_records:
            if record.sparte:
                return record.sparte
        if stated:
            return str(stated)
        for item in self.records:  # an Inkasso file has no 0200: the Sparte of the key fields
            if type(item) is Record:
                value = item.get("line_of_business")
                if value:
                    return str(value)
        return None

    @property
    def inkasso(self) -> list[Record]:
        """0400 Inkasso, 0410 Teilsparte, 0420 Versicherungsteuer, 0430 Erweiterung."""
        return [r for r in self.records if type(r) is Record and r.satzart in INKASSO_RECORDS]

    @property
    def participations(self) -> list[Record]:
        """0300 Beteiligungs-Informationssätze (co-insurance)."""
        return self.of("0300")

    @property
    def raw(self) -> list[RawRecord]:
        """Lines of Satzarten the library does not decode, kept as text."""
        return [r for r in self.records if type(r) is RawRecord]

    @property
    def start_date(self) -> dt.date | PartialDate | None:
        general = self.general
        return general.get("start_date") if general else None

    @property
    def end_date(self) -> dt.date | PartialDate | None:
        general = self.general
        return general.get("end_date") if general else None

    @property
    def total_premium_net(self) -> Decimal | None:
        general = self.general
        part = general.part(1) if general else None
        value = part.get("total_premium_net") if part is not None else None
        return value if type(value) is Decimal else None

    def __repr__(self) -> str:
        return f"<Contract VU {self.vu_number} VSNR {self.vsnr_text} ({len(self.records)} records)>"


class Vorsatz:
    """The Vorsatz (0001): sender, addressee, period, and the version of every Satzart."""

    __slots__ = ("line", "parts")

    def __init__(self, line: int, parts: list[Part]) -> None:
        self.line = line
        self.parts = parts

    def _get(self, name: str) -> str | None:
        value = _first(self.parts, name, None)
        return None if value is None else str(value)

    @property
    def vu_number(self) -> str | None:
        return self._get("insurer_number")

    @property
    def sender(self) -> str | None:
        """Absender, e.g. ``R+V Allgemeine Versicherung AG``."""
        return self._get("sender")

    @property
    def addressee(self) -> str | None:
        """Adressat: the broker the file is for."""
        return self._get("addressee")

    @property
    def agency(self) -> str | None:
        return self._get("agency")

    @property
    def period(self) -> tuple[dt.date | PartialDate | None, dt.date | PartialDate | None]:
        """Erstellungsdatum Zeitraum vom / bis (cols 70-77, 78-85; one N(16) field in the tables)."""
        value = self.parts[0].at(70)
        if isinstance(value, str) and len(value) == 16:
            return DATE[value[:8]], DATE[value[8:]]
        return None, None

    @property
    def versions(self) -> Mapping[tuple[str, str], str]:
        """Satzart version by (Satzart, Sparte) as the Vorsatz states them (``("0200", ""): "2.5"``)."""
        result: dict[tuple[str, str], str] = {}
        for part in self.parts:
            for field, value in zip(part.layout.fields, part, strict=True):
                key = version_key(field.german) if 96 <= field.start <= 245 and field.length == 3 else None
                if key is not None and value:
                    result.setdefault(key, str(value))
        return result

    def __repr__(self) -> str:
        return f"<Vorsatz VU {self.vu_number} from {self.sender!r}>"


class Nachsatz:
    """The Nachsatz (9999): record count and sums, which the parser checks (as warnings)."""

    __slots__ = ("line", "part")

    def __init__(self, line: int, part: Part) -> None:
        self.line = line
        self.part = part

    @property
    def record_count(self) -> int | None:
        """Anzahl der Sätze: the records between Vorsatz and Nachsatz."""
        value = self.part.at(5)
        return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None

    @property
    def total_premium(self) -> Decimal | None:
        """Gesamtbeitrag (cols 25-39): Σ of the 0200 Gesamtbeitrag (Netto)."""
        value = self.part.at(25)
        return value if type(value) is Decimal else None

    def __repr__(self) -> str:
        return f"<Nachsatz {self.record_count} records, {self.total_premium}>"


class Packet:
    """One Datenpaket: Vorsatz, records, Nachsatz; with what the parse noticed."""

    __slots__ = (
        "contracts",
        "first_line",
        "index",
        "inexact",
        "last_line",
        "nachsatz",
        "premium_sum",
        "record_count",
        "releases",
        "vorsatz",
        "warnings",
    )

    def __init__(self, index: int, first_line: int) -> None:
        self.index = index
        self.first_line = first_line
        self.last_line = first_line
        self.vorsatz: Vorsatz | None = None
        self.nachsatz: Nachsatz | None = None
        self.releases: dict[tuple[str, str], str] = {}
        """Which layout release each (Satzart, Sparte) was read with."""
        self.warnings: list[GdvWarning] = []
        self.inexact: dict[str, tuple[str, str]] = {}
        self.record_count = 0
        """Records between Vorsatz and Nachsatz (what the Nachsatz should state)."""
        self.premium_sum = Decimal("0.00")
        """Σ 0200 TD1 Gesamtbeitrag (Netto) (what the Nachsatz's Gesamtbeitrag should state)."""
        self.contracts: dict[tuple[str, str], Contract] = {}
        """Filled by :func:`~bipro_ruv.gdv.parse`; empty when streaming."""

    def __iter__(self) -> Iterator[Contract]:
        return iter(self.contracts.values())

    def __repr__(self) -> str:
        return f"<Packet {self.index}: {len(self.contracts)} contracts, {len(self.warnings)} warnings>"
