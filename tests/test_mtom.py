"""Specification of the streaming MTOM/XOP multipart parser (``bipro_ruv.transfer._mtom``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bipro_ruv.errors import MimeError
from bipro_ruv.transfer._mtom import (
    get_boundary,
    is_multipart,
    parse_header_value,
    parse_multipart,
    resolve_cid,
)

BOUNDARY = "uuid:3c7a1d0e-5b2f-4c1a-9e8d-7f6a5b4c3d2e"
CT = f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; start-info="text/xml"'
ROOT_XML = b'<soap:Envelope><xop:Include href="cid:doc-1%40www.bipro.net"/></soap:Envelope>'
PDF = b"%PDF-1.4\n\x00\xff\xfe binary \r\n\r\n%%EOF\r\n"

Part = tuple[Sequence[tuple[str, str]], bytes]


def root_part(xml: bytes = ROOT_XML, *, content_id: str = "<root.message@cxf.apache.org>") -> Part:
    headers = [
        ("Content-Type", 'application/xop+xml; charset=UTF-8; type="text/xml"'),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-ID", content_id),
    ]
    return headers, xml


def attachment(body: bytes, content_id: str = "<doc-1@www.bipro.net>", encoding: str = "binary") -> Part:
    headers = [
        ("Content-Type", "application/pdf"),
        ("Content-Transfer-Encoding", encoding),
        ("Content-ID", content_id),
    ]
    return headers, body


def multipart(
    parts: Sequence[Part],
    *,
    boundary: str = BOUNDARY,
    newline: bytes = b"\r\n",
    preamble: bytes = b"",
    epilogue: bytes = b"",
    close: bool = True,
) -> bytes:
    """A multipart body as RFC 2046 §5.1.1 writes it: the newline before a delimiter is the delimiter's."""
    dash = b"--" + boundary.encode()
    out = bytearray(preamble + newline if preamble else b"")
    for headers, body in parts:
        out += dash + newline
        out += b"".join(f"{name}: {value}".encode("latin-1") + newline for name, value in headers)
        out += newline + body + newline
    if close:
        out += dash + b"--" + newline + epilogue
    else:
        out = out[: -len(newline)]
    return bytes(out)


def chunked(data: bytes, size: int | None) -> Iterator[bytes]:
    if size is None:
        yield data
        return
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture(params=[1, 7, 64 * 1024, None], ids=["1-byte", "7-byte", "64KiB", "whole"])
def chunk_size(request: pytest.FixtureRequest) -> int | None:
    size: int | None = request.param
    return size


def spooled(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


# --- Content-Type parameters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        (CT, BOUNDARY),
        ("multipart/related; boundary=MIMEBoundary_4f3c2a1b0e9d", "MIMEBoundary_4f3c2a1b0e9d"),
        ('multipart/related; boundary="----=_Part_0_1.2"', "----=_Part_0_1.2"),
        ("multipart/related; boundary=----=_Part_0_1.2; type=text/xml", "----=_Part_0_1.2"),
        ('Multipart/Related; BOUNDARY="b"; start="<r>"', "b"),
        ('multipart/related;boundary="a\\"b"', 'a"b'),
    ],
)
def test_boundary_is_read_quoted_or_not(content_type: str, boundary: str) -> None:
    assert get_boundary(content_type) == boundary


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ('multipart/related; type="application/xop+xml"', "without boundary"),
        ('multipart/related; boundary=""', "without boundary"),
        ("text/xml; charset=utf-8", "not a multipart"),
    ],
)
def test_content_type_without_usable_boundary_is_refused(content_type: str, message: str) -> None:
    with pytest.raises(MimeError, match=message):
        get_boundary(content_type)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (CT, True),
        ("Multipart/Related; boundary=x", True),
        ("text/xml; charset=utf-8", False),
        ("application/soap+xml", False),
        ("", False),
        (None, False),
    ],
)
def test_is_multipart(content_type: str | None, expected: bool) -> None:
    assert is_multipart(content_type) is expected


