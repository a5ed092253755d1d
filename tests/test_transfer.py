"""Norm 430 TransferService: list, get (MTOM and inline), acknowledge, parsing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import ChecksumMismatchError, Client, ServiceError, Vsnr
from bipro_ruv._wire.soap import read_envelope
from bipro_ruv.errors import ConfigurationError
from bipro_ruv.sandbox import FaultKind, Sandbox
from bipro_ruv.transfer._download import read_shipment_reply
from bipro_ruv.transfer._parse import parse_list_reply
from bipro_ruv.transfer.categories import category_label, matches_category
from tests.conftest import fixture_file


def test_list_shipments_returns_every_open_shipment(sandbox: Sandbox, client: Client) -> None:
    shipments = client.list_shipments()
    assert sorted(s.id for s in shipments) == sorted(sandbox.open_shipment_ids())
    assert all(s.category and len(s.category) == 9 for s in shipments)


def test_category_filter_is_applied_on_our_side(client: Client) -> None:
    gdv = client.list_shipments(categories=["999"])
    assert gdv
    assert all(s.category is not None and s.category.startswith("999") for s in gdv)
    assert len(gdv) < len(client.list_shipments())


@pytest.mark.parametrize("bad", ["9", "12345", "abc", "1234567890"])
def test_category_filter_must_be_3_6_or_9_digits(client: Client, bad: str) -> None:
    with pytest.raises(ConfigurationError, match="3, 6 or 9 digits"):
        client.list_shipments(categories=[bad])


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "inline"])
def test_get_shipment_stores_the_exact_bytes(make_sandbox: Any, tmp_path: Path, mtom: bool) -> None:
    sb = make_sandbox(mtom=mtom)
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        for seed in sb.shipments():
            if any(doc.compression == "ZIP" for doc in seed.documents):
                continue
            shipment, documents = client.get_shipment(seed.id, tmp_path / seed.id)
            assert shipment.id == seed.id
            assert [d.sha256 for d in documents] == [doc.sha256 for doc in seed.documents]
            assert [d.path.read_bytes() for d in documents] == [doc.read_all() for doc in seed.documents]
            assert all(d.path.parent == tmp_path / seed.id for d in documents)


def test_documents_carry_the_normalized_vsnr(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    seed = next(s for s in sandbox.shipments() if s.documents[0].vsnr)
    _, documents = client.get_shipment(seed.id, tmp_path)
    assert documents[0].vsnr == Vsnr(seed.documents[0].vsnr or "")
    assert isinstance(documents[0].vsnr, Vsnr)


def test_document_without_vsnr_is_allowed(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    seed = next(s for s in sandbox.shipments() if s.kategorie == "100005100")
    _, documents = client.get_shipment(seed.id, tmp_path)
    assert documents[0].vsnr is None


def test_acknowledge_removes_the_shipment(sandbox: Sandbox, client: Client) -> None:
    first = client.list_shipments()[0]
    status = client.acknowledge_shipment(first.id)
    assert status.ok
    assert first.id not in {s.id for s in client.list_shipments()}
    assert sandbox.stats.acknowledged == [first.id]


def test_unknown_shipment_raises_with_meldung(client: Client, tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as info:
        client.get_shipment("GIBT-ES-NICHT", tmp_path)
    assert "04003" in {m.code for m in info.value.messages}


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("999010010", "GDV-Gesamtbestand"),
        ("100002000", "Antrag: Eingangsbestätigung"),
        ("150013000", "Schaden und Leistung"),
        ("555000000", None),
        ("12", None),
    ],
)
def test_category_labels(code: str, label: str | None) -> None:
    assert category_label(code) == label


@pytest.mark.parametrize(
    ("code", "prefixes", "expected"),
    [
        ("999010010", ["999"], True),
        ("100002010", ["999"], False),
        ("100002010", ["999999999"], True),
        ("100002010", [], True),
        (None, ["100"], False),
    ],
)
def test_matches_category(code: str | None, prefixes: list[str], expected: bool) -> None:
    assert matches_category(code, prefixes) is expected


# -- third-party messages ----------------------------------------------------------------


def test_third_party_list_response_parses() -> None:
    payload = read_envelope(fixture_file("bipro", "response_bipro430_list.xml").read_bytes())
    shipments, status = parse_list_reply(payload, category_label)
    assert [(s.id, s.category) for s in shipments] == [("TEST-1234", "100002010"), ("TEST-1235", "100002020")]
    assert all(
        s.delivery_type == "1004" and s.transfer_count == 1 and s.line_of_business == "30" for s in shipments
    )
    assert status.ok
    assert status.codes() == ("04000",)


def test_third_party_get_response_gives_a_valid_pdf(tmp_path: Path) -> None:
    payload = read_envelope(fixture_file("bipro", "response_bipro430_get.xml").read_bytes())
    downloaded = read_shipment_reply(payload, {}, tmp_path)
    assert downloaded.shipment.id == "TEST-1234"
    (document,) = downloaded.documents
    assert document.original_name == "Testdokument.pdf"
    assert document.content_type == "application/pdf"
    assert document.description == "Ein Test-PDF"
    data = document.path.read_bytes()
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    assert document.size == len(data)


def test_every_third_party_gevo_code_gets_a_label() -> None:
    lines = fixture_file("bipro", "gevos.csv").read_text("utf-8").splitlines()
    codes = [line.split(";")[0] for line in lines if line[:1].isdigit()]
    assert len(codes) > 300
    unlabelled = [code for code in codes if category_label(code) is None]
    assert unlabelled == []


# -- issue 9: complete replies without closing delimiter ----------------------------------


@pytest.mark.parametrize("variant", [None, "other_boundary"], ids=["missing", "other-boundary"])
def test_reply_without_closing_delimiter_is_stored_with_a_warning(
    make_sandbox: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, variant: str | None
) -> None:
    sb = make_sandbox(mtom=False)  # the fault makes the reply MTOM all the same
    seeds = [s for s in sb.shipments() if all(doc.compression != "ZIP" for doc in s.documents)]
    assert {doc.checksum[0] for s in seeds for doc in s.documents if doc.checksum} == {"MD5", "SHA256"}
    with Client(sb.username, sb.password, base_url=sb.base_url) as client, caplog.at_level(logging.WARNING):
        for seed in seeds:
            sb.inject(FaultKind.MISSING_CLOSING_DELIMITER, operation="getShipment", variant=variant)
            _, documents = client.get_shipment(seed.id, tmp_path / seed.id)
            assert [d.path.read_bytes() for d in documents] == [doc.read_all() for doc in seed.documents]
            *earlier, last = documents
            assert all(d.warnings == () for d in earlier)
            assert len(last.warnings) == 1
            assert "closing delimiter" in last.warnings[0]
            assert last.checksum_verified is (True if seed.documents[-1].checksum else None)
    assert sum("kept despite a faulty reply" in r.getMessage() for r in caplog.records) == len(seeds)


def test_the_pruefsumme_still_decides_without_closing_delimiter(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(mailbox="empty", hostile=True)
    sb.inject(FaultKind.MISSING_CLOSING_DELIMITER, operation="getShipment")
    with (
        Client(sb.username, sb.password, base_url=sb.base_url) as client,
        pytest.raises(ChecksumMismatchError),
    ):
        client.get_shipment("HOSTILE-CHECKSUM", tmp_path)


def test_fetched_documents_carry_the_warning_the_journal_does_not(make_sandbox: Any, tmp_path: Path) -> None:
    from bipro_ruv.store import STATE_DIR
    from bipro_ruv.store.sqlite import SqliteStore
    from bipro_ruv.transfer.models import Document

    sb = make_sandbox(mailbox="empty", bulk_shipments=1)
    sb.inject(FaultKind.MISSING_CLOSING_DELIMITER, operation="getShipment", variant="other_boundary")
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(tmp_path)
    (document,) = report.documents
    assert len(document.warnings) == 1
    with SqliteStore(tmp_path / STATE_DIR / "journal.sqlite3") as journal:
        (row,) = journal.documents()
    # The store does not keep them: logged instead.
    assert Document.from_record(row, tmp_path).warnings == ()
    assert Document.from_record(row, tmp_path).sha256 == document.sha256
