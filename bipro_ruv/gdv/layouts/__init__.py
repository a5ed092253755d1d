"""The GDV VU-Vermittler record layouts, releases 2009, 2013, 2015, 2018 and 2023.

The tables in ``_relYYYY.py`` are generated from the GDV's own format description by
``tools/gen_gdv_layouts.py`` and committed; nothing here reads XML. A :class:`Layout` is
one Teildatensatz of one Satzart (for 0210-0230 of one Sparte, for Leben 0220/0221.010 of
one Wagnisart group): its fields with English name, German Bezeichnung, 1-based first
column, length, kind and decimals.

Which release a record is read with is chosen per Datenpaket and per Satzart from the
version numbers in the Vorsatz (GDV: "Die Versionsnummern der Satzarten ... im Vorsatz";
gdv-format.md §1.6): :func:`choose_release`.

Each layout builds, on first use, a decoder that cuts the record text into its fields and
converts each through the rules of :mod:`bipro_ruv.gdv.values` (see :func:`_compile`),
building a :class:`Part` (a ``tuple`` subclass with one attribute per field). That is the
representation the parse speed and memory goals of issue 11 chose; see the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import import_module
from operator import getitem, itemgetter
from typing import Any, ClassVar, Final, NamedTuple

from bipro_ruv.gdv import values as _values

try:
    from bipro_ruv.gdv import _speedups
except ImportError:  # built without a C compiler: the pure-Python decoder, same values, slower
    _speedups = None  # type: ignore[assignment]

__all__ = [
    "ACCELERATED",
    "RELEASES",
    "WAGNISART_GROUPS",
    "Field",
    "Layout",
    "Part",
    "choose_release",
    "layouts_of",
]

ACCELERATED: Final = _speedups is not None and not os.environ.get("BIPRO_RUV_PURE_PYTHON")
"""True when the compiled field decoder (``bipro_ruv/gdv/_speedups.c``) is built and used.

It is built when the package is installed on a machine with a C compiler; without one the
install still works and the pure-Python decoder gives the same values, about half as fast.
The environment variable ``BIPRO_RUV_PURE_PYTHON=1`` chooses the pure-Python decoder."""

RELEASES: Final = ("2009", "2013", "2015", "2018", "2023")
WAGNISART_GROUPS: Final = {
    "0": "0",
    "1": "13",
    "3": "13",
    "2": "2",
    "4": "48",
    "8": "48",
    "5": "5",
    "6": "6",
    "7": "7",
    "9": "9",
}
"""Leben 0220/0221.010: the Wagnisart at col 60 chooses the layout; 1/3 and 4/8 share one (GDV tables)."""
NEWEST: Final = RELEASES[-1]


class Field(NamedTuple):
    """One field of a Teildatensatz."""

    name: str
    """English snake_case name (``total_premium_net``)."""
    german: str
    """The GDV's Bezeichnung (``Gesamtbeitrag (Netto) in Währungseinheiten``)."""
    start: int
    """First byte column, 1-based as in the GDV tables."""
    length: int
    kind: str
    """``N`` numeric, ``A`` alphanumeric, ``D`` date, ``F`` amount with implied decimals,
    ``S`` the ``+``/``-`` sign of the amount before it."""
    decimals: int

    @property
    def end(self) -> int:
        """Last byte column, 1-based and inclusive."""
        return self.start + self.length - 1


class Part(tuple[Any, ...]):
    """One decoded Teildatensatz: a tuple of field values, each also an attribute.

    ``part.total_premium_net``, ``part["total_premium_net"]`` and ``part[i]`` (the i-th
    field of :attr:`layout`) read the same value. :meth:`as_dict` gives name -> value.
    """

    __slots__ = ()
    layout: ClassVar[Layout]

    def __getitem__(self, key: Any) -> Any:
        if type(key) is str:
            try:
                key = self.layout.index[key]
            except KeyError:
                raise KeyError(f"{self.layout} has no field {key!r}") from None
        return tuple.__getitem__(self, key)

    def get(self, name: str, default: Any = None) -> Any:
        position = self.layout.index.get(name)
        return default if position is None else tuple.__getitem__(self, position)

    def at(self, column: int) -> Any:
        """The value of the field that begins at ``column`` (1-based), ``None`` if none does.

        Frame records are read this way where the field names differ between releases."""
        position = self.layout.columns.get(column)
        return None if position is None else tuple.__getitem__(self, position)

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self.layout.names, self, strict=True))

    @property
    def number(self) -> int:
        """The Teildatensatz number (1, 2, ...; 6-9 for Leben's Erweiterungssätze)."""
        return self.layout.part

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items() if v is not None)
        return f"<{self.layout} {shown}>"

    def __reduce__(self) -> tuple[Any, ...]:
        layout = self.layout
        key = (layout.release, layout.satzart, layout.sparte, layout.wagnis, layout.part)
        return (_rebuild_part, (key, tuple(self)))


