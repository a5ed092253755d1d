"""The sandbox broker's seeded R+V book: twelve contracts of obviously fictional customers.

Contract numbers follow R+V's public rule "Arbeitsgebiet AG und VSNR zusammen 11-stellig numerisch": two
digits Arbeitsgebiet (the table on R+V's TransferService page) plus nine digits. VU numbers are the
BaFin/GDV numbers of the risk carriers (5438 R+V Allgemeine, 5058 KRAVAG-ALLGEMEINE, 1141 R+V Leben,
5339 Condor Allgemeine). Sparten are the GDV Anlage 1 codes the VU-Vermittler records carry in columns
11-13.

Edge cases of the real data are seeded on purpose:

* the 2024 merger: one Condor contract exists twice with the same VSNR, as an Abgang under 5339
  (Vertragsstatus 4, Abgangsgrund 37, Abgangsdatum ``00082024`` with day 00) and as a live contract under
  5438, so every consumer must key contracts by (VU-Nr, VSNR);
* migrated Condor contracts carry their old number (2+6 digits with a slash, or an 11-digit Kfz number
  starting with 74) for the Condormigration-Vertragsliste;
* bundled contracts (Privatpolice, Gewerbebündel) carry Sparte ``000``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "AGENCY_NUMBER",
    "ARBEITSGEBIETE",
    "BROKER_NAME",
    "SANDBOX_CONTRACTS",
    "VU_NAMES",
    "SandboxContract",
    "SandboxCustomer",
    "SandboxVehicle",
    "find_contract",
]

AGENCY_NUMBER = "47110815"
"""The sandbox broker's Agenturnummer (GDV field Geschäftsstelle/Vermittler)."""

BROKER_NAME = "Maklerbüro Beispiel GmbH"

VU_NAMES: dict[str, str] = {
    "5438": "R+V Allgemeine Versicherung AG",
    "5058": "KRAVAG-ALLGEMEINE Versicherungs-AG",
    "5339": "Condor Allgemeine Versicherungs-AG",
    "1141": "R+V Lebensversicherung AG",
}

# Arbeitsgebiete used by the seeded book, named as on R+V's TransferService page.
ARBEITSGEBIETE: dict[str, str] = {
    "10": "Unfall",
    "18": "Unfallversicherung Condor",
    "29": "Haftpflicht",
    "30": "Kfz R+V",
    "32": "Kfz KRAVAG-ALLGEMEINE",
    "34": "Privatpolice",
    "35": "Rechtsschutz",
    "44": "Gewerbebündelprodukt",
    "48": "Wohngebäude",
    "70": "Leben",
    "84": "Firmengeschäft",
}

_PAYMENT_FREQUENCIES = (1, 2, 4)  # GDV Zahlungsweise: jährlich, halbjährlich, vierteljährlich
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class SandboxCustomer:
    """Versicherungsnehmer. ``salutation`` is the GDV Anredeschlüssel: 1 Herr, 2 Frau, 3 Firma."""

    salutation: str
    last_name: str  # Name1: surname or company name
    first_name: str  # Name3 (empty for companies)
    street: str
    postcode: str
    city: str
    customer_number: str  # Kundennummer VU ("Geschäftspartner" in R+V's CSV packages)
    birth_date: date | None = None

    @property
    def is_company(self) -> bool:
        return self.salutation == "3"

    @property
    def display_name(self) -> str:
        """Name as printed in an address block: "Erika Mustermann" or the company name."""
        return self.last_name if self.is_company else f"{self.first_name} {self.last_name}"

    @property
    def list_name(self) -> str:
        """Name as listed in data packages: "Mustermann, Erika" or the company name."""
        return self.last_name if self.is_company else f"{self.last_name}, {self.first_name}"

    @property
    def letter_salutation(self) -> str:
        if self.salutation == "1":
            return f"Sehr geehrter Herr {self.last_name},"
        if self.salutation == "2":
            return f"Sehr geehrte Frau {self.last_name},"
        return "Sehr geehrte Damen und Herren,"


@dataclass(frozen=True)
class SandboxVehicle:
    """Vehicle of a Kfz contract (GDV 0210.050 fields)."""

    kennzeichen: str
    manufacturer: str
    model: str
    hsn: str
    tsn: str
    fin: str
    first_registration: date


