"""The GDV parser against real third-party files (../shared/fixtures/gdv; skipped without them).

Expected values are those the files' own projects assert (gdv.xport's VorsatzTest and
NachsatzTest, opengdv's tc_model.rb and tc_reader.rb; listed in the fixtures README and
gdv-format.md §3). The project's generated files cover the same cases without them
(tests/test_gdv_parser.py, tests/test_gdv_roundtrip.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bipro_ruv import gdv
from tests.conftest import fixture_file


def _parse(name: str) -> gdv.GdvFile:
    return gdv.parse(fixture_file("gdv", name))


def _contract(file: gdv.GdvFile, vsnr: str) -> gdv.Contract:
    (found,) = [c for c in file.contracts if c.vsnr_text == vsnr]
    return found


@pytest.fixture(scope="module")
def muster() -> gdv.GdvFile:
    return _parse("musterdatei_041222.txt")


class TestMusterdatei:
    """The GDV's sample Bestand of 22.07.2004 (release 2004, versions 1.9)."""

    @pytest.fixture
    def file(self, muster: gdv.GdvFile) -> gdv.GdvFile:
        return muster

    def test_one_packet_with_fourteen_contracts(self, file: gdv.GdvFile) -> None:
        assert len(file.packets) == 1
        assert [c.vsnr_text for c in file.contracts] == [str(n) for n in range(59999999999, 59999999985, -1)]
        assert file.records == 165

    def test_vorsatz(self, file: gdv.GdvFile) -> None:
        vorsatz = file.packets[0].vorsatz
        assert vorsatz is not None
        assert vorsatz.vu_number == "9999"
        assert vorsatz.sender == "XXX Versicherung AG"
        assert vorsatz.addressee == "BRBRIENNEE,JÜRGEN"
        assert vorsatz.period == (dt.date(2004, 7, 22), dt.date(2004, 7, 22))
        versions = vorsatz.versions
        assert (versions[("0001", "")], versions[("0100", "")], versions[("0200", "")]) == (
            "1.9",
            "1.9",
            "1.9",
        )
        assert versions[("0210", "050")] == "2.1"

    def test_nachsatz_is_consistent_with_the_records(self, file: gdv.GdvFile) -> None:
        packet = file.packets[0]
        assert packet.nachsatz is not None
        assert packet.nachsatz.record_count == 162 == packet.record_count
        assert packet.nachsatz.total_premium == Decimal("4806.00") == packet.premium_sum
        assert not [w for w in file.warnings if w.code.startswith("nachsatz")]

    def test_versions_older_than_2009_are_read_with_2009_and_said_once(self, file: gdv.GdvFile) -> None:
        assert [w.code for w in file.warnings] == ["version"]
        assert "release 2009" in file.warnings[0].message
        assert file.packets[0].releases[("0200", "")] == "2009"

    def test_first_kfz_contract(self, file: gdv.GdvFile) -> None:
        kfz = [c for c in file.contracts if c.sparte == "050"]
        assert len(kfz) == 4
        first = kfz[0]
        assert first.vsnr_text == "59999999990"
        assert first.vsnr == "59999999990"
        assert (first.start_date, first.end_date) == (dt.date(2004, 7, 1), dt.date(2005, 1, 1))
        holder = first.policyholder
        assert holder is not None
        assert (holder.name_1, holder.name_3) == ("Gillensvier", "Herbert")
        vehicle = first.of("0210")[0]
        assert vehicle.manufacturer_name == "VW"
        assert vehicle.model_name == "1J (GOLF IV 1.9 TDI SYNCR"
        # 2004: the KH premium is zero in 0220.051 and stated in its Erweiterungssatz 0221.051.
        (kh,) = [r for r in first.records if isinstance(r, gdv.Record) and r.kind == "0220.051"]
        assert kh.mtpl_tariff_group == "R8"
        assert kh.mtpl_no_claims_class == "1/2"
        (kh_extension,) = [r for r in first.records if isinstance(r, gdv.Record) and r.kind == "0221.051"]
        assert kh_extension.mtpl_premium == Decimal("866.87")
        (tk_extension,) = [r for r in first.records if isinstance(r, gdv.Record) and r.kind == "0221.053"]
        assert tk_extension.partial_casco_premium == Decimal("173.58")
        (ku_extension,) = [r for r in first.records if isinstance(r, gdv.Record) and r.kind == "0221.054"]
        assert ku_extension.disability_risk_1 == Decimal("30000.00")

    def test_first_policyholder_and_last_contract(self, file: gdv.GdvFile) -> None:
        first = file.contracts[0]
        holder = first.policyholder
        assert holder is not None
        assert (holder.name_1, holder.name_3, holder.salutation_code) == ("Kitzelpfütze", "Martina", "2")
        assert first.start_date == dt.date(2004, 5, 1)

    def test_bundled_contract_keeps_sparte_000_and_its_sparte_records(self, file: gdv.GdvFile) -> None:
        bundled = _contract(file, "59999999986")
        general = bundled.general
        assert general is not None
        assert (general.line_of_business, general.bundle_flag) == ("000", "1")
        assert bundled.sparte == "000"
        assert {r.sparte for r in bundled.sparte_records} == {"040", "130"}

    def test_every_record_is_decoded(self, file: gdv.GdvFile) -> None:
        assert not [r for c in file.contracts for r in c.raw]
        parts = sum(len(r.parts) for c in file.contracts for r in c.records if isinstance(r, gdv.Record))
        assert parts == 162

    def test_streaming_gives_the_same_contracts(self) -> None:
        reader = gdv.GdvReader(fixture_file("gdv", "musterdatei_041222.txt"))
        streamed = [(c.key, len(c.records)) for c in reader]
        parsed = [(c.key, len(c.records)) for c in _parse("musterdatei_041222.txt").contracts]
        assert streamed == parsed
        assert reader.records == 165


