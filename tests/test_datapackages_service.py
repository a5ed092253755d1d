"""``client.datapackages`` against the sandbox: the CSV packages among the fetched documents,
read, and their rows filed in the contract index beside documents and GDV contracts."""

from __future__ import annotations

from pathlib import Path

from bipro_ruv import Client, ContractIndex
from bipro_ruv.datapackages import (
    TYPES,
    CondorMigration,
    CourtageRow,
    KfzComparisonRow,
    SaldenRow,
    SammelRow,
    TransferRow,
)
from bipro_ruv.datapackages.service import package_kind
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.vsnr import Vsnr


def test_fetch_reads_the_packages_of_the_mailbox(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    deliveries = client.datapackages.fetch(tmp_path)
    read = {d.kind: d for d in deliveries if d.package is not None}
    assert set(read) == set(TYPES), "the sandbox delivers every package kind as transfer documents"
    assert not [d for d in deliveries if d.package is None]
    rows = {
        "saldenbestaetigung": SaldenRow,
        "sammelabrechnung": SammelRow,
        "courtage": CourtageRow,
        "bestandsuebertragung": TransferRow,
        "kfz_beitragsvergleich": KfzComparisonRow,
        "condor_migration": CondorMigration,
    }
    for kind, row_type in rows.items():
        package = read[kind].package
        assert package is not None
        assert package.rows, kind
        assert all(isinstance(row, row_type) for row in package.rows), kind
        assert read[kind].path.is_file()
    # Only the data package category was fetched: the letters are still in the mailbox.
    assert sandbox.open_shipment_ids()
    assert all(d.category == "999000000" for d in deliveries)


def test_deliveries_find_packages_in_any_fetch_report(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    report = client.fetch_open_documents(tmp_path)
    kinds = sorted(d.kind for d in client.datapackages.deliveries(report) if d.kind)
    assert kinds == sorted(TYPES)
    letters = [doc for doc in report.documents if doc.path.suffix == ".pdf"]
    assert letters
    assert all(package_kind(doc.path) is None for doc in letters)


def test_rows_join_the_contract_index_beside_the_documents(client: Client, tmp_path: Path) -> None:
    report = client.fetch_open_documents(tmp_path)
    index = ContractIndex.from_journal(tmp_path)
    for delivery in client.datapackages.deliveries(report):
        if delivery.package is not None:
            skipped = index.add_package(delivery.package, delivery.vu_number or client.profile.vu_number)
            assert all(row.vsnr is None for row in skipped)
    with_rows = [entry for entry in index if entry.records_of(SaldenRow)]
    assert with_rows
    both = [entry for entry in with_rows if entry.documents]
    assert both, "a contract with letters and open items: joined by (VU-Nr, VSNR)"
    entry = both[0]
    assert all(row.vsnr == entry.vsnr for row in entry.records_of(SaldenRow))
    assert isinstance(entry.vsnr, Vsnr)
    for row_type in (SammelRow, CourtageRow, TransferRow, KfzComparisonRow, CondorMigration):
        assert any(entry.records_of(row_type) for entry in index), row_type.__name__
    # A contract with a letter, its commission and its Kfz premium comparison: one entry.
    assert any(
        entry.documents and entry.records_of(CourtageRow) and entry.records_of(KfzComparisonRow)
        for entry in index
    )


def test_a_csv_under_the_category_with_an_unknown_header_is_named_not_dropped(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    report = client.fetch_open_documents(tmp_path)
    (delivery,) = [d for d in client.datapackages.deliveries(report) if d.kind == "courtage"]
    delivery.path.write_bytes("Spalte A;Spalte B\r\n1;2\r\n".encode("cp1252"))
    (again,) = [d for d in client.datapackages.deliveries(report) if d.path == delivery.path]
    assert again.kind is None
    assert again.package is None
    assert "header is unknown" in (again.error or "")
