"""Inline base64 getShipment replies (``allg:Daten`` as text), read by the streaming target parser."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import ProtocolError
from bipro_ruv._wire.mime import parse_multipart
from bipro_ruv._wire.soap import envelope_payload
from bipro_ruv.errors import BiproError, MimeError
from bipro_ruv.transfer._download import multipart_payload, read_shipment_reply
from bipro_ruv.transfer._inline import parse_inline_reply

FD_DIR = Path("/proc/self/fd")


def open_descriptors(folder: Path) -> list[str]:
    """The process's open descriptors on files in ``folder`` (deleted ones included): other
    threads (a sandbox closing its sockets) cannot change this count under the test."""
    targets = []
    for name in os.listdir(FD_DIR):
        try:
            target = os.readlink(FD_DIR / name)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(str(folder)):
            targets.append(target)
    return targets


def reply(daten: str) -> bytes:
    return f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<t:getShipmentResponse xmlns:t="http://www.bipro.net/namespace/transfer"
    xmlns:a="http://www.bipro.net/namespace/allgemein" xmlns:n="http://www.bipro.net/namespace/nachrichten"
    xmlns:z="urn:bipro-ruv:spool">
  <t:Response><n:Status><n:ProzessID>P-1</n:ProzessID><n:StatusID>OK</n:StatusID></n:Status>
    <t:Lieferung><t:ID>L-1</t:ID><t:Transfer><a:Datei><a:Dateiname>a.pdf</a:Dateiname>{daten}</a:Datei>
    </t:Transfer></t:Lieferung></t:Response>
</t:getShipmentResponse></s:Body></s:Envelope>""".encode()


@pytest.mark.skipif(not FD_DIR.is_dir(), reason="counts descriptors in /proc/self/fd")
@pytest.mark.parametrize(
    ("daten", "error", "message"),
    [
        ("<a:Daten>QUJ</a:Daten>", MimeError, "incomplete group"),
        ("<a:Daten>QUJD<x/></a:Daten>", ProtocolError, "both base64 text and an element"),
    ],
    ids=["base64-ends-mid-group", "text-then-element"],
)
def test_a_broken_inline_document_leaves_no_file_and_no_descriptor(
    tmp_path: Path, daten: str, error: type[BiproError], message: str
) -> None:
    before = open_descriptors(tmp_path)
    for _ in range(3):
        with pytest.raises(error, match=message):
            parse_inline_reply([reply(daten)], tmp_path, xml_limit=1 << 20)
    assert open_descriptors(tmp_path) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "daten",
    [
        '<a:Daten z:part="inline-7"/>',  # points at nothing
        '<a:Daten z:part="inline-1">QUJD</a:Daten>',  # a mark of the server's own
    ],
    ids=["dangling", "with-text"],
)
def test_a_server_cannot_set_the_spool_mark_itself(tmp_path: Path, daten: str) -> None:
    def download() -> None:
        parsed = parse_inline_reply([reply(daten)], tmp_path, xml_limit=1 << 20)
        payload = envelope_payload(parsed.root)
        read_shipment_reply(payload, {}, tmp_path, inline=parsed.attachments, expected_id="L-1")

    with pytest.raises(ProtocolError, match="own attribute"):
        download()
    assert list(tmp_path.iterdir()) == []


def test_a_spool_mark_in_a_parsed_reply_that_names_nothing_is_a_protocol_error(tmp_path: Path) -> None:
    # An MTOM root part is parsed whole (parse_xml), which keeps any attribute a server sends.
    from bipro_ruv._wire.xml import parse_xml

    payload = envelope_payload(parse_xml(reply('<a:Daten z:part="nope"/>')))
    with pytest.raises(ProtocolError, match="own attribute"):
        read_shipment_reply(payload, {}, tmp_path, expected_id="L-1")


@pytest.mark.parametrize(
    "body",
    [
        b"<r" + b"".join(b' xmlns:n%d="urn:n"' % i for i in range(5000)) + b"/>",
        b"".join(
            b'<a xmlns:n%d="urn:n" xmlns:m%d="urn:m" xmlns:o%d="urn:o" xmlns:p%d="urn:p" xmlns:q%d="urn:q">'
            % ((i,) * 5)
            for i in range(250)
        )
        + b"</a>" * 250,
        b"<r" + b"".join(b' a%d="v"' % i for i in range(5000)) + b"/>",
    ],
    ids=["namespaces-on-one-element", "namespaces-nested", "attributes"],
)
def test_element_shapes_that_cost_quadratic_time_are_refused(tmp_path: Path, body: bytes) -> None:
    # lxml's TreeBuilder is quadratic in them: 4 MB of such XML is minutes of CPU in one
    # feed() call, far below ReplyLimits.xml_bytes and out of reach of the reply deadline.
    with pytest.raises(ProtocolError, match="at most 1000"):
        parse_inline_reply([body], tmp_path, xml_limit=64 << 20)
    assert list(tmp_path.iterdir()) == []