def test_crlf_and_lf_read_alike(fixtures_dir: object) -> None:
    lf = fixture_file("gdv", "musterdatei_041222.txt").read_bytes()
    crlf = gdv.parse(lf.replace(b"\n", b"\r\n"))
    plain = gdv.parse(lf)
    assert [c.key for c in crlf.contracts] == [c.key for c in plain.contracts]
    assert [r.as_dict() for c in crlf.contracts for r in c.of("0200")] == [
        r.as_dict() for c in plain.contracts for r in c.of("0200")
    ]


def test_two_packets() -> None:
    file = _parse("zwei_datenpakete.txt")
    assert len(file.packets) == 2
    first, second = file.packets
    assert first.vorsatz is not None
    assert second.vorsatz is not None
    assert (first.vorsatz.vu_number, second.vorsatz.vu_number) == ("9999", "1111")
    assert len(first.contracts) == 14
    assert len(second.contracts) == 5
    assert file.records == 197
    # The igor packet's Nachsatz was written for a bigger file: a warning, not an error.
    assert {w.code for w in second.warnings} >= {"nachsatz-count", "nachsatz-premium"}
    assert not [w for w in first.warnings if w.code.startswith("nachsatz")]


def test_seventeen_character_vsnrs() -> None:
    file = _parse("igor_110120.txt")
    assert file.contracts[0].vsnr_text == "10680009018297020"
    assert len(file.contracts) == 5
    assert all(c.vsnr is None for c in file.contracts)  # not R+V-shaped: kept as text
    assert all(c.sparte == "050" for c in file.contracts)


def test_unfall_with_inkasso() -> None:
    file = _parse("unfall.gdv")
    (contract,) = file.contracts
    assert contract.vsnr_text == "1122334455"
    assert [r.satzart for r in contract.inkasso] == ["0400", "0410"]
    insured = [r for r in contract.of("0220") if r.sparte == "030" and r.part(1) is not None]
    assert len(insured) == 4


def test_no_final_newline_and_undecoded_satzarten_are_kept() -> None:
    file = _parse("muster_kfzantrag.gdv")
    assert file.records == 38
    raw = [r for c in file.contracts for r in c.raw]
    assert {r.satzart for r in raw} == {"0052", "9952"}
    # A yearly due date without a year ("01010000") is a partial date, not junk.
    general = file.contracts[0].general
    assert general is not None
    assert general.main_due_date == gdv.PartialDate("01010000", None, 1, 1)


def test_teildatensatz_change() -> None:
    file = _parse("teildatensatz_wechsel.gdv")
    assert [c.vsnr_text for c in file.contracts] == ["123456789001", "123456789002"]