@dataclass(frozen=True)
class SandboxContract:
    """One contract of the seeded book. Amounts are net (R+V delivers net premiums), in EUR."""

    vsnr: str
    vu_number: str
    sparte: str  # GDV Sparte, Anlage 1 (000 = bundled contract)
    product: str
    customer: SandboxCustomer
    annual_premium: Decimal
    start: date
    payment_frequency: int = 1
    collection: str = "2"  # GDV Inkassoart: 1 Vermittlerinkasso, 2 Zentralinkasso
    commission_rate: Decimal = Decimal("10.00")  # percent of the net premium
    tax_rate: Decimal = Decimal("19.00")  # Versicherungsteuer, percent
    vehicle: SandboxVehicle | None = None
    expiry: date | None = None
    status: str = "1"  # GDV Vertragsstatus (Anlage 24): 1 lebend, 4 storniert
    abgangsgrund: str | None = None  # Anlage 5, e.g. 37 (merger) or 38 (continued under a new VSNR)
    abgangsdatum: str | None = None  # raw TTMMJJJJ; R+V writes 00 for an unknown day
    previous_vsnr: str | None = None  # old Condor number as printed (70/850632 or 74.........)
    migration_date: date | None = None

    def __post_init__(self) -> None:
        if len(self.vsnr) != 11 or not self.vsnr.isdigit():
            raise ValueError(f"VSNR must be 11 digits (2 Arbeitsgebiet + 9), got {self.vsnr!r}")
        if self.business_area not in ARBEITSGEBIETE:
            raise ValueError(f"unknown Arbeitsgebiet {self.business_area!r} in {self.vsnr}")
        if self.vu_number not in VU_NAMES:
            raise ValueError(f"unknown VU number {self.vu_number!r}")
        if len(self.sparte) != 3 or not self.sparte.isdigit():
            raise ValueError(f"Sparte must be 3 digits, got {self.sparte!r}")
        if self.payment_frequency not in _PAYMENT_FREQUENCIES:
            raise ValueError(f"payment frequency must be one of {_PAYMENT_FREQUENCIES}")
        if self.status not in {"1", "4"} or self.collection not in {"1", "2"}:
            raise ValueError("status must be 1 or 4 and collection 1 or 2")

    @property
    def business_area(self) -> str:
        """Arbeitsgebiet: the first two digits of the VSNR."""
        return self.vsnr[:2]

    @property
    def business_area_name(self) -> str:
        return ARBEITSGEBIETE[self.business_area]

    @property
    def insurer_name(self) -> str:
        return VU_NAMES[self.vu_number]

    @property
    def customer_name(self) -> str:
        return self.customer.display_name

    @property
    def bundled(self) -> bool:
        return self.sparte == "000"

    @property
    def active(self) -> bool:
        return self.status == "1"

    @property
    def kennzeichen(self) -> str | None:
        return self.vehicle.kennzeichen if self.vehicle else None

    @property
    def installment(self) -> Decimal:
        """Net premium per installment."""
        return (self.annual_premium / self.payment_frequency).quantize(_CENT, ROUND_HALF_UP)

    def tax_on(self, net: Decimal) -> Decimal:
        return (net * self.tax_rate / 100).quantize(_CENT, ROUND_HALF_UP)

    def commission_on(self, net: Decimal) -> Decimal:
        return (net * self.commission_rate / 100).quantize(_CENT, ROUND_HALF_UP)


def _person(
    salutation: str,
    first: str,
    last: str,
    street: str,
    place: tuple[str, str],
    number: str,
    born: date,
) -> SandboxCustomer:
    return SandboxCustomer(salutation, last, first, street, place[0], place[1], number, born)


def _company(name: str, street: str, place: tuple[str, str], number: str) -> SandboxCustomer:
    return SandboxCustomer("3", name, "", street, place[0], place[1], number)


_ERIKA = _person(
    "2", "Erika", "Mustermann", "Musterstraße 1", ("65189", "Wiesbaden"), "4000100001", date(1978, 3, 14)
)
_KARL_HEINZ = _person(
    "1",
    "Karl-Heinz",
    "Vorlage",
    "Platzhalterring 3",
    ("60311", "Frankfurt am Main"),
    "4000100011",
    date(1961, 11, 2),
)

# Condor Allgemeine (5339) was merged into R+V Allgemeine (5438) in August 2024, retroactive to 1.1.2024; the
# contract kept its number, so it appears as an Abgang under 5339 and a live contract under 5438.
_UNFALL_MERGED = SandboxContract(
    vsnr="18560093318",
    vu_number="5438",
    sparte="030",
    product="Unfallversicherung",
    customer=_KARL_HEINZ,
    annual_premium=Decimal("165.60"),
    start=date(2012, 9, 1),
    commission_rate=Decimal("20.00"),
)

