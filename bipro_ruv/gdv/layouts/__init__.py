"""The GDV VU-Vermittler record layouts, releases 2009, 2013, 2015, 2018 and 2023.

The tables in ``_relYYYY.py`` are generated from the GDV's own format description by
``tools/gen_gdv_layouts.py`` and committed; nothing here reads XML. A :class:`Layout` is
one Teildatensatz of one Satzart (for 0210-0230 of one Sparte, for Leben 0220/0221.010 of
one Wagnisart group): its fields with English name, German Bezeichnung, 1-based first
column, length, kind and decimals.

Which release a record is read with is chosen per Datenpaket and per Satzart from the
version numbers in the Vorsatz (GDV: "Die Versionsnummern der Satzarten ... im Vorsatz";
gdv-format.md §1.6): :func:`choose_release`.

Each layout compiles, on first use, a decoder: straight-line Python that slices the
record text once per field and converts through the memos of :mod:`bipro_ruv.gdv.values`,
building a :class:`Part` (a ``tuple`` subclass with one attribute per field). That is the
representation the parse speed and memory goals of issue 11 chose; see the README.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from importlib import import_module
from operator import itemgetter
from typing import Any, ClassVar, Final, NamedTuple

from bipro_ruv.gdv import values as _values

__all__ = ["RELEASES", "Field", "Layout", "Part", "choose_release", "layouts_of"]

RELEASES: Final = ("2009", "2013", "2015", "2018", "2023")
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
        """Compile the decoder once; returns it."""
        if self.decoder is None:
            self.decoder = _compile(self)
        return self.decoder

    def decode(self, text: str) -> Part:
        """The :class:`Part` of one 256-character record text."""
        return self.compile()(text)  # type: ignore[no-any-return]


_RUN_LIMIT: Final = 512
"""Entries per run memo (see :func:`_compile`); a full memo empties itself."""


def _runnable(field: Field) -> bool:
    """Fields whose text repeats across records: keys, codes, dates, small numbers, fillers."""
    if field.kind == "A":
        return field.start <= 42 or field.length <= 3 or field.name.startswith("filler")
    if field.kind == "F":
        return field.length < 9  # percentages and rates; currency amounts vary
    return True


def _compile(layout: Layout) -> Any:
    """Write and compile the straight-line decoder of one layout.

    Each field is sliced once and converted through a memo of :mod:`bipro_ruv.gdv.values`.
    Consecutive fields whose text tends to repeat (the key fields 1-7 on every record of a
    contract, codes, dates, zero amounts, fillers) form a *run*: the run's whole text is
    looked up first, and on a hit one dict lookup gives all its values. A miss decodes the
    fields one by one and remembers the run, unless a value was invalid (so every invalid
    occurrence is counted and warned about).
    """
    env: dict[str, Any] = {
        "_new": tuple.__new__,
        "_cls": layout.part_class,
        "N": _values.NUMERIC,
        "D": _values.DATE,
        "T": _values.TEXT,
        "V": _values.VSNR,
        "neg": _values.negate,
        "INV": _values.INVALID,
        "LIMIT": _RUN_LIMIT,
    }
    fields = layout.fields

    def expression(i: int) -> str:
        field = fields[i]
        a, b = field.start - 1, field.start - 1 + field.length
        piece = f"s[{a}:{b}]"
        if field.kind == "F":
            memo = f"F{field.decimals}"
            env[memo] = _values.amount_memo(field.decimals)
            text = f"{memo}[{piece}]"
            following = fields[i + 1] if i + 1 < len(fields) else None
            if following is not None and following.kind == "S":
                text = f"({text} if s[{b}] != '-' else neg({text}))"
            return text
        if field.kind == "N":
            return f"N[{piece}]"
        if field.kind == "D":
            return f"D[{piece}]"
        if field.start == 14 and field.length == 17:  # the VSNR: right-aligned
            return f"V[{piece}]"
        if field.start <= 42 or field.length <= 3 or field.kind == "S" or field.name.startswith("filler"):
            return f"T[{piece}]"  # key fields and short codes repeat: memoised
        return f"({piece}.rstrip() or None)"

    # Group consecutive runnable fields.
    groups: list[list[int]] = []
    for i, field in enumerate(fields):
        if _runnable(field) and groups and len(groups[-1]) and _runnable(fields[groups[-1][-1]]):
            groups[-1].append(i)
        else:
            groups.append([i])
    body: list[str] = []
    items: list[str] = []
    for number, group in enumerate(groups):
        if len(group) == 1 or not _runnable(fields[group[0]]):
            items.extend(expression(i) for i in group)
            continue
        first, last = fields[group[0]], fields[group[-1]]
        a, b = first.start - 1, last.start - 1 + last.length
        memo = f"R{number}"
        env[memo] = {}
        values = ", ".join(expression(i) for i in group)
        body += [
            f"    k{number} = s[{a}:{b}]",
            f"    r{number} = {memo}.get(k{number})",
            f"    if r{number} is None:",
            "        c = INV.count",
            f"        r{number} = ({values},)",
            "        if INV.count == c:",
            f"            if len({memo}) >= LIMIT:",
            f"                {memo}.clear()",
            f"            {memo}[k{number}] = r{number}",
        ]
        items.append(f"*r{number}")
    source = "def decode(s):\n" + "\n".join(body) + "\n    return _new(_cls, (" + ", ".join(items) + ",))\n"
    code = compile(source, f"<gdv layout {layout}>", "exec")
    exec(code, env)  # noqa: S102 - our own generated source from the committed tables
    return env["decode"]


@cache
def layouts_of(release: str) -> Mapping[tuple[str, str, str, int], Layout]:
    """All layouts of one release, by (Satzart, Sparte, Wagnisart group, Teildatensatz)."""
    if release not in RELEASES:
        raise ValueError(f"unknown GDV release {release!r}; known: {', '.join(RELEASES)}")
    table = import_module(f"bipro_ruv.gdv.layouts._rel{release}")
    result: dict[tuple[str, str, str, int], Layout] = {}
    for key, (version, satznummer, repeats, fields) in table.LAYOUTS.items():
        result[key] = Layout(release, key, version, satznummer, tuple(Field(*f) for f in fields), repeats)
    return result


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
