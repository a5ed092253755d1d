"""A minimal hand-written GDV record builder for tests (the sandbox has the realistic generator).

``line(satzart, {col: text})`` writes text at 1-based columns into a 256-blank record, so a
test states exactly the bytes it feeds the parser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

RELEASE_2023_VERSIONS = {96: "2.5", 99: "2.3", 102: "2.5"}  # 0001, 0100, 0200 in Vorsatz TD1


def line(satzart: str, columns: Mapping[int, str] | None = None, *, vu: str = "5438", vsnr: str = "") -> str:
    text = [" "] * 256
    _put(text, 1, satzart)
    if satzart not in ("0001", "9999"):
        _put(text, 5, vu.ljust(5))
        if vsnr:
            _put(text, 14, vsnr.rjust(17))
    for column, value in (columns or {}).items():
        _put(text, column, value)
    return "".join(text)


def _put(text: list[str], column: int, value: str) -> None:
    if column - 1 + len(value) > 256:
        raise ValueError(f"{value!r} at column {column} runs past 256")
    text[column - 1 : column - 1 + len(value)] = value


def vorsatz(
    vu: str = "5438",
    sender: str = "R+V Allgemeine Versicherung AG",
    versions: Mapping[int, str] | None = None,
) -> str:
    columns = {
        5: vu.ljust(5),
        10: sender.ljust(30)[:30],
        40: "Makler Mustermann".ljust(30),
        70: "0108202401082024",
    }
    columns.update(versions if versions is not None else RELEASE_2023_VERSIONS)
    columns[256] = "1"
    return line("0001", columns)


def general(
    vsnr: str, *, vu: str = "5438", premium_cents: int = 12345, sparte: str = "050", start: str = "01012024"
) -> str:
    """0200 TD1: Sparte, Vertragsbeginn, Status 1, EUR, Gesamtbeitrag (Netto) with 2 decimals."""
    columns = {
        11: sparte,
        31: "01",
        43: "2",
        44: start,
        52: "01012025",
        68: "1",
        69: "1",
        113: "EUR",
        116: str(premium_cents).rjust(12, "0"),
        256: "1",
    }
    return line("0200", columns, vu=vu, vsnr=vsnr)


def address(vsnr: str, name: str, *, vu: str = "5438", role: str = "01", part: str = "1") -> str:
    return line("0100", {31: "01", 43: "1", 44: name.ljust(30), 237: role, 256: part}, vu=vu, vsnr=vsnr)


def nachsatz(count: int, premium_cents: int) -> str:
    return line("9999", {5: str(count).rjust(10, "0"), 25: str(premium_cents).rjust(15, "0")})


def join(lines: Iterable[str], *, ending: str = "\n", encoding: str = "iso-8859-15") -> bytes:
    return "".join(text + ending for text in lines).encode(encoding)


def simple_file(contracts: int = 2, *, ending: str = "\n", encoding: str = "iso-8859-15") -> bytes:
    """A Vorsatz, per contract a 0100 and a 0200, and a correct Nachsatz."""
    lines = [vorsatz()]
    total = 0
    for n in range(contracts):
        vsnr = f"3212345678{n}"
        lines += [address(vsnr, f"Müller {n}"), general(vsnr, premium_cents=1000 + n)]
        total += 1000 + n
    lines.append(nachsatz(2 * contracts, total))
    return join(lines, ending=ending, encoding=encoding)
