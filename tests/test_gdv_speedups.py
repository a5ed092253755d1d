"""The compiled GDV field decoder (``bipro_ruv/gdv/_speedups.c``) against the pure-Python one.

Both build a :class:`Part` from a record text; they must give the same values, value by value:
the same type, equal, and for a :class:`~decimal.Decimal` the same ``str`` (``Decimal("1.0") ==
Decimal("1.00")`` and ``Decimal("-0.00") == Decimal("0.00")`` hold in Python, but the number of
decimals and the sign are part of the value). They also count the same invalid values
(:data:`bipro_ruv.gdv.values.INVALID`) and raise the same errors.

The values are compared on every record of generated files and of the third-party fixtures (as the
parser reads them), on fuzzed records of every layout (hypothesis), at the memo limits, on signed
amounts and on bad input. Each record is decoded four times: compiled and then pure from memos
emptied down to their common texts (so each decoder converts the values itself, and the pure one
then reads what the compiled one kept in the memos), and pure and then compiled (the compiled one
reads what the pure one kept). The memos of :mod:`bipro_ruv.gdv.values` are restored after this
module.

Without the compiled module the differential tests skip; one test then checks that it is missing
only where no C compiler is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import sysconfig
from collections.abc import Callable, Iterator
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bipro_ruv import gdv
from bipro_ruv.gdv import layouts as gdv_layouts
from bipro_ruv.gdv import values
from bipro_ruv.gdv.layouts import RELEASES, Layout, Part, layouts_of
from bipro_ruv.sandbox.content.gdv_writer import generate_gdv
from tests.conftest import FIXTURES

try:
    from bipro_ruv.gdv import _speedups
except ImportError:
    _speedups = None  # type: ignore[assignment]

needs_speedups = pytest.mark.skipif(
    _speedups is None,
    reason="bipro_ruv.gdv._speedups is not built (no C compiler at install time, or BIPRO_RUV_PURE_PYTHON "
    "was set): there is no compiled decoder to compare with the pure-Python one",
)

REINSTALL = "run `pip install -e .` again to build it"

ALL_LAYOUTS: list[Layout] = list(
    {id(layout): layout for release in RELEASES for layout in layouts_of(release).values()}.values()
)
"""Every layout of every release once (a Teildatensatz unchanged in a newer release is one object)."""


def _signed(layout: Layout) -> list[int]:
    """The amount fields followed by a sign field."""
    fields = layout.fields
    return [
        i
        for i, field in enumerate(fields)
        if field.kind == "F" and i + 1 < len(fields) and fields[i + 1].kind == "S"
    ]


SIGNED_LAYOUTS = [layout for layout in ALL_LAYOUTS if _signed(layout)]


Decoder = Callable[[str], Any]
Outcome = tuple[str, Any]


# -- the comparison --------------------------------------------------------------------------------------


def same(a: object, b: object) -> bool:
    """The same value: same type, equal, and a Decimal with the same exponent and sign."""
    if type(a) is not type(b) or a != b:
        return False
    return type(a) is not Decimal or str(a) == str(b)


def _raw(layout: Layout, text: str, index: int) -> str:
    field = layout.fields[index]
    return text[field.start - 1 : field.start - 1 + field.length]


def assert_same_outcome(layout: Layout, text: str, expected: Outcome, got: Outcome, label: str) -> None:
    """``expected`` and ``got`` (from :func:`run`) are the same Part, or the same error."""
    where = f"{layout}, {label}, record {text!r}"
    assert expected[0] == got[0], f"{where}: {expected[1]!r} but {got[1]!r}"
    if expected[0] == "raised":
        assert expected[1] == got[1], f"{where}: raised {expected[1]} but {got[1]}"
        return
    a, b = expected[1], got[1]
    assert type(a) is layout.part_class, f"{where}: the reference gave a {type(a)}"
    assert type(b) is layout.part_class, f"{where}: a {type(b)}, not the layout's {layout.part_class}"
    assert len(a) == len(b) == len(layout.fields), f"{where}: {len(a)} and {len(b)} values"
    differ = [
        f"{field.name} (col {field.start}, {field.kind}{field.length}) raw {_raw(layout, text, i)!r}: "
        f"{x!r} ({type(x).__name__}) but {y!r} ({type(y).__name__})"
        for i, (field, x, y) in enumerate(zip(layout.fields, a, b, strict=True))
        if not same(x, y)
    ]
    assert not differ, f"{where}: " + "; ".join(differ)


def run(decoder: Decoder, text: Any) -> tuple[Outcome, int]:
    """The decoder's Part (or its error) and how many invalid values it counted."""
    before = values.INVALID.count
    try:
        part = decoder(text)
    except Exception as error:  # noqa: BLE001  # compared with the other decoder's error
        return ("raised", (type(error), str(error))), values.INVALID.count - before
    return ("part", part), values.INVALID.count - before


