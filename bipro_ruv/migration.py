"""Condor migrations: the VSNR translator.

:class:`VsnrTranslator` is the "Übersetzungsfunktion" R+V asks broker software for: it
maps a delivered VSNR back to the form the broker stored. Rules, in this order; the first
rule that finds anything decides, and more than one candidate is reported as ambiguous
instead of guessed:

1. ``EXACT``: same canonical number (separators, padding and Filialdirektion ignored).
2. ``SAME_NUMBER``: one side lacks the Arbeitsgebiet and the nine digits agree.
3. ``MIGRATION``: the migration list links the delivered number to a stored one (new to
   old and old to new; an old Condor number may have been split into several new ones),
   each counterpart matched by rules 1 and 2.

The migration list itself (R+V's "Condormigration-Vertragsliste") is a data package:
:func:`bipro_ruv.datapackages.condor.parse_migration_list` reads it into the
:class:`~bipro_ruv.datapackages.condor.CondorMigration` rows the translator takes (anything
with an ``old`` and a ``new`` :class:`~bipro_ruv.vsnr.Vsnr` will do: :class:`Migration`).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Protocol

from pydantic import Field

from bipro_ruv.errors import DataPackageError
from bipro_ruv.models import FrozenModel
from bipro_ruv.vsnr import Vsnr, VsnrKind

# DataPackageError was defined here once and stays importable from here.
__all__ = ["DataPackageError", "MatchRule", "Migration", "VsnrMatch", "VsnrTranslator"]


class Migration(Protocol):
    """One line of a migration list: the old number and the new one."""

    @property
    def old(self) -> Vsnr: ...

    @property
    def new(self) -> Vsnr: ...


class MatchRule(str, Enum):
    """Which rule of :class:`VsnrTranslator` found the stored number."""

    EXACT = "exact"
    SAME_NUMBER = "same_number"
    MIGRATION = "migration"


class VsnrMatch(FrozenModel):
    """The outcome of :meth:`VsnrTranslator.resolve`."""

    delivered: str | None = Field(..., description="The number as delivered")
    rule: MatchRule | None = Field(None, description="The rule that found candidates")
    candidates: tuple[str, ...] = Field((), description="Stored forms, as the broker stored them")

    @property
    def stored(self) -> str | None:
        """The one stored form, or None for no match or an ambiguous one."""
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def is_ambiguous(self) -> bool:
        return len(self.candidates) > 1


class VsnrTranslator:
    """Map delivered VSNRs to the forms a broker's system stored (rules: module docstring).

    ``stored`` are the numbers as the broker system holds them, in any written form;
    values that are no VSNR at all are kept in :attr:`unparsed` and never match. Both
    sides are read with ``Vsnr(..., validate=False)``, so a hand-typed number with an
    odd separator still matches.
    """

    def __init__(self, stored: Iterable[str], migrations: Iterable[Migration] = ()) -> None:
        self._by_key: dict[str, list[str]] = {}
        self._by_number: dict[str, list[tuple[Vsnr, str]]] = {}
        unparsed: list[str] = []
        for original in dict.fromkeys(stored):
            vsnr = Vsnr.try_parse(original, validate=False)
            if vsnr is None:
                unparsed.append(original)
                continue
            self._by_key.setdefault(str(vsnr), []).append(original)
            if vsnr.kind is VsnrKind.MODERN:
                self._by_number.setdefault(vsnr.number, []).append((vsnr, original))
        self.unparsed: tuple[str, ...] = tuple(unparsed)
        self._counterparts: dict[str, list[Vsnr]] = {}
        for record in migrations:
            self._counterparts.setdefault(str(record.old), []).append(record.new)
            self._counterparts.setdefault(str(record.new), []).append(record.old)

    def resolve(self, delivered: str | None) -> VsnrMatch:
        """Apply the rules in order; see :class:`VsnrMatch` for reading the outcome."""
        vsnr = Vsnr.try_parse(delivered, validate=False)
        if vsnr is None:
            return VsnrMatch(delivered=delivered)
        direct = self._direct(vsnr)
        if direct is not None:
            return VsnrMatch(delivered=delivered, rule=direct[0], candidates=direct[1])
        via: dict[str, None] = {}
        for counterpart in self._counterparts.get(str(vsnr), []):
            found = self._direct(counterpart)
            via.update(dict.fromkeys(found[1] if found else ()))
        if via:
            return VsnrMatch(delivered=delivered, rule=MatchRule.MIGRATION, candidates=tuple(via))
        return VsnrMatch(delivered=delivered)

    def match(self, delivered: str | None) -> str | None:
        """The stored form of ``delivered``; None if there is none or more than one."""
        return self.resolve(delivered).stored

    def match_all(self, delivered: str | None) -> tuple[str, ...]:
        """Every stored form the first successful rule found (more than one: ambiguous)."""
        return self.resolve(delivered).candidates

    def _direct(self, vsnr: Vsnr) -> tuple[MatchRule, tuple[str, ...]] | None:
        exact = self._by_key.get(str(vsnr))
        if exact:
            return MatchRule.EXACT, tuple(exact)
        if vsnr.kind is VsnrKind.MODERN:
            same = [
                original
                for stored, original in self._by_number.get(vsnr.number, [])
                if stored.is_complete != vsnr.is_complete
            ]
            if same:
                return MatchRule.SAME_NUMBER, tuple(same)
        return None
