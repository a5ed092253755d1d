"""What the sandbox reads and writes on the wire, built with plain lxml.

BiPRO Norm 410 (STS: Issue and Cancel of a SecurityContextToken), Norm 430
(TransferService: listShipments, getShipment, acknowledgeShipment) and Norm 440
(ExtranetService release 1: getLinks), as fixed in ``docs/sandbox-contract.md``.
Deliberately independent of the library's client: nothing from its SOAP, transport
or auth layers is imported, so a misreading of the protocol cannot hide on both sides.

This module interprets requests and builds replies; it holds no sockets. Replies are
data (:class:`Reply`, :class:`ShipmentReply`) that the server writes out.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import html
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlencode

from lxml import etree

from bipro_ruv.sandbox._state import FaultKind, LoginOutcome, SandboxState

if TYPE_CHECKING:
    from bipro_ruv.sandbox.mailbox import SandboxContract, SeedDocument, SeedShipment

__all__ = [
    "NS",
    "XML_CONTENT_TYPE",
    "MtomStyle",
    "Reply",
    "RequestError",
    "Services",
    "ShipmentReply",
    "SoapRequest",
    "fault",
    "hostile_reply",
    "mtom_style",
    "nok_reply",
    "parse_request",
    "quote_secrets_fault",
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
}
# Prefixes differ between providers (JAXB numbers them); getShipment replies alternate.
_JAXB_PREFIXES = {"S": NS["soapenv"], "ns2": NS["tran"], "ns3": NS["nac"], "ns4": NS["gevo"],
                  "ns5": NS["allg"], "ns6": NS["xmime"], "ns7": NS["xop"]}  # fmt: skip

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
SCT_TOKEN_TYPE = "http://schemas.xmlsoap.org/ws/2005/02/sc/sct"  # noqa: S105 - a URI, not a secret
RST_ISSUE = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"
RST_CANCEL = "http://schemas.xmlsoap.org/ws/2005/02/trust/Cancel"
_WS_TRUST_ACTION = "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/"

SERVICE_OPERATIONS = {
    "sts": ("RequestSecurityToken",),
    "transfer": ("listShipments", "getShipment", "acknowledgeShipment"),
    "extranet": ("getLinks",),
}
_OPERATION_ELEMENTS = {
    f"{{{NS['wst']}}}RequestSecurityToken": "RequestSecurityToken",
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


@dataclass(frozen=True)
class Reply:
    """A complete, small HTTP reply."""

    status: int
    body: bytes
    content_type: str = XML_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MtomStyle:
    """How one getShipment reply is framed; varied per shipment like real servers differ."""

    boundary: str
    quote_boundary: bool
    preamble: bool
    root_charset: str
    encode_cid: bool
    jaxb_prefixes: bool


Closing = Literal["standard", "missing", "other_boundary"]


@dataclass(frozen=True)
class ShipmentReply:
    """A getShipment reply that may be large: written out by the server as a stream.

    ``pieces`` is the root XML, split where inline documents go (as base64) in inline
    mode; ``attachments`` are (Content-ID, document) MTOM parts. ``style`` is None for
    an inline ``text/xml`` reply. ``truncate`` cuts the reply in the middle of its last
    document (so a multipart also lacks its closing delimiter). ``closing`` is how a
    complete multipart ends: with its closing delimiter (``"standard"``), right after the
    last part (``"missing"``), or with the closing delimiter of another boundary
    (``"other_boundary"``), as some servers send it.
    """

    pieces: tuple[bytes | SeedDocument, ...]
    attachments: tuple[tuple[str, SeedDocument], ...]
    style: MtomStyle | None
    truncate: bool = False
    closing: Closing = "standard"


@dataclass(frozen=True)
class SoapRequest:
    """A parsed SOAP 1.1 request: its operation element and its wsse:Security header."""

    operation: str
    element: etree._Element
    security: etree._Element | None

    def username_token(self) -> tuple[str, str] | None:
        if self.security is None:
            return None
        token = self.security.find(q("wsse", "UsernameToken"))
        if token is None:
            return None
        return _text(token, q("wsse", "Username")), _text(token, q("wsse", "Password"))

    def sct_identifier(self) -> str | None:
        if self.security is None:
            return None
        identifier = _text(self.security, f"{q('wsc', 'SecurityContextToken')}/{q('wsc', 'Identifier')}")
        return identifier or None


_parsers = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per request thread.
    parser: etree.XMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        _parsers.parser = parser
    return parser


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def parse_request(data: bytes) -> SoapRequest:
    """Parse a SOAP 1.1 request safely; any DOCTYPE is refused (a SOAP message has none)."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise RequestError("00931", f"Nachricht nicht wohlgeformt: {exc.msg}") from exc
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise RequestError("00931", "DOCTYPE ist in SOAP-Nachrichten nicht erlaubt")
    if root.tag != q("soapenv", "Envelope"):
        raise RequestError("00931", "kein SOAP-1.1-Envelope")
    body = root.find(q("soapenv", "Body"))
    operation = next(iter(body), None) if body is not None else None
    if operation is None or not isinstance(operation.tag, str):
        raise RequestError("00931", "SOAP-Body ohne Operation")
    name = _OPERATION_ELEMENTS.get(operation.tag)
    if name is None:
        raise RequestError("00930", f"Operation {etree.QName(operation).localname} wird nicht angeboten")
    security = root.find(f"{q('soapenv', 'Header')}/{q('wsse', 'Security')}")
    return SoapRequest(name, operation, security)