_DECODERS: dict[int, tuple[Decoder, Decoder]] = {}


def decoders(layout: Layout) -> tuple[Decoder, Decoder]:
    """(pure, compiled) decoder of a layout, built here (not the layout's own ``decoder``)."""
    found = _DECODERS.get(id(layout))
    if found is None:
        found = _DECODERS[id(layout)] = (gdv_layouts._compile(layout), gdv_layouts._compile_c(layout))
    return found


# -- the memos -------------------------------------------------------------------------------------------


def _all_memos() -> list[values._Memo]:
    found: dict[int, values._Memo] = {}
    for layout in ALL_LAYOUTS:
        for field in layout.fields:
            memo = gdv_layouts._converter(field)
            found[id(memo)] = memo
    return list(found.values())


class Memos:
    """Every field memo of :mod:`bipro_ruv.gdv.values`; :meth:`reset` empties them to their common texts."""

    def __init__(self) -> None:
        self.all = _all_memos()

    def reset(self) -> None:
        for memo in self.all:
            memo.clear()
            memo.update(memo.common)

    def check_limits(self, where: str) -> None:
        over = [(len(memo), memo.limit) for memo in self.all if len(memo) > memo.limit]
        assert not over, f"{where}: a memo grew beyond its limit (size, limit): {over}"


@pytest.fixture(scope="module", autouse=True)
def memos() -> Iterator[Memos]:
    """The memos, restored as they were after this module (its tests empty and fill them)."""
    state = Memos()
    saved = [(memo, dict(memo), memo.limit) for memo in state.all]
    yield state
    for memo, content, limit in saved:
        memo.clear()
        memo.update(content)
        memo.limit = limit


def check_record(layout: Layout, text: str, memos: Memos) -> Part:
    """Decode ``text`` both ways, in both orders, from emptied memos; all four must agree."""
    pure, compiled = decoders(layout)
    memos.reset()
    compiled_fresh, compiled_count = run(compiled, text)
    memos.check_limits(f"{layout}, compiled")
    pure_after, pure_after_count = run(pure, text)  # reads the values the compiled decoder kept
    memos.reset()
    reference, count = run(pure, text)
    compiled_after, compiled_after_count = run(compiled, text)  # reads the values the pure decoder kept
    memos.check_limits(f"{layout}, compiled after pure")
    assert_same_outcome(layout, text, reference, compiled_fresh, "compiled")
    assert_same_outcome(layout, text, reference, compiled_after, "compiled, memos filled by pure")
    assert_same_outcome(layout, text, reference, pure_after, "pure, memos filled by compiled")
    counts = (count, compiled_count, compiled_after_count, pure_after_count)
    assert len(set(counts)) == 1, (
        f"{layout}, record {text!r}: invalid values counted (pure, compiled, compiled after pure, "
        f"pure after compiled): {counts}"
    )
    return reference[1]  # type: ignore[no-any-return]


# -- 1. the build ----------------------------------------------------------------------------------------


def _c_compiler() -> str | None:
    command = sysconfig.get_config_var("CC")
    if not command or not str(command).split():
        return None
    return shutil.which(str(command).split()[0])


