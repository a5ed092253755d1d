"""Specification of the sandbox's seeded mailbox content: ``bipro_ruv.sandbox.content`` and its generators."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tracemalloc
import zipfile
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bipro_ruv.sandbox.content import gdv_writer
from bipro_ruv.sandbox.content.contracts import (
    SANDBOX_CONTRACTS,
    SandboxContract,
    SandboxCustomer,
    find_contract,
)
from bipro_ruv.sandbox.content.csv_writer import (
    CONDOR_MIGRATION_HEADER,
    SALDEN_HEADER,
    SAMMELABRECHNUNG_HEADER,
)
from bipro_ruv.sandbox.content.hostile import (
    DEFECTS_THAT_FAIL,
    DEFECTS_THAT_PASS,
    ZIP_BOMB_MEMBER_SIZE,
    hostile_shipments,
)
from bipro_ruv.sandbox.content.mailbox import bulk_shipments, default_mailbox, large_document_shipment
from bipro_ruv.sandbox.content.pdf import make_pdf
from bipro_ruv.sandbox.content.shipments import CHUNK_SIZE, SeedDocument, SeedShipment

TODAY = date(2025, 3, 5)  # a Wednesday: the weekly GDV Bestand is dated today
OTHER_DAYS = [date(2024, 2, 29), date(2025, 1, 1), date(2025, 12, 31), date(2026, 6, 14)]
MIB = 1 << 20

# The Buchungsart codes of R+V's legend to the Saldenbestätigung.
SALDEN_BUCHUNGSARTEN = {
    "ABRG", "ABSTO", "AKTO", "AP", "BF", "BM", "BP", "BX", "DP", "FB", "FBST", "GWB", "KLÄR", "MBU", "NG",
    "NGST", "RL", "SCHD", "SP", "VP", "VS", "VSST", "VST", "ZA", "ZE",
}  # fmt: skip


@pytest.fixture(scope="module")
def mailbox() -> list[SeedShipment]:
    return default_mailbox(TODAY)


@pytest.fixture(scope="module")
def hostile() -> list[SeedShipment]:
    return hostile_shipments(TODAY)


def _documents(shipments: list[SeedShipment]) -> list[SeedDocument]:
    return [document for shipment in shipments for document in shipment.documents]


def _named(shipments: list[SeedShipment], prefix: str) -> SeedDocument:
    (document,) = [d for d in _documents(shipments) if d.file_name.startswith(prefix)]
    return document


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))


def _pdf_objects(data: bytes) -> dict[int, bytes]:
    """Parse the xref table and check every entry points at its ``n 0 obj`` line; return the objects."""
    tail = data.rsplit(b"startxref\n", 1)[1]
    xref = int(tail.split(b"\n", 1)[0])
    assert data[xref:].startswith(b"xref\n")
    lines = data[xref:].split(b"\n")
    first, count = map(int, lines[1].split())
    entries = lines[2 : 2 + count]
    assert first == 0
    assert entries[0] == b"0000000000 65535 f "
    objects: dict[int, bytes] = {}
    for number, entry in enumerate(entries[1:], start=1):
        assert len(entry) == 19
        assert entry.endswith(b" 00000 n ")
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
        objects[number] = data[offset : data.index(b"endobj", offset)]
    assert lines[2 + count] == b"trailer"
    return objects


def _assert_valid_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.4\n")
    assert data.endswith(b"%%EOF\n")
    objects = _pdf_objects(data)
    for body in objects.values():
        match = re.search(rb"/Length (\d+) >>\nstream\n", body)
        if match:
            stream_end = match.end() + int(match.group(1))
            assert body[stream_end:].startswith(b"endstream")


def _gdv_records(data: bytes) -> list[bytes]:
    assert data.endswith(gdv_writer.LINE_END)
    return data.split(gdv_writer.LINE_END)[:-1]


def _datenpakete(records: list[bytes]) -> list[list[bytes]]:
    pakete: list[list[bytes]] = []
    for record in records:
        if record.startswith(b"0001"):
            pakete.append([])
        pakete[-1].append(record)
    return pakete


def _cents(field: bytes, sign: bytes = b"+") -> int:
    return int(field) * (-1 if sign == b"-" else 1)


# -- determinism and byte accounting ------------------------------------------------------------------------


def test_the_same_day_and_seed_give_the_same_bytes() -> None:
    def snapshot(shipments: list[SeedShipment]) -> list[tuple[str, str, bytes]]:
        return [(s.id, d.file_name, d.read_all()) for s in shipments for d in s.documents]

    assert snapshot(default_mailbox(TODAY, seed=7)) == snapshot(default_mailbox(TODAY, seed=7))


def test_another_seed_gives_other_shipment_ids() -> None:
    first = {s.id for s in default_mailbox(TODAY, seed=1)}
    assert first.isdisjoint({s.id for s in default_mailbox(TODAY, seed=2)})


@pytest.mark.parametrize("today", [TODAY, *OTHER_DAYS])
def test_every_day_gives_a_complete_mailbox(today: date) -> None:
    shipments = default_mailbox(today)
    assert 14 <= len(shipments) <= 17
    assert len({s.id for s in shipments}) == len(shipments)


@pytest.mark.parametrize("source", ["default", "hostile", "bulk", "large"])
def test_size_and_sha256_describe_exactly_what_produce_yields(source: str) -> None:
    shipments = {
        "default": lambda: default_mailbox(TODAY),
        "hostile": lambda: hostile_shipments(TODAY),
        "bulk": lambda: bulk_shipments(5),
        "large": lambda: [large_document_shipment(3 * MIB + 5)],
    }[source]()
    for document in _documents(shipments):
        chunks = list(document.produce())
        assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)
        data = b"".join(chunks)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (document.size, document.sha256)


def test_produce_can_be_called_again(mailbox: list[SeedShipment]) -> None:
    document = _documents(mailbox)[0]
    assert document.read_all() == document.read_all()


def test_shipment_ids_do_not_clash_across_all_sets(
    mailbox: list[SeedShipment], hostile: list[SeedShipment]
) -> None:
    everything = [*mailbox, *hostile, *bulk_shipments(100), large_document_shipment(10)]
    assert Counter(s.id for s in everything).most_common(1)[0][1] == 1


# -- shipment metadata --------------------------------------------------------------------------------------


def test_shipment_fields_follow_the_bipro_types(mailbox: list[SeedShipment]) -> None:
    for shipment in mailbox:
        assert 1 <= len(shipment.id) <= 25
        assert re.fullmatch(r"\d{9}", shipment.kategorie)
        assert re.fullmatch(r"\d{4}", shipment.art_der_lieferung)
        assert shipment.sparte is None or re.fullmatch(r"\d{3}", shipment.sparte)
        assert shipment.einstellzeitpunkt.tzinfo is None
        assert shipment.defect is None


def test_shipments_are_placed_recently_and_stay_available_three_years(mailbox: list[SeedShipment]) -> None:
    for shipment in mailbox:
        placed = shipment.einstellzeitpunkt.date()
        assert TODAY - timedelta(days=40) <= placed <= TODAY
        assert shipment.verfuegbar_bis == placed.replace(year=placed.year + 3)


def test_shipments_are_listed_oldest_first(mailbox: list[SeedShipment]) -> None:
    assert [s.einstellzeitpunkt for s in mailbox] == sorted(s.einstellzeitpunkt for s in mailbox)


@pytest.mark.parametrize(
    ("dokumentart", "kategorie", "vsnr", "vu_number"),
    [
        ("Police", "100007000", "44090312655", "5438"),
        ("Beitragsrechnung", "100007000", "44090312655", "5438"),
        ("Nachtrag", "120000000", "48205517093", "5438"),
        ("Mahnung", "140012021", "35781200456", "5438"),
        ("Schadenerledigung", "150013000", "32701234568", "5058"),
        ("Anschreiben", "160010002", "84002519731", "5438"),
        ("Nachtrag", "120000000", "18560093318", "5339"),
        ("Police", "170011000", "18560093318", "5438"),
    ],
)
def test_broker_copies_of_the_seeded_contracts(
    mailbox: list[SeedShipment], dokumentart: str, kategorie: str, vsnr: str, vu_number: str
) -> None:
    found = [
        (s, d)
        for s in mailbox
        for d in s.documents
        if (d.dokumentart, s.kategorie, d.vsnr, d.vu_number) == (dokumentart, kategorie, vsnr, vu_number)
    ]
    assert len(found) == 1
    shipment, document = found[0]
    assert (document.content_type, document.compression, shipment.enthaelt_nur_daten) == (
        "application/pdf",
        "KEINE",
        False,
    )
    contract = find_contract(vsnr, vu_number)
    pdf = document.read_all()
    assert vsnr.encode() in pdf
    assert contract.customer.display_name.encode("cp1252") in pdf
    assert shipment.sparte == contract.sparte


def test_one_shipment_carries_police_and_invoice_together(mailbox: list[SeedShipment]) -> None:
    (shipment,) = [s for s in mailbox if len(s.documents) == 2]
    assert [d.dokumentart for d in shipment.documents] == ["Police", "Beitragsrechnung"]


def test_the_kfz_anforderungsschreiben_has_no_vsnr_but_an_id_and_a_kennzeichen(
    mailbox: list[SeedShipment],
) -> None:
    (shipment,) = [s for s in mailbox if s.kategorie == "100005100"]
    (document,) = shipment.documents
    assert document.vsnr is None
    pdf = document.read_all()
    assert re.search(rb"ID-Nummer: \d{10}", pdf)
    assert b"Amtliches Kennzeichen: WI-EM 2024" in pdf


def test_letter_file_names_include_a_realistic_umlaut_and_space(mailbox: list[SeedShipment]) -> None:
    assert "Nachtrag Wohngebäude 48205517093.pdf" in {d.file_name for d in _documents(mailbox)}


def test_pruefsummen_are_right_and_of_several_kinds(mailbox: list[SeedShipment]) -> None:
    kinds = set()
    for document in _documents(mailbox):
        kinds.add(document.checksum[0] if document.checksum else None)
        if document.checksum:
            kind, value = document.checksum
            assert hashlib.new(kind.lower(), document.read_all()).hexdigest() == value
    assert kinds == {"SHA256", "MD5", None}


def test_every_letter_is_a_valid_pdf(mailbox: list[SeedShipment]) -> None:
    for document in _documents(mailbox):
        if document.content_type == "application/pdf":
            _assert_valid_pdf(document.read_all())


# -- CSV data packages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "kategorie", "art", "compression"),
    [
        ("Saldenbestaetigung_", "999000000", "1301", "KEINE"),
        ("Sammelabrechnung_", "999000000", "1301", "ZIP"),
        ("Courtageabrechnung_", "999000000", "1301", "KEINE"),
        ("Condormigration-Vertragsliste_", "999000000", "1001", "KEINE"),
        ("Bestandsuebertragungsliste_", "999000000", "1001", "KEINE"),
        ("GDV_Bestand_5438_20250305.txt", "999010010", "1001", "KEINE"),
        ("GDV_Inkasso_5438_20250304.txt", "999050000", "1201", "KEINE"),
    ],
)
def test_data_packages_are_periodic_data_only_shipments(
    mailbox: list[SeedShipment], prefix: str, kategorie: str, art: str, compression: str
) -> None:
    (shipment,) = [s for s in mailbox if s.documents[0].file_name.startswith(prefix)]
    assert (shipment.kategorie, shipment.art_der_lieferung, shipment.documents[0].compression) == (
        kategorie,
        art,
        compression,
    )
    assert shipment.enthaelt_nur_daten
    assert shipment.periodische_lieferung


def test_condor_migration_list_has_the_agreed_layout(mailbox: list[SeedShipment]) -> None:
    data = _named(mailbox, "Condormigration-Vertragsliste_").read_all()
    assert data.decode("cp1252").startswith(";".join(CONDOR_MIGRATION_HEADER) + "\r\n")
    assert CONDOR_MIGRATION_HEADER == (
        "Agenturnummer",
        "Alte Vertragsnummer",
        "Neue Vertragsnummer",
        "Sparte",
        "Migrationsdatum",
        "Name VN",
    )
    rows = _csv_rows(data)[1:]
    assert len(rows) == 3
    for _agency, old, new, _sparte, migrated, _name in rows:
        assert re.fullmatch(r"\d{2}/\d{6}|74\d{9}", old)
        assert re.fullmatch(r"\d{11}", new)
        assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", migrated)
    assert {row[1] for row in rows} >= {"74119830276", "70/851204"}


def test_condor_migration_list_parses_with_the_project_parser(mailbox: list[SeedShipment]) -> None:
    from bipro_ruv.datapackages.condor import parse_migration_list

    result = parse_migration_list(_named(mailbox, "Condormigration-Vertragsliste_").read_all())
    assert (result.encoding, result.delimiter, result.errors) == ("cp1252", ";", ())
    assert [str(r.new).replace(" ", "") for r in result.records] == [
        "32701234568",
        "48205517093",
        "70448102915",
    ]


def test_saldenbestaetigung_uses_the_legend_columns_and_codes(mailbox: list[SeedShipment]) -> None:
    rows = _csv_rows(_named(mailbox, "Saldenbestaetigung_").read_all())
    assert tuple(rows[0]) == SALDEN_HEADER
    column = {name: index for index, name in enumerate(SALDEN_HEADER)}
    codes = {row[column["Buchungsart"]] for row in rows[1:]}
    assert codes <= SALDEN_BUCHUNGSARTEN
    assert {"FB", "BP", "SCHD", "KLÄR"} <= codes
    for row in rows[1:]:
        assert len(row) == len(SALDEN_HEADER)
        assert re.fullmatch(r"-?\d+,\d{2}", row[column["Gebuchter Betrag R+V"]])
        assert row[column["Kategorie"]] in {
            "Beitrag",
            "Provision",
            "Schaden",
            "Klärkonto",
            "Sonstige Buchungen",
        }


def test_saldenbestaetigung_flags_the_dunned_contract(mailbox: list[SeedShipment]) -> None:
    rows = _csv_rows(_named(mailbox, "Saldenbestaetigung_").read_all())
    flagged = {row[2] for row in rows[1:] if row[-1] == "aktiv"}
    assert flagged == {"35781200456"}


def test_sammelabrechnung_is_a_zip_holding_one_csv_whose_gross_is_net_plus_tax(
    mailbox: list[SeedShipment],
) -> None:
    document = _named(mailbox, "Sammelabrechnung_")
    with zipfile.ZipFile(io.BytesIO(document.read_all())) as archive:
        (name,) = archive.namelist()
        rows = _csv_rows(archive.read(name))
    assert name == document.file_name.removesuffix(".zip") + ".csv"
    assert tuple(rows[0]) == SAMMELABRECHNUNG_HEADER

    def amount(text: str) -> Decimal:
        return Decimal(text.replace(",", "."))

    for row in rows[1:]:
        assert amount(row[-3]) + amount(row[-2]) == amount(row[-1])
    assert {row[2] for row in rows[1:]} == {"KFZ", "Sach"}


# -- GDV files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["GDV_Bestand_", "GDV_Inkasso_"])
def test_gdv_records_are_256_latin1_bytes_with_crlf(mailbox: list[SeedShipment], prefix: str) -> None:
    document = _named(mailbox, prefix)
    data = document.read_all()
    assert document.content_type == "text/plain"
    assert data.count(b"\r\n") == data.count(b"\n")
    assert all(len(record) == gdv_writer.RECORD_LENGTH for record in _gdv_records(data))


def test_gdv_bestand_is_written_in_latin1() -> None:
    data = gdv_writer.bestand_file(SANDBOX_CONTRACTS, created=TODAY)
    assert "Blumenhaus Grünfink OHG".encode("latin-1") in data


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (1, 4, b"0001"),
        (5, 9, b"5438 "),
        (10, 39, b"R+V Allgemeine Versicherung AG"),
        (40, 69, "Maklerbüro Beispiel GmbH      ".encode("latin-1")),
        (70, 77, b"05032025"),
        (78, 85, b"05032025"),
        (86, 95, b"47110815  "),
        (96, 98, b"2.5"),
        (99, 101, b"2.3"),
        (102, 104, b"2.5"),
        (105, 107, b"2.7"),
        (225, 227, b"1.1"),
        (256, 256, b"1"),
    ],
)
def test_vorsatz_fields_sit_where_the_gdv_layout_puts_them(first: int, last: int, expected: bytes) -> None:
    live = [c for c in SANDBOX_CONTRACTS if c.vu_number == "5438"]
    vorsatz = _gdv_records(gdv_writer.bestand_file(live, created=TODAY))[0]
    assert vorsatz[first - 1 : last] == expected


def test_bestand_nachsatz_counts_records_and_sums_the_0200_premiums() -> None:
    data = gdv_writer.bestand_file(SANDBOX_CONTRACTS, created=TODAY)
    pakete = _datenpakete(_gdv_records(data))
    assert [p[0][4:8] for p in pakete] == [b"1141", b"5058", b"5339", b"5438"]
    for paket in pakete:
        nachsatz = paket[-1]
        assert nachsatz[:4] == b"9999"
        body = paket[1:-1]
        assert int(nachsatz[4:14]) == len(body)
        first_0200 = [r for r in body if r[:4] == b"0200" and r[255:256] == b"1"]
        assert int(nachsatz[24:39]) == sum(int(r[115:127]) for r in first_0200)


def test_inkasso_nachsatz_sums_gross_and_commission_of_the_0400_records() -> None:
    data = gdv_writer.inkasso_file(SANDBOX_CONTRACTS, booking_date=TODAY)
    for paket in _datenpakete(_gdv_records(data)):
        nachsatz, body = paket[-1], paket[1:-1]
        first = [r for r in body if r[:4] == b"0400" and r[255:256] == b"1"]
        assert int(nachsatz[4:14]) == len(body)
        assert _cents(nachsatz[39:53], nachsatz[53:54]) == sum(_cents(r[138:149], r[149:150]) for r in first)
        assert _cents(nachsatz[54:68], nachsatz[68:69]) == sum(_cents(r[150:161], r[161:162]) for r in first)
        for record in first:
            net, tax, gross = int(record[109:120]), int(record[121:132]), int(record[138:149])
            assert net + tax == gross


def test_vsnr_is_right_aligned_in_columns_14_to_30() -> None:
    record = _gdv_records(gdv_writer.bestand_file([find_contract("48205517093")], created=TODAY))[1]
    assert record[13:30] == b"      48205517093"


def test_the_merged_contract_appears_under_both_vu_numbers_in_one_file() -> None:
    data = gdv_writer.bestand_file(SANDBOX_CONTRACTS, created=TODAY)
    vertraege = [r for r in _gdv_records(data) if r[:4] == b"0200" and r[13:30].strip() == b"18560093318"]
    first_parts = [(r[4:8], r[68:69], r[69:71], r[71:79]) for r in vertraege if r[255:256] == b"1"]
    assert first_parts == [(b"5339", b"4", b"37", b"00082024"), (b"5438", b"1", b"  ", b"        ")]


def test_bundled_contracts_carry_sparte_000_and_the_bundle_flag() -> None:
    record = _gdv_records(gdv_writer.bestand_file([find_contract("34117705329")], created=TODAY))[1]
    assert record[9:13] == b"1000"


def test_kfz_contracts_carry_the_kennzeichen_in_0210_050() -> None:
    records = _gdv_records(gdv_writer.bestand_file([find_contract("30418820375")], created=TODAY))
    (fahrzeug,) = [r for r in records if r[:4] == b"0210"]
    assert (fahrzeug[10:13], fahrzeug[113:125]) == (b"050", b"WI-EM 1978  ")


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2025, 3, 5), (date(2025, 1, 1), date(2025, 3, 31))),
        (date(2025, 12, 31), (date(2025, 10, 1), date(2025, 12, 31))),
        (date(2026, 1, 1), (date(2026, 1, 1), date(2026, 3, 31))),
    ],
)
def test_quarterly_installment_periods(on: date, expected: tuple[date, date]) -> None:
    assert gdv_writer.installment_period(find_contract("32701234568"), on) == expected


# -- PDF writer ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        ("Leer", []),
        ("Umlaute äöüß ÄÖÜ", ["Grüße aus Gießen", "€ und §"]),
        ("Klammern (und) \\ Backslash", ["(a) \\ (b)", "Tab\tund\x07Steuerzeichen"]),
        ("Lang", ["Zeile " * 40]),
        ("Mehrseitig", [f"Zeile {n}" for n in range(200)]),
    ],
)
def test_make_pdf_writes_a_valid_pdf_with_correct_xref_offsets(title: str, lines: list[str]) -> None:
    _assert_valid_pdf(make_pdf(title, lines))


def test_make_pdf_paginates_long_letters() -> None:
    objects = _pdf_objects(make_pdf("Mehrseitig", [f"Zeile {n}" for n in range(200)]))
    assert b"/Count 4" in objects[2]


def test_make_pdf_writes_umlauts_in_winansi() -> None:
    data = make_pdf("Titel", ["Grüße"])
    assert b"/Encoding /WinAnsiEncoding" in data
    assert "(Grüße) Tj".encode("cp1252") in data


@pytest.mark.parametrize("size", [1000, 2048, 2049, 9999, 10000, 65536])
def test_make_pdf_pads_to_the_requested_size(size: int) -> None:
    data = make_pdf("t", ["x"], min_size=size)
    assert len(data) == size
    _assert_valid_pdf(data)


# -- hostile set --------------------------------------------------------------------------------------------


def test_every_defect_has_a_shipment(hostile: list[SeedShipment]) -> None:
    assert DEFECTS_THAT_PASS.isdisjoint(DEFECTS_THAT_FAIL)
    assert {s.defect for s in hostile} == DEFECTS_THAT_PASS | DEFECTS_THAT_FAIL


@pytest.mark.parametrize(
    ("name", "defect"),
    [
        ("../../../etc/passwd", "path_traversal"),
        ("..\\..\\Windows\\win.ini", "path_traversal"),
        ("/etc/cron.d/evil", "path_traversal"),
        ("C:\\evil.pdf", "path_traversal"),
        ("CON.pdf", "reserved_name"),
        ("Nachtrag\r\nContent-Type: text/html\t.pdf", "control_characters"),
        ("Rechnung_\u202efdp.exe", "control_characters"),
        ("Versicherungsschein", "no_extension"),
    ],
)
def test_hostile_names_are_sent_verbatim(hostile: list[SeedShipment], name: str, defect: str) -> None:
    found = [s.defect for s in hostile for d in s.documents if d.file_name == name]
    assert found == [defect]


def test_hostile_names_stay_within_xml_1_0_characters(hostile: list[SeedShipment]) -> None:
    for document in _documents(hostile):
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", document.file_name)


def test_the_long_name_has_300_characters(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "long_name"]
    assert len(shipment.documents[0].file_name) == 300


def test_the_name_without_extension_is_still_a_pdf(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "no_extension"]
    assert shipment.documents[0].content_type == "application/pdf"
    assert shipment.documents[0].read_all().startswith(b"%PDF-")


def test_duplicate_names_carry_different_documents(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "duplicate_names"]
    first, second = shipment.documents
    assert first.file_name == second.file_name
    assert first.sha256 != second.sha256


def test_the_zip_bomb_is_small_but_declares_200_mib(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "zip_bomb"]
    (document,) = shipment.documents
    assert document.compression == "ZIP"
    assert document.size < MIB
    with zipfile.ZipFile(io.BytesIO(document.read_all())) as archive:
        (member,) = archive.infolist()  # the header alone; never extracted here
    assert member.file_size == ZIP_BOMB_MEMBER_SIZE >= 200 * MIB


def test_the_nested_zip_holds_a_zip(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "nested_zip"]
    with zipfile.ZipFile(io.BytesIO(shipment.documents[0].read_all())) as archive:
        (name,) = archive.namelist()
        assert zipfile.is_zipfile(io.BytesIO(archive.read(name)))


def test_the_wrong_checksum_does_not_match_the_bytes(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "wrong_checksum"]
    (document,) = shipment.documents
    assert document.checksum is not None
    assert document.checksum[0] == "SHA256"
    assert document.checksum[1] != document.sha256


def test_the_broken_multipart_shipment_has_a_sound_document(hostile: list[SeedShipment]) -> None:
    (shipment,) = [s for s in hostile if s.defect == "broken_multipart"]
    _assert_valid_pdf(shipment.documents[0].read_all())


# -- bulk and large -----------------------------------------------------------------------------------------


def test_bulk_builds_2000_distinct_shipments_of_the_requested_size() -> None:
    shipments = bulk_shipments(2000, start=10, size=2048)
    assert [s.id for s in shipments] == [f"BULK{n:010d}" for n in range(10, 2010)]
    assert {d.size for d in _documents(shipments)} == {2048}
    assert len({d.sha256 for d in _documents(shipments)}) == 2000


def test_bulk_pdfs_are_valid_and_stamped_with_their_id() -> None:
    (shipment,) = bulk_shipments(1, start=42)
    data = shipment.documents[0].read_all()
    _assert_valid_pdf(data)
    assert b"BULK0000000042" in data
    assert shipment.documents[0].vsnr is not None
    assert shipment.documents[0].vsnr.encode() in data


def test_a_50_mb_document_streams_in_1_mib_chunks_without_being_held() -> None:
    size = 50 * 1000 * 1000
    tracemalloc.start()
    try:
        shipment = large_document_shipment(size)
        (document,) = shipment.documents
        digest, total, sizes = hashlib.sha256(), 0, Counter[int]()
        for chunk in document.produce():
            digest.update(chunk)
            total += len(chunk)
            sizes[len(chunk)] += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (document.size, total, digest.hexdigest()) == (size, size, document.sha256)
    assert sizes == Counter({MIB: size // MIB, size % MIB: 1})
    assert peak < 8 * MIB


@pytest.mark.parametrize(("first", "second", "same"), [("GROSS-0001", "GROSS-0001", True), ("A", "B", False)])
def test_large_documents_depend_on_the_shipment_id_only(first: str, second: str, same: bool) -> None:
    one = large_document_shipment(MIB + 1, shipment_id=first).documents[0]
    two = large_document_shipment(MIB + 1, shipment_id=second).documents[0]
    assert (one.sha256 == two.sha256) is same


# -- seeded contracts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vsnr", "vu_number", "sparte"),
    [
        ("32701234568", "5058", "050"),
        ("30418820375", "5438", "050"),
        ("48205517093", "5438", "140"),
        ("29650041287", "5438", "040"),
        ("10330178864", "5438", "030"),
        ("35781200456", "5438", "070"),
        ("84002519731", "5438", "040"),
        ("34117705329", "5438", "000"),
        ("44090312655", "5438", "000"),
        ("70448102915", "1141", "010"),
        ("18560093318", "5339", "030"),
        ("18560093318", "5438", "030"),
    ],
)
def test_seeded_contracts(vsnr: str, vu_number: str, sparte: str) -> None:
    (contract,) = [c for c in SANDBOX_CONTRACTS if (c.vsnr, c.vu_number) == (vsnr, vu_number)]
    assert (contract.sparte, contract.business_area) == (sparte, vsnr[:2])
    assert (contract.kennzeichen is not None) == (sparte == "050")


def test_contracts_are_keyed_by_vu_number_and_vsnr() -> None:
    keys = [(c.vu_number, c.vsnr) for c in SANDBOX_CONTRACTS]
    assert len(set(keys)) == len(keys) == 12
    assert Counter(c.vsnr for c in SANDBOX_CONTRACTS)["18560093318"] == 2


@pytest.mark.parametrize("vsnr", ["3270123456", "327012345689", "32-70123456", "99701234568", "3270123456x"])
def test_contracts_reject_a_malformed_vsnr(vsnr: str) -> None:
    customer = SandboxCustomer("3", "Firma", "", "Weg 1", "12345", "Ort", "1")
    with pytest.raises(ValueError, match=r"VSNR|Arbeitsgebiet"):
        SandboxContract(vsnr, "5438", "040", "Haftpflicht", customer, Decimal(1), TODAY)
