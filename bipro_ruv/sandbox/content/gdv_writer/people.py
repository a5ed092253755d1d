"""What the realistic generator draws from: German names, places, banks, vehicles, funds; a person and a
contract before their records are written.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal
from typing import Literal

from bipro_ruv.gdv.values import PartialDate
from bipro_ruv.sandbox.content.contracts import BROKER_NAME
from bipro_ruv.sandbox.content.gdv_writer.encoding import _LEBEN_SPARTE
from bipro_ruv.sandbox.content.gdv_writer.seeded import _ABSENDER

# == The realistic generator: R+V Bestand and Inkasso files ================================================
#
# Everything below draws from one random.Random(seed), so a seed gives the same bytes on every run. The
# content follows R+V's published habits (ruv-specifics.md §5, gdv-format.md §1.8): 11-digit VSNRs
# (Arbeitsgebiet + 9 digits), net premiums, cancelled contracts with status 4, the 2024 merger (an Abgang
# under 5339 with reason 37 and date 00082024, then a Zugang of the same VSNR under 5438). Code values
# the references do not give (Kommunikationstyp, Sollstellungsart, ...) are plausible, not R+V's.


Kind = Literal["bestand", "inkasso", "both"]
_Key = tuple[str, str, str, int]
_Planned = tuple[_Key, dict[str, object]]

VU_SENDERS: dict[str, str] = dict(_ABSENDER)
"""Absender (30 bytes) per VU number, for the Vorsatz."""


def _table(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


_SURNAMES = _table(
    "Müller|Schäfer|Schröder|Köhler|Jäger|Krüger|Böhm|Weiß|Groß|Möller|Günther|Schmidt|Schneider|Fischer|"
    "Weber|Meyer|Wagner|Becker|Hoffmann|Schulz|Koch|Richter|Klein|Wolf|Neumann|Zimmermann|Braun|Hartmann|"
    "Lange|Krause|Lehmann|Köster|Lüders|Büttner|Dörfler|Röder|Süßmuth|Nußbaum|Straßer|Kühn|Götz|Hölzl|"
    "Brüggemann|Öztürk|Jürgensen|Kößler|Mäurer|Thür|Fuß|Blümel"
)
_MALE = _table(
    "Jürgen|Jörg|Björn|Sören|Günter|Hans-Jürgen|Lukas|Jonas|Maximilian|Thomas|Michael|Andreas|Stefan|Klaus|"
    "Uwe|Jörn|Ömer|Malte|Florian|Jens"
)
_FEMALE = _table(
    "Bärbel|Käthe|Jördis|Anna|Maria|Ursula|Sabine|Petra|Monika|Renate|Hannah|Lea|Sophie|Gesine|Dörte|"
    "Mareike|Frauke|Zoë|Ilse|Marlies"
)
_COMPANIES = _table(
    "Bäckerei {} GmbH|{} & Söhne KG|Autohaus {} GmbH|Gärtnerei {} e.K.|Schreinerei {} OHG|"
    "Malerbetrieb {} GmbH|Metzgerei {} e.K.|Ingenieurbüro {} GbR|Zahnarztpraxis Dr. {}|Blumenhaus {} OHG"
)
_PLACES = tuple(
    (place[:5], place[6:])
    for place in _table(
        "65189 Wiesbaden|80331 München|50667 Köln|40213 Düsseldorf|90402 Nürnberg|97070 Würzburg|"
        "23552 Lübeck|37073 Göttingen|66111 Saarbrücken|48143 Münster|90762 Fürth|49074 Osnabrück|"
        "60311 Frankfurt am Main|20095 Hamburg|10115 Berlin|70173 Stuttgart|04109 Leipzig|01067 Dresden|"
        "99084 Erfurt|55116 Mainz|87435 Kempten (Allgäu)|06108 Halle (Saale)|35390 Gießen|"
        "61348 Bad Homburg vor der Höhe|65549 Limburg an der Lahn|79098 Freiburg im Breisgau|95444 Bayreuth|"
        "63739 Aschaffenburg"
    )
)
_STREETS = _table(
    "Hauptstraße|Schloßallee|Mühlweg|Königstraße|Lindenstraße|Gartenstraße|Am Bürgerpark|Schillerstraße|"
    "Goethestraße|Bahnhofstraße|Kirchgäßchen|Wilhelm-Röpke-Straße|Försterweg|Brückenstraße|Kölner Straße|"
    "Dörnbergstraße|Grüner Weg|Jägerstraße|Heinrich-Böll-Straße|Höhenweg|Lärchenweg|Raiffeisenstraße"
)
_HOUSE_SUFFIXES = ("", "", "", "", "a", "b", " b", " 1/2")
_BANKS = (
    ("Wiesbadener Volksbank eG", "51090000", "WIBADE5W"),
    ("Volksbank Mittelhessen eG", "51390000", "VBMHDE5F"),
    ("Sparkasse KölnBonn", "37050198", "COLSDE33"),
    ("Frankfurter Volksbank eG", "50190000", "FFVBDEFF"),
    ("Münchner Bank eG", "70190000", "GENODEF1M01"),
    ("Hamburger Sparkasse", "20050550", "HASPDEHH"),
)
_BROKERS = (
    BROKER_NAME,
    "Assekuranzmakler Jörg Köhler",
    "Versicherungskontor Süd GmbH",
    "Maklerhaus Bäumer & Groß",
)
_VEHICLES = (
    ("VW", "Golf VIII 1.5 eTSI", "0603", "CAX", Decimal("110.0")),
    ("VW", "Passat Variant 2.0 TDI", "0603", "BZT", Decimal("110.0")),
    ("OPEL", "Astra L 1.2", "0035", "EKF", Decimal("96.0")),
    ("BMW", "320d Touring", "0005", "CKG", Decimal("140.0")),
    ("MERCEDES-BENZ", "C 200 T-Modell", "1313", "CHB", Decimal("150.0")),
    ("SKODA", "Octavia Combi 2.0 TDI", "8004", "AVT", Decimal("85.0")),
    ("FORD", "Fiesta 1.0 EcoBoost", "8566", "BLZ", Decimal("74.0")),
    ("TESLA", "Model 3 Long Range", "4302", "AAE", Decimal("324.0")),
)
_PLATE_AREAS = ("WI", "MZ", "F", "K", "M", "B", "HH", "DA", "GI", "LM", "FB", "HG")
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_FUNDS = _table(
    "Aktienfonds Welt Nachhaltig|Rentenfonds Euro Klassik|Mischfonds Ausgewogen|Aktienfonds Europa Wachstum|"
    "Immobilienfonds Deutschland|Geldmarktfonds Euro"
)
_HOUSEHOLD_COVERS = ("Fahrraddiebstahl", "Glasbruch", "Überspannungsschäden", "Elementarschäden")
_BUILDINGS = (
    "Einfamilienhaus",
    "Zweifamilienhaus",
    "Reihenmittelhaus",
    "Doppelhaushälfte",
    "Mehrfamilienhaus",
)
_BUILDING_EXTRAS = (
    "Photovoltaikanlage",
    "Ableitungsrohre außerhalb",
    "Carport und Gartenhäuschen",
    "Wärmepumpe",
)
_LIABILITY_RISKS = (
    ("PHV", "Privat-Haftpflicht Familie"),
    ("THV", "Tierhalter-Haftpflicht Hund"),
    ("HUG", "Haus- und Grundbesitzer"),
    ("BHV", "Betriebs-Haftpflicht Handwerk"),
)
_ACCIDENT_BENEFITS = (
    ("001", "Invalidität"),
    ("002", "Unfall-Tod"),
    ("004", "Krankenhaustagegeld"),
    ("007", "Übergangsleistung"),
    ("009", "Kosmetische Operationen"),
)
_OCCUPATIONS = ("Bürokauffrau", "Schreiner", "Lehrerin", "Bäckermeister", "Softwareentwickler", "Ärztin")

# Sparte -> (weight, Arbeitsgebiete, product names) for R+V's main Sparten.
_SPARTEN: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "010": (12, ("70",), ("Rente Klassik", "Risikoleben", "Fondsrente Chance", "BU Komfort")),
    "030": (12, ("10", "15", "16"), ("Unfall Komfort", "Unfall Premium", "Kinder-Unfall")),
    "040": (18, ("29", "25", "28"), ("Privathaftpflicht", "Tierhalter-HV", "Betriebshaftpflicht")),
    "050": (30, ("30", "32"), ("Kfz Komfort", "Kfz Premium", "Kfz Classic")),
    "130": (15, ("34", "56"), ("Hausrat Komfort", "Hausrat Premium")),
    "140": (13, ("48",), ("Wohngebäude Komfort", "Wohngebäude Premium")),
}
_SPARTE_ORDER = tuple(_SPARTEN)
_SPARTE_CUMULATIVE = tuple(itertools.accumulate(weight for weight, _, _ in _SPARTEN.values()))
_KFZ_PARTS = ("051", "052", "053", "054", "055")
_LEBEN_MAIN = ("1", "3", "2", "7", "9")
_LEBEN_RIDERS = ("4", "6", "5")
_MERGER_DATE = PartialDate("00082024", 2024, 8, None)
_MERGER_REASON = "37"
_TAX = Decimal("0.19")
_CENT = Decimal("0.01")


def _iban(bank_code: str, account: int) -> str:
    """A German IBAN with correct check digits (ISO 13616 mod 97)."""
    bban = f"{bank_code}{account:010d}"
    check = 98 - int(f"{bban}131400") % 97
    return f"DE{check:02d}{bban}"


def _isin(body: str) -> str:
    """ISIN with its check digit (Luhn over the letters as numbers)."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return f"{body}{(10 - total % 10) % 10}"


