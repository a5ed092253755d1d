"""What every data package is made of: the row base, the package, and a package type.

A :class:`PackageType` ties a :class:`~bipro_ruv.datapackages.csvreader.Layout` (the columns)
to its row model and its checks; :mod:`.packages` keeps the registry of the types this
version reads. Rows are pydantic models keyed by a normalized :class:`~bipro_ruv.vsnr.Vsnr`
with the text as written kept beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field

from bipro_ruv.datapackages.csvreader import CsvWarning, Layout, Table
from bipro_ruv.models import FrozenModel
from bipro_ruv.vsnr import Vsnr

__all__ = ["Package", "PackageRow", "PackageType", "amount_check"]


class PackageRow(FrozenModel):
    """The fields every row has: where it is in the file and its contract."""

    line: int = Field(..., description="The line of the file the row begins on")
    vsnr: Vsnr | None = Field(
        None, description="Versicherungsscheinnummer, normalized (None: none or unreadable)"
    )
    vsnr_raw: str | None = Field(None, description="As written in the file")
    extra: dict[str, str] = Field(
        default_factory=dict,
        description="Cells of columns the layout does not know, by header (assumed layouts only)",
    )


@dataclass(frozen=True)
class PackageType:
    """One kind of data package: its columns, its row model, the check per row, and whether
    its layout is R+V's published one (``public``) or this project's documented assumption.
    ``build`` replaces the generic row building where a package needs its own (the Condor
    migration list keeps unreadable rows apart instead of failing the file)."""

    layout: Layout
    row: type[Any]
    check: Callable[[Any], list[CsvWarning]] | None = None
    build: Callable[[Table], tuple[list[Any], list[str]]] | None = None
    amounts: tuple[str, ...] = ()
    """The amount fields a summary totals."""

    @property
    def kind(self) -> str:
        return self.layout.kind

    @property
    def public(self) -> bool:
        return self.layout.strict


class Package(FrozenModel):
    """A data package read from one file: its rows, how it was written, and the warnings."""

    kind: str
    title: str
    source: str
    format: dict[str, Any]
    generation: str | None = Field(
        None, description="The layout's version, where it has more than one (the Courtage file: LVRG)"
    )
    rows: tuple[Any, ...]
    warnings: tuple[str, ...] = ()

    def total(self, field: str) -> Decimal:
        """The sum of an amount column over all rows (blank cells count 0)."""
        return sum((getattr(row, field) or Decimal(0) for row in self.rows), Decimal(0))

    def by_contract(self, field: str) -> dict[str, Decimal]:
        """The sum of an amount column per contract (normalized VSNR, or the raw text, or "")."""
        sums: dict[str, Decimal] = {}
        for row in self.rows:
            key = str(row.vsnr) if row.vsnr else (row.vsnr_raw or "")
            sums[key] = sums.get(key, Decimal(0)) + (getattr(row, field) or Decimal(0))
        return sums


def amount_check(
    row: Any, parts: tuple[str, str], whole: str, titles: tuple[str, str, str], *, subtract: bool = False
) -> list[CsvWarning]:
    """A warning when ``parts[0] + parts[1]`` (or ``-``) is not ``whole``; blanks are not checked."""
    first, second, result = getattr(row, parts[0]), getattr(row, parts[1]), getattr(row, whole)
    if None in (first, second, result):
        return []
    expected = first - second if subtract else first + second
    if expected == result:
        return []
    sign = "-" if subtract else "+"
    return [
        CsvWarning(
            "sum",
            f"{titles[0]} {first} {sign} {titles[1]} {second} = {expected}, but {titles[2]} is {result}",
            row.line,
            titles[2],
        )
    ]