def check_soap_action(value: str | None, operation: str) -> None:
    """SOAPAction may be ``"urn:<op>"``, ``urn:<op>`` or empty; naming another operation is 00930."""
    action = (value or "").strip().strip('"')
    if action in ("", f"urn:{operation}"):
        return
    if operation == "RequestSecurityToken" and action.startswith(_WS_TRUST_ACTION):
        return
    raise RequestError("00930", f"SOAPAction {action!r} passt nicht zur Operation {operation}")


# -- envelope and status building ----------------------------------------------------------


def _now_local() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _namespaces(*prefixes: str) -> dict[str, str]:
    return {prefix: NS[prefix] for prefix in ("soapenv", *prefixes)}


# Each message declares the namespaces it uses, on the Envelope.
_STS_NS = _namespaces("wsse", "wsu", "wst", "wsc", "nac")
_TRANSFER_NS = _namespaces("nac", "tran")
_SHIPMENT_NS = _namespaces("nac", "tran", "gevo", "allg", "xmime", "xop")


def _envelope(nsmap: dict[str, str]) -> tuple[etree._Element, etree._Element]:
    env = etree.Element(q("soapenv", "Envelope"), nsmap=nsmap)
    _sub(env, q("soapenv", "Header"))
    return env, _sub(env, q("soapenv", "Body"))


def _serialize(env: etree._Element, encoding: str = "UTF-8") -> bytes:
    data = etree.tostring(env, xml_declaration=True, encoding=encoding)
    assert isinstance(data, bytes)  # a named encoding always gives bytes
    return data


def _status(parent: etree._Element, operation: str, ok: bool, meldungen: list[tuple[str, str, str]]) -> None:
    status = _sub(parent, q("nac", "Status"))
    _sub(status, q("nac", "ProzessID"), f"{operation}_{uuid.uuid4()}")
    _sub(status, q("nac", "Zeitstempel"), _now_local())
    _sub(status, q("nac", "StatusID"), "OK" if ok else "NOK")
    _sub(status, q("nac", "Schwebe"), "false")
    for art, meldung_id, text in meldungen:
        meldung = _sub(status, q("nac", "Meldung"))
        _sub(meldung, q("nac", "ArtID"), art)
        _sub(meldung, q("nac", "MeldungID"), meldung_id)
        _sub(meldung, q("nac", "Text"), text)


def fault(version: str, operation: str, meldung_id: str, text: str, *, server_side: bool = False) -> Reply:
    """HTTP 500 SOAP Fault carrying a ``nac:BiproException`` (BiPRO Norm 250)."""
    env, body = _envelope(_namespaces("nac"))
    soap_fault = _sub(body, q("soapenv", "Fault"))
    _sub(soap_fault, "faultcode", "soapenv:Server" if server_side else "soapenv:Client")
    _sub(soap_fault, "faultstring", text)
    exception = _sub(_sub(soap_fault, "detail"), q("nac", "BiproException"))
    _sub(exception, q("nac", "BiPROVersion"), version)
    _status(exception, operation, False, [("Fehler", meldung_id, text)])
    return Reply(500, _serialize(env))