@dataclass(slots=True)
class _Person:
    salutation: str
    name_1: str
    name_3: str
    title: str
    postcode: str
    city: str
    street: str
    birth_date: date | None
    gender: str

    @property
    def list_name(self) -> str:
        return f"{self.name_1}, {self.name_3}" if self.name_3 else self.name_1


@dataclass(slots=True)
class _Contract:
    """One contract entry of the file (an Abgang and its Zugang are two entries)."""

    vu: str
    vsnr: str
    sparte: str
    """0200 Sparte: one of _SPARTEN, or 000 for a bundled Privatpolice."""
    product: str
    person: _Person
    customer_number: str
    start: date
    end: date | None
    frequency: str
    collection: str
    status: str = "1"
    reason: str | None = None
    cancelled: date | PartialDate | None = None
    premiums: dict[str, Decimal] = dataclass_field(default_factory=dict)
    """Annual net premium per Sparte-record group (051, 052, ... for Kfz)."""

    @property
    def premium(self) -> Decimal:
        return sum(self.premiums.values(), Decimal("0.00"))

    @property
    def tax_rate(self) -> Decimal:
        return Decimal(0) if self.sparte == _LEBEN_SPARTE else _TAX


def _formatted_vsnr(vsnr: str) -> str:
    """The druckaufbereitete VSNR we write: ``30 123 456 789`` (R+V's print format is not public)."""
    return f"{vsnr[:2]} {vsnr[2:5]} {vsnr[5:8]} {vsnr[8:]}"