def test_compiled_decoder_is_built_where_a_compiler_exists() -> None:
    if os.environ.get("BIPRO_RUV_PURE_PYTHON"):
        pytest.skip("BIPRO_RUV_PURE_PYTHON is set: the pure-Python decoder is chosen")
    if _c_compiler() is None:
        pytest.skip(f"no C compiler on PATH (sysconfig CC = {sysconfig.get_config_var('CC')!r})")
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.is_file():
        pytest.skip(f"no Python headers ({headers} is missing)")
    try:
        import_module("bipro_ruv.gdv._speedups")
    except ImportError as error:
        pytest.fail(
            f"a C compiler and the Python headers are here, but the compiled GDV decoder "
            f"bipro_ruv.gdv._speedups is not built ({error}): {REINSTALL}"
        )
    assert gdv_layouts.ACCELERATED, f"bipro_ruv.gdv._speedups imports but is not used: {REINSTALL}"


@needs_speedups
def test_compiled_decoder_is_built_from_the_source_in_the_checkout() -> None:
    source = Path(_speedups.__file__).with_name("_speedups.c")
    if not source.is_file():
        pytest.skip(f"no C source beside the compiled module ({source}): installed from a wheel")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    built = getattr(_speedups, "SOURCE_SHA256", None)
    assert built == digest, (
        f"the compiled decoder is stale: built from a _speedups.c with SHA-256 {built}, "
        f"the checkout's has {digest}; {REINSTALL}"
    )


# -- the comparison itself -------------------------------------------------------------------------------


def test_the_comparison_sees_decimals_zeros_and_types() -> None:
    assert same(Decimal("1.00"), Decimal("1.00"))
    assert not same(Decimal("1.0"), Decimal("1.00"))
    assert not same(Decimal("-0.00"), Decimal("0.00"))
    assert not same("01", values.InvalidValue("01"))
    assert not same(dt.date(2024, 8, 1), values.PartialDate("00082024", 2024, 8, None))
    assert not same(None, "")
    layout = layouts_of("2023")[("0400", "", "", 1)]
    text = " " * 109 + "00000001234-" + " " * 135
    part = gdv_layouts._compile(layout)(text)
    changed = tuple.__new__(layout.part_class, [*part[:-1], "x"])
    with pytest.raises(AssertionError, match="part_number"):
        assert_same_outcome(layout, text, ("part", part), ("part", changed), "test")
    with pytest.raises(AssertionError, match="not the layout's"):
        assert_same_outcome(layout, text, ("part", part), ("part", tuple(part)), "test")


# -- 2a. generated files ---------------------------------------------------------------------------------


def _parse_checking_every_record(
    data: bytes, encoding: str, memos: Memos
) -> tuple[gdv.GdvFile, list[tuple[Layout, str]]]:
    """Parse ``data``; every record the parser decodes is checked with the layout it chose."""
    seen: dict[tuple[int, str], tuple[Layout, str]] = {}

    def checking(layout: Layout) -> Decoder:
        pure = decoders(layout)[0]

        def decode(text: str) -> Any:
            if (id(layout), text) not in seen:
                seen[(id(layout), text)] = (layout, text)
                check_record(layout, text, memos)
            return pure(text)

        return decode

    with pytest.MonkeyPatch.context() as patch:
        for layout in ALL_LAYOUTS:
            patch.setattr(layout, "decoder", checking(layout))
        result = gdv.parse(data, encoding=encoding)
    return result, list(seen.values())


def _latin_1(text: str) -> bool:
    """A one-byte str: the compiled decoder decodes it itself (else the pure one does, whole)."""
    return all(ord(c) < 256 for c in text)


GENERATED = [
    # seed, release, kind, encoding
    (1, "2023", "both", "iso-8859-15"),
    (2, "2023", "bestand", "cp850"),
    (3, "2023", "inkasso", "utf-8"),
    (4, "2018", "both", "iso-8859-15"),
    (5, "2015", "both", "cp850"),
    (6, "2013", "both", "iso-8859-15"),
    (7, "2009", "both", "utf-8"),
]


