"""The shapes of the CSV reader: a package's columns (:class:`Layout`, :class:`Column`), how a
file was written (:class:`CsvFormat`), and what reading it gives (:class:`Table`,
:class:`Record`, :class:`CsvWarning`). :mod:`.csvreader` reads files into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Final, Literal

from bipro_ruv.datapackages.values import header_key
from bipro_ruv.errors import ConfigurationError

__all__ = ["DELIMITERS", "Column", "CsvFormat", "CsvWarning", "Kind", "Layout", "Record", "Table"]

Kind = Literal["text", "amount", "percent", "date", "vsnr", "code"]
DELIMITERS: Final = (";", ",", "\t")


@dataclass(frozen=True)
class Column:
    """One column of a package: its English field name, the legend's German title, how its
    values are read, other names it has had, and whether a file must have it."""

    field: str
    title: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()
    required: bool = True
    codes: Any = None
    """For ``kind="code"``: the enum whose values are the known codes."""


@dataclass(frozen=True)
class Layout:
    """The columns of one package, and the key that names it (``saldenbestaetigung``).

    ``strict``: the layout is R+V's published one, an unknown column is an error (else kept in
    ``extra`` with a warning). ``header_search``: how many non-empty lines may come before the
    header. ``generations``: names of a layout's versions and the column names only that
    version has (the Courtage file before and after the LVRG), for :meth:`generation_of`.
    """

    kind: str
    title: str
    columns: tuple[Column, ...]
    strict: bool = True
    header_search: int = 1
    generations: tuple[tuple[str, tuple[str, ...]], ...] = ()

    renames: tuple[tuple[str, str], ...] = ()
    """Names given for a file (:meth:`renamed`): (name, field); they win over every built-in name."""

    @cached_property
    def known(self) -> dict[str, Column]:
        """Every name a column may have (:func:`header_key`) -> the column."""
        known: dict[str, Column] = {}
        for column in self.columns:
            for name in (column.title, *column.aliases):
                known.setdefault(header_key(name), column)  # a title or alias of an earlier column wins
        by_field = {column.field: column for column in self.columns}
        for name, field_name in self.renames:
            known[header_key(name)] = by_field[field_name]
        return known

    def renamed(self, names: Mapping[str, str | Sequence[str]]) -> Layout:
        """This layout with more names for some columns (field -> the name or names a file
        uses), for a file written with other headers than this version knows. Raises
        :class:`~bipro_ruv.errors.ConfigurationError` for a field the layout does not have."""
        fields = {column.field for column in self.columns}
        unknown = sorted(set(names) - fields)
        if unknown:
            raise ConfigurationError(
                f"the {self.title} has no column {unknown[0]!r}; its columns are: {', '.join(sorted(fields))}"
            )
        renames = list(self.renames)
        for field_name, given in names.items():
            for name in (given,) if isinstance(given, str) else tuple(given):
                renames.append((name, field_name))
        return replace(self, renames=tuple(renames))

    def generation_of(self, header: Sequence[str]) -> str | None:
        """Which of :attr:`generations` a header is (the one with most of its own names), or
        None for a layout without generations or a header with none of their names."""
        keys = {header_key(cell) for cell in header}
        best = max(
            ((sum(header_key(name) in keys for name in names), label) for label, names in self.generations),
            default=(0, None),
        )
        return best[1] if best[0] else None


@dataclass(frozen=True)
class CsvFormat:
    """How a file was written, as the reader found it."""

    encoding: str
    bom: bool
    delimiter: str
    decimal_comma: bool


@dataclass(frozen=True)
class CsvWarning:
    """Something readable but unexpected (an unknown code); ``line`` is the file's 1-based line."""

    code: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else ""
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Record:
    """One row of a file: the lines it spans (a quoted field may hold line breaks), how many
    fields it had, and its values by field (``extra``: the cells of columns the layout does
    not know, by their header name)."""

    line: int
    end: int
    fields: int
    values: dict[str, Any]


@dataclass
class Table:
    """The rows of one file, the header as written and where it was."""

    layout: Layout
    format: CsvFormat
    columns: list[Column | None]
    header: list[str]
    header_line: int
    text: str = field(repr=False)
    rows: list[Record] = field(default_factory=list)
    warnings: list[CsvWarning] = field(default_factory=list)

    def position(self, field_name: str) -> int | None:
        """The 0-based position of a field's column in the file, or None."""
        for i, column in enumerate(self.columns):
            if column is not None and column.field == field_name:
                return i
        return None

    def raw(self, record: Record) -> str:
        """The record's lines as they are in the file (line ends as LF)."""
        lines = self._lines
        return "\n".join(lines[record.line - 1 : record.end])

    @cached_property
    def _lines(self) -> list[str]:
        return self.text.split("\n")
