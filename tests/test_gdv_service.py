"""client.gdv against the sandbox: GDV shipments found, stored like documents, then parsed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from bipro_ruv import Client
from bipro_ruv.contracts import ContractIndex
from bipro_ruv.gdv import Contract
from bipro_ruv.gdv.service import looks_like_gdv
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.sandbox.content.shipments import make_document, make_shipment
from tests import _gdv

TODAY = date(2026, 11, 30)


def test_fetch_stores_acknowledges_and_parses_bestand_and_inkasso(
    make_sandbox: object, tmp_path: Path
) -> None:
    sb: Sandbox = make_sandbox(today=TODAY)  # type: ignore[operator]
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        deliveries = client.gdv.fetch(tmp_path)
        assert sorted(d.category or "" for d in deliveries) == ["999010010", "999010020", "999050000"]
        for delivery in deliveries:
            assert delivery.error is None
            assert delivery.file is not None
            assert delivery.file.warnings == []
            assert delivery.path.is_file()
            assert delivery.path.is_relative_to(tmp_path)
        (delta,) = [d for d in deliveries if d.category == "999010020"]
        assert delta.file is not None
        kinds = {r.satzart for c in delta.file.contracts for r in c.records}
        assert kinds >= {
            "0100",
            "0200",
            "0210",
            "0211",
            "0220",
            "0221",
            "0230",
            "0300",
            "0400",
            "0410",
            "0420",
            "0430",
        }
        assert {c.vu_number for c in delta.file.contracts} == {"5339", "5438"}
        # Stored and acknowledged like any shipment: a second fetch finds nothing new.
        assert set(sb.stats.acknowledged) == {d.shipment_id for d in deliveries}
        assert client.gdv.fetch(tmp_path) == []
        # Only the GDV shipments were fetched; the letters are still open.
        assert client.list_shipments()


def test_bestand_contracts_are_keyed_by_vu_number_and_vsnr(make_sandbox: object, tmp_path: Path) -> None:
    sb: Sandbox = make_sandbox(today=TODAY)  # type: ignore[operator]
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        (bestand,) = [d for d in client.gdv.fetch(tmp_path) if d.category == "999010010"]
    assert bestand.file is not None
    keys = [c.key for c in bestand.file.contracts]
    assert len(keys) == len(set(keys))
    # The 2024 merger: the same VSNR under Condor (5339) and R+V (5438) stays two contracts.
    merged = [c for c in bestand.file.contracts if c.vsnr_text == "18560093318"]
    assert sorted(c.vu_number for c in merged) == ["5339", "5438"]
    kfz = next(c for c in bestand.file.contracts if c.vsnr_text == "32701234568")
    assert kfz.vu_number == "5058"
    assert kfz.sparte == "050"
    assert isinstance(kfz.total_premium_net, Decimal)
    streamed = [c.key for c in bestand.iter_contracts()]
    assert streamed == keys


def test_gdv_contracts_join_the_documents_in_the_contract_index(make_sandbox: object, tmp_path: Path) -> None:
    sb: Sandbox = make_sandbox(today=TODAY)  # type: ignore[operator]
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(tmp_path)
        deliveries = client.gdv.deliveries(report)
    assert {d.category for d in deliveries} == {"999010010", "999010020", "999050000"}
    index = ContractIndex()
    index.add_documents(report.documents)
    for delivery in deliveries:
        assert delivery.file is not None
        assert index.add_gdv(delivery.file.contracts) == []
    entry = index.get("5058", "32701234568")
    assert entry is not None
    assert entry.documents, "the sandbox sends a Schadenschreiben for this Kfz contract"
    gdv_records = entry.records_of(Contract)
    # One from the Bestand (with its 0200), one from the Inkasso file (0400 only).
    assert sorted((c.general is not None, bool(c.inkasso)) for c in gdv_records) == [
        (False, True),
        (True, False),
    ]


def test_a_gdv_shipment_that_cannot_be_parsed_is_still_stored_and_says_why(
    make_sandbox: object, tmp_path: Path
) -> None:
    sb: Sandbox = make_sandbox(mailbox="empty", today=TODAY)  # type: ignore[operator]
    broken = make_document(b"this is no GDV file\n" * 20, "GDV_Bestand.txt", content_type="text/plain")
    good = make_document(_gdv.simple_file(2), "GDV_Delta.txt", content_type="text/plain")
    sb.add_shipments(
        [
            make_shipment(
                "70000001", "999010010", "1001", datetime(2026, 11, 29, 4), [broken], data_only=True
            ),
            make_shipment("70000002", "999010020", "1001", datetime(2026, 11, 29, 5), [good], data_only=True),
        ]
    )
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        deliveries = {d.shipment_id: d for d in client.gdv.fetch(tmp_path)}
    assert deliveries["70000001"].file is None
    assert "not a GDV file" in (deliveries["70000001"].error or "")
    assert deliveries["70000001"].path.read_bytes().startswith(b"this is no GDV file")
    assert set(sb.stats.acknowledged) == {"70000001", "70000002"}
    parsed = deliveries["70000002"].file
    assert parsed is not None
    assert [c.vsnr_text for c in parsed.contracts] == ["32123456780", "32123456781"]


def test_a_gdv_file_under_another_category_is_found_by_its_content(
    make_sandbox: object, tmp_path: Path
) -> None:
    sb: Sandbox = make_sandbox(mailbox="empty", today=TODAY)  # type: ignore[operator]
    stray = make_document(_gdv.simple_file(1, ending="\r\n"), "bestand.gdv", content_type="text/plain")
    sb.add_shipments([make_shipment("70000003", "110011000", "1001", datetime(2026, 11, 29, 4), [stray])])
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(tmp_path)
        (delivery,) = client.gdv.deliveries(report)
    assert delivery.category == "110011000"
    assert delivery.file is not None
    assert len(delivery.file.contracts) == 1


def test_looks_like_gdv(tmp_path: Path) -> None:
    cases = {
        "lf.gdv": _gdv.simple_file(1),
        "crlf.gdv": _gdv.simple_file(1, ending="\r\n"),
        "none.gdv": _gdv.simple_file(1, ending=""),
        "pdf.pdf": b"%PDF-1.7\n" + b"0" * 600,
        "short.txt": b"0001 too short",
        "csv.csv": b"0001;Saldo;" + b"x" * 600,
        "bom.gdv": b"\xef\xbb\xbf" + _gdv.simple_file(1),
        "trimmed.gdv": b"\n".join(line.rstrip() for line in _gdv.simple_file(1).split(b"\n")),
        "csv-lines.csv": b"0001;Saldo;12,50\n2024;Mueller;3,10\n" * 20,
    }
    found = set()
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        if looks_like_gdv(tmp_path / name):
            found.add(name)
    assert found == {"lf.gdv", "crlf.gdv", "none.gdv", "bom.gdv", "trimmed.gdv"}
    assert not looks_like_gdv(tmp_path / "missing")


def test_any_failure_of_a_parse_is_reported_in_its_delivery_not_raised(
    make_sandbox: object, tmp_path: Path, monkeypatch: object
) -> None:
    """The shipments are acknowledged before the parse: a failing parse must not lose the list."""
    import pytest

    from bipro_ruv.gdv import GdvDelivery

    sb: Sandbox = make_sandbox(today=TODAY)  # type: ignore[operator]

    def failing(self: GdvDelivery) -> object:
        if self.category == "999050000":
            raise MemoryError("too big for this machine")
        return original(self)

    original = GdvDelivery.parse
    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(GdvDelivery, "parse", failing)
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        deliveries = {d.category: d for d in client.gdv.fetch(tmp_path)}
    assert set(deliveries) == {"999010010", "999010020", "999050000"}
    assert deliveries["999050000"].error == "MemoryError: too big for this machine"
    assert deliveries["999050000"].path.is_file()
    parsed = deliveries["999010010"]
    assert parsed.file is not None
    assert parsed.warnings == parsed.file.warnings
