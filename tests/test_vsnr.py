"""Specification of the R+V VSNR value type (bipro_ruv.vsnr) and the Arbeitsgebiet table."""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import BaseModel, ValidationError

from bipro_ruv.arbeitsgebiete import ARBEITSGEBIETE, get_arbeitsgebiet
from bipro_ruv.errors import BiproError
from bipro_ruv.vsnr import InvalidVsnr, Vsnr, VsnrKind

MODERN, LEGACY = VsnrKind.MODERN, VsnrKind.LEGACY_CONDOR
KEY, NUM = "32123456789", "123456789"

# written form -> canonical str, business_area, number, branch, is_complete, kind
VALID = [
    # The forms R+V's "Erfassung der Versicherungsscheinnummer" names.
    pytest.param("32123456789", KEY, "32", NUM, None, True, MODERN, id="seed-ag+vsnr"),
    pytest.param("123456789", NUM, None, NUM, None, False, MODERN, id="seed-without-ag"),
    pytest.param("12332123456789", KEY, "32", NUM, "123", True, MODERN, id="seed-fd-plain"),
    pytest.param("123/32/123456789", KEY, "32", NUM, "123", True, MODERN, id="seed-fd-slash"),
    pytest.param("123-32-123456789", KEY, "32", NUM, "123", True, MODERN, id="fd-dashes"),
    pytest.param("123 32 123456789", KEY, "32", NUM, "123", True, MODERN, id="fd-spaces"),
    pytest.param("123-32123456789", KEY, "32", NUM, "123", True, MODERN, id="fd-one-dash"),
    pytest.param("123/32123456789", KEY, "32", NUM, "123", True, MODERN, id="fd-one-slash"),
    pytest.param("123.32.123.456.789", KEY, "32", NUM, "123", True, MODERN, id="fd-dots"),
    pytest.param("01232123456789", KEY, "32", NUM, "012", True, MODERN, id="fd-leading-0"),
    # Separators between Arbeitsgebiet and number, and inside the number.
    pytest.param("32 123456789", KEY, "32", NUM, None, True, MODERN, id="space"),
    pytest.param("32 123 456 789", KEY, "32", NUM, None, True, MODERN, id="grouped"),
    pytest.param("32-123456789", KEY, "32", NUM, None, True, MODERN, id="dash"),
    pytest.param("32/123456789", KEY, "32", NUM, None, True, MODERN, id="slash"),
    pytest.param("32.123.456.789", KEY, "32", NUM, None, True, MODERN, id="dots"),
    pytest.param("32 / 123456789", KEY, "32", NUM, None, True, MODERN, id="spaced-slash"),
    pytest.param("32\u00a0123456789", KEY, "32", NUM, None, True, MODERN, id="nbsp"),
    pytest.param("32\t123456789", KEY, "32", NUM, None, True, MODERN, id="tab"),
    pytest.param("  32123456789\r\n", KEY, "32", NUM, None, True, MODERN, id="line-end"),
    pytest.param("123 456 789", NUM, None, NUM, None, False, MODERN, id="no-ag-grouped"),
    pytest.param("123-456-789", NUM, None, NUM, None, False, MODERN, id="no-ag-dashes"),
    # GDV's right-aligned 17-character field, padded with blanks or zeros.
    pytest.param("      32123456789", KEY, "32", NUM, None, True, MODERN, id="gdv-blanks"),
    pytest.param("00000032123456789", KEY, "32", NUM, None, True, MODERN, id="gdv-zeros"),
    pytest.param("        123456789", NUM, None, NUM, None, False, MODERN, id="gdv-blank-9"),
    pytest.param("00000000123456789", NUM, None, NUM, None, False, MODERN, id="gdv-zero-9"),
    pytest.param("00012332123456789", KEY, "32", NUM, "123", True, MODERN, id="gdv-zero-fd"),
    pytest.param("   12332123456789", KEY, "32", NUM, "123", True, MODERN, id="gdv-blank-fd"),
    pytest.param("00000000012345678", "012345678", None, "012345678", None, False, MODERN, id="gdv-9-lead-0"),
    pytest.param("00000032000000001", "32000000001", "32", "000000001", None, True, MODERN, id="gdv-many-0"),
    # Leading zeros outside the GDV field: the nine-digit number may begin with 0.
    pytest.param("012345678", "012345678", None, "012345678", None, False, MODERN, id="number-lead-0"),
    pytest.param("0123456789", NUM, None, NUM, None, False, MODERN, id="10-digits-padded"),
    pytest.param("032123456789", KEY, "32", NUM, None, True, MODERN, id="12-digits-padded"),
    pytest.param("00032123456789", KEY, "32", NUM, None, True, MODERN, id="fd-000-is-pad"),
    # Arbeitsgebiete outside the published table stay valid.
    pytest.param("99123456789", "99123456789", "99", NUM, None, True, MODERN, id="unknown-ag"),
    pytest.param("38123456789", "38123456789", "38", NUM, None, True, MODERN, id="retired-ag-38"),
    # Old Condor 2+6 numbers.
    pytest.param("70/850632", "70/850632", None, "850632", None, False, LEGACY, id="condor-slash"),
    pytest.param("70 850632", "70/850632", None, "850632", None, False, LEGACY, id="condor-space"),
    pytest.param("70-850632", "70/850632", None, "850632", None, False, LEGACY, id="condor-dash"),
    pytest.param(" 70 / 850632 ", "70/850632", None, "850632", None, False, LEGACY, id="condor-spaced"),
    pytest.param("        70/850632", "70/850632", None, "850632", None, False, LEGACY, id="condor-gdv"),
]

