"""Specification of the contract index: documents and records per (VU-Nummer, VSNR)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bipro_ruv import Client, JournalError
from bipro_ruv.contracts import ContractIndex
from bipro_ruv.datapackages.condor import CondorMigration
from bipro_ruv.migration import MatchRule
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.store import ShipmentInfo
from bipro_ruv.store.sqlite import SqliteStore, journal_path
from bipro_ruv.transfer.models import Document, FetchReport
from bipro_ruv.vsnr import InvalidVsnr, Vsnr
from tests._expected import ACCOUNT, journal_document

# Delivered by the sandbox: KRAVAG (5058) Kfz contract 32 701234568 with one Schadenschreiben,
# and 18 560093318, delivered once under Condor (5339) and once under R+V (5438) after the merger.
KRAVAG_VSNR, MERGED_VSNR = "32701234568", "18560093318"


@dataclass(frozen=True)
class Fetched:
    inbox: Path
    report: FetchReport


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Fetched:
    """One fetch of the sandbox's default mailbox, shared by the read-only tests below."""
    inbox = tmp_path_factory.mktemp("inbox")
    with Sandbox() as sb, Client(sb.username, sb.password, base_url=sb.base_url) as client:
        report = client.fetch_open_documents(inbox)
    assert report.ok
    assert report.documents
    return Fetched(inbox, report)


def _from_journal(fetched: Fetched) -> ContractIndex:
    return ContractIndex.from_journal(fetched.inbox)


def _from_report(fetched: Fetched) -> ContractIndex:
    index = ContractIndex()
    index.add_documents(fetched.report.documents)
    return index


SOURCES = pytest.mark.parametrize("build", [_from_journal, _from_report], ids=["journal", "report"])
Build = Callable[[Fetched], ContractIndex]


# --- a fetched document is found by every way a broker types its number --------------------------


@SOURCES
@pytest.mark.parametrize(
    "typed",
    [
        "32701234568",
        "32 701 234 568",
        "32-701234568",
        "32 / 701234568",
        "123/32/701234568",
        "12332701234568",
        "00000032701234568",
        "      32701234568",
        "701234568",
        "701 234 568",
    ],
)
def test_a_fetched_document_is_found_by_every_typed_form_of_its_vsnr(
    fetched: Fetched, build: Build, typed: str
) -> None:
    [entry] = build(fetched).find(typed)
    assert (entry.vu_number, entry.vsnr) == ("5058", KRAVAG_VSNR)
    assert [doc.document_type for doc in entry.documents] == ["Schadenerledigung"]
    assert all(doc.path.is_file() for doc in entry.documents)


@SOURCES
def test_the_journal_and_the_report_give_the_same_index(fetched: Fetched, build: Build) -> None:
    index = build(fetched)
    contracts = {(entry.vu_number, entry.vsnr): {doc.sha256 for doc in entry.documents} for entry in index}
    reference = _from_report(fetched)
    assert contracts == {(e.vu_number, e.vsnr): {d.sha256 for d in e.documents} for e in reference}
    assert len(index) == len(contracts) == 7


def test_the_nine_digits_alone_find_nothing_when_two_arbeitsgebiete_share_them(fetched: Fetched) -> None:
    index = _from_report(fetched)
    index.add("5058", "40701234568", "another contract with the same nine digits")
    assert index.find("701234568") == []
    match = index.match("701234568")
    assert (match.is_ambiguous, sorted(match.candidates)) == (True, ["32701234568", "40701234568"])
    assert [entry.vsnr for entry in index.find("32 701234568")] == [KRAVAG_VSNR]


@pytest.mark.parametrize("typed", ["B-XY 123", "", "1234567", "32701234568 Kfz"])
def test_find_refuses_input_that_is_no_vsnr(typed: str) -> None:
    with pytest.raises(InvalidVsnr):
        ContractIndex().find(typed)


def test_an_unknown_number_finds_nothing(fetched: Fetched) -> None:
    assert _from_report(fetched).find("99 999999999") == []


# --- the merger: one number, two VU numbers, two entries --------------------------------------------


@SOURCES
def test_the_same_vsnr_under_condor_and_rv_is_two_entries(fetched: Fetched, build: Build) -> None:
    index = build(fetched)
    entries = index.find(MERGED_VSNR)
    assert [(entry.vu_number, entry.vsnr) for entry in entries] == [
        ("5339", MERGED_VSNR),
        ("5438", MERGED_VSNR),
    ]
    assert [[doc.original_name for doc in entry.documents] for entry in entries] == [
        ["Nachtrag_18560093318_Condor.pdf"],
        ["Ersatzpolice_18560093318.pdf"],
    ]


@pytest.mark.parametrize(("vu_number", "document"), [("5339", "Nachtrag"), ("5438", "Police")])
def test_find_can_be_limited_to_one_vu_number(fetched: Fetched, vu_number: str, document: str) -> None:
    index = _from_report(fetched)
    [entry] = index.find("560093318", vu_number=vu_number)
    assert entry.vu_number == vu_number
    assert [doc.document_type for doc in entry.documents] == [document]
    assert index.get(vu_number, "123/18/560093318") == entry


def test_adding_under_another_vu_number_never_overwrites() -> None:
    index = ContractIndex()
    index.add("5339", MERGED_VSNR, "Condor record")
    index.add("5438", MERGED_VSNR, "R+V record")
    index.add("5438", "18 560 093 318", "second R+V record")
    assert [(entry.vu_number, entry.records_of(str)) for entry in index] == [
        ("5339", ("Condor record",)),
        ("5438", ("R+V record", "second R+V record")),
    ]


