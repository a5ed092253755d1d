"""Properties of Vsnr over generated input (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bipro_ruv.vsnr import InvalidVsnr, Vsnr, VsnrKind

FAST = settings(max_examples=300, deadline=None)

DIGITS = "0123456789"
SEPARATOR_LIST = [" ", "-", "/", ".", " / ", " - ", "\u00a0", "\t", "  "]
SEPARATORS = st.sampled_from(SEPARATOR_LIST)
SURROUNDING = st.sampled_from(["", " ", "  ", "\t", "\r\n", "\u00a0"])

business_area = st.integers(10, 99).map(str)
number = st.text(DIGITS, min_size=9, max_size=9).filter(lambda text: text != "000000000")
branch = st.text(DIGITS, min_size=3, max_size=3).filter(lambda text: text != "000")
# Digits, separators and a few intruders: reaches the structural rules far more often than st.text().
vsnr_like = st.text(alphabet=DIGITS + " -/.\t\u00a0\u0663a", max_size=24)


@st.composite
def grouped(draw: st.DrawFn, digits: str) -> str:
    """``digits`` cut at random places, joined with random separators."""
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    pieces = [digits[start:end] for start, end in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    return "".join(piece + draw(SEPARATORS) for piece in pieces[:-1]) + pieces[-1]


@st.composite
def written_modern(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """A rendering of a complete number, the key it must map to, and its branch."""
    line, digits = draw(business_area), draw(number)
    fd = draw(st.none() | branch)
    if draw(st.booleans()):
        compact = (fd or "") + line + digits
        padding = draw(st.sampled_from(["0", " "])) * draw(st.integers(0, 17 - len(compact)))
        text = padding + compact
    else:
        gap = draw(st.sampled_from(["", *SEPARATOR_LIST]))
        text = (f"{fd}{draw(SEPARATORS)}" if fd else "") + line + gap + draw(grouped(digits))
    return draw(SURROUNDING) + text + draw(SURROUNDING), line + digits, fd


@given(vsnr_like | st.text())
@FAST
def test_any_text_gives_a_vsnr_or_invalid_vsnr(text: str) -> None:
    for validate in (True, False):
        try:
            vsnr = Vsnr(text, validate=validate)
        except InvalidVsnr:
            continue
        assert set(vsnr) <= set(DIGITS + "/")
        assert len(vsnr) in (9, 11)


@given(vsnr_like | st.text())
@FAST
def test_normalising_twice_equals_once(text: str) -> None:
    for validate in (True, False):
        once = Vsnr.try_parse(text, validate=validate)
        if once is not None:
            twice = Vsnr(str(once), validate=validate)
            assert (twice, twice.kind, twice.business_area, twice.number) == (
                once,
                once.kind,
                once.business_area,
                once.number,
            )


@given(vsnr_like)
@FAST
def test_validate_false_never_changes_a_valid_reading(text: str) -> None:
    strict = Vsnr.try_parse(text)
    if strict is not None:
        relaxed = Vsnr(text, validate=False)
        assert (str(relaxed), relaxed.branch) == (str(strict), strict.branch)


@given(written_modern())
@FAST
def test_every_rendering_of_a_complete_number_maps_to_one_key(case: tuple[str, str, str | None]) -> None:
    text, key, fd = case
    vsnr = Vsnr(text)
    assert (str(vsnr), vsnr.branch, vsnr.is_complete) == (key, fd, True)


@given(number.flatmap(lambda digits: st.tuples(st.just(digits), grouped(digits))), st.integers(0, 8))
@FAST
def test_every_rendering_of_a_bare_number_maps_to_the_number(case: tuple[str, str], zeros: int) -> None:
    digits, text = case
    for written in (text, "0" * zeros + digits, " " * zeros + digits):
        vsnr = Vsnr(written)
        assert (str(vsnr), vsnr.is_complete) == (digits, False)


condor_rest = st.text(DIGITS, min_size=6, max_size=6).filter(lambda text: text != "000000")


@given(st.text(DIGITS, min_size=2, max_size=2), condor_rest, SEPARATORS, SURROUNDING)
@FAST
def test_every_rendering_of_an_old_condor_number_maps_to_one_key(
    prefix: str, rest: str, gap: str, around: str
) -> None:
    vsnr = Vsnr(around + prefix + gap + rest + around)
    assert (str(vsnr), vsnr.kind) == (f"{prefix}/{rest}", VsnrKind.LEGACY_CONDOR)
