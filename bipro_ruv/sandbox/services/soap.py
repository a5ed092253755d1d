"""The SOAP 1.1 layer of the sandbox's services, built and parsed with plain lxml.

Shared by the services of Norm 410 (STS and its certificate and VDG ticket ports), Norm 430
(TransferService), Norm 440 (ExtranetService) and the TGIC ISTS (WS-Trust 1.3/1.4), as fixed in
``docs/sandbox-contract.md``: request parsing (safely: no DOCTYPE, no entities, no network), the SOAPAction
check, envelopes, the ``nac:Status`` block, SOAP Faults with a ``nac:BiproException`` (Norm 250) and the
WS-Trust Faults of the ISTS (:class:`TrustFault`), the ``Response`` skeleton of each service, the NOK reply
and ``wsu`` times. Deliberately independent of the library's client: nothing from its SOAP, transport or
auth layers is imported, so a misreading of the protocol cannot hide on both sides. This module holds no
sockets: replies are data (:class:`Reply`) that the server writes out.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

__all__ = [
    "NS",
    "PLACEHOLDER",
    "RST_CANCEL",
    "RST_ISSUE",
    "SCT_TOKEN_TYPE",
    "SERVICE_OPERATIONS",
    "STS_NS",
    "TRANSFER_NS",
    "WST13_ISSUE_ACTION",
    "WST13_ISSUE_REPLY_ACTION",
    "XML_CONTENT_TYPE",
    "Reply",
    "RequestError",
    "SoapRequest",
    "TrustFault",
    "check_soap_action",
    "envelope",
    "fault",
    "find_text",
    "format_time",
    "links_response",
    "namespaces",
    "nok_reply",
    "parse_request",
    "parse_xml",
    "q",
    "serialize",
    "sub",
    "transfer_response",
    "trust_fault",
    "write_status",
]

NS = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wst": "http://schemas.xmlsoap.org/ws/2005/02/trust",
    "wsc": "http://schemas.xmlsoap.org/ws/2005/02/sc",
    "nac": "http://www.bipro.net/namespace/nachrichten",
    "tran": "http://www.bipro.net/namespace/transfer",
    "allg": "http://www.bipro.net/namespace/allgemein",
    "gevo": "http://www.bipro.net/namespace/gevo",
    "nam": "http://www.bipro.net/namespace",
    "xmime": "http://www.w3.org/2005/05/xmlmime",
    "xop": "http://www.w3.org/2004/08/xop/include",
    # The TGIC ISTS (WS-Trust 1.3 and 1.4, WS-Addressing 1.0, WS-Policy, SAML 2.0, XML Encryption)
    "wst13": "http://docs.oasis-open.org/ws-sx/ws-trust/200512",
    "wst14": "http://docs.oasis-open.org/ws-sx/ws-trust/200802",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsp": "http://www.w3.org/ns/ws-policy",
    "saml2": "urn:oasis:names:tc:SAML:2.0:assertion",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
SCT_TOKEN_TYPE = "http://schemas.xmlsoap.org/ws/2005/02/sc/sct"  # noqa: S105 - a URI, not a secret
RST_ISSUE = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"
RST_CANCEL = "http://schemas.xmlsoap.org/ws/2005/02/trust/Cancel"
_WS_TRUST_ACTION = "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/"
WST13_ISSUE_ACTION = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue"
WST13_ISSUE_REPLY_ACTION = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTR/Issue"

#: The operations each service (the service of a URL path) serves. The STS's three ports take the same
#: RequestSecurityToken; the ISTS's two steps are a WS-Trust 1.3 RST and a WS-Trust 1.4 challenge answer.
SERVICE_OPERATIONS = {
    "sts": ("RequestSecurityToken",),
    "sts_certificate": ("RequestSecurityToken",),
    "sts_ticket": ("RequestSecurityToken",),
    "ists": ("IstsIssue", "IstsChallengeResponse"),
    "transfer": ("listShipments", "getShipment", "acknowledgeShipment"),
    "extranet": ("getLinks",),
}
#: The wsa:Action (and SOAPAction) of each ISTS step.
_ISTS_ACTIONS = {"IstsIssue": WST13_ISSUE_ACTION, "IstsChallengeResponse": WST13_ISSUE_REPLY_ACTION}
_OPERATION_ELEMENTS = {
    f"{{{NS['wst']}}}RequestSecurityToken": "RequestSecurityToken",
    f"{{{NS['wst13']}}}RequestSecurityToken": "IstsIssue",
    f"{{{NS['wst13']}}}RequestSecurityTokenResponse": "IstsChallengeResponse",
    f"{{{NS['tran']}}}listShipments": "listShipments",
    f"{{{NS['tran']}}}getShipment": "getShipment",
    f"{{{NS['tran']}}}acknowledgeShipment": "acknowledgeShipment",
    f"{{{NS['nam']}}}getLinks": "getLinks",
}


def q(prefix: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for a prefix of :data:`NS`."""
    return f"{{{NS[prefix]}}}{local}"


