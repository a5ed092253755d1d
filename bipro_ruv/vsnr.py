"""The R+V Versicherungsscheinnummer (VSNR) as a value type.

R+V: "Die Vertragsnummer (Arbeitsgebiet AG und VSNR zusammen 11-stellig numerisch)".
A modern number is the two-digit Arbeitsgebiet (:mod:`bipro_ruv.arbeitsgebiete`) followed
by a nine-digit number, e.g. ``32123456789`` (AG 32, Kfz KRAVAG-ALLGEMEINE). R+V's
"Erfassung der Versicherungsscheinnummer" expects brokers to have typed it without the
Arbeitsgebiet or with the three-digit Filialdirektion in front ("mit oder ohne
Sonderzeichen"), and GDV files pad it. All of these are read:

==========================  ==================  =============================================
written                     canonical ``str``   parts
==========================  ==================  =============================================
``32123456789``             ``32123456789``     AG 32, number 123456789
``32 123 456 789``,         ``32123456789``     separators (space, ``-``, ``/``, ``.``) are
``32-123456789``                                dropped
``123456789``               ``123456789``       no Arbeitsgebiet: ``is_complete`` is False
``123/32/123456789``,       ``32123456789``     Filialdirektion 123 in ``branch``; the
``12332123456789``                              canonical key leaves it out
``"      32123456789"``,    ``32123456789``     GDV's right-aligned 17-character field,
``00000032123456789``                           padded with blanks or zeros
``70/850632``               ``70/850632``       old Condor 2+6 number, ``LEGACY_CONDOR``
==========================  ==================  =============================================

The canonical string is the key that joins documents, GDV data and CSV lists, so two
renderings of one contract compare equal: ``Vsnr("123/32/123456789") == "32123456789"``.

Decisions where R+V publishes nothing (each is checked by ``tests/test_vsnr.py``):

* **Leading zeros.** The nine-digit number may begin with ``0``; the Arbeitsgebiet may
  not (every published code lies between 10 and 97), and the Filialdirektion ``000`` is
  taken as padding, not as a branch. Only these two rules make zero padding unambiguous:
  a digit-only value longer than its form is read as the longest of the 14-, 11- and
  9-digit forms whose leading digits are all zeros. ``00000000012345678`` is therefore the
  number ``012345678`` without Arbeitsgebiet. Zero padding is only read in digit-only
  values (the GDV field has no separators); a number of all zeros is rejected.
* **Separators** may group the nine-digit number freely but must not cut through the
  Arbeitsgebiet or the Filialdirektion, and two separator characters may not follow one
  another (spaces around one separator are fine: ``32 / 123456789``).
* **Old Condor numbers** need their separator (``70/850632``, ``70 850632``): eight bare
  digits are rejected, because they are just as likely a nine-digit number whose leading
  zero a spreadsheet removed. Whether the old prefix ``70`` is an Arbeitsgebiet is not
  known, so ``business_area`` is ``None`` and ``condor_prefix`` holds it.
* ``validate=False`` skips the plausibility rules (Arbeitsgebiet starting with 0,
  Filialdirektion 000, separator placement) but never the structure (ASCII digits, digit
  count). A value valid with ``validate=True`` gives the same result either way.
* Input that is not a ``str`` raises :class:`TypeError`; an ``int`` would already have lost
  the leading zeros that this module must see.
"""

from __future__ import annotations

import string
from enum import Enum
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from bipro_ruv.arbeitsgebiete import get_arbeitsgebiet
from bipro_ruv.errors import InvalidVsnr

__all__ = ["InvalidVsnr", "Vsnr", "VsnrKind"]

_ASCII_DIGITS = frozenset(string.digits)
_SPACES = frozenset(" \t\u00a0")
_PUNCTUATION = frozenset("-/.")
_STRIPPED = string.whitespace + "\u00a0"
# GDV Satzart 0100 ff., field VSNR: AN(17), "rechtsbündig, mit Leerstellen linksbündig auffüllen".
_GDV_FIELD_WIDTH = 17
_LEGACY_SHAPE = (2, 6)
_BRANCH, _AREA, _NUMBER = 3, 2, 9
_FORMS = (_BRANCH + _AREA + _NUMBER, _AREA + _NUMBER, _NUMBER)
_MAX_LENGTH = 40


class VsnrKind(str, Enum):
    """Which numbering scheme a VSNR follows."""

    MODERN = "modern"
    """Arbeitsgebiet + nine digits, or the nine digits alone."""
    LEGACY_CONDOR = "legacy_condor"
    """Old Condor 2+6 number such as ``70/850632``, replaced on migration."""


