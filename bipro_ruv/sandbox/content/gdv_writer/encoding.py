"""One GDV record of any layout the parser knows (releases 2009-2023), from a dict of field values.

A value that does not fit raises :class:`ValueError`; the writer never cuts. :func:`expected_values` says
what a reader must decode from it (the ground truth of a round trip).
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bipro_ruv.gdv.layouts import Field, Layout
from bipro_ruv.gdv.values import FieldValue, PartialDate
from bipro_ruv.sandbox.content.gdv_writer.seeded import DEFAULT_ENCODING, RECORD_LENGTH

# == Records of any layout: the encoder ===================================================================
#
# The layouts are the parser's own tables (bipro_ruv.gdv.layouts, releases 2009-2023); only those tables and
# the value types are imported here, never the parser. A round trip through the parser therefore tests its
# decoding, record routing and version choice (not the tables themselves).

_MONTH_FIELD = 6
"""A D field of 6 bytes is MMJJJJ ("Produktform gültig ab")."""

_LEBEN_SPARTE = "010"
_WAGNIS_COLUMN = 60

_Converter = Callable[[Any], str]


def _too_long(field: Field, value: object, size: int) -> ValueError:
    return ValueError(
        f"{field.name} (cols {field.start}-{field.end}) holds {field.length} bytes; {value!r} needs {size}"
    )


def _wrong_type(field: Field, value: object, wanted: str) -> ValueError:
    return ValueError(f"{field.name} (cols {field.start}-{field.end}) takes {wanted}, not {value!r}")


def _text_converter(field: Field, codec: str | None, *, right: bool) -> _Converter:
    """A: left-aligned, blank-padded (the VSNR right-aligned); ``codec`` set = count bytes, not characters."""
    width = field.length

    def convert(value: Any) -> str:
        if type(value) is not str:
            raise _wrong_type(field, value, "a str")
        text: str = value
        if not text.isprintable():
            raise ValueError(f"{field.name}: {text!r} holds a control character (a line break ends a record)")
        if codec is not None and not text.isascii():
            try:
                text = text.encode(codec).decode("latin-1")  # one character per byte from here on
            except UnicodeEncodeError as exc:
                raise ValueError(f"{field.name}: {value!r} cannot be written in {codec}") from exc
        if len(text) > width:
            raise _too_long(field, value, len(text))
        return text.rjust(width) if right else text.ljust(width)

    return convert


def _number_converter(field: Field) -> _Converter:
    """N: right-aligned, zero-padded digits; a ``str`` keeps its leading zeros, an ``int`` gets them."""
    width = field.length

    def convert(value: Any) -> str:
        kind = type(value)
        if kind is str:
            if not (value.isascii() and value.isdigit()):
                if value == "":
                    return " " * width
                raise _wrong_type(field, value, "digits")
            text: str = value
        elif kind is int and value >= 0:
            text = str(value)
        else:
            raise _wrong_type(field, value, "digits (str) or an int >= 0")
        if len(text) > width:
            raise _too_long(field, value, len(text))
        return text.rjust(width, "0")

    return convert


def _amount_converter(field: Field, *, signed: bool) -> _Converter:
    """F: the amount's digits with its implied decimals, zero-padded; the sign goes to the S field next."""
    width, decimals = field.length, field.decimals

    def convert(value: Any) -> str:
        kind = type(value)
        if kind is int:
            value = Decimal(value)
        elif kind is not Decimal:
            raise _wrong_type(field, value, "a Decimal or an int")
        if not value.is_finite():
            raise _wrong_type(field, value, "a finite amount")
        scaled = value.scaleb(decimals)
        units = int(scaled)
        if units != scaled:
            raise ValueError(f"{field.name} has {decimals} decimals; {value} would have to be rounded")
        if units < 0:
            if not signed:
                raise ValueError(
                    f"{field.name} (cols {field.start}-{field.end}) has no sign field for {value}"
                )
            units = -units
        text = str(units)
        if len(text) > width:
            raise _too_long(field, value, len(text))
        return text.rjust(width, "0")

    return convert