class RequestError(Exception):
    """The request cannot be served; becomes a SOAP Fault with a BiproException (Norm 250)."""

    def __init__(self, meldung_id: str, text: str, *, server_side: bool = False) -> None:
        super().__init__(f"{meldung_id} {text}")
        self.meldung_id = meldung_id
        self.text = text
        self.server_side = server_side


class TrustFault(Exception):
    """The ISTS refuses a request: a WS-Trust Fault ``wst13:<code>`` with a German faultstring."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"wst13:{code} {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Reply:
    """A complete, small HTTP reply."""

    status: int
    body: bytes
    content_type: str = XML_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SoapRequest:
    """A parsed SOAP 1.1 request: its operation element, its wsse:Security header and its Header.

    ``peer_certificate`` is the verified client certificate of the TLS connection it came on
    (``SSLSocket.getpeercert()``), None without one (plain http, or no client certificate asked).
    """

    operation: str
    element: etree._Element
    security: etree._Element | None
    header: etree._Element | None = None
    peer_certificate: Mapping[str, object] | None = None

    def addressing(self, local: str) -> str:
        """The text of the WS-Addressing header ``wsa:<local>`` ("" without one)."""
        return find_text(self.header, q("wsa", local)) if self.header is not None else ""

    def username_token(self) -> tuple[str, str] | None:
        if self.security is None:
            return None
        token = self.security.find(q("wsse", "UsernameToken"))
        if token is None:
            return None
        return find_text(token, q("wsse", "Username")), find_text(token, q("wsse", "Password"))

    def sct_identifier(self) -> str | None:
        if self.security is None:
            return None
        identifier = find_text(self.security, f"{q('wsc', 'SecurityContextToken')}/{q('wsc', 'Identifier')}")
        return identifier or None

    def assertion_cipher_value(self) -> str | None:
        """The ``xenc:CipherValue`` of a ``saml2:EncryptedAssertion`` in wsse:Security, whitespace removed."""
        if self.security is None:
            return None
        assertion = self.security.find(q("saml2", "EncryptedAssertion"))
        if assertion is None:
            return None
        found = assertion.find(f".//{q('xenc', 'CipherValue')}")
        value = "".join((found.text or "").split()) if found is not None else ""
        return value or None


_parsers = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per request thread.
    parser: etree.XMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        _parsers.parser = parser
    return parser


def find_text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML safely (no entities, no network, no DTD); ValueError if not well-formed
    or if it has a DOCTYPE (neither a SOAP message nor a VDG ticket has one)."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"Nachricht nicht wohlgeformt: {exc.msg}") from exc
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise ValueError("DOCTYPE ist in SOAP-Nachrichten nicht erlaubt")
    return root


def parse_request(data: bytes) -> SoapRequest:
    """Parse a SOAP 1.1 request safely; any DOCTYPE is refused (a SOAP message has none)."""
    try:
        root = parse_xml(data)
    except ValueError as exc:
        raise RequestError("00931", str(exc)) from exc
    if root.tag != q("soapenv", "Envelope"):
        raise RequestError("00931", "kein SOAP-1.1-Envelope")
    body = root.find(q("soapenv", "Body"))
    operation = next(iter(body), None) if body is not None else None
    if operation is None or not isinstance(operation.tag, str):
        raise RequestError("00931", "SOAP-Body ohne Operation")
    name = _OPERATION_ELEMENTS.get(operation.tag)
    if name is None:
        raise RequestError("00930", f"Operation {etree.QName(operation).localname} wird nicht angeboten")
    header = root.find(q("soapenv", "Header"))
    security = header.find(q("wsse", "Security")) if header is not None else None
    return SoapRequest(name, operation, security, header)


def check_soap_action(value: str | None, operation: str) -> None:
    """SOAPAction may be ``"urn:<op>"``, ``urn:<op>`` or empty; naming another operation is 00930.

    The ISTS's steps take their ``wsa:Action`` (or empty); another one is ``wst13:InvalidRequest``.
    """
    action = (value or "").strip().strip('"')
    if operation in _ISTS_ACTIONS:
        if action in ("", _ISTS_ACTIONS[operation]):
            return
        raise TrustFault("InvalidRequest", f"SOAPAction {action!r} passt nicht zur Anfrage")
    if action in ("", f"urn:{operation}"):
        return
    if operation == "RequestSecurityToken" and action.startswith(_WS_TRUST_ACTION):
        return
    raise RequestError("00930", f"SOAPAction {action!r} passt nicht zur Operation {operation}")


# -- envelope and status building ----------------------------------------------------------


def _now_local() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def format_time(epoch: float, style: str = "utc") -> str:
    """A ``wsu`` time: ``utc`` (Z), ``naive`` (no zone, meaning UTC), ``offset`` (+01:00), ``dotnet``."""
    if style == "offset":
        moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone(dt.timedelta(hours=1)))
        return moment.isoformat()
    moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    if style == "dotnet":
        # .NET's round-trip format "o": ticks of 100 ns, seven digits (fromisoformat of 3.10 refuses them)
        ticks = int((epoch - int(epoch)) * 10_000_000)
        return f"{moment.isoformat()}.{ticks:07d}Z"
    return moment.isoformat() + ("Z" if style == "utc" else "")


def sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def namespaces(*prefixes: str) -> dict[str, str]:
    return {prefix: NS[prefix] for prefix in ("soapenv", *prefixes)}


# Each message declares the namespaces it uses, on the Envelope.
STS_NS = namespaces("wsse", "wsu", "wst", "wsc", "nac")
TRANSFER_NS = namespaces("nac", "tran")


def envelope(nsmap: dict[str, str]) -> tuple[etree._Element, etree._Element]:
    env = etree.Element(q("soapenv", "Envelope"), nsmap=nsmap)
    sub(env, q("soapenv", "Header"))
    return env, sub(env, q("soapenv", "Body"))


def serialize(env: etree._Element, encoding: str = "UTF-8") -> bytes:
    data = etree.tostring(env, xml_declaration=True, encoding=encoding)
    assert isinstance(data, bytes)  # a named encoding always gives bytes
    return data


def write_status(
    parent: etree._Element, operation: str, ok: bool, meldungen: list[tuple[str, str, str]]
) -> None:
    status = sub(parent, q("nac", "Status"))
    sub(status, q("nac", "ProzessID"), f"{operation}_{uuid.uuid4()}")
    sub(status, q("nac", "Zeitstempel"), _now_local())
    sub(status, q("nac", "StatusID"), "OK" if ok else "NOK")
    sub(status, q("nac", "Schwebe"), "false")
    for art, meldung_id, text in meldungen:
        meldung = sub(status, q("nac", "Meldung"))
        sub(meldung, q("nac", "ArtID"), art)
        sub(meldung, q("nac", "MeldungID"), meldung_id)
        sub(meldung, q("nac", "Text"), text)


def fault(version: str, operation: str, meldung_id: str, text: str, *, server_side: bool = False) -> Reply:
    """HTTP 500 SOAP Fault carrying a ``nac:BiproException`` (BiPRO Norm 250)."""
    env, body = envelope(namespaces("nac"))
    soap_fault = sub(body, q("soapenv", "Fault"))
    sub(soap_fault, "faultcode", "soapenv:Server" if server_side else "soapenv:Client")
    sub(soap_fault, "faultstring", text)
    exception = sub(sub(soap_fault, "detail"), q("nac", "BiproException"))
    sub(exception, q("nac", "BiPROVersion"), version)
    write_status(exception, operation, False, [("Fehler", meldung_id, text)])
    return Reply(500, serialize(env))


def trust_fault(code: str, text: str) -> Reply:
    """HTTP 500 WS-Trust Fault of the ISTS: faultcode ``wst13:<code>`` (bound on the Fault), no detail."""
    env, body = envelope(namespaces())
    soap_fault = etree.SubElement(body, q("soapenv", "Fault"), nsmap={"wst13": NS["wst13"]})
    sub(soap_fault, "faultcode", f"wst13:{code}")
    sub(soap_fault, "faultstring", text)
    return Reply(500, serialize(env))


# -- the Response of each service: its skeleton, and NOK ------------------------------------


def transfer_response(
    operation: str,
    version: str,
    ok: bool,
    meldungen: list[tuple[str, str, str]],
    nsmap: dict[str, str] = TRANSFER_NS,
) -> tuple[etree._Element, etree._Element]:
    """Envelope and ``tran:Response`` (BiPROVersion, Status) of a Norm 430 operation's reply."""
    env, body = envelope(nsmap)
    response = sub(sub(body, q("tran", f"{operation}Response")), q("tran", "Response"))
    sub(response, q("nac", "BiPROVersion"), version)
    write_status(response, operation, ok, meldungen)
    return env, response


