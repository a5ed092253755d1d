"""The source distribution holds what its tests need: a vendor who builds from the sdist can run them."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    from hatchling.builders.sdist import SdistBuilder

    (archive,) = SdistBuilder(str(ROOT)).build(directory=str(tmp_path_factory.mktemp("sdist")))
    with tarfile.open(archive) as tar:
        return {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}


def test_the_sdist_holds_every_test_and_what_the_tests_read(sdist_names: set[str]) -> None:
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("*.py")}
    assert tests <= sdist_names
    # Every folder beside the package that a test reads from the checkout (examples/, docs/,
    # tools/, ...), found in the tests' own text, with what is in it.
    read = set()
    for path in (ROOT / "tests").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r'(?:ROOT|parents?\[1\]|parent\.parent)\s*/\s*"([a-z_.]+)"', text))
    assert read, "the pattern finds the folders tests read"
    for folder in read:
        files = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()}
        # Not what is built or cached in the checkout (the compiled decoder, bytecode).
        files = {f for f in files if "__pycache__" not in f and not f.endswith((".so", ".pyd", ".pyc"))}
        assert files, folder
        assert files <= sdist_names, f"{folder}: {sorted(files - sdist_names)[:5]}"


def test_the_sdist_builds_the_compiled_decoder_and_documents_the_operations(sdist_names: set[str]) -> None:
    assert {
        "hatch_build.py",
        "bipro_ruv/gdv/_speedups.c",
        "docs/operations.md",
        "docs/fetch-report.schema.json",
        "tools/gen_gdv_layouts.py",
        "wsdl/transfer.wsdl",
        ".ci/run",
    } <= sdist_names
    assert not [name for name in sdist_names if name.endswith((".so", ".pyd")) or "/.venv/" in f"/{name}"]