def _rebuild_part(key: tuple[str, str, str, str, int], items: tuple[Any, ...]) -> Part:
    release, *rest = key
    layout = layouts_of(release)[tuple(rest)]  # type: ignore[index]
    return tuple.__new__(layout.part_class, items)


class Layout:
    """One Teildatensatz layout of one release."""

    __slots__ = (
        "__dict__",
        "columns",
        "decoder",
        "fields",
        "group",
        "index",
        "names",
        "part",
        "release",
        "repeat_columns",
        "satzart",
        "satznummer_column",
        "sparte",
        "version",
        "wagnis",
    )

    def __init__(
        self,
        release: str,
        key: tuple[str, str, str, int],
        version: str,
        satznummer_column: int,
        fields: tuple[Field, ...],
        repeat_columns: tuple[int, ...] = (),
    ) -> None:
        self.release = release
        self.satzart, self.sparte, self.wagnis, self.part = key
        self.group = ".".join(x for x in (self.satzart, self.sparte, self.wagnis) if x)
        """``0220.010.2``: the Teildatensätze of one group form one Datensatz."""
        self.version = version
        self.satznummer_column = satznummer_column
        """1-based column of the Teildatensatz number, 0 when this Teildatensatz has none."""
        self.repeat_columns = repeat_columns
        """Columns where the number is repeated (0220.030 TD 3, 4, 9: "Satznummernwiederholung")."""
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.index = {f.name: i for i, f in enumerate(fields)}
        self.columns = {f.start: i for i, f in enumerate(fields)}
        self.decoder: Any = None
        """``decoder(text) -> Part``, set by :meth:`compile` (the parser's hot path reads it)."""

    def __repr__(self) -> str:
        return f"Layout({self})"

    def __str__(self) -> str:
        kind = ".".join(x for x in (self.satzart, self.sparte, self.wagnis) if x)
        return f"{kind} TD{self.part} (release {self.release}, version {self.version})"

    @property
    def part_class(self) -> type[Part]:
        cached = self.__dict__.get("part_class")
        if cached is None:
            namespace: dict[str, Any] = {"__slots__": (), "layout": self}
            for i, name in enumerate(self.names):
                if not hasattr(Part, name):
                    namespace[name] = property(itemgetter(i), doc=self.fields[i].german)
            label = "_".join(x for x in (self.satzart, self.sparte, self.wagnis) if x)
            cached = type(f"Part_{label}_{self.part}_{self.release}", (Part,), namespace)
            self.__dict__["part_class"] = cached
        return cached

    def compile(self) -> Any:
        """Compile the decoder once; returns it (the compiled one when :data:`ACCELERATED`)."""
        if self.decoder is None:
            self.decoder = _compile_c(self) if ACCELERATED else _compile(self)
        return self.decoder

    def decode(self, text: str) -> Part:
        """The :class:`Part` of one 256-character record text."""
        return self.compile()(text)  # type: ignore[no-any-return]


_KEY_FIELDS_END: Final = 42
"""Fields 1-7 (Satzart ... Geschäftsstelle/Vermittler) end at col 42 in every 01xx-06xx record."""


def _converter(field: Field) -> Any:
    """The memo that turns a field's text into its value (``converter[text]``)."""
    if field.kind == "F":
        return _values.amounts(field.length, field.decimals)
    if field.kind == "N":
        return _values.numbers(field.length)
    if field.kind == "D":
        return _values.DATE
    if field.kind == "S":
        return _values.SIGN
    if field.start == 14 and field.length == 17:  # the VSNR: right-aligned
        return _values.VSNR
    if field.start <= _KEY_FIELDS_END or field.length <= 3 or field.name.startswith("filler"):
        return _values.TEXT  # key fields, short codes and fillers repeat
    return _values.texts(field.length)