def test_header_value_parameters_are_case_insensitive_and_unquoted() -> None:
    value = 'application/xop+xml; Charset="ISO-8859-1"; type="text/xml"'
    assert parse_header_value(value) == ("application/xop+xml", {"charset": "ISO-8859-1", "type": "text/xml"})


# --- Splitting ------------------------------------------------------------------------------


def test_root_and_attachment_are_split(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF)])
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.root == ROOT_XML
    assert reply.root_content_type == "application/xop+xml"
    assert reply.root_charset == "utf-8"
    assert list(reply.attachments) == ["doc-1@www.bipro.net"]


def test_attachment_is_spooled_with_size_and_digests(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF)])
    part = parse_multipart(CT, chunked(body, chunk_size), tmp_path).attachments["doc-1@www.bipro.net"]
    assert part.path.parent == tmp_path
    assert part.path.read_bytes() == PDF
    assert part.size == len(PDF)
    assert part.sha256 == hashlib.sha256(PDF).hexdigest()
    assert part.digests["md5"] == hashlib.md5(PDF).hexdigest()
    assert part.content_type == "application/pdf"
    assert part.transfer_encoding == "binary"


@pytest.mark.parametrize(
    "boundary", [BOUNDARY, "MIMEBoundary_4f3c2a1b0e9d8c7b", "----=_Part_0_1.2", "b"], ids=repr
)
def test_boundary_styles(tmp_path: Path, chunk_size: int | None, boundary: str) -> None:
    body = multipart([root_part(), attachment(PDF)], boundary=boundary)
    reply = parse_multipart(f'multipart/related; boundary="{boundary}"', chunked(body, chunk_size), tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF


@pytest.mark.parametrize(
    "tail",
    [b"", b"\n", b"\r\n", b"\r", b"\r\n\r\n", b"\n\n", b"-", b"--"],
    ids=["nothing", "LF", "CRLF", "CR", "2xCRLF", "2xLF", "dash", "2xdash"],
)
@pytest.mark.parametrize("newline", [b"\r\n", b"\n"], ids=["CRLF", "LF"])
def test_binary_attachment_keeps_its_trailing_bytes(
    tmp_path: Path, chunk_size: int | None, newline: bytes, tail: bytes
) -> None:
    content = b"%PDF binary" + tail
    body = multipart([root_part(), attachment(content)], newline=newline)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == content


@pytest.mark.parametrize("content", [b"", b"\r\n", b"\n"], ids=["empty", "CRLF", "LF"])
def test_tiny_attachments_round_trip(tmp_path: Path, chunk_size: int | None, content: bytes) -> None:
    body = multipart([root_part(), attachment(content)])
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == content


def test_part_without_body_section_is_empty(tmp_path: Path, chunk_size: int | None) -> None:
    # RFC 2046: body-part := headers [CRLF *OCTET]; the blank line is the delimiter's own CRLF.
    dash = b"--" + BOUNDARY.encode()
    body = (
        dash
        + b"\r\nContent-ID: <r>\r\n\r\n<r/>\r\n"
        + dash
        + b"\r\nContent-ID: <a>\r\n\r\n"
        + dash
        + b"--\r\n"
    )
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.attachments["a"].size == 0


def test_preamble_and_epilogue_are_ignored(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart(
        [root_part(), attachment(PDF)],
        preamble=b"This is a multi-part message in MIME format.\r\n--not-the-boundary",
        epilogue=b"trailing junk --" + BOUNDARY.encode(),
    )
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.root == ROOT_XML
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF


def test_bare_lf_line_endings_are_tolerated(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF)], newline=b"\n")
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.root == ROOT_XML
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF


