"""Every R+V data package this version reads, and reading one: :func:`read_package`.

* ``saldenbestaetigung``: Saldenbestätigung, R+V's legend (:mod:`.legend`);
* ``sammelabrechnung``: Sammelabrechnung, R+V's legend (:mod:`.legend`);
* ``courtage``: Courtageabrechnung, both LVRG generations, assumed (:mod:`.assumed`);
* ``bestandsuebertragung``: Bestandsübertragungsliste, assumed (:mod:`.assumed`);
* ``kfz_beitragsvergleich``: KFZ-Beitragsvergleich (K-KINK), assumed (:mod:`.assumed`);
* ``condor_migration``: Condormigration-Vertragsliste, assumed (:mod:`.condor`).

The kind is found from the header (:func:`detect_kind`) when not given. Checks are warnings
on the result, never exceptions; :func:`balance_of_month` is R+V's rule that a month without
a Saldenbestätigung had a balance of 0,00 €.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bipro_ruv._wire.fs import storage_error
from bipro_ruv.datapackages.assumed import COURTAGE_TYPE, KFZ_VERGLEICH_TYPE, TRANSFER_TYPE
from bipro_ruv.datapackages.condor import CONDOR_MIGRATION_TYPE
from bipro_ruv.datapackages.csvreader import (
    CsvFormat,
    Layout,
    choose_delimiter,
    decode,
    header_key,
    read_table,
)
from bipro_ruv.datapackages.legend import SALDEN, SALDEN_TYPE, SAMMEL, SAMMEL_TYPE, SaldenRow, SammelRow
from bipro_ruv.datapackages.model import Package, PackageType
from bipro_ruv.errors import CsvFormatError

__all__ = [
    "LAYOUTS",
    "SALDEN",
    "SAMMEL",
    "TYPES",
    "Package",
    "SaldenRow",
    "SammelRow",
    "balance_of_month",
    "detect_kind",
    "read_package",
]

TYPES: dict[str, PackageType] = {
    package_type.kind: package_type
    for package_type in (
        SALDEN_TYPE,
        SAMMEL_TYPE,
        COURTAGE_TYPE,
        TRANSFER_TYPE,
        KFZ_VERGLEICH_TYPE,
        CONDOR_MIGRATION_TYPE,
    )
}
"""Every package type by its kind."""

LAYOUTS: dict[str, Layout] = {kind: package_type.layout for kind, package_type in TYPES.items()}

_HEADER_LINES = max(layout.header_search for layout in LAYOUTS.values())


def detect_kind(data: bytes) -> str:
    """Which package a file is, from its header: of the layouts whose required columns are all
    in it, the one that knows the most of its columns (then: that leaves the fewest unknown)."""
    text, _, _ = decode(data)
    lines = [line for line in text.split("\n", _HEADER_LINES * 4)[: _HEADER_LINES * 4] if line.strip()]
    if not lines:
        raise CsvFormatError("the file is empty")
    scores = []
    for kind, layout in LAYOUTS.items():
        required = {column.field for column in layout.columns if column.required}
        for header in lines[: layout.header_search]:
            _, cells = choose_delimiter(header, layout.known)
            keys = [header_key(cell) for cell in cells if cell.strip()]  # a trailing delimiter names nothing
            found = {layout.known[key].field for key in keys if key in layout.known}
            if required <= found:
                unknown = sum(1 for key in keys if key not in layout.known)
                if layout.strict and unknown:
                    continue
                scores.append((len(found), -unknown, kind))
                break
    if not scores:
        raise CsvFormatError(
            "line 1 is no header of a known data package "
            f"({', '.join(layout.title for layout in LAYOUTS.values())})",
            line=1,
        )
    return max(scores)[2]


def read_package(
    source: str | os.PathLike[str] | bytes,
    kind: str | None = None,
    *,
    names: Mapping[str, str | Sequence[str]] | None = None,
) -> Package:
    """A data package from a file (path) or its bytes; ``kind`` (see :data:`TYPES`) from the
    header when not given. ``names`` gives more header names for fields (field -> name or
    names), for a file whose columns are named otherwise than this version knows; it needs
    ``kind``. Raises :class:`~bipro_ruv.errors.CsvFormatError` for a file that cannot be read
    (naming the line and column), never for a readable oddity: those are ``warnings``."""
    if isinstance(source, bytes):
        data, name = source, "the file"
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise storage_error(exc, path, "read the data package") from exc
        name = str(path)
    if names and kind is None:
        raise CsvFormatError("other column names (names=) need the package kind (kind=)")
    if kind is None:
        kind = detect_kind(data)
    if kind not in TYPES:
        raise CsvFormatError(f"unknown data package kind {kind!r}; known: {', '.join(TYPES)}")
    package_type = TYPES[kind]
    layout = package_type.layout.renamed(names) if names else package_type.layout
    table = read_table(data, layout, source=name)
    warnings = [str(w) for w in table.warnings]
    rows: list[Any]
    if package_type.build is not None:
        rows, more = package_type.build(table)
        warnings.extend(more)
    else:
        rows = []
        for record in table.rows:
            values = dict(record.values)
            raw, number = values.pop("vsnr", (None, None))
            row = package_type.row(line=record.line, vsnr=number, vsnr_raw=raw, **values)
            rows.append(row)
            if package_type.check is not None:
                warnings.extend(str(w) for w in package_type.check(row))
    return Package(
        kind=kind,
        title=layout.title,
        source=name,
        format=_format(table.format),
        generation=layout.generation_of(table.header),
        rows=tuple(rows),
        warnings=tuple(warnings),
    )


def _format(found: CsvFormat) -> dict[str, Any]:
    return {
        "encoding": found.encoding,
        "bom": found.bom,
        "delimiter": found.delimiter,
        "decimal_comma": found.decimal_comma,
    }


def balance_of_month(files: Mapping[str, Package], month: str) -> Decimal:
    """The agency account's open balance at the end of ``month`` (``"2026-10"``) from the
    Saldenbestätigungen by month: R+V's rule (FAQ) is that a month without a file had no open
    items, so its balance is 0,00 €."""
    package = files.get(month)
    if package is None:
        return Decimal("0.00")
    return package.total("open_balance")