def links_response(
    status_id: str, meldung: tuple[str | None, str, str]
) -> tuple[etree._Element, etree._Element]:
    """Envelope and ``nam:Response`` of a Norm 440 getLinks reply (its Status is in the nam namespace)."""
    env, body = envelope(namespaces("nam"))
    response = sub(sub(body, q("nam", "getLinksResponse")), q("nam", "Response"))
    response.set("Version", "1.0.1.0")
    status = sub(response, q("nam", "Status"))
    sub(status, q("nam", "StatusID"), status_id)
    element = sub(status, q("nam", "Meldung"))
    art, meldung_id, text = meldung
    if art is not None:
        sub(element, q("nam", "ArtID"), art)
    sub(element, q("nam", "MeldungID"), meldung_id)
    sub(element, q("nam", "Text"), text)
    return env, response


def nok_reply(operation: str, version: str, meldung_id: str, text: str) -> Reply:
    """HTTP 200 whose Status says NOK: the other way BiPRO services report errors."""
    if operation == "getLinks":
        env, _ = links_response("00001", ("Fehler", meldung_id, text))
    elif operation == "RequestSecurityToken":
        env, body = envelope(STS_NS)
        write_status(
            sub(body, q("wst", "RequestSecurityTokenResponse")),
            operation,
            False,
            [("Fehler", meldung_id, text)],
        )
    else:
        env, _ = transfer_response(operation, version, False, [("Fehler", meldung_id, text)])
    return Reply(200, serialize(env))


# Marks a spot of a serialised reply that is replaced afterwards (an entity, a streamed document).
PLACEHOLDER = "SANDBOX-PLACEHOLDER-7f3a"