@needs_speedups
@pytest.mark.parametrize(("seed", "release", "kind", "encoding"), GENERATED)
def test_generated_files_decode_alike(
    seed: int, release: str, kind: str, encoding: str, memos: Memos
) -> None:
    data = generate_gdv(
        contracts=40, seed=seed, release=release, kind=kind, vu_numbers=("5339", "5438"),  # type: ignore[arg-type]
        encoding=encoding,
    )  # fmt: skip
    result, checked = _parse_checking_every_record(data, encoding, memos)
    assert result.warnings == []
    assert len(checked) == result.records, "the parser no longer decodes every record with layout.decoder"
    satzarten = {layout.satzart for layout, _ in checked}
    if kind != "inkasso":
        assert {"0001", "0100", "0200", "0210", "0211", "0220", "0221", "0230", "0300", "9999"} <= satzarten
        assert len({layout.sparte for layout, _ in checked if layout.sparte}) >= 5
    if kind != "bestand":
        assert {"0400", "0410"} & satzarten
    assert sum(_latin_1(text) for _, text in checked) > len(checked) // 2  # the compiled path, mostly


@needs_speedups
def test_generated_files_reach_the_whole_record_fallback(memos: Memos) -> None:
    """A UTF-8 file read as ISO-8859-15 has characters beyond Latin-1 (ä is C3 A4, "Ã€"): the
    compiled decoder hands those records to the pure one whole."""
    data = generate_gdv(contracts=60, seed=8, kind="both", vu_numbers=("5339", "5438"), encoding="utf-8")
    _, checked = _parse_checking_every_record(data, "iso-8859-15", memos)
    wide = [text for _, text in checked if not _latin_1(text)]
    assert wide, "no record with a character beyond Latin-1: the fallback was not compared"


# -- 2b. the third-party fixtures ------------------------------------------------------------------------

FIXTURE_FILES = [
    "musterdatei_041222.txt",
    "igor_110120.txt",
    "zwei_datenpakete.txt",
    "teildatensatz_wechsel.gdv",
    "unfall.gdv",
    "muster_kfzantrag.gdv",
]


@needs_speedups
@pytest.mark.parametrize("name", FIXTURE_FILES)
@pytest.mark.parametrize("encoding", ["iso-8859-15", "cp850", "utf-8"])
def test_fixture_files_decode_alike(name: str, encoding: str, memos: Memos) -> None:
    """The fixtures are Latin-1 (fixtures README); read as CP850 and UTF-8 too, which gives
    other texts (beyond Latin-1, byte columns) to the same layouts."""
    path = FIXTURES / "gdv" / name
    if not path.is_file():
        pytest.skip(f"third-party fixture {path} not present")
    result, checked = _parse_checking_every_record(path.read_bytes(), encoding, memos)
    assert checked
    assert len(checked) <= result.records


# -- 2c. fuzzed records of every layout ------------------------------------------------------------------

DIGITS = "0123456789"
WHITESPACE = "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0 "
"""What str.strip() takes in the Latin-1 range (Python and the C decoder must agree on it)."""
LETTERS = "ABCXYZabcxyz-+./,&'()*#äöüÄÖÜßéÉ²³¹½\x00\x7f\xad\xff"
"""Letters and junk, Latin-1 only; ² ³ ¹ are digits to str.isdigit but not ASCII."""
NOT_LATIN_1 = "€ŒœŠ"
SHAPES = (
    "blank",
    "zeros",
    "digits",
    "padded digits",
    "junk",
    "partial date",
    "invalid date",
    "valid date",
    "six",
    "whitespace end",
    "whitespace only",
    "non-ascii",
    "sign",
)
INVALID_DATES = (
    "31022024",
    "30022024",
    "29022023",
    "29021900",
    "31042024",
    "01132024",
    "00132024",
    "32012024",
    "99999999",
    "00000001",
    "31040000",
    "01000000",
    "00010000",
    "132024",
    "002024",
    "000000",
)


def _fit(text: str, length: int, *, right: bool = False) -> str:
    return (text.rjust(length) if right else text.ljust(length))[:length]


