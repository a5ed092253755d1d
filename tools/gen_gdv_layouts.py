"""Generate bipro_ruv/gdv/layouts/_relYYYY.py from the GDV's machine-readable layouts.

The GDV publishes the VU-Vermittler format as XML ("VUVM" files, one per release). A copy
of the releases 2009-2023 lies beside the project in ``../shared/reference/gdv-layouts/``;
the XML itself is not ours to ship, so this script reads it and writes the facts we need
(Satzart, Sparte, Wagnisart, Teildatensatz; per field: English name, German Bezeichnung,
position, length, type, decimals) as compact Python tables, which are committed.

Run from the project root::

    python tools/gen_gdv_layouts.py [--source ../shared/reference/gdv-layouts]

Only the Satzarten the parser decodes are written (see ``SUPPORTED``); every other
Satzart stays a raw record at run time. The output is deterministic: running the
script twice gives the same files, and a test compares them with a fresh run when the
XML is present.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NamedTuple

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    from gdv_names import ENGLISH
except ImportError:  # while the name table is being written
    ENGLISH = {}

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bipro_ruv" / "gdv" / "layouts"
RELEASES = ("2009", "2013", "2015", "2018", "2023")

# The Satzarten this library decodes (issue 11): the frame, addresses, the general part,
# R+V's main Sparten with their extensions and fund records, co-insurance and Inkasso.
_FRAME = {"0001", "0100", "0200", "0300", "0400", "0410", "0420", "0430", "9999"}
_SPARTE_RECORDS = {"0210", "0211", "0220", "0221", "0230"}
_SPARTEN = {"010", "030", "040", "050", "051", "052", "053", "054", "055", "130", "140"}

_KINDS = {"Numerisch": "N", "Alphanumerisch": "A", "Datum": "D", "Fliesskomma": "F"}
_REFERENCE = re.compile(r"^(\d{3})-(\d{3})-")
_VERSION_FIELD = re.compile(r"^Satzart(\d{4})(\d{3})?$")


def supported(satzart: str, sparte: str) -> bool:
    if satzart in _FRAME:
        return True
    return satzart in _SPARTE_RECORDS and sparte in _SPARTEN


class Field(NamedTuple):
    name: str
    german: str
    start: int  # 1-based, inclusive
    length: int
    kind: str  # N, A, D, F; S = the sign of the amount before it
    decimals: int


def _english(technical: str, taken: set[str]) -> str:
    base = ENGLISH.get(technical) or _snake(technical)
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _snake(technical: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", technical).lower()


def _kennzeichnung(satzart_el: etree._Element) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for ref in satzart_el.find("kennzeichnung").findall("feldreferenz"):
        result[ref.get("referenz").split("-")[2]] = ref.findtext("auspraegung")
    return result


def read_release(path: Path) -> dict[str, object]:
    tree = etree.parse(str(path))  # trusted reference file from ../shared, read by a developer
    felder = {f.get("referenz"): f for f in tree.find("felder")}
    stand = tree.findtext("info/stand")
    layouts: dict[tuple[str, str, str, int], tuple[str, int, tuple[int, ...], tuple[Field, ...]]] = {}
    versions: dict[tuple[str, str], str] = {}
    for satzart_el in tree.find("satzarten").findall("satzart"):
        marks = _kennzeichnung(satzart_el)
        satzart = marks["Satzart"] or ""
        sparte_mark = marks.get("Sparte") or ""
        sparte, _, wagnis = sparte_mark.partition(".")
        if not supported(satzart, sparte):
            continue
        version = satzart_el.findtext("version") or ""
        versions[(satzart, sparte)] = version
        for td, references in _teildatensaetze(satzart_el):
            fields, satznr, repeats = _fields(path.name, references, felder)
            _check_contiguous(path.name, satzart, sparte_mark, td, fields)
            layouts[(satzart, sparte, wagnis, td)] = (version, satznr, repeats, tuple(fields))
    return {"stand": stand, "layouts": layouts, "versions": versions}


def _teildatensaetze(satzart_el: etree._Element) -> list[tuple[int, list[etree._Element]]]:
    """The field references of each ``<satzanfang teilsatz="n">`` ... section."""
    result: list[tuple[int, list[etree._Element]]] = []
    for element in satzart_el:
        if element.tag == "satzanfang":
            result.append((int(element.get("teilsatz")), []))
        elif element.tag == "feldreferenz" and result:
            result[-1][1].append(element)
    return result


def _fields(
    source: str, references: list[etree._Element], felder: dict[str, etree._Element]
) -> tuple[list[Field], int, tuple[int, ...]]:
    """The fields of one Teildatensatz, the column of its Satznummer (0: none), and the
    columns where the Satznummer is repeated ("Satznummernwiederholung", 0220.030 TD 3/4/9).

    The Satznummer is the first SatzNr field with a fixed value; the older tables give no
    value, so else the first one-byte SatzNr field.
    """
    fields: list[Field] = []
    taken: set[str] = set()
    satznr = fallback = 0
    repeats: list[int] = []
    for element in references:
        reference = element.get("referenz")
        feld = felder[reference]
        match = _REFERENCE.match(reference)
        if not match:
            raise SystemExit(f"{source}: unexpected reference {reference!r}")
        start, end = int(match.group(1)), int(match.group(2))
        length = int(feld.findtext("bytes"))
        if end - start + 1 != length:
            raise SystemExit(f"{source}: {reference} is not {length} bytes long")
        kind = _KINDS[feld.findtext("datentyp")]
        decimals = int(feld.findtext("nachkommastellen") or 0)
        technical = element.findtext("technischerName") or ""
        german = " ".join((element.findtext("name") or technical).split())
        previous = fields[-1] if fields else None
        if (
            technical.startswith("Vorzeichen")
            and length == 1
            and previous is not None
            and previous.kind == "F"
            and previous.start + previous.length == start
        ):
            kind = "S"
        fields.append(Field(_english(technical, taken), german, start, length, kind, decimals))
        if technical == "SatzNr" and element.findtext("auspraegung") and not satznr:
            satznr = start
        if technical == "SatzNr" and length == 1 and not fallback:
            fallback = start
        if technical == "SatzNrnwiederholung" and length == 1:
            repeats.append(start)
    return fields, satznr or fallback, tuple(repeats)


def _check_contiguous(source: str, satzart: str, sparte: str, td: int, fields: list[Field]) -> None:
    position = 1
    for field in fields:
        if field.start != position:
            raise SystemExit(f"{source}: {satzart}.{sparte} TD {td}: gap or overlap before {field}")
        position += field.length
    if position != 257:
        raise SystemExit(f"{source}: {satzart}.{sparte} TD {td} ends at {position - 1}, not 256")


def render(release: str, data: dict[str, object], same_as: dict[tuple[str, str, str, int], str]) -> str:
    layouts = data["layouts"]
    versions = data["versions"]
    assert isinstance(layouts, dict)
    assert isinstance(versions, dict)
    lines = [
        f'"""GDV VU-Vermittler layouts, release {release} (Stand {data["stand"]}): '
        "the Satzarten bipro_ruv decodes.",
        "",
        "Generated by tools/gen_gdv_layouts.py from the GDV's format tables; do not edit.",
        "LAYOUTS maps (Satzart, Sparte, Wagnisart group, Teildatensatz) to (version, column of the",
        "Satznummer or 0, columns where it is repeated, fields); a field is (name, German Bezeichnung,",
        "first column, length, kind,",
        "decimals) with kind N numeric, A alphanumeric, D date, F implied-decimal amount, S the",
        "sign of the amount before it. SAME_AS names, for a Teildatensatz whose layout is the same",
        "as in a newer release, that release (whose table has it): the older tables hold only what",
        "differs.",
        '"""',
        "",
        "# fmt: off",
        f'RELEASE = "{release}"',
        f'STAND = "{data["stand"]}"',
        "",
        "VERSIONS = {",
    ]
    for (satzart, sparte), version in sorted(versions.items()):
        lines.append(f'    ("{satzart}", "{sparte}"): "{version}",')
    lines.append("}")
    lines.append("")
    lines.append("SAME_AS: dict[tuple[str, str, str, int], str] = {")
    for key in sorted(same_as):
        satzart, sparte, wagnis, td = key
        lines.append(f'    ("{satzart}", "{sparte}", "{wagnis}", {td}): "{same_as[key]}",')
    lines.append("}")
    lines.append("")
    lines.append("LAYOUTS = {")
    for key in sorted(layouts):
        if key in same_as:
            continue
        version, satznr, repeats, fields = layouts[key]
        satzart, sparte, wagnis, td = key
        lines.append(
            f'    ("{satzart}", "{sparte}", "{wagnis}", {td}): ("{version}", {satznr}, {repeats!r}, ('
        )
        for f in fields:
            lines.append(
                f"        ({f.name!r}, {f.german!r}, {f.start}, {f.length}, {f.kind!r}, {f.decimals}),"
            )
        lines.append("    )),")
    lines.append("}")
    lines.append("# fmt: on")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "reference" / "gdv-layouts")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    read = {release: read_release(args.source / f"VUVM{release}.xml") for release in RELEASES}
    for index, release in enumerate(RELEASES):
        data = read[release]
        same_as = _same_as_newer(release, read, RELEASES[index + 1 :])
        target = args.out / f"_rel{release}.py"
        target.write_text(render(release, data, same_as), encoding="utf-8")
        layouts = data["layouts"]
        assert isinstance(layouts, dict)
        print(
            f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
            f"{len(layouts)} Teildatensätze, {len(layouts) - len(same_as)} in this table"
        )
    return 0


def _same_as_newer(
    release: str, read: dict[str, dict[str, object]], newer: tuple[str, ...]
) -> dict[tuple[str, str, str, int], str]:
    """The Teildatensätze of ``release`` whose layout (Satznummer columns and every field,
    names included) a newer release has unchanged: the nearest such release that holds it
    in its own table."""
    layouts = read[release]["layouts"]
    assert isinstance(layouts, dict)
    result: dict[tuple[str, str, str, int], str] = {}
    for key, (_, satznr, repeats, fields) in layouts.items():
        for candidate in newer:
            other = read[candidate]["layouts"]
            assert isinstance(other, dict)
            if key in other and other[key][1:] == (satznr, repeats, fields):
                result[key] = candidate
                # keep looking: the newest release with the same layout holds it
            else:
                break
    return result


if __name__ == "__main__":
    raise SystemExit(main())
