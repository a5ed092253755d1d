"""The contract book's drawing helpers: one ``random.Random``, the layouts of one release, persons and
contracts; the Sparte parts (:mod:`.book_leben`, :mod:`.book_sach`, :mod:`.book_kfz`) build on it.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from bipro_ruv.gdv.layouts import layouts_of
from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER
from bipro_ruv.sandbox.content.gdv_writer.encoding import _LEBEN_SPARTE, partial_date
from bipro_ruv.sandbox.content.gdv_writer.people import (
    _COMPANIES,
    _FEMALE,
    _HOUSE_SUFFIXES,
    _MALE,
    _MERGER_REASON,
    _PLACES,
    _SPARTE_CUMULATIVE,
    _SPARTE_ORDER,
    _SPARTEN,
    _STREETS,
    _SURNAMES,
    _Contract,
    _Key,
    _Person,
    _Planned,
)


class BookBase:
    """Draws contracts and their records from one ``random.Random``."""

    def __init__(self, rng: random.Random, release: str, created: date) -> None:
        self.rng = rng
        self.release = release
        self.layouts = layouts_of(release)
        self.created = created
        self.agency = AGENCY_NUMBER
        self.serial = 0
        self.serial_base = rng.randrange(10**9)
        self.key_head: dict[str, object] = {}
        self.head: dict[str, object] = {}

    # -- small draws -------------------------------------------------------------------------------------

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def digits(self, count: int) -> str:
        return f"{int(self.rng.random() * 10**count):0{count}d}"

    def money(self, low: int, high: int) -> Decimal:
        """An amount in EUR between low and high, in cents."""
        return Decimal(low * 100 + int(self.rng.random() * (high - low) * 100)).scaleb(-2)

    def day(self, first: date, last: date) -> date:
        return date.fromordinal(
            first.toordinal() + int(self.rng.random() * (last.toordinal() - first.toordinal()))
        )

    def has(self, key: _Key) -> bool:
        return key in self.layouts

    def fit(self, key: _Key, values: dict[str, object]) -> _Planned:
        """The record with only the fields its layout has in this release (for the few that differ)."""
        names = self.layouts[key].index
        return key, {name: value for name, value in values.items() if name in names}

    # -- the contract ------------------------------------------------------------------------------------

    def next_vsnr(self, sparte: str) -> str:
        self.serial += 1
        area = self.pick(_SPARTEN[sparte][1]) if sparte in _SPARTEN else "34"
        return f"{area}{(self.serial * 7919 + self.serial_base) % 10**9:09d}"

    def person(self, *, company: bool = False) -> _Person:
        surname = self.pick(_SURNAMES)
        postcode, city = self.pick(_PLACES)
        street = f"{self.pick(_STREETS)} {1 + int(self.rng.random() * 120)}{self.pick(_HOUSE_SUFFIXES)}"
        if company:
            return _Person(
                "3", self.pick(_COMPANIES).format(surname), "", "", postcode, city, street, None, " "
            )
        female = self.chance(0.5)
        born = self.day(date(1940, 1, 1), date(2006, 12, 31))
        title = "Dr." if self.chance(0.06) else ""
        first = self.pick(_FEMALE if female else _MALE)
        return _Person(
            "2" if female else "1",
            surname,
            first,
            title,
            postcode,
            city,
            street,
            born,
            "2" if female else "1",
        )

    def contract(
        self,
        vu: str,
        *,
        vsnr: str | None = None,
        sparte: str | None = None,
        numbering: BookBase | None = None,
    ) -> _Contract:
        """A new contract entry; ``numbering`` draws the VSNR (the main book, so numbers stay unique)."""
        draw = self.rng.random() * _SPARTE_CUMULATIVE[-1]
        drawn = _SPARTE_ORDER[bisect.bisect_right(_SPARTE_CUMULATIVE, draw)]
        bundled = self.chance(0.05)
        if sparte is None:
            sparte = "000" if bundled else drawn
        company = self.chance(0.15) and sparte != _LEBEN_SPARTE
        person = self.person(company=company)
        start = self.day(date(2005, 1, 1), self.created)
        start = start.replace(day=1)
        if sparte in ("010", "030"):  # long terms
            end = date(start.year + 12 + int(self.rng.random() * 25), start.month, 1)
        else:  # one year, renewed: the next anniversary after the file's date
            end = date(self.created.year, start.month, 1)
            end = end if end > self.created else date(self.created.year + 1, start.month, 1)
        contract = _Contract(
            vu=vu,
            vsnr=vsnr or (numbering or self).next_vsnr(sparte),
            sparte=sparte,
            product=self.pick(_SPARTEN[sparte][2]) if sparte in _SPARTEN else "PrivatPolice Komfort",
            person=person,
            customer_number=f"{int(self.rng.random() * 10**10):010d}",
            start=start,
            end=end,
            frequency=self.pick(("1", "1", "2", "4")),
            collection=self.pick(("2", "2", "2", "1")),
        )
        if self.chance(0.07):
            contract.status, contract.reason = "4", _MERGER_REASON
            month = date(self.created.year - int(self.rng.random() * 2), 1 + int(self.rng.random() * 12), 1)
            contract.cancelled = partial_date(f"00{month:%m%Y}") if self.chance(0.5) else month
        return contract
