"""The committed GDV layout tables: sound on their own, and exactly what the generator makes.

The generator reads the GDV's XML from ../shared/reference/gdv-layouts/, which a plain
clone does not have; the regeneration test skips then, the sanity tests always run.
"""

from __future__ import annotations

import keyword
import subprocess
import sys
from pathlib import Path

import pytest

from bipro_ruv.gdv.layouts import RELEASES, choose_release, layouts_of, versions_of

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "reference" / "gdv-layouts"


@pytest.mark.parametrize("release", RELEASES)
def test_every_teildatensatz_covers_256_bytes_without_gaps(release: str) -> None:
    for key, layout in layouts_of(release).items():
        column = 1
        for field in layout.fields:
            assert field.start == column, (key, field)
            column += field.length
        assert column == 257, key


@pytest.mark.parametrize("release", RELEASES)
def test_field_names_are_unique_identifiers(release: str) -> None:
    for key, layout in layouts_of(release).items():
        assert len(set(layout.names)) == len(layout.names), key
        for name in layout.names:
            assert name.isidentifier(), (key, name)
            assert not keyword.iskeyword(name), (key, name)


@pytest.mark.parametrize("release", RELEASES)
def test_common_key_fields_are_where_the_gdv_puts_them(release: str) -> None:
    """Fields 1-7 of every 01xx-04xx record (gdv-format.md §1.2)."""
    expected = [
        ("record_type", 1, 4),
        ("insurer_number", 5, 5),
        ("bundle_flag", 10, 1),
        ("line_of_business", 11, 3),
    ]
    for key, layout in layouts_of(release).items():
        if key[0] in ("0001", "9999"):
            continue
        assert [(f.name, f.start, f.length) for f in layout.fields[:4]] == expected, key
        assert (layout.fields[4].start, layout.fields[4].length) == (14, 17), key


def test_supported_satzarten_are_in_the_newest_release() -> None:
    kinds = {(s, sp) for s, sp in versions_of("2023")}
    for satzart in ("0001", "0100", "0200", "0300", "0400", "0410", "0420", "0430", "9999"):
        assert (satzart, "") in kinds
    for sparte in ("010", "030", "040", "050", "130", "140"):
        assert ("0210", sparte) in kinds
    for sparte in ("051", "052", "053", "054", "055"):
        assert ("0220", sparte) in kinds
    assert ("0230", "010") in kinds
    leben = {key[2] for key in layouts_of("2023") if key[:2] == ("0220", "010")}
    assert leben == {"0", "13", "2", "48", "5", "6", "7", "9"}


def test_sign_fields_follow_their_amounts() -> None:
    for release in RELEASES:
        for key, layout in layouts_of(release).items():
            for i, field in enumerate(layout.fields):
                if field.kind == "S":
                    assert layout.fields[i - 1].kind == "F", (key, field)
    nachsatz = layouts_of("2023")[("9999", "", "", 1)]
    assert [f.kind for f in nachsatz.fields if f.start in (40, 54)] == ["F", "S"]


def test_versions_of_the_releases() -> None:
    """gdv-format.md §1.6."""
    assert [versions_of(r)[("0001", "")] for r in RELEASES] == ["2.2", "2.3", "2.4", "2.4", "2.5"]
    assert [versions_of(r)[("0200", "")] for r in RELEASES] == ["2.3", "2.4", "2.5", "2.5", "2.5"]
    assert choose_release("0210", "050", "2.6") == ("2018", True)


def test_the_committed_tables_are_what_the_generator_writes(tmp_path: Path) -> None:
    if not SOURCE.is_dir():
        pytest.skip(f"the GDV's layout XML is not present at {SOURCE}")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "gen_gdv_layouts.py"),
            "--source",
            str(SOURCE),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    for release in RELEASES:
        name = f"_rel{release}.py"
        committed = (ROOT / "bipro_ruv" / "gdv" / "layouts" / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == committed, name


@pytest.mark.parametrize("release", RELEASES[:-1])
def test_older_tables_hold_only_what_differs_from_a_newer_release(release: str) -> None:
    from importlib import import_module

    table = import_module(f"bipro_ruv.gdv.layouts._rel{release}")
    assert set(table.LAYOUTS).isdisjoint(table.SAME_AS)
    for key, newer in table.SAME_AS.items():
        assert RELEASES.index(newer) > RELEASES.index(release)
        assert layouts_of(release)[key] is layouts_of(newer)[key]
    assert set(layouts_of(release)) == set(table.LAYOUTS) | set(table.SAME_AS)