@st.composite
def field_text(draw: st.DrawFn, kind: str, length: int) -> str:
    """``length`` characters for one field, of a shape that reaches a branch of either decoder."""
    weighted = {
        "D": ("valid date", "partial date", "invalid date", "six", "zeros", "blank"),
        "S": ("sign", "sign", "sign", "blank"),
        "F": ("digits", "digits", "zeros", "padded digits"),
        "N": ("digits", "zeros", "padded digits"),
    }.get(kind, ())
    shape = draw(st.sampled_from(SHAPES + weighted + weighted))
    digits = st.text(DIGITS, min_size=1, max_size=length)
    if shape == "blank":
        return " " * length
    if shape == "zeros":
        return "0" * length
    if shape == "digits":
        return _fit(draw(st.text(DIGITS, min_size=length, max_size=length)), length)
    if shape == "padded digits":
        return _fit(draw(digits), length, right=draw(st.booleans()))
    if shape == "junk":
        return _fit(draw(st.text(DIGITS + LETTERS + " ", min_size=1, max_size=length)), length)
    if shape == "valid date":
        date = draw(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
        return _fit(f"{date.day:02d}{date.month:02d}{date.year:04d}", length)
    if shape in ("partial date", "six"):
        day = draw(st.sampled_from(["00", "01", "15", "28", "29", "31"]))
        month = draw(st.sampled_from(["00", "01", "02", "08", "12"]))
        year = draw(st.sampled_from(["0000", "0001", "1900", "2000", "2024", "9999"]))
        if shape == "six" or length == 6:
            return _fit(month + year, length, right=draw(st.booleans()))
        return _fit(day + month + year, length)
    if shape == "invalid date":
        return _fit(draw(st.sampled_from(INVALID_DATES)), length)
    if shape == "whitespace end":
        head = draw(st.text(DIGITS + LETTERS, min_size=0, max_size=length - 1))
        return head + draw(st.text(WHITESPACE, min_size=length - len(head), max_size=length - len(head)))
    if shape == "whitespace only":
        return draw(st.text(WHITESPACE, min_size=length, max_size=length))
    if shape == "non-ascii":
        return _fit(draw(st.text("äößéÄÜ Müller0123", min_size=1, max_size=length)), length)
    assert shape == "sign"
    return _fit(draw(st.sampled_from(["+", "-", " ", "0", "X", "\xad", "\t"])), length)


@st.composite
def fuzzed_record(draw: st.DrawFn, layout: Layout) -> str:
    text = [" "] * 256
    for field in layout.fields:
        text[field.start - 1 : field.start - 1 + field.length] = draw(field_text(field.kind, field.length))
    if draw(st.integers(0, 9)) == 0:  # not a one-byte str: the whole record goes to the pure decoder
        text[draw(st.integers(0, 255))] = draw(st.sampled_from(NOT_LATIN_1))
    record = "".join(text)
    length = draw(st.sampled_from([256] * 8 + [-1, 257]))
    if length == -1:  # shorter than the layout: the pure decoder too
        return record[: draw(st.integers(0, 255))]
    if length == 257:
        return record + draw(st.text(DIGITS + LETTERS + NOT_LATIN_1, min_size=1, max_size=20))
    return record


FUZZED_LAYOUTS = st.sampled_from(ALL_LAYOUTS) | st.sampled_from(SIGNED_LAYOUTS)
"""Any layout; every other time one with signed amounts (0400-0420, 9999: a few among many)."""

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@needs_speedups
@given(data=st.data())
@settings(FUZZ)
def test_fuzzed_records_decode_alike(data: st.DataObject, memos: Memos) -> None:
    layout = data.draw(FUZZED_LAYOUTS, label="layout")
    text = data.draw(fuzzed_record(layout), label="record")
    check_record(layout, text, memos)


@needs_speedups
@given(data=st.data())
@settings(FUZZ, max_examples=150)
def test_fuzzed_records_count_invalid_values_like_the_pure_decoder(data: st.DataObject, memos: Memos) -> None:
    """Pure first, then compiled, with the memos as they are (no reset): the counts agree."""
    layout = data.draw(FUZZED_LAYOUTS, label="layout")
    text = data.draw(fuzzed_record(layout), label="record")
    pure, compiled = decoders(layout)
    reference, count = run(pure, text)
    got, compiled_count = run(compiled, text)
    assert_same_outcome(layout, text, reference, got, "compiled")
    assert compiled_count == count, (
        f"{layout}, record {text!r}: {count} invalid values, compiled {compiled_count}"
    )


@needs_speedups
@pytest.mark.parametrize("release", RELEASES)
def test_short_and_long_texts_decode_alike(release: str, memos: Memos) -> None:
    rng = random.Random(release)
    for layout in {id(x): x for x in layouts_of(release).values()}.values():
        full = "".join(rng.choice(DIGITS + " -+AäÜ") for _ in range(256))
        end = max(f.start - 1 + f.length for f in layout.fields)
        for length in (0, 1, 13, 100, end - 1, end, 255, 256, 300):
            check_record(layout, (full * 2)[:length], memos)


@needs_speedups
def test_invalid_values_are_counted() -> None:
    """The counter the tests compare moves (else equal counts would prove nothing)."""
    layout = layouts_of("2023")[("0200", "", "", 1)]
    text = _fit("0200", 109) + "12345678901X" + " " * 135  # Gesamtbeitrag (Netto), cols 116-127
    for decoder in decoders(layout):
        _, count = run(decoder, text)
        assert count == 1


# -- 2d. the memo limits ---------------------------------------------------------------------------------


def _memos_of(layout: Layout) -> list[values._Memo]:
    found = {id(m): m for m in map(gdv_layouts._converter, layout.fields)}
    return list(found.values())


def _fresh_record(layout: Layout, rng: random.Random) -> str:
    """A record of new, valid values (which the decoders keep in the memos)."""
    text = [" "] * 256
    for field in layout.fields:
        n = field.length
        if field.kind == "D" and n == 8:
            day = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(60_000))
            value = f"{day.day:02d}{day.month:02d}{day.year:04d}"
        elif field.kind == "S":
            value = rng.choice("+- ")
        elif field.kind in ("N", "F", "D"):
            value = "".join(rng.choice(DIGITS) for _ in range(n))
        else:
            value = "".join(rng.choice("abcdefghijäöü ") for _ in range(rng.randrange(1, n + 1)))
        text[field.start - 1 : field.start - 1 + n] = value.ljust(n)[:n]
    return "".join(text)


