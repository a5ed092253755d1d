"""Specification of the streaming MTOM/XOP multipart parser (``bipro_ruv._wire.mime``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bipro_ruv._wire.mime import parse_multipart
from bipro_ruv._wire.mime_parts import get_boundary, is_multipart, parse_header_value, resolve_cid
from bipro_ruv.errors import MimeError, ReplyTooLargeError

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
    assert part.digests == {"sha256": part.sha256}  # others only when a Pruefsumme asks for them
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


def test_a_root_part_over_the_limit_is_a_size_error_naming_the_setting(
    tmp_path: Path, chunk_size: int | None
) -> None:
    with pytest.raises(ReplyTooLargeError, match=re.escape("(ReplyLimits.xml_bytes)")) as info:
        parse_multipart(CT, chunked(GOOD, chunk_size), tmp_path, max_root_bytes=10)
    assert (info.value.limit_name, info.value.limit) == ("ReplyLimits.xml_bytes", 10)
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


# --- Quirks of real servers, accepted when the HTTP body arrived complete (issue 9) ---------

UNCLOSED = multipart([root_part(), attachment(PDF)], close=False)  # ends with the PDF's last byte
OTHER = "----=_Part_7_1234.5678"


def complete() -> bool:
    return True


def cut() -> bool:
    return False


def test_missing_closing_delimiter_is_accepted_when_the_body_is_complete(
    tmp_path: Path, chunk_size: int | None
) -> None:
    reply = parse_multipart(CT, chunked(UNCLOSED, chunk_size), tmp_path, body_complete=complete)
    part = reply.attachments["doc-1@www.bipro.net"]
    assert part.path.read_bytes() == PDF  # its own trailing CRLF included: the part runs to the end
    assert (part.size, part.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert len(reply.warnings) == 1
    assert f"without its closing delimiter --{BOUNDARY}--" in reply.warnings[0]
    assert part.warnings == reply.warnings


@pytest.mark.parametrize("body_complete", [None, cut], ids=["cannot-tell", "cut-on-the-wire"])
def test_missing_closing_delimiter_stays_an_error_unless_the_body_is_complete(
    tmp_path: Path, chunk_size: int | None, body_complete: Callable[[], bool] | None
) -> None:
    with pytest.raises(MimeError, match="truncated in part 2"):
        parse_multipart(CT, chunked(UNCLOSED, chunk_size), tmp_path, body_complete=body_complete)
    assert spooled(tmp_path) == []


@pytest.mark.parametrize(
    ("ending", "content"),
    [
        (b"\r\n--MIMEBoundary_0815--", b""),
        (b"\r\n--MIMEBoundary_0815--\r\n", b""),
        (b"\r\n--MIMEBoundary_0815-- \t\r\n\r\n", b""),
        (b"\n--uuid:0815--\n", b""),
        (b"\r\n--" + BOUNDARY.encode(), b""),
        (b"\r\n--" + BOUNDARY.encode() + b"-", b""),
        (b"\r\n--other", b"\r\n--other"),
        (b"\r\n--other-- and more", b"\r\n--other-- and more"),
        (b"\r\n----\r\n", b"\r\n----\r\n"),
        (b" --other--\r\n", b" --other--\r\n"),
    ],
    ids=[
        "other-closing",
        "other-closing-CRLF",
        "other-closing-whitespace",
        "other-closing-LF",
        "own-boundary-without-dashes",
        "own-boundary-one-dash",
        "other-boundary-not-closing",
        "text-after-closing",
        "no-token",
        "not-at-line-start",
    ],
)
def test_a_last_line_closing_another_boundary_is_not_content(
    tmp_path: Path, chunk_size: int | None, ending: bytes, content: bytes
) -> None:
    reply = parse_multipart(CT, chunked(UNCLOSED + ending, chunk_size), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF + content
    (warning,) = reply.warnings
    if content:
        assert "without its closing delimiter" in warning
    else:
        line = ending.strip().decode()
        assert f"ends with {line!r} instead of its closing delimiter --{BOUNDARY}--" in warning


@pytest.mark.parametrize("tail", [b"\r\n", b" \t\r\n", b"\n"], ids=["CRLF", "padding", "LF"])
def test_a_body_ending_with_an_opening_delimiter_is_complete(
    tmp_path: Path, chunk_size: int | None, tail: bytes
) -> None:
    body = UNCLOSED + b"\r\n--" + BOUNDARY.encode() + tail
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF
    assert [w.split(" instead")[0] for w in reply.warnings] == [
        f"multipart body ends with the opening delimiter --{BOUNDARY}"
    ]
    assert reply.attachments["doc-1@www.bipro.net"].warnings == ()


def test_only_the_last_part_carries_the_warning(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF), attachment(b"second", "<doc-2@x>")], close=False)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].warnings == ()
    assert reply.attachments["doc-2@x"].warnings == reply.warnings
    assert reply.attachments["doc-2@x"].path.read_bytes() == b"second"


def test_the_root_may_be_the_unclosed_last_part(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part()], close=False)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert (reply.root, dict(reply.attachments)) == (ROOT_XML, {})
    assert len(reply.warnings) == 1


def test_an_unclosed_base64_last_part_is_decoded(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(base64.encodebytes(PDF), encoding="base64")], close=False)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF


def test_body_complete_is_asked_after_the_chunks_and_only_without_closing_delimiter(tmp_path: Path) -> None:
    events: list[str] = []

    def source(body: bytes) -> Iterator[bytes]:
        yield body
        events.append("exhausted")

    def body_complete() -> bool:
        events.append("asked")
        return True

    parse_multipart(CT, source(GOOD), tmp_path, body_complete=body_complete).delete_spool_files()
    assert events == []  # reading stopped at the closing delimiter
    parse_multipart(CT, source(UNCLOSED), tmp_path, body_complete=body_complete)
    assert events == ["exhausted", "asked"]


def test_another_boundary_than_the_declared_one_is_adopted(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF)], boundary=OTHER, preamble=b"MIME preamble")
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.root == ROOT_XML
    part = reply.attachments["doc-1@www.bipro.net"]
    assert part.path.read_bytes() == PDF
    (warning,) = reply.warnings
    assert f"does not use the boundary {BOUNDARY!r}" in warning
    assert repr(OTHER) in warning
    assert part.warnings == reply.warnings


@pytest.mark.parametrize("body_complete", [None, cut], ids=["cannot-tell", "cut-on-the-wire"])
def test_another_boundary_stays_an_error_unless_the_body_is_complete(
    tmp_path: Path, chunk_size: int | None, body_complete: Callable[[], bool] | None
) -> None:
    body = multipart([root_part(), attachment(PDF)], boundary=OTHER)
    with pytest.raises(MimeError, match="no opening multipart delimiter"):
        parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=body_complete)
    assert spooled(tmp_path) == []


@pytest.mark.parametrize("body_complete", [complete, cut], ids=["complete", "cut-on-the-wire"])
def test_a_broken_body_with_another_boundary_still_says_the_declared_one_is_missing(
    tmp_path: Path, chunk_size: int | None, body_complete: Callable[[], bool]
) -> None:
    body = multipart([root_part(), attachment(PDF), attachment(PDF)], boundary=OTHER)
    expected = (
        f"no opening multipart delimiter --{BOUNDARY} found in the body; split at --{OTHER} instead: "
        "duplicate Content-ID"
    )
    with pytest.raises(MimeError, match=re.escape(expected)):
        parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=body_complete)
    assert spooled(tmp_path) == []


def test_another_boundary_without_closing_delimiter(tmp_path: Path, chunk_size: int | None) -> None:
    body = multipart([root_part(), attachment(PDF)], boundary=OTHER, close=False)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == PDF
    assert len(reply.warnings) == 2
    assert reply.attachments["doc-1@www.bipro.net"].warnings == reply.warnings


def test_a_line_that_only_begins_with_the_declared_boundary_does_not_stop_adoption(
    tmp_path: Path, chunk_size: int | None
) -> None:
    content = b"start\r\n--" + BOUNDARY.encode() + b"X is content\r\nend"
    body = multipart([root_part(), attachment(content)], boundary=OTHER)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == content


@pytest.mark.parametrize(
    "preamble",
    [
        b"--not-ours\r\nContent-Type: text/plain\r\n\r\nIgnore me\r\n--not-ours--",
        multipart([root_part(b"<fake/>"), attachment(b"fake", "<fake@x>")], boundary="not-ours").rstrip(),
        multipart([root_part(b"<fake/>"), attachment(b"fake", "<fake@x>")], boundary="not-ours", close=False),
    ],
    ids=["text-part", "closed-parts", "unclosed-parts"],
)
def test_a_preamble_that_looks_like_parts_does_not_hide_the_declared_boundary(
    tmp_path: Path, chunk_size: int | None, preamble: bytes
) -> None:
    # RFC 2046: all before the first delimiter is preamble, whatever it looks like.
    body = multipart([root_part(), attachment(PDF)], preamble=preamble)
    reply = parse_multipart(CT, chunked(body, chunk_size), tmp_path, body_complete=complete)
    assert reply.root == ROOT_XML
    assert {cid: part.path.read_bytes() for cid, part in reply.attachments.items()} == {
        "doc-1@www.bipro.net": PDF
    }
    assert reply.warnings == ()
    assert spooled(tmp_path) == [reply.attachments["doc-1@www.bipro.net"].path]


def test_a_preamble_line_without_mime_headers_is_no_boundary(tmp_path: Path) -> None:
    body = b"--signature\r\nFrom: someone\r\n\r\n<soap:Envelope/>"
    with pytest.raises(MimeError, match="no opening multipart delimiter"):
        parse_multipart(CT, [body], tmp_path, body_complete=complete)


_LOOKALIKES = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b"-", b"--", DASH, DASH[:-1], b"\r\n" + DASH + b"X", b"\r\n" + DASH[:9], b"\r"]
)
# RFC 2046: a body part never holds a delimiter line (it would end the part), so none is made.
_DELIMITER_LINE = re.compile(rb"(?:\A|\n)" + re.escape(DASH) + rb"(?:--|[ \t]*(?:\r?\n|\r?\Z))")
# Blocks of some kilobytes (hypothesis keeps st.binary() small): larger than what the
# parser holds back, so that whole chunks go past its buffer.
_BLOCKS = st.builds(
    lambda seed, size: random.Random(seed).randbytes(size), st.integers(0, 2**16), st.integers(1, 4000)
)
_CONTENT = (
    st.lists(st.one_of(_BLOCKS, _LOOKALIKES), max_size=10)
    .map(b"".join)
    .filter(lambda content: _DELIMITER_LINE.search(content) is None)
)
_CUTS = st.lists(st.integers(min_value=1, max_value=5000), max_size=12)


def _cut_at(body: bytes, cuts: list[int]) -> list[bytes]:
    pieces, position = [], 0
    for size in cuts:
        pieces.append(body[position : position + size])
        position += size
    pieces.append(body[position:])
    return pieces


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    first=_CONTENT,
    second=_CONTENT,
    cuts=_CUTS,
)
def test_large_parts_with_lookalikes_round_trip_under_any_chunking(
    tmp_path: Path, first: bytes, second: bytes, cuts: list[int]
) -> None:
    # Chunks larger than the held-back tail skip the buffer (written as views); the
    # delimiter may straddle any two of them.
    body = multipart([root_part(), attachment(first), attachment(second, "<doc-2@x>")])
    reply = parse_multipart(CT, _cut_at(body, cuts), tmp_path)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == first
    assert reply.attachments["doc-2@x"].path.read_bytes() == second
    assert reply.attachments["doc-2@x"].sha256 == hashlib.sha256(second).hexdigest()
    reply.delete_spool_files()


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(content=_CONTENT, cuts=_CUTS)
def test_an_unclosed_large_last_part_runs_to_the_end_under_any_chunking(
    tmp_path: Path, content: bytes, cuts: list[int]
) -> None:
    # Ending in "!" the content cannot end in a delimiter line, so all of it is the part's.
    body = multipart([root_part(), attachment(content + b"!")], close=False)
    reply = parse_multipart(CT, _cut_at(body, cuts), tmp_path, body_complete=complete)
    assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == content + b"!"
    reply.delete_spool_files()


def _split_at(body: bytes, cut: int, size: int) -> list[bytes]:
    """``body`` in chunks of ``size`` bytes, one of them ending at ``cut``."""
    first = cut % size or size
    return [body[:first], *chunked(body[first:], size)]


def test_a_delimiter_split_at_any_byte_between_large_chunks_is_found(tmp_path: Path) -> None:
    rng = random.Random(9)
    first, second = rng.randbytes(9000) + b"\r\n\r", rng.randbytes(7000) + b"\n"
    body = multipart([root_part(), attachment(first), attachment(second, "<doc-2@x>")])
    starts = [m.start() for m in re.finditer(re.escape(b"\r\n" + DASH), body)]
    for start in starts:
        for offset in range(len(DASH) + 5):
            reply = parse_multipart(CT, _split_at(body, start + offset, 1000), tmp_path)
            got = [reply.attachments[cid].path.read_bytes() for cid in ("doc-1@www.bipro.net", "doc-2@x")]
            assert got == [first, second], (start, offset)
            reply.delete_spool_files()


@pytest.mark.parametrize("size", [700, 4096])
def test_a_long_closing_line_of_another_boundary_is_cut_off_wherever_the_chunks_end(
    tmp_path: Path, size: int
) -> None:
    content = random.Random(3).randbytes(12_000)
    ending = b"\r\n--" + b"=_Other_" * 25 + b"--" + b" " * 100 + b"\r\n"
    body = multipart([root_part(), attachment(content)], close=False) + ending
    for cut in range(len(body) - len(ending) - 3, len(body), 7):
        reply = parse_multipart(CT, _split_at(body, cut, size), tmp_path, body_complete=complete)
        assert reply.attachments["doc-1@www.bipro.net"].path.read_bytes() == content, cut
        reply.delete_spool_files()