@pytest.mark.parametrize(
    "lookalike",
    [
        b"\r\n--" + BOUNDARY.encode() + b"X not a delimiter\r\n",
        b"text --" + BOUNDARY.encode() + b"\r\n",
        b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n",
        b"\r\n-" + BOUNDARY.encode() + b"\r\n",
    ],
    ids=["boundary-prefix-of-line", "mid-line", "shorter", "single-dash"],
)
def test_boundary_lookalikes_in_a_body_are_content(
    tmp_path: Path, chunk_size: int | None, lookalike: bytes
) -> None:
    content = b"start" + lookalike + b"end"
    body = multipart([root_part(), attachment(content)])
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == content


def test_transport_padding_after_boundary_is_allowed(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF)]).replace(
        b"--" + BOUNDARY.encode() + b"\r\n", b"--" + BOUNDARY.encode() + b" \t \r\n"
    )
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF


def test_iso_8859_1_root_is_passed_through_with_its_charset(tmp_path: Path, chunk_size: int | None) -> None:
    xml = "<Dateiname>Kündigung_Größe.pdf</Dateiname>".encode("iso-8859-1")
    headers = [
        ("Content-Type", 'application/xop+xml; charset=iso-8859-1; type="text/xml"'),
        ("Content-ID", "<r>"),
    ]
    body = multipart([(headers, xml), attachment(PDF)])
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert reply.root == xml
    assert reply.root_charset == "iso-8859-1"


def test_root_without_charset_reports_none(tmp_path: Path) -> None:
    body = multipart([([("Content-Type", "text/xml"), ("Content-ID", "<r>")], b"<x/>"), attachment(PDF)])
    reply = parse_multipart(CT, [body], tmp_path)
    assert (reply.root_content_type, reply.root_charset) == ("text/xml", None)