class Vsnr(str):
    """An R+V Versicherungsscheinnummer, normalised to its canonical ``str`` on creation.

    ``Vsnr(value)`` raises :class:`InvalidVsnr` for anything that is not a VSNR;
    :meth:`try_parse` returns ``None`` instead. See the module docstring for every
    accepted form. Usable as a pydantic field type: strings are validated, and JSON
    output is the canonical string.
    """

    _branch: str | None

    def __new__(cls, value: str, *, validate: bool = True) -> Vsnr:
        if isinstance(value, Vsnr):
            return value
        if not isinstance(value, str):
            raise TypeError(f"Vsnr() takes a str, not {type(value).__name__}")
        canonical, branch = _parse(value, strict=validate)
        return cls._build(canonical, branch)

    @classmethod
    def _build(cls, canonical: str, branch: str | None) -> Vsnr:
        instance = super().__new__(cls, canonical)
        instance._branch = branch
        return instance

    @classmethod
    def try_parse(cls, value: str | None, *, validate: bool = True) -> Vsnr | None:
        """``Vsnr(value)``, or ``None`` when ``value`` is ``None`` or not a VSNR."""
        if value is None:
            return None
        try:
            return cls(value, validate=validate)
        except InvalidVsnr:
            return None

    @property
    def kind(self) -> VsnrKind:
        return VsnrKind.LEGACY_CONDOR if "/" in self else VsnrKind.MODERN

    @property
    def business_area(self) -> str | None:
        """Arbeitsgebiet (two digits, R+V's own, not the GDV Sparte), ``None`` if not written
        or for an old Condor number."""
        return self[:_AREA] if len(self) == _AREA + _NUMBER else None

    @property
    def number(self) -> str:
        """The nine-digit number (six digits after the slash for an old Condor number)."""
        return self.split("/")[-1][-_NUMBER:]

    @property
    def branch(self) -> str | None:
        """Filialdirektion (three digits) if it was written; not part of the key."""
        return self._branch

    @property
    def condor_prefix(self) -> str | None:
        """The two digits before the slash of an old Condor number."""
        return self[:2] if self.kind is VsnrKind.LEGACY_CONDOR else None

    @property
    def is_complete(self) -> bool:
        """True for Arbeitsgebiet + number: the form that names one contract directly."""
        return self.business_area is not None

    @property
    def business_area_name(self) -> str | None:
        """R+V's meaning of the Arbeitsgebiet, ``None`` if absent or not in the table."""
        code = self.business_area
        entry = get_arbeitsgebiet(code) if code is not None else None
        return entry.name if entry is not None else None

    @property
    def formatted(self) -> str:
        """Human form: ``32 123456789``, ``123/32 123456789``, ``123456789``, ``70/850632``."""
        if not self.is_complete:
            return str(self)
        text = f"{self.business_area} {self.number}"
        return f"{self._branch}/{text}" if self._branch else text

    def __repr__(self) -> str:
        return f"Vsnr({self.formatted!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (str(self), self._branch))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(
            cls._from_pydantic,
            core_schema.str_schema(),
            serialization=core_schema.to_string_ser_schema(),
        )

    @classmethod
    def _from_pydantic(cls, value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Vsnr:
        # An existing Vsnr keeps its branch; anything else must pass pydantic's str check first.
        return value if isinstance(value, Vsnr) else cls(handler(value))


def _restore(canonical: str, branch: str | None) -> Vsnr:
    """Unpickle without parsing again (a ``validate=False`` value must survive too)."""
    return Vsnr._build(canonical, branch)


def _parse(value: str, *, strict: bool) -> tuple[str, str | None]:
    """Return the canonical string and the Filialdirektion of ``value``."""
    text = value.strip(_STRIPPED)
    if not text:
        raise InvalidVsnr(value, "it is empty")
    _check_characters(value, text)
    if len(text) > _MAX_LENGTH:
        raise InvalidVsnr(value, f"it is {len(text)} characters long; no written VSNR needs {_MAX_LENGTH}")
    groups = _split_groups(value, text)
    if len(groups) == 2 and tuple(map(len, groups)) == _LEGACY_SHAPE:
        if groups[1] == "000000":
            raise InvalidVsnr(value, "the old Condor number is all zeros")
        return f"{groups[0]}/{groups[1]}", None
    digits = "".join(groups)
    if len(groups) == 1:
        return _read_digits_only(value, digits, strict=strict)
    if len(digits) not in _FORMS:
        raise InvalidVsnr(value, _digit_count_reason(len(digits)))
    cuts = _cut_positions(groups)
    problem = _field_problem(digits, strict=strict) or (_cut_problem(len(digits), cuts) if strict else None)
    if problem:
        raise InvalidVsnr(value, problem)
    return _split(digits)


def _check_characters(value: str, text: str) -> None:
    for char in text:
        if char in _ASCII_DIGITS or char in _SPACES or char in _PUNCTUATION:
            continue
        if char.isalpha():
            raise InvalidVsnr(value, "it contains letters; an R+V VSNR is numeric")
        if char.isnumeric():
            raise InvalidVsnr(value, f"it contains the non-ASCII digit {char!r}")
        raise InvalidVsnr(
            value, f"it contains {char!r}; only digits and the separators space - / . are allowed"
        )


def _split_groups(value: str, text: str) -> list[str]:
    """Split into digit groups; each gap holds spaces and at most one of ``- / .``."""
    groups: list[str] = []
    gap: list[str] = []
    for char in text:
        if char in _ASCII_DIGITS:
            if not groups or gap:
                groups.append("")
                if sum(c in _PUNCTUATION for c in gap) > 1:
                    raise InvalidVsnr(value, f"two separators in a row ({''.join(gap).strip()!r})")
                gap = []
            groups[-1] += char
        elif not groups:
            raise InvalidVsnr(value, f"it begins with the separator {char!r}")
        else:
            gap.append(char)
    if gap:
        raise InvalidVsnr(value, f"it ends with the separator {gap[-1]!r}")
    return groups


def _read_digits_only(value: str, digits: str, *, strict: bool) -> tuple[str, str | None]:
    """Read a digit-only value, which may be zero-padded up to the GDV field width."""
    length = len(digits)
    if length > _GDV_FIELD_WIDTH:
        raise InvalidVsnr(value, f"{length} digits is more than the {_GDV_FIELD_WIDTH} of the GDV field")
    if length < _NUMBER:
        raise InvalidVsnr(value, _digit_count_reason(length))
    if not digits.strip("0"):
        raise InvalidVsnr(value, "it is all zeros")
    # Plausible forms first, so validate=False only adds readings, never changes one.
    for strict_fields in (True, False) if not strict else (True,):
        for form in (form for form in _FORMS if form <= length):
            padding, tail = digits[: length - form], digits[length - form :]
            if not padding.strip("0") and not _field_problem(tail, strict=strict_fields):
                return _split(tail)
    problem = _field_problem(digits, strict=strict) if length in _FORMS else None
    raise InvalidVsnr(value, problem or _digit_count_reason(length))


def _field_problem(digits: str, *, strict: bool) -> str | None:
    """Why ``digits`` (exactly 9, 11 or 14 of them) is not a plausible VSNR, or None."""
    if set(digits[-_NUMBER:]) == {"0"}:
        return "the nine-digit number is all zeros"
    if not strict:
        return None
    if len(digits) >= _AREA + _NUMBER and digits[-_NUMBER - _AREA] == "0":
        return f"the Arbeitsgebiet {digits[-_NUMBER - _AREA :][:_AREA]!r} begins with 0"
    if len(digits) == _BRANCH + _AREA + _NUMBER and digits[:_BRANCH] == "000":
        return "the Filialdirektion 000 is no branch number"
    return None


def _cut_positions(groups: list[str]) -> list[int]:
    cuts: list[int] = []
    position = 0
    for group in groups[:-1]:
        position += len(group)
        cuts.append(position)
    return cuts


def _cut_problem(length: int, cuts: list[int]) -> str | None:
    """A separator may fall between fields or inside the number, never inside AG or branch."""
    branch_end = _BRANCH if length == _BRANCH + _AREA + _NUMBER else 0
    area_end = branch_end + _AREA if length > _NUMBER else branch_end
    for cut in cuts:
        if 0 < cut < branch_end:
            return "a separator splits the Filialdirektion"
        if branch_end < cut < area_end:
            return "a separator splits the Arbeitsgebiet"
    return None


def _split(digits: str) -> tuple[str, str | None]:
    if len(digits) == _BRANCH + _AREA + _NUMBER:
        return digits[_BRANCH:], digits[:_BRANCH]
    return digits, None


def _digit_count_reason(length: int) -> str:
    if length == sum(_LEGACY_SHAPE):
        return "8 digits are an old Condor number only when written 2+6 (70/850632)"
    return (
        f"it has {length} digits; a VSNR has 9 (number), 11 (Arbeitsgebiet + number) or "
        "14 (Filialdirektion + Arbeitsgebiet + number), only zeros may pad it to 17"
    )