# written form -> a fragment of InvalidVsnr.reason
INVALID = [
    pytest.param("", "empty", id="empty"),
    pytest.param("   \t ", "empty", id="blank"),
    pytest.param("32A123456789", "letters", id="letter-inside"),
    pytest.param("VSNR 32123456789", "letters", id="label"),
    pytest.param("٣٢١٢٣٤٥٦٧٨٩", "non-ASCII digit", id="arabic"),
    pytest.param("３２１２３４５６７８９", "non-ASCII digit", id="fullwidth"),
    pytest.param("32123456789²", "non-ASCII digit", id="superscript"),
    pytest.param("32_123456789", "'_'", id="underscore"),
    pytest.param("32,123456789", "','", id="comma"),
    pytest.param("32\n123456789", "'\\n'", id="inner-newline"),
    pytest.param("1234567", "7 digits", id="7-digits"),
    pytest.param("12345678", "written 2+6", id="8-bare-digits"),
    pytest.param("70/85/0632", "written 2+6", id="8-digits-split"),
    pytest.param("70/85063", "7 digits", id="condor-short"),
    pytest.param("1234567890", "10 digits", id="10-digits-unpadded"),
    pytest.param("321234567890", "12 digits", id="12-digits-unpadded"),
    pytest.param("10000032123456789", "17 digits", id="17-non-zero-padding"),
    pytest.param("123456789012345678", "more than the 17", id="18-digits"),
    pytest.param("32 123456789 1", "12 digits", id="12-digits-separated"),
    pytest.param("32123456789 32123456789", "22 digits", id="two-numbers"),
    pytest.param("05123456789", "Arbeitsgebiet '05' begins with 0", id="ag-leading-0"),
    pytest.param("123 05 123456789", "Arbeitsgebiet '05' begins with 0", id="fd-ag-leading-0"),
    pytest.param("000/32/123456789", "Filialdirektion 000", id="fd-000"),
    pytest.param("000000000", "all zeros", id="zeros-9"),
    pytest.param("00000000000000000", "all zeros", id="zeros-17"),
    pytest.param("32 000000000", "all zeros", id="number-zeros"),
    pytest.param("70/000000", "all zeros", id="condor-zeros"),
    pytest.param("32--123456789", "two separators", id="double-dash"),
    pytest.param("32/-123456789", "two separators", id="slash-dash"),
    pytest.param("/32123456789", "begins with the separator", id="leading-slash"),
    pytest.param("32123456789/", "ends with the separator", id="trailing-slash"),
    pytest.param("-", "begins with the separator", id="only-dash"),
    pytest.param("3 2123456789", "splits the Arbeitsgebiet", id="cut-ag"),
    pytest.param("1233/2123456789", "splits the Arbeitsgebiet", id="cut-ag-after-fd"),
    pytest.param("12/332123456789", "splits the Filialdirektion", id="cut-fd"),
    pytest.param("3" + " " * 40 + "2", "characters long", id="too-long"),
]


