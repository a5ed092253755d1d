"""``bipro-ruv gdv``: the installed console script reading GDV files, as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv.gdv.export import CSV_COLUMNS
from tests._cli import run, script
from tests._gdv_sample import SAMPLE, Vertrag, gdv_file
from tests.conftest import fixture_file

MUSTER = ("gdv", "musterdatei_041222.txt")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "bestand.gdv"
    path.write_bytes(gdv_file(SAMPLE))
    return path


def ok(*args: str) -> subprocess.CompletedProcess[str]:
    result = run("gdv", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def general(contract: dict[str, Any]) -> dict[str, Any]:
    (record,) = [r for r in contract["records"] if r.get("satzart") == "0200"]
    fields: dict[str, Any] = record["parts"][0]["fields"]
    return fields


def csv_rows(stdout: str) -> list[dict[str, str]]:
    assert stdout.startswith("\ufeff"), "no BOM: Excel would read the UTF-8 as Windows-1252"
    return list(csv.DictReader(io.StringIO(stdout[1:]), delimiter=";"))


# -- the GDV sample file (third-party fixture) ---------------------------------------------


def test_musterdatei_as_json() -> None:
    contracts = json.loads(ok(str(fixture_file(*MUSTER)), "--json").stdout)
    assert len(contracts) == 14
    kfz = next(c for c in contracts if c["vsnr"] == "59999999990")
    assert (kfz["vu_number"], kfz["sparte"], kfz["packet"]) == ("9999", "050", 0)
    assert general(kfz)["start_date"] == "2004-07-01"
    assert general(kfz)["end_date"] == "2005-01-01"
    assert general(kfz)["total_premium_net"] == "1107.95"
    premiums = [Decimal(general(c)["total_premium_net"]) for c in contracts]
    assert sum(premiums) == Decimal("4806.00")  # the Nachsatz's Gesamtbeitrag


def test_musterdatei_as_csv() -> None:
    result = ok(str(fixture_file(*MUSTER)), "--csv")
    assert result.stdout.splitlines()[0] == "\ufeff" + ";".join(CSV_COLUMNS)
    rows = csv_rows(result.stdout)
    assert len(rows) == 14
    kfz = next(row for row in rows if row["vsnr"] == "59999999990")
    assert (kfz["start_date"], kfz["end_date"], kfz["total_premium_net"]) == (
        "2004-07-01",
        "2005-01-01",
        "1107,95",
    )
    assert (kfz["policyholder_name_1"], kfz["policyholder_city"]) == ("Gillensvier", "Köln")


def test_musterdatei_as_table_with_summary_on_stderr() -> None:
    result = ok(str(fixture_file(*MUSTER)))
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "VU",
        "VSNR",
        "Sparte",
        "Beginn",
        "Ablauf",
        "Status",
        "Beitrag",
        "Versicherungsnehmer",
    ]
    assert len(lines) == 2 + 14
    kfz = next(line for line in lines if "59999999990" in line)
    assert kfz.split() == [
        "9999",
        "59999999990",
        "050",
        "01.07.2004",
        "01.01.2005",
        "1",
        "1.107,95",
        "EUR",
        "Gillensvier,",
        "Herbert",
    ]
    assert "Datenpaket 1: XXX Versicherung AG (VU 9999)" in result.stderr
    assert "22.07.2004, 162 records" in result.stderr
    assert (
        "Contracts: 14 (000 gebündelt 1, 030 Unfall 4, 040 Haftpflicht 5, 050 Kraftfahrt 4)" in result.stderr
    )
    assert "Warnings: 1\n  record 1: the Vorsatz states versions" in result.stderr


# -- a file written by the test -----------------------------------------------------------


def test_json_of_a_built_file(sample: Path) -> None:
    first, second = json.loads(ok(str(sample), "--json").stdout)
    assert (first["vsnr"], first["vsnr_normalized"], first["sparte"]) == ("32123456789", "32123456789", "030")
    assert general(first)["total_premium_net"] == "4806.00"
    assert "cancellation_date" not in general(first)  # blank: left out
    assert first["records"][-1] == {
        "kind": "0052",
        "line": 4,
        "raw": Vertrag("32123456789", raw_record=True).lines()[-1],
    }
    assert general(second)["cancellation_date"] == {"raw": "00082024", "year": 2024, "month": 8, "day": None}


def test_csv_of_a_built_file(sample: Path) -> None:
    first, second = csv_rows(ok(str(sample), "--csv").stdout)
    assert (first["vsnr"], first["total_premium_net"], first["raw_records"]) == (
        "32123456789",
        "4806,00",
        "1",
    )
    assert first["policyholder_name_1"] == "Müller-Lüdenscheidt"  # UTF-8 whatever the locale
    assert second["policyholder_street"] == "'=HYPERLINK(1)"


def test_table_of_a_built_file(sample: Path) -> None:
    result = ok(str(sample))
    rows = result.stdout.splitlines()[2:]
    assert rows[0].split()[:8] == [
        "5438",
        "32123456789",
        "030",
        "01.07.2024",
        "01.07.2025",
        "1",
        "4.806,00",
        "EUR",
    ]
    assert rows[0].endswith("Müller-Lüdenscheidt, Jürgen")
    assert rows[1].endswith("123,45 EUR  Schmidt [GmbH]")  # brackets are data, not rich markup
    assert (
        "Datenpaket 1: R+V Allgemeine Versicherung AG (VU 5438) for Makler Mustermann, 01.08.2024"
        in result.stderr
    )
    assert "Contracts: 2 (030 Unfall 1, 040 Haftpflicht 1)" in result.stderr
    assert "Warnings: none" in result.stderr


def test_stdin_as_dash(sample: Path) -> None:
    result = subprocess.run(
        [script(), "gdv", "-", "--json"],
        input=sample.read_bytes(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [c["vsnr"] for c in json.loads(result.stdout)] == ["32123456789", "43987654321"]


def test_warnings_do_not_fail_and_the_first_ten_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.gdv"
    broken = [Vertrag(f"3212345{n:04d}", due="31022025") for n in range(12)]  # 31 February
    path.write_bytes(gdv_file(broken, nachsatz_count=1))
    result = ok(str(path), "--csv")
    assert len(csv_rows(result.stdout)) == 12
    assert "Warnings: 13" in result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith("  record ")]
    # Each with its record number: the 0200 is record 3, 5, 7, ... (Vorsatz 1, 0100 2).
    assert [int(line.split()[1].rstrip(":")) for line in listed] == list(range(3, 23, 2))
    assert "31022025" in listed[0]
    assert result.stderr.rstrip().endswith("... and 3 more")


def test_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / "cp850.gdv"
    path.write_bytes(gdv_file(SAMPLE).decode("iso-8859-15").encode("cp850"))
    assert "Müller-Lüdenscheidt" in ok(str(path), "--csv", "--encoding", "cp850").stdout
    assert "Müller-Lüdenscheidt" not in ok(str(path), "--csv").stdout  # read as ISO-8859-15


def test_json_and_csv_exclude_each_other(sample: Path) -> None:
    result = run("gdv", str(sample), "--json", "--csv")
    assert result.returncode == 2
    assert "exclude each other" in result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("output", [[], ["--json"], ["--csv"]])
def test_a_full_disk_is_one_line_and_exit_2(sample: Path, output: list[str]) -> None:
    with Path("/dev/full").open("w") as full:
        result = subprocess.run(
            [script(), "gdv", str(sample), *output],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert result.stderr == "Cannot write the output: [Errno 28] No space left on device\n"


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    path = tmp_path / "gross.gdv"
    path.write_bytes(gdv_file(Vertrag(f"32{n:09d}") for n in range(3000)))
    process = subprocess.Popen(
        [script(), "gdv", str(path), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stdout.read(100).startswith(b"[\n{")
    process.stdout.close()  # like `| head -c 100`
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr == b""


# -- files that cannot be read ------------------------------------------------------------


def _bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    empty = tmp_path / "leer.gdv"
    empty.write_bytes(b"")
    pdf = tmp_path / "bestand.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    folder = tmp_path / "ordner"
    folder.mkdir()
    sample = tmp_path / "gut.gdv"
    sample.write_bytes(gdv_file(SAMPLE))
    return {
        "empty file": [str(empty)],
        "PDF": [str(pdf)],
        "directory": [str(folder)],
        "missing file": [str(tmp_path / "fehlt.gdv")],
        "unknown encoding": [str(sample), "--encoding", "klingon"],
        "no text encoding": [str(sample), "--encoding", "hex"],
        "encoding without error handling": [str(sample), "--encoding", "idna"],
    }


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty file", "the file is empty"),
        ("PDF", "not a GDV file"),
        ("directory", "cannot read"),
        ("missing file", "cannot read"),
        ("unknown encoding", "unknown encoding 'klingon'"),
        ("no text encoding", "unknown encoding 'hex'"),
        ("encoding without error handling", "the encoding 'idna' cannot read a GDV file"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(tmp_path: Path, case: str, message: str) -> None:
    result = run("gdv", *_bad_inputs(tmp_path)[case])
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("GdvFormatError: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("case", ["empty file", "PDF"])
@pytest.mark.parametrize("output", ["--json", "--csv"])
def test_no_half_output_before_the_error(tmp_path: Path, case: str, output: str) -> None:
    # An empty file is known to be empty only at its end: no "[" or CSV header before that.
    result = run("gdv", *_bad_inputs(tmp_path)[case], output)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


# -- the two field decoders ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bestand", "inkasso"])
def test_the_pure_python_decoder_prints_the_same_contracts(tmp_path: Path, kind: str) -> None:
    # BIPRO_RUV_PURE_PYTHON=1 chooses the pure-Python field decoder (the one an install without
    # a C compiler has): the whole command's output must not change.
    from bipro_ruv.sandbox.content.gdv_writer import generate_gdv

    path = tmp_path / f"{kind}.gdv"
    path.write_bytes(generate_gdv(contracts=60, seed=11, kind=kind, vu_numbers=("5339", "5438")))  # type: ignore[arg-type]
    compiled = ok(str(path), "--json")
    pure = run("gdv", str(path), "--json", env={"BIPRO_RUV_PURE_PYTHON": "1"})
    assert pure.returncode == 0, pure.stderr
    assert json.loads(pure.stdout) == json.loads(compiled.stdout)
    assert len(json.loads(compiled.stdout)) >= 60
    assert pure.stderr == compiled.stderr


def test_version_names_the_field_decoder() -> None:
    from bipro_ruv.gdv import ACCELERATED

    assert run("--version", env={"BIPRO_RUV_PURE_PYTHON": "1"}).stdout.endswith(
        "(GDV decoder: pure Python)\n"
    )
    expected = "compiled" if ACCELERATED else "pure Python"
    assert run("--version").stdout.endswith(f"(GDV decoder: {expected})\n")