def quote_secrets_fault(request: SoapRequest, version: str, password: str) -> Reply:
    """A careless server's Fault whose faultstring and Meldung Text quote the caller's secrets.

    The token identifier is the one sent in ``wsc:SecurityContextToken``; the password is
    the one sent in the UsernameToken (STS), else ``password`` (the sandbox's).
    """
    credentials = request.username_token()
    quoted_password = credentials[1] if credentials is not None else password
    identifier = request.sct_identifier() or "(keins)"
    text = (
        f"Interner Fehler bei {request.operation}: Token {identifier} "
        f"(Benutzer mit Passwort {quoted_password}) nicht verarbeitet"
    )
    return fault(version, request.operation, "99999", text, server_side=True)


def _transfer_reply(
    operation: str,
    version: str,
    ok: bool,
    meldungen: list[tuple[str, str, str]],
    nsmap: dict[str, str] = _TRANSFER_NS,
) -> tuple[etree._Element, etree._Element]:
    env, body = _envelope(nsmap)
    response = _sub(_sub(body, q("tran", f"{operation}Response")), q("tran", "Response"))
    _sub(response, q("nac", "BiPROVersion"), version)
    _status(response, operation, ok, meldungen)
    return env, response


def _links_reply(
    status_id: str, meldung: tuple[str | None, str, str]
) -> tuple[etree._Element, etree._Element]:
    env, body = _envelope(_namespaces("nam"))
    response = _sub(_sub(body, q("nam", "getLinksResponse")), q("nam", "Response"))
    response.set("Version", "1.0.1.0")
    status = _sub(response, q("nam", "Status"))
    _sub(status, q("nam", "StatusID"), status_id)
    element = _sub(status, q("nam", "Meldung"))
    art, meldung_id, text = meldung
    if art is not None:
        _sub(element, q("nam", "ArtID"), art)
    _sub(element, q("nam", "MeldungID"), meldung_id)
    _sub(element, q("nam", "Text"), text)
    return env, response


def nok_reply(operation: str, version: str, meldung_id: str, text: str) -> Reply:
    """HTTP 200 whose Status says NOK: the other way BiPRO services report errors."""
    if operation == "getLinks":
        env, _ = _links_reply("00001", ("Fehler", meldung_id, text))
    elif operation == "RequestSecurityToken":
        env, body = _envelope(_STS_NS)
        _status(
            _sub(body, q("wst", "RequestSecurityTokenResponse")),
            operation,
            False,
            [("Fehler", meldung_id, text)],
        )
    else:
        env, _ = _transfer_reply(operation, version, False, [("Fehler", meldung_id, text)])
    return Reply(200, _serialize(env))