@pytest.mark.parametrize(("text", "canonical", "line", "number", "branch", "complete", "kind"), VALID)
def test_valid_forms_normalise_to_their_parts(
    text: str,
    canonical: str,
    line: str | None,
    number: str,
    branch: str | None,
    complete: bool,
    kind: VsnrKind,
) -> None:
    vsnr = Vsnr(text)
    assert (str(vsnr), vsnr.business_area, vsnr.number, vsnr.branch, vsnr.is_complete, vsnr.kind) == (
        canonical,
        line,
        number,
        branch,
        complete,
        kind,
    )


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_forms_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidVsnr) as caught:
        Vsnr(text)
    assert reason in caught.value.reason


@pytest.mark.parametrize(("text", "canonical", "line", "number", "branch", "complete", "kind"), VALID)
def test_validate_false_reads_valid_forms_the_same_way(
    text: str,
    canonical: str,
    line: str | None,
    number: str,
    branch: str | None,
    complete: bool,
    kind: VsnrKind,
) -> None:
    relaxed = Vsnr(text, validate=False)
    assert (str(relaxed), relaxed.branch) == (canonical, branch)


@pytest.mark.parametrize(
    ("text", "canonical", "branch"),
    [
        pytest.param("05123456789", "05123456789", None, id="ag-leading-0"),
        pytest.param("3 2123456789", "32123456789", None, id="cut-ag"),
        pytest.param("000/32/123456789", "32123456789", "000", id="fd-000"),
    ],
)
def test_validate_false_skips_plausibility_rules(text: str, canonical: str, branch: str | None) -> None:
    relaxed = Vsnr(text, validate=False)
    assert (str(relaxed), relaxed.branch) == (canonical, branch)


@pytest.mark.parametrize("text", ["32A123456789", "1234567", "12345678", "32--123456789", "000000000"])
def test_validate_false_still_rejects_broken_structure(text: str) -> None:
    with pytest.raises(InvalidVsnr):
        Vsnr(text, validate=False)


@pytest.mark.parametrize("value", [32123456789, None, b"32123456789", 3.2])
def test_non_str_input_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="takes a str"):
        Vsnr(value)  # type: ignore[arg-type]


def test_invalid_vsnr_is_a_value_error_and_a_bipro_error() -> None:
    with pytest.raises(InvalidVsnr) as caught:
        Vsnr("abc")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, BiproError)
    assert caught.value.value == "abc"


def test_invalid_vsnr_message_shortens_long_input() -> None:
    with pytest.raises(InvalidVsnr) as caught:
        Vsnr("x" * 500)
    assert len(str(caught.value)) < 200


def test_the_key_leaves_out_the_branch() -> None:
    with_branch = Vsnr("123/32/123456789")
    assert with_branch == "32123456789"
    assert with_branch == Vsnr("32123456789")
    assert hash(with_branch) == hash("32123456789")
    assert with_branch.branch == "123"


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        pytest.param("32123456789", "32 123456789", id="complete"),
        pytest.param("123-32123456789", "123/32 123456789", id="with-branch"),
        pytest.param("123 456 789", "123456789", id="without-ag"),
        pytest.param("70 850632", "70/850632", id="condor"),
    ],
)
def test_formatted(text: str, formatted: str) -> None:
    assert Vsnr(text).formatted == formatted


@pytest.mark.parametrize("text", ["32123456789", "123/32/123456789", "123456789", "70/850632"])
def test_repr_shows_a_form_that_reads_back(text: str) -> None:
    vsnr = Vsnr(text)
    written = repr(vsnr).removeprefix("Vsnr(").removesuffix(")").strip("'")
    again = Vsnr(written)
    assert (again, again.branch) == (vsnr, vsnr.branch)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("32123456789", "Kfz KRAVAG-ALLGEMEINE", id="known"),
        pytest.param("84123456789", "Firmengeschäft", id="umlaut"),
        pytest.param("99123456789", None, id="unknown-code"),
        pytest.param("123456789", None, id="without-ag"),
        pytest.param("70/850632", None, id="condor"),
    ],
)
def test_business_area_name(text: str, name: str | None) -> None:
    assert Vsnr(text).business_area_name == name