LIMIT_LAYOUTS = [("2023", ("0100", "", "", 1)), ("2023", ("0200", "", "", 1)), ("2023", ("0400", "", "", 1))]


def _fill(memo: values._Memo, size: int) -> None:
    """The memo at ``size`` entries: its common texts and keys no field text is (a NUL first)."""
    memo.clear()
    memo.update(memo.common)
    memo.update(dict.fromkeys((f"\x00{i}" for i in range(size - len(memo))), "never read"))
    assert len(memo) == size


@needs_speedups
@pytest.mark.parametrize(("release", "key"), LIMIT_LAYOUTS)
@pytest.mark.parametrize("below", [0, 1], ids=["at-limit", "one-below"])
def test_memos_at_their_limit(release: str, key: tuple[str, str, str, int], below: int, memos: Memos) -> None:
    """A memo at (or one below) its limit: the compiled decoder gives the pure decoder's values
    and never grows a memo beyond its limit."""
    layout = layouts_of(release)[key]
    pure, compiled = decoders(layout)
    rng = random.Random(f"{release}{key}{below}")
    mine = _memos_of(layout)
    for _ in range(5):
        text = _fresh_record(layout, rng)
        for memo in mine:
            _fill(memo, memo.limit - below)
        got, got_count = run(compiled, text)
        memos.check_limits(f"{layout}, compiled, memos at limit - {below}")
        for memo in mine:
            _fill(memo, memo.limit - below)
        reference, count = run(pure, text)
        assert_same_outcome(layout, text, reference, got, f"compiled, memos at limit - {below}")
        assert count == got_count