_PLACEHOLDER = "SANDBOX-PLACEHOLDER-7f3a"
_XXE_DOCTYPE = '<!DOCTYPE soapenv:Envelope [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
_BOMB_DOCTYPE = (
    '<!DOCTYPE soapenv:Envelope [\n  <!ENTITY lol "lol">\n'
    + "".join(
        f'  <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>\n"
)


def hostile_reply(operation: str, version: str, kind: str) -> bytes:
    """A reply whose only defect is a DOCTYPE: ``xxe`` (external entity) or ``bomb`` (billion laughs).

    The entity is used where a careless client would pick it up: the token identifier
    of an STS reply, the Meldung text of every other one.
    """
    if operation == "RequestSecurityToken":
        env, body = _envelope(_STS_NS)
        rstr = _sub(body, q("wst", "RequestSecurityTokenResponse"))
        sct = _sub(_sub(rstr, q("wst", "RequestedSecurityToken")), q("wsc", "SecurityContextToken"))
        _sub(sct, q("wsc", "Identifier"), f"bipro:{_PLACEHOLDER}")
    elif operation == "getLinks":
        env, _ = _links_reply("00000", (None, "03000", _PLACEHOLDER))
    else:
        env, _ = _transfer_reply(operation, version, True, [("Hinweis", "04000", _PLACEHOLDER)])
    xml = etree.tostring(env, encoding="unicode")
    doctype, reference = (_XXE_DOCTYPE, "&xxe;") if kind == "xxe" else (_BOMB_DOCTYPE, "&lol9;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + xml.replace(_PLACEHOLDER, reference)
    ).encode()


# -- Norm 430 content ------------------------------------------------------------------------


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _lieferung(parent: etree._Element, shipment: SeedShipment) -> etree._Element:
    element = _sub(parent, q("tran", "Lieferung"))
    _sub(element, q("tran", "ID"), shipment.id)
    _sub(element, q("tran", "Einstellzeitpunkt"), shipment.einstellzeitpunkt.isoformat(timespec="seconds"))
    _sub(element, q("tran", "Kategorie"), shipment.kategorie)
    _sub(element, q("tran", "VerfuegbarBis"), shipment.verfuegbar_bis.isoformat())
    _sub(element, q("tran", "ArtDerLieferung"), shipment.art_der_lieferung)
    _sub(element, q("tran", "EnthaeltNurDaten"), _flag(shipment.enthaelt_nur_daten))
    _sub(element, q("tran", "PeriodischeLieferung"), _flag(shipment.periodische_lieferung))
    if shipment.sparte is not None:
        _sub(element, q("tran", "Sparte"), shipment.sparte)
    _sub(element, q("tran", "AnzahlTransfers"), str(len(shipment.documents)))
    return element


def mtom_style(shipment_id: str) -> MtomStyle:
    """Deterministic per-shipment framing variant (boundary style, preamble, charset, cid form)."""
    digest = hashlib.sha256(shipment_id.encode()).digest()
    kind = digest[0] % 3
    if kind == 0:
        boundary, quoted = f"uuid:{uuid.UUID(bytes=digest[:16])}", True
    elif kind == 1:
        boundary, quoted = f"MIMEBoundary_{digest[:12].hex()}", False
    else:
        boundary, quoted = (
            f"----=_Part_{digest[1]}_{digest[2] * 7}.{int.from_bytes(digest[3:7], 'big')}",
            True,
        )
    return MtomStyle(
        boundary=boundary,
        quote_boundary=quoted,
        preamble=digest[4] % 4 == 0,
        root_charset="iso-8859-1" if digest[5] % 4 == 0 else "UTF-8",
        encode_cid=digest[6] % 3 != 0,
        jaxb_prefixes=digest[7] % 2 == 0,
    )


def _datei(
    transfer: etree._Element, shipment: SeedShipment, index: int, document: SeedDocument
) -> etree._Element:
    """Append a ``gevo:Datei`` (CT_Datei element order) and return its empty ``allg:Daten``."""
    datei = _sub(transfer, q("gevo", "Datei"))
    _sub(datei, q("allg", "DateiID"), f"{shipment.id}-{index + 1}")
    _sub(datei, q("allg", "Dateiname"), document.file_name)
    _sub(datei, q("allg", "Dateityp"), "Nettodaten" if shipment.enthaelt_nur_daten else "Dokument")
    data = _sub(datei, q("allg", "Daten"))
    data.set(q("xmime", "contentType"), document.content_type)
    _sub(datei, q("allg", "Komprimierungstyp"), document.compression)
    _sub(datei, q("allg", "Erstelldatum"), shipment.einstellzeitpunkt.date().isoformat())
    if document.dokumentart is not None:
        _sub(datei, q("allg", "DokumentartID"), document.dokumentart)
    if document.kurzbeschreibung is not None:
        _sub(datei, q("allg", "Kurzbeschreibung"), document.kurzbeschreibung)
    if document.checksum is not None:
        checksum = _sub(datei, q("allg", "Pruefsumme"))
        _sub(checksum, q("allg", "Typ"), document.checksum[0])
        _sub(checksum, q("allg", "Wert"), document.checksum[1])
    return data


def shipment_reply(
    shipment: SeedShipment, version: str, mtom: bool, *, shared_cid: bool = False
) -> ShipmentReply:
    """The getShipment reply: one ``tran:Transfer`` with one ``gevo:Datei`` per document.

    ``shared_cid`` (a hostile server): every ``Datei`` points at the first document's
    attachment, which alone is sent (a one-document shipment gets its Datei twice).
    """
    if shared_cid and len(shipment.documents) < 2:
        shipment = replace(shipment, documents=shipment.documents * 2)
    style = mtom_style(shipment.id)
    env, response = _transfer_reply(
        "getShipment",
        version,
        True,
        [("Hinweis", "04000", "Transferprozess erfolgreich")],
        _JAXB_PREFIXES if style.jaxb_prefixes else _SHIPMENT_NS,
    )
    lieferung = _lieferung(response, shipment)
    attachments: list[tuple[str, SeedDocument]] = []
    markers: list[tuple[str, SeedDocument]] = []
    cid_stem = hashlib.sha256(shipment.id.encode()).hexdigest()[:16]  # ids may hold any character
    for index, document in enumerate(shipment.documents):
        transfer = _sub(lieferung, q("tran", "Transfer"))
        _sub(transfer, q("gevo", "Erstelldatum"), shipment.einstellzeitpunkt.date().isoformat())
        if document.vsnr is not None:
            contract = _sub(transfer, q("gevo", "Vertrag"))
            if document.vu_number is not None:
                _sub(contract, q("gevo", "VUNummer"), document.vu_number)
            _sub(contract, q("gevo", "Versicherungsscheinnummer"), document.vsnr)
        data = _datei(transfer, shipment, index, document)
        if mtom:
            cid = f"{cid_stem}-{1 if shared_cid else index + 1}@sandbox.ruv.invalid"
            if not (shared_cid and attachments):
                attachments.append((cid, document))
            href = "cid:" + (quote(cid, safe="") if style.encode_cid else cid)
            _sub(data, q("xop", "Include")).set("href", href)
        else:
            # Replaced by the streamed base64 of the document when the reply is written out.
            data.text = f"{_PLACEHOLDER}-{index}"
            markers.append((data.text, document))
    encoding = style.root_charset if mtom else "UTF-8"
    xml = _serialize(env, encoding)
    pieces: list[bytes | SeedDocument] = []
    for marker, document in markers:
        head, xml = xml.split(marker.encode(), 1)
        pieces += [head, document]
    pieces.append(xml)
    return ShipmentReply(
        tuple(pieces),
        tuple(attachments),
        style if mtom else None,
        truncate=shipment.defect == "broken_multipart",
    )


# -- services ----------------------------------------------------------------------------------


def _format_time(epoch: float, style: str) -> str:
    if style == "offset":
        moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone(dt.timedelta(hours=1)))
        return moment.isoformat()
    moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    if style == "dotnet":
        # .NET's round-trip format "o": ticks of 100 ns, seven digits (fromisoformat of 3.10 refuses them)
        ticks = int((epoch - int(epoch)) * 10_000_000)
        return f"{moment.isoformat()}.{ticks:07d}Z"
    return moment.isoformat() + ("Z" if style == "utc" else "")


