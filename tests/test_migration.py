"""Specification of the Condormigration-Vertragsliste parser and the VSNR translator."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pytest

from bipro_ruv.datapackages.condor import CondorMigration, parse_migration_list, read_migration_list
from bipro_ruv.errors import BiproError, DataPackageError
from bipro_ruv.migration import MatchRule, VsnrTranslator
from bipro_ruv.vsnr import Vsnr, VsnrKind

HEADER = "Agenturnummer;Alte Vertragsnummer;Neue Vertragsnummer;Sparte;Migrationsdatum;Name VN"
ROWS = [
    "4711;70/850632;32123456789;Kfz;01.10.2016;Müller, Jürgen",
    "4711;74987654321;33987654321;Kfz;02.10.2016;Weiß GmbH & Co. KG",
    "4712;56/123456;34000000042;Privatschutz;;Öztürk, Ayşe",
]


def _cp1252(*lines: str) -> bytes:
    return "\r\n".join(lines).encode("cp1252", errors="replace")


def _migration(old: str, new: str) -> CondorMigration:
    return CondorMigration(old=Vsnr(old), new=Vsnr(new), line_number=2, raw=f"{old};{new}")


def test_parses_the_assumed_layout_in_windows_1252() -> None:
    result = parse_migration_list(_cp1252(HEADER, *ROWS))
    assert (result.encoding, result.delimiter, result.header_line, result.errors) == ("cp1252", ";", 1, ())
    first = result.records[0]
    assert (first.old, first.old.kind, first.new, first.agency, first.sparte) == (
        "70/850632",
        VsnrKind.LEGACY_CONDOR,
        "32123456789",
        "4711",
        "Kfz",
    )
    assert (first.migrated_on, first.policyholder, first.line_number) == (
        date(2016, 10, 1),
        "Müller, Jürgen",
        2,
    )
    assert first.raw == ROWS[0]


def test_an_eleven_digit_old_number_is_accepted() -> None:
    record = parse_migration_list(_cp1252(HEADER, *ROWS)).records[1]
    assert (record.old, record.old.business_area, record.new) == ("74987654321", "74", "33987654321")


def test_an_empty_date_is_none() -> None:
    record = parse_migration_list(_cp1252(HEADER, *ROWS)).records[2]
    assert (record.migrated_on, record.migrated_on_raw) == (None, "")


def test_utf8_bom_comma_variant_with_other_column_names() -> None:
    text = "\n".join(
        [
            "VSNR alt,VSNR neu,Vermittlernummer,Datum,Versicherungsnehmer",
            '70/850632,32123456789,4711,2016-10-01,"Müller, Jürgen"',
        ]
    )
    result = parse_migration_list(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert (result.encoding, result.delimiter) == ("utf-8-sig", ",")
    record = result.records[0]
    assert (record.old, record.new, record.agency, record.migrated_on, record.policyholder) == (
        "70/850632",
        "32123456789",
        "4711",
        date(2016, 10, 1),
        "Müller, Jürgen",
    )


def test_utf16_tab_separated_as_excel_saves_unicode_text() -> None:
    text = "Alte Vertragsnummer\tNeue Vertragsnummer\r\n70/850632\t32123456789\r\n"
    result = parse_migration_list(text.encode("utf-16"))
    assert (result.encoding, result.delimiter, [r.new for r in result.records]) == (
        "utf-16",
        "\t",
        ["32123456789"],
    )


def test_a_quoted_field_may_hold_a_line_break() -> None:
    # Seen in Excel exports: a name with a second line, quoted. It used to split the record in
    # two (a row error and a lost number); the next record's line number must count both lines.
    text = "\r\n".join(
        [
            HEADER,
            '4711;70/850632;32123456789;040;01.10.2016;"Müller GmbH\r\nz. Hd. Frau Müller"',
            "4711;70/850633;32123456790;040;01.10.2016;Meier",
        ]
    )
    result = parse_migration_list(text.encode("cp1252"))
    assert result.errors == ()
    first, second = result.records
    assert first.policyholder == "Müller GmbH\nz. Hd. Frau Müller"  # line ends are read as LF
    assert (first.line_number, second.line_number) == (2, 4)
    assert second.old == "70/850633"


def test_utf8_without_bom_is_read_as_utf8() -> None:
    text = "Alte Vertragsnummer;Neue Vertragsnummer;Name VN\n70/850632;32123456789;Jörg"
    result = parse_migration_list(text.encode("utf-8"))
    assert (result.encoding, result.records[0].policyholder) == ("utf-8", "Jörg")


def test_bytes_undefined_in_windows_1252_are_read_as_latin_1_alone() -> None:
    data = b"Alte Vertragsnummer;Neue Vertragsnummer;Name VN\n70/850632;32123456789;A\x81B \x96 \x80"
    result = parse_migration_list(data)
    assert (result.encoding, len(result.records)) == ("cp1252", 1)
    assert result.records[0].policyholder == "A\x81B – €"


@pytest.mark.parametrize(
    "row",
    [
        pytest.param("4711;70/850632;32123456789;Kfz;01.10.2016;Meier;Zusatz", id="long-row"),
        pytest.param('4711;70/850632;32123456789;Kfz;01.10.2016;"Meier" GmbH', id="quote-in-a-field"),
    ],
)
def test_an_odd_row_costs_the_list_nothing(row: str) -> None:
    result = parse_migration_list(_cp1252(HEADER, row, ROWS[1]))
    assert [str(r.new) for r in result.records] == ["32123456789", "33987654321"]


def test_a_doubled_column_is_read_once() -> None:
    result = parse_migration_list(_cp1252(HEADER + ";Versicherungsnehmer", ROWS[0] + ";Jürgen Müller"))
    (record,) = result.records
    assert record.policyholder == "Müller, Jürgen"
    assert record.extra == {"Versicherungsnehmer": "Jürgen Müller"}
    assert any("second time" in warning for warning in result.warnings)


@pytest.mark.parametrize(
    ("old_header", "new_header"),
    [
        ("Alte Vertragsnummer", "Neue Vertragsnummer"),
        ("VSNR alt", "VSNR neu"),
        ("Vertragsnummer alt", "Vertragsnummer neu"),
        ("Vertragsnummer (alt)", "Vertragsnummer (neu)"),
        ("alte VSNR", "neue VSNR"),
        ("Vertrags-Nr. alt", "Vertrags-Nr. neu"),
        ("ALTE VERSICHERUNGSSCHEINNUMMER", "NEUE VERSICHERUNGSSCHEINNUMMER"),
        ("Bisherige Vertragsnummer", "R+V-Vertragsnummer"),
    ],
)
def test_header_aliases(old_header: str, new_header: str) -> None:
    result = parse_migration_list(_cp1252(f"{old_header};{new_header}", "70/850632;32123456789"))
    assert [(r.old, r.new) for r in result.records] == [("70/850632", "32123456789")]


def test_columns_may_come_in_any_order() -> None:
    data = _cp1252("Neue Vertragsnummer;Alte Vertragsnummer", "32123456789;70/850632")
    record = parse_migration_list(data).records[0]
    assert (record.old, record.new) == ("70/850632", "32123456789")


def test_a_title_line_before_the_header_is_skipped() -> None:
    data = _cp1252("Condormigration-Vertragsliste Stand 22.12.2016", "", HEADER, ROWS[0])
    result = parse_migration_list(data)
    assert (result.header_line, [r.line_number for r in result.records]) == (3, [4])


def test_blank_lines_are_skipped_without_error() -> None:
    result = parse_migration_list(_cp1252(HEADER, "", ROWS[0], ";;;;;", "", ROWS[1], ""))
    assert ([r.line_number for r in result.records], result.errors) == ([3, 6], ())


@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param("4711;70/85O632;32123456789;Kfz;;", "old number: it contains letters", id="letter-o"),
        pytest.param("4711;;32123456789;Kfz;;", "old number is empty", id="old-empty"),
        pytest.param("4711;70/850632;3212345678;Kfz;;", "new number: it has 10 digits", id="new-short"),
        pytest.param("4711;70/850632;123456789;Kfz;;", "not Arbeitsgebiet + 9 digits", id="new-without-ag"),
        pytest.param("4711;70/850632;71/123456;Kfz;;", "not Arbeitsgebiet + 9 digits", id="new-is-condor"),
        pytest.param(
            "4711;70/850632", "the row has 2 fields; the old and new numbers need 3", id="short-row"
        ),
        pytest.param("Summe: 3 Verträge", "the row has 1 fields", id="footer"),
    ],
)
def test_bad_rows_are_reported_with_line_numbers(row: str, message: str) -> None:
    result = parse_migration_list(_cp1252(HEADER, ROWS[0], row, ROWS[1]))
    assert [r.line_number for r in result.records] == [2, 4]
    [error] = result.errors
    assert (error.line_number, error.raw) == (3, row)
    assert message in error.message


def test_missing_optional_fields_at_the_end_of_a_row_are_empty() -> None:
    record = parse_migration_list(_cp1252(HEADER, "4711;70/850632;32123456789")).records[0]
    assert (record.new, record.sparte, record.migrated_on, record.policyholder) == (
        "32123456789",
        None,
        None,
        None,
    )


def test_both_bad_numbers_of_one_row_are_named() -> None:
    result = parse_migration_list(_cp1252(HEADER, "4711;xx;yy;;;"))
    assert "old number" in result.errors[0].message
    assert "new number" in result.errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01.10.2016", date(2016, 10, 1)),
        ("1.10.2016", date(2016, 10, 1)),
        ("01.10.16", date(2016, 10, 1)),
        ("2016-10-01", date(2016, 10, 1)),
        ("31.02.2016", None),
        ("Oktober 2016", None),
        ("", None),
    ],
)
def test_migration_dates_keep_the_raw_value(raw: str, expected: date | None) -> None:
    record = parse_migration_list(_cp1252(HEADER, f"4711;70/850632;32123456789;Kfz;{raw};X")).records[0]
    assert (record.migrated_on, record.migrated_on_raw) == (expected, raw)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(_cp1252("Agenturnummer;Sparte", "4711;Kfz"), id="no-number-columns"),
        pytest.param(_cp1252("Alte Vertragsnummer;Sparte", "70/850632;Kfz"), id="only-old-column"),
        pytest.param(_cp1252("70/850632;32123456789"), id="no-header"),
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00", id="xlsx"),
        pytest.param(codecs.BOM_UTF8 + b"Alte Vertragsnummer;\xff", id="bom-but-not-utf8"),
    ],
)
def test_unreadable_files_raise_data_package_error(data: bytes) -> None:
    with pytest.raises(DataPackageError):
        parse_migration_list(data)


def test_data_package_error_is_a_bipro_error() -> None:
    assert issubclass(DataPackageError, BiproError)


def test_read_migration_list_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "Condormigration-Vertragsliste.csv"
    path.write_bytes(_cp1252(HEADER, *ROWS))
    assert len(read_migration_list(path).records) == 3


# --- VsnrTranslator: rule 1, EXACT ---------------------------------------------------------


@pytest.mark.parametrize(
    "stored",
    ["32123456789", "32 123 456 789", "123/32/123456789", "00000032123456789", "32-123456789"],
)
def test_exact_match_returns_the_stored_form(stored: str) -> None:
    match = VsnrTranslator([stored, "35999999999"]).resolve("32123456789")
    assert (match.rule, match.stored) == (MatchRule.EXACT, stored)


def test_exact_match_of_an_old_condor_number() -> None:
    assert VsnrTranslator(["70 850632"]).match("70/850632") == "70 850632"


def test_two_stored_forms_of_one_number_are_ambiguous() -> None:
    translator = VsnrTranslator(["32123456789", "123/32/123456789"])
    match = translator.resolve("32123456789")
    assert (match.rule, match.is_ambiguous, match.stored) == (MatchRule.EXACT, True, None)
    assert translator.match_all("32123456789") == ("32123456789", "123/32/123456789")


def test_the_same_stored_string_twice_is_not_ambiguous() -> None:
    assert VsnrTranslator(["32123456789", "32123456789"]).match("32123456789") == "32123456789"


# --- rule 2, SAME_NUMBER ----------------------------------------------------------------------


def test_complete_delivered_number_matches_stored_number_without_arbeitsgebiet() -> None:
    match = VsnrTranslator(["123 456 789"]).resolve("32123456789")
    assert (match.rule, match.stored) == (MatchRule.SAME_NUMBER, "123 456 789")


def test_delivered_number_without_arbeitsgebiet_matches_a_complete_stored_one() -> None:
    match = VsnrTranslator(["32123456789"]).resolve("123456789")
    assert (match.rule, match.stored) == (MatchRule.SAME_NUMBER, "32123456789")


def test_same_number_under_two_arbeitsgebiete_is_ambiguous_not_guessed() -> None:
    translator = VsnrTranslator(["32123456789", "35123456789"])
    assert translator.match("123456789") is None
    assert translator.match_all("123456789") == ("32123456789", "35123456789")


def test_a_different_arbeitsgebiet_never_matches() -> None:
    assert VsnrTranslator(["35123456789"]).resolve("32123456789").rule is None


def test_exact_beats_same_number() -> None:
    match = VsnrTranslator(["123456789", "32123456789"]).resolve("32123456789")
    assert (match.rule, match.candidates) == (MatchRule.EXACT, ("32123456789",))


# --- rule 3, MIGRATION ------------------------------------------------------------------------


def test_delivered_new_number_matches_the_stored_old_condor_number() -> None:
    translator = VsnrTranslator(["70/850632"], [_migration("70/850632", "32123456789")])
    match = translator.resolve("32123456789")
    assert (match.rule, match.stored) == (MatchRule.MIGRATION, "70/850632")


def test_delivered_old_number_matches_the_stored_new_number() -> None:
    translator = VsnrTranslator(["32 123456789"], [_migration("70/850632", "32123456789")])
    assert translator.match("70/850632") == "32 123456789"


def test_migration_reaches_a_stored_number_without_arbeitsgebiet() -> None:
    translator = VsnrTranslator(["123456789"], [_migration("70/850632", "32123456789")])
    assert translator.resolve("70/850632").stored == "123456789"


def test_old_number_split_into_two_stored_contracts_is_ambiguous() -> None:
    migrations = [_migration("70/850632", "32123456789"), _migration("70/850632", "70987654321")]
    translator = VsnrTranslator(["32123456789", "70987654321"], migrations)
    match = translator.resolve("70/850632")
    assert (match.rule, match.candidates) == (MatchRule.MIGRATION, ("32123456789", "70987654321"))


def test_a_direct_match_beats_migration() -> None:
    translator = VsnrTranslator(["32123456789", "70/850632"], [_migration("70/850632", "32123456789")])
    assert translator.resolve("32123456789").rule is MatchRule.EXACT


def test_translator_built_from_a_parsed_list() -> None:
    migrations = parse_migration_list(_cp1252(HEADER, *ROWS)).records
    translator = VsnrTranslator(["70/850632", "74 987654321"], migrations)
    assert (translator.match("32123456789"), translator.match("33987654321")) == ("70/850632", "74 987654321")


# --- no match ---------------------------------------------------------------------------------


@pytest.mark.parametrize("delivered", [None, "", "Kfz-Anforderung 4711", "99999999999"])
def test_unknown_or_missing_delivered_numbers_match_nothing(delivered: str | None) -> None:
    match = VsnrTranslator(["32123456789"]).resolve(delivered)
    assert (match.rule, match.candidates, match.stored) == (None, (), None)


def test_stored_values_that_are_no_vsnr_are_listed_and_never_match() -> None:
    translator = VsnrTranslator(["siehe Akte", "32123456789", ""])
    assert translator.unparsed == ("siehe Akte", "")
    assert translator.match("32123456789") == "32123456789"