def partial_date(raw: str) -> PartialDate:
    """The :class:`~bipro_ruv.gdv.PartialDate` a GDV date field with ``00`` parts states (``00082024``)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) in (6, 8)):
        raise ValueError(f"a GDV date is TTMMJJJJ or MMJJJJ digits, not {raw!r}")
    day, month, year = (
        (0, int(raw[:2]), int(raw[2:])) if len(raw) == 6 else (int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    )
    if month > 12 or day > 31 or not (month or year):
        raise ValueError(f"{raw!r} is no GDV date")
    if year == 0:
        if len(raw) == _MONTH_FIELD or not (day and month):
            raise ValueError(f"{raw!r}: without a year, day and month must be given")
        date(2000, month, day)  # a leap year: 29.02. passes, 31.04. raises ValueError
    elif len(raw) == 8 and day and month:
        raise ValueError(f"{raw!r} is a complete date; pass a datetime.date")
    return PartialDate(raw, year or None, month or None, day or None)


def _date_converter(field: Field) -> _Converter:
    """D: TTMMJJJJ (MMJJJJ for 6-byte fields); a :class:`PartialDate` writes its raw text."""
    width = field.length

    def convert(value: Any) -> str:
        if isinstance(value, date):
            if width == _MONTH_FIELD:
                if value.day != 1:
                    raise ValueError(
                        f"{field.name} is MMJJJJ and cannot hold the day of {value}; "
                        "pass the 1st of the month or a PartialDate"
                    )
                return f"{value.month:02d}{value.year:04d}"
            if width != 8:
                raise ValueError(f"{field.name}: a {width}-byte date field is not TTMMJJJJ")
            return f"{value.day:02d}{value.month:02d}{value.year:04d}"
        if type(value) is PartialDate:
            if len(value.raw) != width or partial_date(value.raw) != value:
                raise ValueError(f"{field.name}: {value!r} is no {width}-digit GDV date")
            return value.raw
        raise _wrong_type(field, value, "a datetime.date or a PartialDate")

    return convert


def _sign_converter(field: Field) -> _Converter:
    def convert(value: Any) -> str:
        if value in ("+", "-", " ", ""):
            return str(value) or " "
        raise _wrong_type(field, value, "'+', '-' or ' '")

    return convert


def _fixed_converter(field: Field, allowed: Collection[str]) -> _Converter:
    """A key field the layout fixes (Satzart, Sparte, Satznummer, Wagnisart): a given value must agree."""

    def convert(value: Any) -> str:
        text = str(value).rjust(field.length, "0") if field.kind == "N" and type(value) is int else value
        if text not in allowed:
            raise ValueError(f"{field.name} of this layout is {' or '.join(sorted(allowed))}, not {value!r}")
        return str(text)

    return convert


def _fixed_values(layout: Layout) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (value written when none is given, values allowed) for the key fields the layout fixes."""
    fixed: dict[str, tuple[str, frozenset[str]]] = {}
    for field in layout.fields:
        value: str | None = None
        allowed: frozenset[str] | None = None
        if field.start == 1 and field.name == "record_type":
            value = layout.satzart
        elif field.start == 11 and field.name == "line_of_business" and layout.sparte:
            value = layout.sparte
        elif field.start == layout.satznummer_column or field.name == "part_number_repeat":
            value = str(layout.part)
        elif field.start == _WAGNIS_COLUMN and layout.wagnis and layout.sparte == _LEBEN_SPARTE:
            value, allowed = layout.wagnis[0], frozenset(layout.wagnis)
        if value is not None:
            if len(value) != field.length:
                raise ValueError(f"{layout}: fixed value {value!r} does not fill {field.name}")
            fixed[field.name] = (value, allowed or frozenset({value}))
    return fixed


_MEMO_LIMIT = 4096
_COMPILED_LIMIT = 256
_COMPILE_AFTER = 16


def _blank_aware(convert: _Converter, blank: str) -> _Converter:
    def blank_or_convert(value: Any) -> str:
        return blank if value is None else convert(value)

    return blank_or_convert


def _memoised(convert: _Converter, blank: str, memo: dict[Any, str], types: tuple[type, ...]) -> _Converter:
    """``convert`` that remembers its pieces for values of ``types`` (amounts, dates: they repeat)."""

    def remember(value: Any) -> str:
        if value is None:
            return blank
        piece = convert(value)
        if type(value) in types and len(memo) < _MEMO_LIMIT:
            memo[value] = piece
        return piece

    return remember


