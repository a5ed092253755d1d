"""Envelope templates: the same bytes as zeep, never a password in a template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zeep.wsse import UsernameToken

from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.soap import SoapEndpoint
from bipro_ruv._wire.template import EnvelopeTemplates, escape_text
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv.auth.base import SecurityContextTokenHeader
from bipro_ruv.profiles import get_profile

PROFILE = get_profile("ruv")
VERSION = PROFILE.transfer.bipro_version if PROFILE.transfer else ""

# Every character XML 1.0 allows (surrogates excluded by hypothesis' text strategy).
# Every character XML 1.0 allows (surrogates excluded), the ones that need escaping often.
XML_TEXT = st.text(
    st.sampled_from("&<>\r\n\t\"'")
    | st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"],
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[SoapEndpoint]:
    assert PROFILE.transfer is not None
    with HttpTransport() as transport:
        yield SoapEndpoint(ServiceKind.TRANSFER, PROFILE.transfer, transport)


def _both(endpoint: SoapEndpoint, operation: str, security: Any, **body: Any) -> tuple[bytes, bytes]:
    return endpoint.build(operation, security, **body), endpoint._build_with_zeep(operation, security, body)


@settings(max_examples=150, deadline=None)
@given(shipment_id=XML_TEXT, token=st.sampled_from(["tok-1", "tok-2&<>"]))
def test_templated_envelopes_are_byte_for_byte_zeeps(
    endpoint: SoapEndpoint, shipment_id: str, token: str
) -> None:
    header = SecurityContextTokenHeader(token)
    for operation in ("getShipment", "acknowledgeShipment"):
        templated, direct = _both(
            endpoint, operation, header, Request={"BiPROVersion": VERSION, "ID": shipment_id}
        )
        assert templated == direct


def test_a_template_is_made_per_shape_and_token(endpoint: SoapEndpoint) -> None:
    templates = EnvelopeTemplates()
    built: list[str] = []

    def zeep_build(operation: str, security: Any, body: Any) -> bytes:
        built.append(operation)
        return endpoint._build_with_zeep(operation, security, body)

    first, second = SecurityContextTokenHeader("t1"), SecurityContextTokenHeader("t2")
    for shipment_id in ("1", "2", "3"):
        templates.build(
            "getShipment", first, {"Request": {"BiPROVersion": VERSION, "ID": shipment_id}}, zeep_build
        )
    assert built == ["getShipment"]  # one zeep build, then the template
    out = templates.build(
        "getShipment", second, {"Request": {"BiPROVersion": VERSION, "ID": "4"}}, zeep_build
    )
    assert len(built) == 2
    assert b">t2<" in out
    assert b">t1<" not in out
    # Another shape (a field left out) is a template of its own.
    templates.build("listShipments", first, {"Request": {"BiPROVersion": VERSION}}, zeep_build)
    assert len(built) == 3


def test_a_password_header_is_never_templated() -> None:
    templates = EnvelopeTemplates()
    calls: list[Any] = []

    def zeep_build(operation: str, security: Any, body: Any) -> bytes:
        calls.append(body)
        return b"<e/>"

    token = UsernameToken("makler", "geheim-1")
    for _ in range(2):
        templates.build("RequestSecurityToken", token, {"RequestType": "x"}, zeep_build)
    assert len(calls) == 2
    assert calls[0] == {"RequestType": "x"}
    assert not templates._templates


def test_values_xml_forbids_go_to_zeep_and_fail_there(endpoint: SoapEndpoint) -> None:
    header = SecurityContextTokenHeader("tok")
    with pytest.raises(ValueError, match="XML compatible"):
        endpoint.build("getShipment", header, Request={"BiPROVersion": VERSION, "ID": "a\x01b"})


def test_values_zeep_would_format_are_not_templated() -> None:
    templates = EnvelopeTemplates()
    bodies: list[Any] = []

    def zeep_build(operation: str, security: Any, body: Any) -> bytes:
        bodies.append(body)
        return b"<e/>"

    body = {"Request": {"IDs": ["1", "2"]}}
    templates.build("x", None, body, zeep_build)
    assert bodies == [body]
    assert not templates._templates


def test_escape_text_matches_lxml() -> None:
    from lxml import etree

    for text in ("a&b", "<x>", "cr\r\nlf", "]]>", "\"'", "ü€😀"):
        element = etree.Element("e")
        element.text = text
        expected = etree.tostring(element, encoding="unicode")[3:-4]
        assert escape_text(text) == expected