_PARTNER_FIELDS = ("PartnernummerVu", "Name", "Vorname", "Strasse", "Postleitzahl", "Ort")


def _digits(value: str) -> str | None:
    """The digits of a contract number with separators (space . / -) removed; None if anything else."""
    cleaned = "".join(ch for ch in value if ch not in " ./-")
    return cleaned if cleaned.isdigit() and cleaned.isascii() else None


class Services:
    """The BiPRO services of the sandbox, on top of its :class:`SandboxState`.

    ``base_url`` (set once the server is bound) makes the deep links absolute;
    ``before_acknowledge`` is called with the shipment id before an ack is recorded;
    ``on_request`` with the operation name of every SOAP request, before any fault.
    """

    def __init__(
        self,
        state: SandboxState,
        known_vsnrs: Callable[[], frozenset[str]],
        contracts: Sequence[SandboxContract],
    ) -> None:
        self.state = state
        self.base_url = ""
        self.before_acknowledge: Callable[[str], None] | None = None
        self.on_request: Callable[[str], None] | None = None
        self._known_vsnrs = known_vsnrs
        self._contracts = contracts

    def handle(
        self,
        service: str,
        version: str,
        request: SoapRequest,
        *,
        truncate: bool = False,
        shipment_fault: FaultKind | None = None,
        closing: Closing = "standard",
    ) -> Reply | ShipmentReply:
        """Serve one request; ``truncate`` makes a getShipment reply a multipart cut short;
        ``shipment_fault`` (WRONG_SHIPMENT_ID, SHARED_CID) changes what getShipment answers."""
        if request.operation not in SERVICE_OPERATIONS[service]:
            raise RequestError("00930", f"Operation {request.operation} gehört nicht zu diesem Service")
        if service == "sts":
            return self._sts(version, request)
        self._require_session(request)
        if service == "extranet":
            return self._get_links(version, request)
        payload = request.element.find(q("tran", "Request"))
        if payload is None:
            raise RequestError("00931", "tran:Request fehlt")
        sent = _text(payload, q("nac", "BiPROVersion"))
        if sent != version:
            raise RequestError("00931", f"BiPROVersion {sent or '(fehlt)'} ungültig, erwartet {version}")
        if request.operation == "listShipments":
            return self._list(version, payload)
        shipment_id = _text(payload, q("tran", "ID"))
        if not shipment_id:
            raise RequestError("00931", "tran:ID fehlt")
        if request.operation == "getShipment":
            return self._get(version, shipment_id, truncate, shipment_fault, closing)
        return self._acknowledge(version, shipment_id)

    def _require_session(self, request: SoapRequest) -> None:
        identifier = request.sct_identifier()
        if identifier is None:
            raise RequestError("00917", "Kein SecurityContextToken im Header")
        if not self.state.token_valid(identifier):
            raise RequestError("00962", "Session ungültig")

    # Norm 410 ------------------------------------------------------------------------------

    def _sts(self, version: str, request: SoapRequest) -> Reply:
        rst = request.element
        sent_version = _text(rst, q("nac", "BiPROVersion"))
        if sent_version and sent_version != version:
            raise RequestError("00931", f"BiPROVersion {sent_version} ungültig, erwartet {version}")
        request_type = _text(rst, q("wst", "RequestType"))
        if request_type == RST_CANCEL:
            identifier = request.sct_identifier()
            if identifier is None:
                raise RequestError("00917", "Kein SecurityContextToken im Header")
            if not self.state.cancel_token(identifier):
                raise RequestError("00962", "Session ungültig")
            env, body = _envelope(_STS_NS)
            _sub(_sub(body, q("wst", "RequestSecurityTokenResponse")), q("wst", "RequestedTokenCancelled"))
            return Reply(200, _serialize(env))
        credentials = request.username_token()
        if credentials is None:
            raise RequestError("00908", "Kein UsernameToken im Security-Header")
        if _text(rst, q("wst", "TokenType")) != SCT_TOKEN_TYPE:
            raise RequestError("00910", "TokenType ungültig")
        if request_type != RST_ISSUE:
            raise RequestError("00911", "RequestType ungültig")
        outcome = self.state.check_login(*credentials)
        if outcome is LoginOutcome.LOCKED:
            raise RequestError("00964", "Benutzerkonto gesperrt")
        if outcome is LoginOutcome.BAD_CREDENTIALS:
            raise RequestError("00961", "Benutzerkennung oder Passwort falsch")
        if outcome is LoginOutcome.EXPIRED:
            raise RequestError("00966", "Passwort abgelaufen")
        identifier, created, expires = self.state.issue_token(credentials[0])
        env, body = _envelope(_STS_NS)
        rstr = _sub(body, q("wst", "RequestSecurityTokenResponse"))
        _sub(rstr, q("wst", "TokenType"), SCT_TOKEN_TYPE)
        sct = _sub(_sub(rstr, q("wst", "RequestedSecurityToken")), q("wsc", "SecurityContextToken"))
        _sub(sct, q("wsc", "Identifier"), identifier)
        style = self.state.config.lifetime_style
        if style != "absent":
            lifetime = _sub(rstr, q("wst", "Lifetime"))
            _sub(lifetime, q("wsu", "Created"), _format_time(created, style))
            _sub(lifetime, q("wsu", "Expires"), _format_time(expires, style))
        return Reply(200, _serialize(env))

    # Norm 430 ------------------------------------------------------------------------------

    def _list(self, version: str, payload: etree._Element) -> Reply:
        include_acknowledged = _text(payload, q("tran", "BestaetigeLieferungen")).lower() in ("true", "1")
        category = _text(payload, q("tran", "KategorieDerLieferung"))
        if category and (not category.isdigit() or len(category) not in (3, 6, 9)):
            return nok_reply(
                "listShipments", version, "04005", f"Granularität der Kategorie {category} nicht unterstützt"
            )
        prefix = "" if category in ("", "999999999") else category
        shipments = [s for s in self.state.listed(include_acknowledged) if s.kategorie.startswith(prefix)]
        if shipments:
            meldung = ("Hinweis", "04000", "Transferprozess erfolgreich")
        else:
            meldung = ("Hinweis", "04001", "Keine Lieferungen für die angefragte Kategorie vorhanden")
        env, response = _transfer_reply("listShipments", version, True, [meldung])
        for shipment in shipments:
            _lieferung(response, shipment)
        return Reply(200, _serialize(env))

    def _get(
        self,
        version: str,
        shipment_id: str,
        truncate: bool,
        fault: FaultKind | None = None,
        closing: Closing = "standard",
    ) -> Reply | ShipmentReply:
        shipment = self.state.shipment(shipment_id)
        if shipment is None or self.state.is_acknowledged(shipment_id):
            return nok_reply("getShipment", version, "04003", f"Lieferung {shipment_id} unbekannt")
        if fault is FaultKind.WRONG_SHIPMENT_ID:
            # A mix-up on the server: another open shipment's reply, or this one under another ID.
            others = [s for s in self.state.listed(include_acknowledged=False) if s.id != shipment_id]
            shipment = others[0] if others else replace(shipment, id=f"{shipment_id[:20]}-X")
        mtom = self.state.config.mtom or truncate or fault is FaultKind.SHARED_CID or closing != "standard"
        reply = shipment_reply(shipment, version, mtom, shared_cid=fault is FaultKind.SHARED_CID)
        return replace(reply, truncate=reply.truncate or truncate, closing=closing)

    def _acknowledge(self, version: str, shipment_id: str) -> Reply:
        if self.state.shipment(shipment_id) is None:
            return nok_reply("acknowledgeShipment", version, "04003", f"Lieferung {shipment_id} unbekannt")
        hook = self.before_acknowledge
        if hook is not None:
            try:
                hook(shipment_id)
            except Exception as exc:
                raise RequestError(
                    "99999", f"Quittierung fehlgeschlagen: {type(exc).__name__}", server_side=True
                ) from exc
        self.state.acknowledge(shipment_id)
        meldung = ("Hinweis", "04000", "Transferprozess erfolgreich")
        env, _ = _transfer_reply("acknowledgeShipment", version, True, [meldung])
        return Reply(200, _serialize(env))

    # Norm 440 ------------------------------------------------------------------------------

    def portal_url(self, vsnr: str) -> str:
        """The deep link getLinks returns for a contract number: its page, or the search mask."""
        digits = _digits(vsnr) or ""
        if len(digits) == 14:
            digits = digits[3:]  # 3-digit Filialdirektion before AG + VSNR
        if len(digits) == 11 and digits in self._known_vsnrs():
            return f"{self.base_url}/portal/vertrag?{urlencode({'vsnr': digits})}"
        return f"{self.base_url}/portal/suche?{urlencode({'vsnr': vsnr})}"

    def _partner_contracts(self, criteria: dict[str, str]) -> list[str]:
        """Contracts of the customers matching every criterion (wildcards * and ?, as in the portal)."""
        found: list[str] = []
        for contract in self._contracts:
            customer = contract.customer
            values = {
                "PartnernummerVu": customer.customer_number,
                "Name": customer.last_name,
                "Vorname": customer.first_name,
                "Strasse": customer.street,
                "Postleitzahl": customer.postcode,
                "Ort": customer.city,
            }
            if contract.vsnr not in found and all(
                fnmatch.fnmatchcase(values[name].casefold(), pattern.casefold())
                for name, pattern in criteria.items()
            ):
                found.append(contract.vsnr)
        return found

    def _get_links(self, version: str, request: SoapRequest) -> Reply:
        payload = request.element.find(q("nam", "Request"))
        if payload is None:
            raise RequestError("00931", "Request fehlt")
        sent = payload.get("Version", "")
        if sent != version:
            raise RequestError("00931", f"Version {sent or '(fehlt)'} ungültig, erwartet {version}")
        search = payload.find(q("nam", "Extranetsuche"))
        contract = search.find(q("nam", "Vertragsuche")) if search is not None else None
        partner = search.find(q("nam", "Partnersuche")) if search is not None else None
        links: list[tuple[str, str, str]] = []
        if contract is not None and partner is None:
            vsnr = _text(contract, q("nam", "Versicherungsscheinnummer"))
            if vsnr and _digits(vsnr) is not None:
                url = self.portal_url(vsnr)
                target = "Vertrag" if "/portal/vertrag" in url else "Suche"
                links.append((url, target, f"Vertrag {vsnr} im Maklerportal"))
        elif partner is not None and contract is None:
            criteria = {
                name: _text(partner, q("nam", name))
                for name in _PARTNER_FIELDS
                if _text(partner, q("nam", name))
            }
            if criteria:
                url = f"{self.base_url}/portal/suche?{urlencode(criteria)}"
                links.append((url, "Suche", "Kundensuche im Maklerportal"))
                for vsnr in self._partner_contracts(criteria):
                    links.append((self.portal_url(vsnr), "Vertrag", f"Vertrag {vsnr} im Maklerportal"))
        if not links:
            env, _ = _links_reply("00001", ("Fehler", "00001", "Suchkriterien unvollständig oder ungültig"))
            return Reply(200, _serialize(env))
        env, response = _links_reply("00000", (None, "03000", "Links bereitgestellt"))
        container = _sub(response, q("nam", "Links"))
        for url, target, description in links:
            link = _sub(container, q("nam", "Link"))
            _sub(link, q("nam", "URL"), url)
            _sub(link, q("nam", "ZielID"), target)
            _sub(link, q("nam", "Beschreibung"), description)
        return Reply(200, _serialize(env))

    # Maklerportal pages behind the deep links -----------------------------------------------

    def portal_page(self, path: str, query: dict[str, list[str]]) -> Reply:
        """The small HTML pages the deep links open: a contract page and the search mask."""
        values = {key: items[0] for key, items in query.items() if items}
        if path == "/portal/vertrag":
            vsnr = _digits(values.get("vsnr", "")) or ""
            if len(vsnr) != 11 or vsnr not in self._known_vsnrs():
                return _html(404, "Vertrag nicht gefunden", "<p>Zu dieser Nummer gibt es keinen Vertrag.</p>")
            documents = sum(1 for s in self.state.shipments() for d in s.documents if d.vsnr == vsnr)
            return _html(
                200,
                f"Vertrag {vsnr[:2]} {vsnr[2:]}",
                f'<dl><dt>Arbeitsgebiet</dt><dd id="ag">{vsnr[:2]}</dd>'
                f'<dt>Versicherungsscheinnummer</dt><dd id="vsnr">{vsnr}</dd>'
                f'<dt>Dokumente im Postfach</dt><dd id="dokumente">{documents}</dd></dl>',
            )
        if path == "/portal/suche":
            fields = "".join(
                f'<label>{name} <input name="{name}" value="{html.escape(values.get(name, ""))}"></label>'
                for name in ("vsnr", *_PARTNER_FIELDS)
            )
            return _html(200, "Kundensuche", f'<form method="get" action="/portal/suche">{fields}</form>')
        return _html(404, "Seite nicht gefunden", "<p>Diese Seite gibt es im Maklerportal nicht.</p>")


def _html(status: int, title: str, body: str) -> Reply:
    page = (
        f'<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)} - '
        f"Maklerportal (Sandbox)</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )
    return Reply(status, page.encode(), "text/html; charset=utf-8")