def fixed_fields(layout: Layout) -> dict[str, tuple[str, frozenset[str]]]:
    """The key fields ``layout`` fixes: name -> (value written when none is given, values allowed).

    Satzart, the Sparte of 0210-0230, the Satznummer (and its repetition) and Leben's Wagnisart (col 60,
    ``1`` or ``3`` for the group ``13``).
    """
    return dict(_fixed_values(layout))


class _Encoder:
    """One layout's encoder: a template of 256 characters in field pieces, and a converter per field.

    For speed, each set of field names it is called with (the generator's records repeat a few) gets a
    compiled function: one expression per field, the common case inline (a text that fits, a remembered
    amount or date), the converter only for the rest. Anything unusual takes the plain loop.
    """

    __slots__ = ("codec", "compiled", "fixed", "layout", "memos", "seen", "sign_fields", "slots", "template")

    def __init__(self, layout: Layout, codec: str | None) -> None:
        self.layout = layout
        self.codec = codec
        self.fixed = _fixed_values(layout)
        self.template: list[str] = []
        self.slots: dict[str, tuple[int, _Converter, int]] = {}
        self.sign_fields: dict[str, int] = {}
        """S field name -> index of the amount it signs."""
        self.compiled: dict[tuple[str, ...], Callable[..., str]] = {}
        self.seen: dict[tuple[str, ...], int] = {}
        self.memos: dict[int, dict[Any, str]] = {}
        fields = layout.fields
        for index, field in enumerate(fields):
            following = fields[index + 1] if index + 1 < len(fields) else None
            sign_index = index + 1 if following is not None and following.kind == "S" else -1
            convert: _Converter
            if field.name in self.fixed:
                value, allowed = self.fixed[field.name]
                self.template.append(value)
                convert = _fixed_converter(field, allowed)
            else:
                self.template.append(" " * field.length)
                if field.kind == "A":
                    right = field.name == "vsnr" and field.start == 14
                    convert = _text_converter(field, codec, right=right)
                elif field.kind == "N":
                    convert = _number_converter(field)
                elif field.kind == "F":
                    convert = _amount_converter(field, signed=sign_index >= 0)
                elif field.kind == "D":
                    convert = _date_converter(field)
                elif field.kind == "S":
                    convert = _sign_converter(field)
                    if index and fields[index - 1].kind == "F":
                        self.sign_fields[field.name] = index - 1
                else:
                    raise ValueError(f"{layout}: field {field.name} has unknown kind {field.kind!r}")
            self.slots[field.name] = (index, convert, sign_index if field.kind == "F" else -1)

    def __call__(self, values: Mapping[str, object]) -> str:
        names = tuple(values)
        fast = self.compiled.get(names)
        if fast is None:
            seen = self.seen.get(names, 0) + 1
            self.seen[names] = seen
            if seen == _COMPILE_AFTER:  # compile what repeats: one compile costs about 40 plain records
                fast = self._compile(names)
        if fast is not None:
            try:
                return fast(*values.values())
            except TypeError:  # an unhashable or odd value: the plain loop says what is wrong
                pass
        return self.encode(values)

    def encode(self, values: Mapping[str, object]) -> str:
        """The plain loop: every given field through its converter."""
        pieces = self.template.copy()
        slots = self.slots
        try:
            for name, value in values.items():
                if value is None:
                    continue
                index, convert, sign = slots[name]
                pieces[index] = convert(value)
                if sign >= 0:
                    pieces[sign] = "-" if value < 0 else "+"  # type: ignore[operator]
        except KeyError as exc:
            raise ValueError(f"{self.layout} has no field {exc.args[0]!r}") from None
        if self.sign_fields and not self.sign_fields.keys().isdisjoint(values):
            self._check_signs(values, pieces)
        return "".join(pieces)

    def _check_signs(self, values: Mapping[str, object], pieces: list[str]) -> None:
        """A sign given next to its amount must be the amount's sign (or blank for a zero amount)."""
        for name, amount_index in self.sign_fields.items():
            amount = values.get(self.layout.fields[amount_index].name)
            if name in values and isinstance(amount, int | Decimal):
                given = str(values[name] or " ")
                if given != ("-" if amount < 0 else "+") and not (given == " " and amount == 0):
                    raise ValueError(f"{name} says {given!r} but the amount before it is {amount}")
                pieces[amount_index + 1] = given

    def _compile(self, names: tuple[str, ...]) -> Callable[..., str] | None:
        """The straight-line encoder for records giving exactly ``names`` (None: use the plain loop)."""
        if len(self.compiled) >= _COMPILED_LIMIT or not self.slots.keys() >= set(names):
            return None
        if not self.sign_fields.keys().isdisjoint(names):
            return None
        fast = self.compiled[names] = self._build(names)
        return fast

    def _build(self, names: tuple[str, ...]) -> Callable[..., str]:
        position = {name: i for i, name in enumerate(names)}
        env: dict[str, Any] = {"Decimal": Decimal}
        parts: list[tuple[bool, str]] = []  # (constant, text or expression)
        fields = self.layout.fields
        for index, field in enumerate(fields):
            name = field.name
            if name not in position:
                amount = fields[index - 1].name if field.kind == "S" and index else ""
                if amount in position and fields[index - 1].kind == "F":
                    a = f"a{position[amount]}"
                    parts.append((False, f'(" " if {a} is None else "-" if {a} < 0 else "+")'))
                else:
                    parts.append((True, self.template[index]))
                continue
            a, c, n = f"a{position[name]}", f"C{index}", field.length
            convert = self.slots[name][1]
            blank = self.template[index]
            if name in self.fixed:
                env[c] = _blank_aware(convert, blank)
                env[f"K{index}"] = self.fixed[name][1]
                expression = f"({a} if {a} in K{index} else {c}({a}))"
            elif field.kind == "A":
                ascii_only = f" and {a}.isascii()" if self.codec is not None else ""
                align = "rjust" if name == "vsnr" and field.start == 14 else "ljust"
                env[c] = _blank_aware(convert, blank)
                expression = (
                    f"({a}.{align}({n}) if type({a}) is str and len({a}) <= {n}{ascii_only} "
                    f"and {a}.isprintable() else {c}({a}))"
                )
            elif field.kind == "N":
                env[c] = _blank_aware(convert, blank)
                expression = (
                    f"({a}.rjust({n}, '0') if type({a}) is str and len({a}) <= {n} and {a}.isdigit() "
                    f"and {a}.isascii() else {c}({a}))"
                )
            elif field.kind in ("F", "D"):
                memo = self.memos.setdefault(index, {})
                types: tuple[type, ...] = (Decimal,) if field.kind == "F" else (date, PartialDate)
                env[c] = _memoised(convert, blank, memo, types)
                env[f"M{index}"] = memo
                guard = f"type({a}) is Decimal and " if field.kind == "F" else f"type({a}) is not str and "
                expression = f"(M{index}[{a}] if {guard}{a} in M{index} else {c}({a}))"
            else:
                env[c] = _blank_aware(convert, blank)
                expression = f"{c}({a})"
            parts.append((False, expression))
        merged: list[str] = []
        for constant, group in itertools.groupby(parts, key=lambda part: part[0]):
            texts = [text for _, text in group]
            if constant:
                env[f"T{len(merged)}"] = "".join(texts)
                merged.append(f"T{len(merged)}")
            else:
                merged += texts
        arguments = ", ".join(f"a{i}" for i in range(len(names)))
        source = (
            f"def encode({arguments}):\n    return ''.join((\n        "
            + ",\n        ".join(merged)
            + ",\n    ))\n"
        )
        exec(compile(source, f"<gdv encoder {self.layout}>", "exec"), env)  # noqa: S102 - our own generated source
        return env["encode"]  # type: ignore[no-any-return]