def test_namespaces_redeclared_on_siblings_do_not_add_up(tmp_path: Path) -> None:
    body = b"<r>" + b'<a xmlns:t="urn:t"/>' * 5000 + b"</r>"
    assert len(parse_inline_reply([body], tmp_path, xml_limit=64 << 20).root) == 5000


def lieferung_only(data: str) -> bytes:
    """A getShipment reply for a shipment of data only (no Datei), holding ``data``."""
    return f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<t:getShipmentResponse xmlns:t="http://www.bipro.net/namespace/transfer"
    xmlns:n="http://www.bipro.net/namespace/nachrichten" xmlns:g="urn:some-gevo">
  <t:Response><n:Status><n:ProzessID>P-1</n:ProzessID><n:StatusID>OK</n:StatusID></n:Status>
    <t:Lieferung><t:ID>L-1</t:ID><t:Transfer><g:Vorgang>{data}</g:Vorgang></t:Transfer></t:Lieferung>
  </t:Response>
</t:getShipmentResponse></s:Body></s:Envelope>""".encode()


def test_an_element_named_daten_outside_a_datei_stays_data_of_the_lieferung(tmp_path: Path) -> None:
    parsed = parse_inline_reply([lieferung_only("<g:Daten>1234</g:Daten>")], tmp_path, xml_limit=1 << 20)
    shipment = read_shipment_reply(
        envelope_payload(parsed.root), {}, tmp_path, inline=parsed.attachments, expected_id="L-1"
    )
    (document,) = shipment.documents
    assert b"<g:Daten>1234</g:Daten>" in document.path.read_bytes()
    assert [path.name for path in tmp_path.iterdir()] == ["lieferung.xml"]


def test_inline_base64_in_the_root_part_of_a_multipart_reply_is_spooled(tmp_path: Path) -> None:
    # The root part of an MTOM reply is parsed whole; a small document may still be inline.
    from bipro_ruv._wire.xml import parse_xml

    payload = envelope_payload(parse_xml(reply("<a:Daten>QUJD</a:Daten>")))
    (document,) = read_shipment_reply(payload, {}, tmp_path, expected_id="L-1").documents
    assert (document.original_name, document.path.read_bytes()) == ("a.pdf", b"ABC")


def test_inline_documents_in_a_large_multipart_root_part_are_streamed_to_disk(tmp_path: Path) -> None:
    # A 12 MiB document inline in an MTOM root part: beyond libxml2's 10 MB text node limit.
    document = bytes(range(256)) * (12 * 4096) + b"x"
    root = reply(f"<a:Daten>{base64.b64encode(document).decode()}</a:Daten>")
    body = (
        b"--B\r\nContent-Type: application/xop+xml; charset=utf-8\r\nContent-ID: <root>\r\n\r\n"
        + root
        + b"\r\n--B--\r\n"
    )
    content_type = 'multipart/related; type="application/xop+xml"; boundary=B; start="<root>"'
    spooled = parse_multipart(content_type, [body], tmp_path)
    payload, inline = multipart_payload(spooled, tmp_path, xml_limit=1 << 20)
    (saved,) = read_shipment_reply(payload, {}, tmp_path, inline=inline, expected_id="L-1").documents
    assert saved.path.read_bytes() == document


def test_nesting_deeper_than_the_whole_body_parser_reads_is_refused(tmp_path: Path) -> None:
    body = b"<a>" * 300 + b"</a>" * 300
    with pytest.raises(ProtocolError, match="deeper than 256"):
        parse_inline_reply([body], tmp_path, xml_limit=64 << 20)


def test_more_inline_documents_than_multipart_parts_are_refused(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("bipro_ruv.transfer._inline._MAX_DOCUMENTS", 3)
    datei = "<a:Datei><a:Daten>QUJD</a:Daten></a:Datei>" * 4
    body = reply("<a:Daten>QUJD</a:Daten></a:Datei>" + datei + "<a:Datei>")
    with pytest.raises(ProtocolError, match="more than 3 inline documents"):
        parse_inline_reply([body], tmp_path, xml_limit=64 << 20)
    assert list(tmp_path.iterdir()) == []
