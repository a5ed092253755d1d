"""A minimal, valid PDF 1.4 writer for the sandbox's letters (ISO 32000 / PDF Reference 1.4).

Layout of the file, as the reference prescribes: header, one indirect object per part (catalog, page tree,
font, info, then a page and its content stream per page), a cross-reference table whose entries are exactly
20 bytes and point at each object's ``n 0 obj`` line, the trailer, ``startxref`` with the table's byte offset,
and ``%%EOF``. Text uses the standard Type 1 font Helvetica with WinAnsiEncoding, so German umlauts and ß are
written as their Windows-1252 bytes. Nothing here depends on the clock: the same input gives the same bytes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

__all__ = ["make_pdf"]

_PAGE_WIDTH, _PAGE_HEIGHT = 595, 842  # A4 in points
_MARGIN = 56
_TITLE_SIZE, _TEXT_SIZE, _LEADING = 14, 10, 13
_LINES_PER_PAGE = 56
_WRAP = 95  # characters per line at 10 pt Helvetica on A4 with 2 cm margins


def _pdf_string(text: str) -> bytes:
    """A literal string: Windows-1252 bytes with backslash, parentheses and controls escaped."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b")")


def _content(title: str | None, lines: Sequence[str], padding: int) -> bytes:
    ops = [b"BT", b"%d %d Td" % (_MARGIN, _PAGE_HEIGHT - _MARGIN)]
    if title is not None:
        ops += [b"/F1 %d Tf" % _TITLE_SIZE, _pdf_string(title) + b" Tj", b"0 -%d Td" % (2 * _LEADING)]
    ops += [b"/F1 %d Tf" % _TEXT_SIZE, b"%d TL" % _LEADING]
    ops += [_pdf_string(line) + b" Tj T*" for line in lines]
    ops.append(b"ET")
    if padding:
        # A comment inside the stream: lets callers fix the file size without touching the text.
        ops.append(b"%" + b"0" * (padding - 2))  # with its line break: exactly ``padding`` bytes
    return b"\n".join(ops) + b"\n"


def _wrap(lines: Sequence[str]) -> list[str]:
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, _WRAP, break_long_words=True, break_on_hyphens=False) or [""]
    return wrapped


def _assemble(title: str, pages: list[list[str]], padding: int) -> bytes:
    font, info, first_page = 3, 4, 5
    page_ids = [first_page + 2 * i for i in range(len(pages))]
    bodies: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % p for p in page_ids), len(pages)),
        font: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        info: b"<< /Title " + _pdf_string(title) + b" /Producer (bipro-ruv sandbox) >>",
    }
    for index, (page_id, page_lines) in enumerate(zip(page_ids, pages, strict=True)):
        stream = _content(title if index == 0 else None, page_lines, padding if index == 0 else 0)
        bodies[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (_PAGE_WIDTH, _PAGE_HEIGHT, font, page_id + 1)
        )
        bodies[page_id + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"

    # The second line's high bytes mark the file as binary for transfer programs (PDF Reference 3.4.1).
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number in range(1, len(bodies) + 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + bodies[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        info,
        xref,
    )
    return bytes(out)


def make_pdf(title: str, lines: Sequence[str], *, min_size: int = 0) -> bytes:
    """A valid PDF 1.4 with ``title`` on top and ``lines`` below, wrapped and paginated.

    ``min_size`` pads the first content stream with a PDF comment so the file is at least that many bytes
    (exactly that many, unless the unpadded file is bigger or just one byte smaller).
    """
    wrapped = _wrap(lines)
    pages = [wrapped[i : i + _LINES_PER_PAGE] for i in range(0, len(wrapped), _LINES_PER_PAGE)] or [[]]
    data = _assemble(title, pages, 0)
    if len(data) >= min_size:
        return data
    padding = max(min_size - len(data), 2)
    # The stream /Length and the xref offsets may gain a digit as the padding grows; a few rounds settle it.
    for _ in range(4):
        data = _assemble(title, pages, padding)
        missing = min_size - len(data)
        if missing == 0 or (missing < 0 and padding + missing < 2):
            break
        padding += missing
    return data