def _compile(layout: Layout) -> Any:
    """Build the decoder of one layout: ``decoder(text) -> Part``.

    The fields are cut in one C call (``operator.itemgetter`` of slices) and converted in
    one C-level loop (``map(getitem, converters, texts)``): each field's converter is a dict
    from text to value,

    * a memo for values that repeat (key fields, codes, dates, short numbers, percentages,
      fillers): a miss converts once and keeps the value;
    * for currency amounts, long numbers and free text, which vary more, a dict of the
      common texts (blank, zeros) that converts anything else and keeps a smaller window
      (which also shares repeated values in memory);

    all bounded (a full memo empties itself), so a field costs a slice and a dict lookup
    unless its text is new. A ``-`` in a sign field negates its amount afterwards. Invalid
    values are counted where they are made and never kept in a memo, so every occurrence is
    warned about.

    Measured on generated R+V files (benchmarks/bench_gdv_parse.py) against straight-line
    generated code, memos of whole runs of fields and column-wise decoding: within a few
    per cent of each other; this is the simplest.
    """
    fields = layout.fields
    cut = itemgetter(*(slice(f.start - 1, f.start - 1 + f.length) for f in fields))
    converters = tuple(_converter(f) for f in fields)
    signs = [
        (i, field.start + field.length - 1)
        for i, field in enumerate(fields)
        if field.kind == "F" and i + 1 < len(fields) and fields[i + 1].kind == "S"
    ]
    new, cls = tuple.__new__, layout.part_class

    if not signs:

        def decode(text: str) -> Part:
            return new(cls, map(getitem, converters, cut(text)))

        return decode

    sign_bytes = itemgetter(*(column for _, column in signs)) if len(signs) > 1 else None
    sign_column = signs[0][1]
    negate = _values.negate

    def decode_signed(text: str) -> Part:
        if "-" not in (sign_bytes(text) if sign_bytes is not None else text[sign_column]):
            return new(cls, map(getitem, converters, cut(text)))
        values = list(map(getitem, converters, cut(text)))
        for index, column in signs:
            if text[column] == "-":
                values[index] = negate(values[index])
        return new(cls, values)

    return decode_signed


def _compile_c(layout: Layout) -> Any:
    """The compiled decoder of one layout (``bipro_ruv/gdv/_speedups.c``).

    It takes the usual shapes of each field itself (blank, all digits, a valid date, plain
    text) and hands everything else to the field's memo, the converter :func:`_compile`
    uses, so both decoders give the same values (the tests compare them); a record that
    is not one-byte text goes to the pure-Python decoder whole.
    """
    assert _speedups is not None
    fields = layout.fields
    spec = []
    for i, field in enumerate(fields):
        memo = _converter(field)
        if field.kind == "F":
            kind = _speedups.K_AMOUNT
        elif field.kind == "D":
            kind = _speedups.K_DATE
        elif field.kind == "N":
            kind = _speedups.K_NUM
        elif field.kind == "A" and memo is not _values.VSNR:
            kind = _speedups.K_TEXT
        else:
            kind = _speedups.K_MEMO  # sign bytes and the VSNR: the memo does it all
        signed = field.kind == "F" and i + 1 < len(fields) and fields[i + 1].kind == "S"
        sign = field.start + field.length - 1 if signed else -1
        spec.append((field.start - 1, field.length, kind, field.decimals, sign, memo.limit, memo))
    return _speedups.decoder(layout.part_class, tuple(spec), _compile(layout))


@cache
def layouts_of(release: str) -> Mapping[tuple[str, str, str, int], Layout]:
    """All layouts of one release, by (Satzart, Sparte, Wagnisart group, Teildatensatz)."""
    if release not in RELEASES:
        raise ValueError(f"unknown GDV release {release!r}; known: {', '.join(RELEASES)}")
    table = import_module(f"bipro_ruv.gdv.layouts._rel{release}")
    result: dict[tuple[str, str, str, int], Layout] = {}
    for key, (version, satznummer, repeats, fields) in table.LAYOUTS.items():
        result[key] = Layout(release, key, version, satznummer, tuple(Field(*f) for f in fields), repeats)
    # A Teildatensatz unchanged in a newer release is that release's Layout (one object, one
    # compiled decoder; its ``release`` says which table holds it).
    for key, newer in table.SAME_AS.items():
        result[key] = layouts_of(newer)[key]
    return dict(sorted(result.items()))


@cache
def versions_of(release: str) -> Mapping[tuple[str, str], str]:
    """Version number per (Satzart, Sparte) in one release."""
    return dict(import_module(f"bipro_ruv.gdv.layouts._rel{release}").VERSIONS)


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in version.split("."))
    except ValueError:
        return (-1,)


def choose_release(satzart: str, sparte: str, version: str | None) -> tuple[str, bool]:
    """The release to read (Satzart, Sparte) with, for the version the Vorsatz states.

    Returns ``(release, exact)``: the newest release whose table has exactly that version,
    else the newest release older than it (``exact`` False), else the oldest (a version
    older than release 2009, like the 1.9 of the GDV's 2004 sample), else the newest when
    the Vorsatz states no version.
    """
    if not version:
        return NEWEST, False
    exact = [r for r in RELEASES if versions_of(r).get((satzart, sparte)) == version]
    if exact:
        return exact[-1], True
    wanted = _version_key(version)
    older = [
        r
        for r in RELEASES
        if (satzart, sparte) in versions_of(r) and _version_key(versions_of(r)[(satzart, sparte)]) < wanted
    ]
    if older:
        return older[-1], False
    return RELEASES[0], False


def iter_supported() -> Iterator[tuple[str, str]]:
    """Every (Satzart, Sparte) the parser decodes, in any release."""
    seen: set[tuple[str, str]] = set()
    for release in RELEASES:
        for satzart, sparte in versions_of(release):
            if (satzart, sparte) not in seen:
                seen.add((satzart, sparte))
                yield satzart, sparte