@pytest.mark.parametrize(
    ("text", "prefix"), [("70/850632", "70"), ("70123456789", None), ("123456789", None)]
)
def test_condor_prefix_only_for_old_condor_numbers(text: str, prefix: str | None) -> None:
    assert Vsnr(text).condor_prefix == prefix


def test_an_existing_vsnr_is_returned_as_it_is() -> None:
    vsnr = Vsnr("123/32/123456789")
    assert Vsnr(vsnr) is vsnr


@pytest.mark.parametrize(
    ("text", "validate"), [("123/32/123456789", True), ("70/850632", True), ("05123456789", False)]
)
def test_pickle_and_deepcopy_keep_value_and_branch(text: str, validate: bool) -> None:
    vsnr = Vsnr(text, validate=validate)
    for clone in (pickle.loads(pickle.dumps(vsnr)), copy.deepcopy(vsnr)):
        assert type(clone) is Vsnr
        assert (str(clone), clone.branch) == (str(vsnr), vsnr.branch)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("32-123456789", "32123456789"), ("not a number", None), ("", None), (None, None)],
)
def test_try_parse(text: str | None, expected: str | None) -> None:
    assert Vsnr.try_parse(text) == expected


class _Contract(BaseModel):
    vsnr: Vsnr
    previous: Vsnr | None = None


def test_pydantic_accepts_strings_and_normalises() -> None:
    contract = _Contract(vsnr="123/32/123456789")
    assert isinstance(contract.vsnr, Vsnr)
    assert (contract.vsnr, contract.vsnr.branch) == ("32123456789", "123")


def test_pydantic_json_round_trip_uses_the_canonical_str() -> None:
    contract = _Contract(vsnr="32 123 456 789", previous="70/850632")
    dumped = contract.model_dump_json()
    assert dumped == '{"vsnr":"32123456789","previous":"70/850632"}'
    assert _Contract.model_validate_json(dumped) == contract


def test_pydantic_keeps_a_vsnr_instance_with_its_branch() -> None:
    vsnr = Vsnr("123/32/123456789")
    assert _Contract(vsnr=vsnr).vsnr is vsnr


@pytest.mark.parametrize(("value", "message"), [("32A123456789", "letters"), (32123456789, "valid string")])
def test_pydantic_rejects_invalid_values(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _Contract(vsnr=value)


def test_pydantic_json_schema_is_a_string() -> None:
    assert _Contract.model_json_schema()["properties"]["vsnr"]["type"] == "string"


def test_every_published_arbeitsgebiet_begins_with_a_non_zero_digit() -> None:
    # The zero-padding rule of bipro_ruv.vsnr relies on this.
    assert all(len(code) == 2 and code.isdigit() and code[0] != "0" for code in ARBEITSGEBIETE)


@pytest.mark.parametrize(
    ("code", "name", "current", "successor"),
    [
        ("32", "Kfz KRAVAG-ALLGEMEINE", True, None),
        ("74", "Kfz Condor", True, "3"),
        ("38", "Rechtsschutz (alt)", False, "84"),
        ("97", "Kredit Kautionsversicherung", True, None),
    ],
)
def test_arbeitsgebiet_entries(code: str, name: str, current: bool, successor: str | None) -> None:
    entry = get_arbeitsgebiet(code)
    assert entry is not None
    assert (entry.code, entry.name, entry.current, entry.successor_prefix) == (code, name, current, successor)


def test_unknown_arbeitsgebiet_is_none() -> None:
    assert get_arbeitsgebiet("99") is None


def test_arbeitsgebiet_table_size() -> None:
    # 44 codes on R+V's TransferService page plus the retired 38.
    assert len(ARBEITSGEBIETE) == 45