SANDBOX_CONTRACTS: tuple[SandboxContract, ...] = (
    SandboxContract(
        vsnr="32701234568",
        vu_number="5058",
        sparte="050",
        product="Kfz-Versicherung Firmenfahrzeug",
        customer=_company(
            "Spedition Fiktiv GmbH & Co. KG", "Am Güterbahnhof 12", ("34117", "Kassel"), "4000100002"
        ),
        annual_premium=Decimal("1486.40"),
        start=date(2023, 10, 1),
        payment_frequency=4,
        collection="1",
        commission_rate=Decimal("7.50"),
        vehicle=SandboxVehicle(
            "KS-FK 812", "VOLKSWAGEN", "CADDY 2.0 TDI", "0603", "BNZ", "WV2ZZZSKZPX000815", date(2021, 4, 12)
        ),
        previous_vsnr="74119830276",
        migration_date=date(2023, 10, 1),
    ),
    SandboxContract(
        vsnr="30418820375",
        vu_number="5438",
        sparte="050",
        product="Kfz-Versicherung Pkw",
        customer=_ERIKA,
        annual_premium=Decimal("612.30"),
        start=date(2022, 1, 1),
        commission_rate=Decimal("7.50"),
        vehicle=SandboxVehicle(
            "WI-EM 1978", "OPEL", "CORSA 1.2", "0035", "CDL", "W0VZZZF6ZK0004711", date(2019, 6, 3)
        ),
    ),
    SandboxContract(
        vsnr="48205517093",
        vu_number="5438",
        sparte="140",
        product="Wohngebäudeversicherung",
        customer=_person(
            "1", "Jürgen", "Beispielmann", "Lindenweg 7", ("55116", "Mainz"), "4000100003", date(1969, 8, 21)
        ),
        annual_premium=Decimal("893.12"),
        start=date(2016, 7, 1),
        commission_rate=Decimal("15.00"),
        previous_vsnr="56/417233",
        migration_date=date(2016, 10, 22),
    ),
    SandboxContract(
        vsnr="29650041287",
        vu_number="5438",
        sparte="040",
        product="Privathaftpflichtversicherung",
        customer=_person(
            "2", "Özlem", "Platzhalter", "Fiktivgasse 5", ("35390", "Gießen"), "4000100004", date(1990, 1, 30)
        ),
        annual_premium=Decimal("74.90"),
        start=date(2019, 3, 1),
        commission_rate=Decimal("20.00"),
    ),
    SandboxContract(
        vsnr="10330178864",
        vu_number="5438",
        sparte="030",
        product="Unfallversicherung",
        customer=_person(
            "1", "Max", "Mustermann", "Musterstraße 1", ("65189", "Wiesbaden"), "4000100005", date(1976, 5, 9)
        ),
        annual_premium=Decimal("238.80"),
        start=date(2020, 5, 1),
        payment_frequency=2,
        commission_rate=Decimal("20.00"),
    ),
    SandboxContract(
        vsnr="35781200456",
        vu_number="5438",
        sparte="070",
        product="Privat-Rechtsschutzversicherung",
        customer=_person(
            "2",
            "Lieselotte",
            "Probe-Müller",
            "Am Testhang 19",
            ("64283", "Darmstadt"),
            "4000100006",
            date(1955, 12, 24),
        ),
        annual_premium=Decimal("312.00"),
        start=date(2021, 2, 1),
        commission_rate=Decimal("12.50"),
    ),
    SandboxContract(
        vsnr="84002519731",
        vu_number="5438",
        sparte="040",
        product="Betriebshaftpflichtversicherung",
        customer=_company("Bäckerei Exempel e.K.", "Brötchenstraße 2", ("56068", "Koblenz"), "4000100007"),
        annual_premium=Decimal("1920.00"),
        start=date(2018, 1, 1),
        collection="1",
        commission_rate=Decimal("0"),  # 0 = Mischcourtagesatz in R+V's Saldenbestätigung
    ),
    SandboxContract(
        vsnr="34117705329",
        vu_number="5438",
        sparte="000",
        product="R+V-PrivatPolice",
        customer=_person(
            "1",
            "Björn",
            "Testmann",
            "Exempelallee 44",
            ("68159", "Mannheim"),
            "4000100008",
            date(1984, 7, 17),
        ),
        annual_premium=Decimal("456.72"),
        start=date(2017, 4, 1),
        commission_rate=Decimal("17.50"),
    ),
    SandboxContract(
        vsnr="44090312655",
        vu_number="5438",
        sparte="000",
        product="Gewerbebündelversicherung",
        customer=_company("Blumenhaus Grünfink OHG", "Marktplatz 8", ("35037", "Marburg"), "4000100009"),
        annual_premium=Decimal("1287.55"),
        start=date(2025, 1, 1),
        collection="1",
        commission_rate=Decimal("17.50"),
    ),
    SandboxContract(
        vsnr="70448102915",
        vu_number="1141",
        sparte="010",
        product="Kapitallebensversicherung",
        customer=_person(
            "1", "Hans", "Beispiel", "Dorfstraße 10", ("36037", "Fulda"), "4000100010", date(1970, 2, 28)
        ),
        annual_premium=Decimal("1200.00"),
        start=date(2005, 12, 1),
        commission_rate=Decimal("0"),
        tax_rate=Decimal("0"),  # life insurance premiums carry no Versicherungsteuer
        expiry=date(2035, 12, 1),
        previous_vsnr="70/851204",
        migration_date=date(2018, 4, 15),
    ),
    replace(_UNFALL_MERGED, vu_number="5339", status="4", abgangsgrund="37", abgangsdatum="00082024"),
    _UNFALL_MERGED,
)


def find_contract(vsnr: str, vu_number: str | None = None) -> SandboxContract:
    """The seeded contract with this VSNR (the live one unless ``vu_number`` picks another carrier)."""
    matches = [c for c in SANDBOX_CONTRACTS if c.vsnr == vsnr and vu_number in (None, c.vu_number)]
    if not matches:
        raise KeyError(vsnr)
    return next((c for c in matches if c.active), matches[0])