def test_start_parameter_names_a_root_that_is_not_first(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([attachment(PDF), root_part(content_id="<root@x>")])
    content_type = f'multipart/related; boundary="{BOUNDARY}"; start="<root@x>"'
    reply = parse_multipart(content_type, chunked(body, chunk_size), tmp_path)
    assert reply.root == ROOT_XML
    assert list(reply.attachments) == ["doc-1@www.bipro.net"]


def test_base64_attachment_is_decoded_while_streaming(tmp_path: Path, chunk_size: int | None) -> None:
    content = bytes(range(256)) * 40 + b"\r\n"
    body = multipart([root_part(), attachment(base64.encodebytes(content), encoding="base64")])
    part = parse_multipart(CT, chunked(body, chunk_size), tmp_path).attachments["doc-1@www.bipro.net"]
    assert part.path.read_bytes() == content
    assert (part.size, part.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    assert part.transfer_encoding == "base64"


def test_quoted_printable_attachment_is_decoded(tmp_path: Path, chunk_size: int | None) -> None:
    content = (
        "Sehr geehrte Damen und Herren, Ihre Kündigung ist eingegangen. ".encode("latin-1") * 5 + b"\r\nEnde"
    )
    encoded = binascii.b2a_qp(content, istext=False)
    body = multipart([root_part(), attachment(encoded, encoding="Quoted-Printable")])
    part = parse_multipart(CT, chunked(body, chunk_size), tmp_path).attachments["doc-1@www.bipro.net"]
    assert part.path.read_bytes() == content


@pytest.mark.parametrize("encoding", ["binary", "8bit", "7bit", "BINARY"])
def test_identity_encodings_pass_through(tmp_path: Path, encoding: str) -> None:
    body = multipart([root_part(), attachment(PDF, encoding=encoding)])
    reply = parse_multipart(CT, [body], tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF


def test_header_names_are_case_insensitive_and_folded_lines_joined(
    tmp_path: Path, chunk_size: int | None
) -> None:
    headers = [
        ("content-type", "application/pdf;\r\n\tname=Police.pdf"),
        ("CONTENT-TRANSFER-ENCODING", "base64"),
        ("content-ID", "\r\n <doc-1@www.bipro.net>"),
    ]
    body = multipart([root_part(), (headers, base64.b64encode(PDF))])
    part = parse_multipart(CT, chunked(body, chunk_size), tmp_path).attachments["doc-1@www.bipro.net"]
    assert part.path.read_bytes() == PDF
    assert part.headers["content-type"] == "application/pdf; name=Police.pdf"


def test_many_attachments_each_get_their_own_file(tmp_path: Path, chunk_size: int | None) -> None:
    contents = {f"doc-{i}@x": bytes([i]) * (i * 100) + b"\n" for i in range(1, 6)}
    body = multipart([root_part(), *(attachment(data, f"<{cid}>") for cid, data in contents.items())])
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path)
    assert {cid: part.path.read_bytes() for cid, part in reply.attachments.items()} == contents
    assert len(spooled(tmp_path)) == 5


def test_delete_spool_files_removes_the_attachments(tmp_path: Path) -> None:
    reply = parse_multipart(CT, [multipart([root_part(), attachment(PDF)])], tmp_path)
    reply.delete_spool_files()
    assert spooled(tmp_path) == []


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(content=st.binary(max_size=300), cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_any_binary_content_round_trips_under_any_chunking(
    tmp_path: Path, content: bytes, cuts: list[int]
) -> None:
    body = multipart([root_part(), attachment(content)])
    pieces, position = [], 0
    for cut in cuts:
        pieces.append(body[position : position + cut])
        position += cut
    pieces.append(body[position:])
    reply = parse_multipart(CT, pieces, tmp_path)
    part = reply.attachments["doc-1@www.bipro.net"]
    assert part.path.read_bytes() == content
    reply.delete_spool_files()


# --- cid references --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "cid:doc-1%40www.bipro.net",
        "cid:doc-1@www.bipro.net",
        "CID:doc-1%40www.bipro.net",
        " cid:%3Cdoc-1%40www.bipro.net%3E ",
    ],
)
def test_resolve_cid_matches_encoded_and_plain_references(tmp_path: Path, href: str) -> None:
    reply = parse_multipart(CT, [multipart([root_part(), attachment(PDF)])], tmp_path)
    assert resolve_cid(href, reply.attachments).content_id == "doc-1@www.bipro.net"


def test_resolve_cid_finds_ids_that_really_contain_a_percent(tmp_path: Path) -> None:
    body = multipart([root_part(), attachment(PDF, content_id="<a%40b>")])
    reply = parse_multipart(CT, [body], tmp_path)
    assert resolve_cid("cid:a%40b", reply.attachments).content_id == "a%40b"


@pytest.mark.parametrize("href", ["cid:unknown%40www.bipro.net", "http://example.org/doc", ""])
def test_resolve_cid_refuses_unknown_references(tmp_path: Path, href: str) -> None:
    reply = parse_multipart(CT, [multipart([root_part(), attachment(PDF)])], tmp_path)
    with pytest.raises(MimeError, match="cid"):
        resolve_cid(href, reply.attachments)


# --- Broken replies --------------------------------------------------------------------------

GOOD = multipart([root_part(), attachment(PDF), attachment(b"second", "<doc-2@x>")])
DASH = b"--" + BOUNDARY.encode()

BROKEN = [
    ("no-delimiter", CT, b"<soap:Envelope/>", {}, "no opening multipart delimiter"),
    ("empty-body", CT, b"", {}, "no opening multipart delimiter"),
    ("only-close", CT, DASH + b"--\r\n", {}, "no parts"),
    ("truncated-body", CT, GOOD[: len(GOOD) - 40], {}, "truncated in part 3"),
    ("no-close-delimiter", CT, multipart([root_part(), attachment(PDF)], close=False), {}, "truncated"),
    ("truncated-headers", CT, DASH + b"\r\nContent-ID: <r>\r\nContent-Ty", {}, "truncated in the headers"),
    (
        "no-header-separator-before-delimiter",
        CT,
        DASH + b"\r\nContent-ID: <r>\r\n" + DASH + b"--\r\n",
        {},
        "no blank line between its headers and its body",
    ),
    (
        "body-without-separator",
        CT,
        DASH + b"\r\nContent-ID: <r>\r\n<soap:Envelope/>\r\n\r\nx\r\n" + DASH + b"--\r\n",
        {},
        "malformed header line",
    ),
    ("too-many-parts", CT, GOOD, {"max_parts": 2}, "more than 2 parts"),
    ("root-too-large", CT, GOOD, {"max_root_bytes": 10}, "root part larger than 10 bytes"),
    (
        "start-names-missing-root",
        f'multipart/related; boundary="{BOUNDARY}"; start="<missing@x>"',
        multipart([attachment(PDF, "<a>"), attachment(PDF, "<b>")]),
        {},
        "root part <missing@x> named by the start parameter is missing",
    ),
    (
        "duplicate-content-id",
        CT,
        multipart([root_part(), attachment(PDF), attachment(PDF)]),
        {},
        "duplicate Content-ID <doc-1@www.bipro.net>",
    ),
    (
        "attachment-duplicates-root-id",
        CT,
        multipart([root_part(content_id="<r>"), attachment(PDF, "<r>")]),
        {},
        "duplicate Content-ID <r>",
    ),
    (
        "attachment-without-content-id",
        CT,
        multipart([root_part(), ([("Content-Type", "application/pdf")], PDF)]),
        {},
        "part 2 has no Content-ID",
    ),
    (
        "invalid-base64",
        CT,
        multipart([root_part(), attachment(b"not*base64!", encoding="base64")]),
        {},
        "invalid base64",
    ),
    (
        "incomplete-base64",
        CT,
        multipart([root_part(), attachment(b"QUJDRA", encoding="base64")]),
        {},
        "incomplete group",
    ),
    (
        "unsupported-encoding",
        CT,
        multipart([root_part(), attachment(PDF, encoding="x-uuencode")]),
        {},
        "unsupported Content-Transfer-Encoding 'x-uuencode'",
    ),
    ("missing-boundary", "multipart/related; type=text/xml", GOOD, {}, "without boundary"),
]


@pytest.mark.parametrize(
    ("content_type", "body", "kwargs", "message"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_reply_raises_mime_error_and_leaves_no_spool_files(
    tmp_path: Path,
    chunk_size: int | None,
    content_type: str,
    body: bytes,
    kwargs: dict[str, int],
    message: str,
) -> None:
    with pytest.raises(MimeError, match=re.escape(message)):
        parse_multipart(content_type, chunked(body, chunk_size), tmp_path, **kwargs)
    assert spooled(tmp_path) == []


def test_headers_without_end_are_refused_within_a_bound(tmp_path: Path) -> None:
    body = DASH + b"\r\n" + b"X-Filler: " + b"a" * (70 * 1024)
    with pytest.raises(MimeError, match="no blank line within"):
        parse_multipart(CT, chunked(body, 64 * 1024), tmp_path)


def test_failure_of_the_byte_source_removes_spool_files(tmp_path: Path) -> None:
    def source() -> Iterator[bytes]:
        body = multipart([root_part(), attachment(PDF), attachment(PDF * 100, "<doc-2@x>")])
        yield body[: len(body) - 500]
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        parse_multipart(CT, source(), tmp_path)
    assert spooled(tmp_path) == []


def test_reading_stops_at_the_closing_delimiter(tmp_path: Path) -> None:
    consumed: list[bytes] = []

    def source() -> Iterator[bytes]:
        for piece in (multipart([root_part(), attachment(PDF)]), b"epilogue", b"more"):
            consumed.append(piece)
            yield piece

    parse_multipart(CT, source(), tmp_path)
    assert len(consumed) == 1