@needs_speedups
@pytest.mark.parametrize(("release", "key"), LIMIT_LAYOUTS)
def test_small_memo_limits(
    release: str, key: tuple[str, str, str, int], memos: Memos, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With limits of a few entries the memos fill and empty again and again while records are
    decoded in turn: the same values, and no memo beyond its limit."""
    layout = layouts_of(release)[key]
    memos.reset()
    for memo in _memos_of(layout):
        monkeypatch.setattr(memo, "limit", len(memo.common) + 3)
    pure, compiled = gdv_layouts._compile(layout), gdv_layouts._compile_c(layout)  # with the new limits
    rng = random.Random(f"{release}{key}")
    texts = [_fresh_record(layout, rng) for _ in range(40)]
    texts += texts[::3]  # some again: memo hits, where they were not emptied since
    for text in texts:
        got, got_count = run(compiled, text)
        memos.check_limits(f"{layout}, compiled, small limits")
        reference, count = run(pure, text)
        assert_same_outcome(layout, text, reference, got, "compiled, small memo limits")
        assert count == got_count
        again, _ = run(compiled, text)
        memos.check_limits(f"{layout}, compiled again, small limits")
        assert_same_outcome(layout, text, reference, again, "compiled again, small memo limits")


# -- 2e. signed amounts ----------------------------------------------------------------------------------


def test_signed_layouts_are_the_inkasso_and_trailer_records() -> None:
    assert {layout.satzart for layout in SIGNED_LAYOUTS} == {"0400", "0410", "0420", "9999"}


@needs_speedups
@pytest.mark.parametrize("layout", SIGNED_LAYOUTS, ids=str)
def test_negative_amounts(layout: Layout, memos: Memos) -> None:
    """A ``-`` after an amount negates it in both decoders; a zero amount stays ``0.00``, not
    ``-0.00``; a ``+``, a blank or junk in the sign field leaves it positive."""
    rng = random.Random(str(layout))
    for sign in ("-", "+", " ", "X"):
        for amount in ("nonzero", "zero", "blank", "invalid"):
            text = [" "] * 256
            expected: dict[int, object] = {}
            for i in _signed(layout):
                field = layout.fields[i]
                n, k = field.length, field.decimals
                if amount == "nonzero":
                    digits = f"{rng.randrange(1, 10 ** min(n, 15)):0{n}d}"
                elif amount == "zero":
                    digits = "0" * n
                elif amount == "blank":
                    digits = " " * n
                else:
                    digits = "1A".rjust(n, "0")
                text[field.start - 1 : field.start - 1 + n] = digits
                text[field.start - 1 + n] = sign
                if amount == "blank":
                    expected[i] = None
                elif amount == "invalid":
                    expected[i] = values.InvalidValue(digits)
                else:
                    negative = sign == "-" and amount == "nonzero"
                    expected[i] = Decimal((int(negative), tuple(map(int, digits)), -k))
            record = "".join(text)
            part = check_record(layout, record, memos)
            for i, value in expected.items():
                assert same(part[i], value), (
                    f"{layout.fields[i].name} {sign!r} {amount}: {part[i]!r} not {value!r}"
                )
            memos.reset()
            compiled = decoders(layout)[1](record)
            for i, value in expected.items():
                assert same(compiled[i], value), (
                    f"compiled {layout.fields[i].name} {sign!r} {amount}: {compiled[i]!r} not {value!r}"
                )


# -- 2f. bad calls ---------------------------------------------------------------------------------------


@needs_speedups
def test_a_compiled_decoder_wants_one_str() -> None:
    layout = layouts_of("2023")[("0200", "", "", 1)]
    compiled: Any = decoders(layout)[1]  # called wrongly on purpose
    for wrong in (b" " * 256, bytearray(b" " * 256), None, 256, [" "] * 256):
        with pytest.raises(TypeError):
            compiled(wrong)
    with pytest.raises(TypeError):
        compiled()
    with pytest.raises(TypeError):
        compiled(" " * 256, " " * 256)
    with pytest.raises(TypeError):
        compiled(text=" " * 256)
    assert type(compiled(" " * 256)) is layout.part_class  # the right call works


KINDS = {name: getattr(_speedups, name) for name in dir(_speedups) if name.startswith("K_")}
"""The field kinds the compiled module states (``K_MEMO``, ``K_NUM``, ``K_AMOUNT``, ...)."""


def _spec(**change: Any) -> tuple[Any, ...]:
    """One field's specification, as _compile_c writes it: an N field at cols 1-4."""
    field = {
        "start": 0,
        "length": 4,
        "kind": KINDS.get("K_NUM", 0),
        "decimals": 0,
        "sign": -1,
        "limit": 10,
        "memo": values._Memo(values.numeric),  # its own: the module's memos stay untouched
    }
    field.update(change)
    return tuple(field.values())


BAD_SPECIFICATIONS: dict[str, tuple[Any, ...]] = {
    "cls-not-a-type": ("not a type", (_spec(),), TypeError),
    "cls-not-a-tuple-subclass": (int, (_spec(),), TypeError),
    "fields-not-a-sequence": (tuple, 42, TypeError),
    "field-too-short": (tuple, (_spec()[:-1],), TypeError),
    "field-too-long": (tuple, ((*_spec(), "extra"),), TypeError),
    "field-a-str": (tuple, ("0123456",), TypeError),
    "field-a-list": (tuple, (list(_spec()),), TypeError),
    "field-none": (tuple, (None,), TypeError),
    "memo-not-a-dict": (tuple, (_spec(memo={}.items()),), TypeError),
    "memo-none": (tuple, (_spec(memo=None),), TypeError),
    "start-a-str": (tuple, (_spec(start="0"),), TypeError),
    "start-negative": (tuple, (_spec(start=-1),), ValueError),
    "start-huge": (tuple, (_spec(start=2**70),), OverflowError),
    "length-0": (tuple, (_spec(length=0),), ValueError),
    "length-5000": (tuple, (_spec(length=5000),), ValueError),
    "kind-negative": (tuple, (_spec(kind=-1),), ValueError),
    "kind-unknown": (tuple, (_spec(kind=max(KINDS.values(), default=0) + 1),), ValueError),
    "kind-2**31": (tuple, (_spec(kind=2**31),), (ValueError, OverflowError)),
    "decimals-negative": (tuple, (_spec(decimals=-1),), ValueError),
    "decimals-17": (tuple, (_spec(decimals=17),), ValueError),
    "decimals-2**31": (tuple, (_spec(decimals=2**31),), (ValueError, OverflowError)),
    "decimals-2**32+2": (
        tuple,
        (_spec(decimals=2**32 + 2),),
        (ValueError, OverflowError),
    ),
    "decimals--2**32+2": (
        tuple,
        (_spec(decimals=-(2**32) + 2),),
        (ValueError, OverflowError),
    ),
    "sign-4096": (tuple, (_spec(sign=4096),), ValueError),
}


@needs_speedups
@pytest.mark.parametrize(
    ("cls", "fields", "error"),
    [pytest.param(*case[:3], marks=case[3:], id=name) for name, case in BAD_SPECIFICATIONS.items()],
)
def test_a_bad_specification_raises(cls: Any, fields: Any, error: Any) -> None:
    with pytest.raises(error):
        _speedups.decoder(cls, fields, str)


@needs_speedups
def test_a_good_specification_decodes() -> None:
    """The specification the bad ones above break works (so they fail for their fault)."""
    decoder = _speedups.decoder(
        tuple,
        (
            _spec(),
            _spec(start=4, kind=KINDS["K_AMOUNT"], decimals=2, memo=values._Memo(values.amount_converter(2))),
        ),
        str,
    )
    assert decoder("01230012") == ("0123", Decimal("0.12"))
    assert decoder("012") == "012"  # shorter than the fields: the fallback, here str