_ENCODERS: dict[tuple[str, tuple[str, str, str, int], str | None], _Encoder] = {}


def _encoder(layout: Layout, codec: str | None = None) -> _Encoder:
    key = (layout.release, (layout.satzart, layout.sparte, layout.wagnis, layout.part), codec)
    encoder = _ENCODERS.get(key)
    if encoder is None or encoder.layout is not layout:
        encoder = _ENCODERS[key] = _Encoder(layout, codec)
    return encoder


def _single_byte(encoding: str) -> bool:
    """True when every byte is one character (ISO-8859-x, CP850): then a text column is a byte column."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    try:
        return len(bytes(range(256)).decode(name)) == RECORD_LENGTH
    except UnicodeDecodeError:
        return False


def encode_record(layout: Layout, values: Mapping[str, object]) -> str:
    """One Teildatensatz of ``layout`` as 256 characters (one per byte in a one-byte encoding).

    ``values`` maps field names (``layout.names``) to values: ``str`` for A fields (left-aligned; the
    ``vsnr`` at cols 14-30 right-aligned), digits as ``str`` or an ``int`` for N, :class:`~decimal.Decimal`
    or ``int`` for F (a negative amount writes ``-`` into the S field after it), ``datetime.date`` or
    :class:`~bipro_ruv.gdv.PartialDate` for D. A field not given, or given ``None``, is blank; the key
    fields Satzart, Sparte (0210-0230), Satznummer and the Leben Wagnisart (col 60) carry the layout's own
    values. A value that does not fit its field raises :class:`ValueError`: nothing is cut.
    """
    return _encoder(layout)(values)


def encode_record_bytes(
    layout: Layout, values: Mapping[str, object], *, encoding: str = DEFAULT_ENCODING
) -> bytes:
    """One Teildatensatz as exactly 256 bytes in ``encoding`` (field widths count bytes, also in UTF-8)."""
    if _single_byte(encoding):
        text = _encoder(layout)(values)
        try:
            return text.encode(encoding)
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{layout}: {text[exc.start : exc.end]!r} cannot be written in {encoding}"
            ) from exc
    return _encoder(layout, codecs.lookup(encoding).name)(values).encode("latin-1")


def expected_values(layout: Layout, values: Mapping[str, object]) -> dict[str, FieldValue]:
    """Every field of ``layout`` as a reader must decode the record :func:`encode_record` writes for
    ``values``: A rstripped (the VSNR stripped), N zero-padded digits, F :class:`~decimal.Decimal` (the
    sign applied), S ``'+'``/``'-'``, D ``date``/:class:`PartialDate`, ``None`` for a blank field."""
    fixed = _fixed_values(layout)
    result: dict[str, FieldValue] = {}
    fields = layout.fields
    for index, field in enumerate(fields):
        value = values.get(field.name)
        if field.name in fixed:
            text = fixed[field.name][0] if value is None else str(value)
            result[field.name] = text.rjust(field.length, "0") if field.kind == "N" else text
            continue
        expected: FieldValue = None
        if field.kind == "S":
            amount = values.get(fields[index - 1].name) if index and fields[index - 1].kind == "F" else None
            if isinstance(amount, int | Decimal):
                expected = "-" if amount < 0 else "+"
                if value == " " and amount == 0:
                    expected = None
            elif value not in (None, "", " "):
                expected = str(value)
        elif value is None or value == "":
            expected = None
        elif field.kind == "A":
            text = str(value)
            expected = (text.strip() if field.name == "vsnr" and field.start == 14 else text.rstrip()) or None
        elif field.kind == "N":
            expected = str(value).rjust(field.length, "0")
        elif field.kind == "F":
            expected = Decimal(value) if isinstance(value, int | Decimal) else None
        elif field.kind == "D":
            if type(value) is PartialDate:
                expected = value
            elif isinstance(value, date):
                expected = (
                    partial_date(f"{value.month:02d}{value.year:04d}")
                    if field.length == _MONTH_FIELD
                    else value
                )
        result[field.name] = expected
    return result


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    """What the writer put on one line: the ground truth of a round trip."""

    line: int
    """1-based record number in the file (Vorsatz and Nachsatz lines counted)."""
    layout: Layout
    values: Mapping[str, object]
    """The values the record was encoded from (fields not named are blank or fixed by the layout)."""

    @property
    def key(self) -> tuple[str, str, str, int]:
        """(Satzart, Sparte, Wagnisart group, Teildatensatz), as in ``layouts_of(release)``."""
        layout = self.layout
        return layout.satzart, layout.sparte, layout.wagnis, layout.part

    @property
    def release(self) -> str:
        return str(self.layout.release)

    def expected(self) -> dict[str, FieldValue]:
        """Every field as a reader must decode it (:func:`expected_values`)."""
        return expected_values(self.layout, self.values)