# --- documents without a contract ---------------------------------------------------------------


@SOURCES
def test_documents_without_vsnr_are_unassigned_and_none_is_lost(fetched: Fetched, build: Build) -> None:
    index = build(fetched)
    assigned = [doc for entry in index for doc in entry.documents]
    assert all(doc.vsnr is None for doc in index.unassigned)
    # Names carry dates and random numbers that change with the sandbox's date; prefixes do not.
    assert {str(doc.original_name).split("_")[0] for doc in index.unassigned} >= {
        "Kfz-Anforderungsschreiben",
        "GDV",
        "Courtageabrechnung",
    }
    assert sorted(doc.sha256 for doc in [*assigned, *index.unassigned]) == sorted(
        doc.sha256 for doc in fetched.report.documents
    )


def _document(vsnr: str | None, vu_number: str | None, seq: int = 0) -> Document:
    return Document(
        shipment_id="L1",
        seq=seq,
        path=Path(f"/inbox/L1/{seq}.pdf"),
        file_name=f"{seq}.pdf",
        size=1,
        sha256=hashlib.sha256(str(seq).encode()).hexdigest(),
        vsnr=Vsnr.try_parse(vsnr),
        vsnr_raw=vsnr,
        vu_number=vu_number,
    )


@pytest.mark.parametrize(
    ("vsnr", "vu_number", "default", "assigned"),
    [
        ("32701234568", "5058", None, True),
        ("32701234568", None, None, False),
        ("32701234568", None, "5438", True),
        ("32701234568", "VU 5058", None, False),
        (None, "5438", None, False),
        ("unlesbar", "5438", None, False),
    ],
)
def test_a_document_needs_a_vsnr_and_a_vu_number_to_be_assigned(
    vsnr: str | None, vu_number: str | None, default: str | None, assigned: bool
) -> None:
    index = ContractIndex()
    index.add_documents([_document(vsnr, vu_number)], vu_number=default)
    assert (len(index), len(index.unassigned)) == ((1, 0) if assigned else (0, 1))


# --- records of other kinds, and the journal ------------------------------------------------------


@dataclass(frozen=True)
class GdvContract:
    premium: str


def test_records_are_kept_per_kind_beside_the_documents() -> None:
    index = ContractIndex()
    index.add_documents([_document("32701234568", "5058")])
    index.add("5058", "32 701234568", GdvContract("1486.40"))
    entry = index.add("5058", "32701234568", "a CSV row")
    assert entry.records_of(GdvContract) == (GdvContract("1486.40"),)
    assert entry.records_of(str) == ("a CSV row",)
    assert len(entry.documents) == 1
    assert len(index) == 1


def test_a_record_under_an_invalid_vu_number_is_refused() -> None:
    with pytest.raises(ValueError, match="VU-Nummer"):
        ContractIndex().add("R+V", "32701234568", "row")


def test_an_old_condor_number_is_found_through_the_migration_list() -> None:
    migration = CondorMigration(old=Vsnr("70/850632"), new=Vsnr(MERGED_VSNR), line_number=2, raw="")
    index = ContractIndex(migrations=[migration])
    index.add("5438", MERGED_VSNR, "record")
    assert [entry.vsnr for entry in index.find("70/850632")] == [MERGED_VSNR]
    assert index.match("70 850632").rule is MatchRule.MIGRATION


def test_from_journal_leaves_out_shipments_whose_files_are_not_stored_yet(tmp_path: Path) -> None:
    with SqliteStore(journal_path(tmp_path)) as journal:
        for seq, vsnr in enumerate(["30418820375", "10330178864"]):
            journal.plan(
                ACCOUNT,
                f"S{seq}",
                ShipmentInfo(vu_number="5438"),
                f"S{seq}",
                [journal_document(f"S{seq}", f"S{seq}/{seq}.pdf", vsnr=vsnr, vu_number="5438")],
            )
        journal.mark_stored(ACCOUNT, "S0")
    index = ContractIndex.from_journal(tmp_path)
    assert [(entry.vsnr, [doc.path for doc in entry.documents]) for entry in index] == [
        ("30418820375", [tmp_path.resolve() / "S0" / "0.pdf"])
    ]


def test_from_journal_without_a_journal_says_so(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no fetch journal") as raised:
        ContractIndex.from_journal(tmp_path)
    assert raised.value.path == journal_path(tmp_path.resolve())
    assert not journal_path(tmp_path).exists()


def _transfer_list(*numbers: str) -> bytes:
    lines = ["Vers.Nr.;Name VN;Übertragungsdatum", *(f"{number};X;01.01.2027" for number in numbers)]
    return "\r\n".join(lines).encode("cp1252")


def test_a_package_row_goes_to_the_vu_that_already_holds_its_number() -> None:
    """One CSV file covers R+V, KRAVAG and Condor, and names no VU: a row joins the entry of
    the VU that holds its number; a number under two VUs (the merger) or none gets the
    shipment's VU."""
    from bipro_ruv.datapackages import TransferRow, read_package

    index = ContractIndex()
    index.add("5058", "32701234568", "a KRAVAG letter")
    index.add("5339", "18560093318", "Condor, before the merger")
    index.add("5438", "18560093318", "R+V, after the merger")
    package = read_package(_transfer_list("32701234568", "18560093318", "44090312655"))
    assert index.add_package(package, "5438") == []
    filed = {(entry.vu_number, str(entry.vsnr)) for entry in index if entry.records_of(TransferRow)}
    assert filed == {("5058", "32701234568"), ("5438", "18560093318"), ("5438", "44090312655")}
