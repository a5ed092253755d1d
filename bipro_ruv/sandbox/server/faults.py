"""Injected faults: the replies of broken and hostile BiPRO servers that a :class:`FaultRule` plans.

HTTP errors (429/503 with Retry-After, an HTML 502 of a gateway, an HTML maintenance page), a SOAP Fault
with a ``nac:BiproException`` (Norm 250) or a NOK status instead of the Norm 410/430/440 reply, malformed
XML, an empty body, a redirect to another host, a gzip bomb, replies with a DOCTYPE (XXE, billion laughs)
and a Fault that quotes the caller's secrets. Faults that change how the real reply is written (a cut
multipart, a missing closing delimiter, a dripping or cut body, a wrong Lieferung ID, a shared Content-ID)
are applied by the handler (:mod:`.http`) and the TransferService instead; :data:`FAULTS_ON_THE_REAL_REPLY`
names them.
"""

from __future__ import annotations

import functools
import zlib

from lxml import etree

from bipro_ruv.sandbox.config import FaultKind, FaultRule
from bipro_ruv.sandbox.services.soap import (
    NS,
    PLACEHOLDER,
    STS_NS,
    XML_CONTENT_TYPE,
    Reply,
    SoapRequest,
    envelope,
    fault,
    links_response,
    nok_reply,
    q,
    sub,
    transfer_response,
)

__all__ = [
    "DEFAULT_REDIRECT",
    "FAULTS_ON_THE_REAL_REPLY",
    "SHIPMENT_FAULTS",
    "fault_reply",
    "gzip_bomb",
    "hostile_reply",
    "quote_secrets_fault",
]

_MALFORMED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
    b'envelope/"><soapenv:Body><tran:listShipmentsResponse xmlns:tran="http://www.bipro.net/namespace/transfer">'
    b'<tran:Response><nac:Status xmlns:nac="http://www.bipro.net/namespace/nachrichten"><nac:Stat\x00\xff\xfe'
)
_HTML_502 = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    b"<p>The proxy server received an invalid response from an upstream server.</p></body></html>\n"
)
_HTML_503 = (
    b"<!DOCTYPE html>\n<html><head><title>Wartungsarbeiten</title></head><body><h1>Service nicht verf"
    b"\xc3\xbcgbar</h1><p>Bitte versuchen Sie es sp\xc3\xa4ter erneut.</p></body></html>\n"
)


#: Faults that change how the real reply is written or what it holds (the rest replace it).
SHIPMENT_FAULTS = frozenset({FaultKind.WRONG_SHIPMENT_ID, FaultKind.SHARED_CID})
FAULTS_ON_THE_REAL_REPLY = SHIPMENT_FAULTS | {
    FaultKind.TRUNCATED_MULTIPART,
    FaultKind.MISSING_CLOSING_DELIMITER,
    FaultKind.SLOW_DRIP,
    FaultKind.TRUNCATED_BODY,
}
#: Where REDIRECT sends the client unless the rule names a location: plain http, another host.
DEFAULT_REDIRECT = "http://collector.attacker.invalid:8080/bipro?session=stolen"


@functools.lru_cache(maxsize=1)
def gzip_bomb(inflated: int = 1 << 30) -> bytes:
    """A gzip body of an XML start and ``inflated`` bytes of spaces: about 1 MB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    namespace = NS["soapenv"].encode()
    head = b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="%s"><soapenv:Body>' % namespace
    out = [packer.compress(head)]
    block = b" " * (1 << 20)
    for _ in range(inflated // len(block)):
        out.append(packer.compress(block))
    out.append(packer.flush())
    return b"".join(out)


def _retry_after(rule: FaultRule) -> tuple[tuple[str, str], ...]:
    return () if rule.retry_after is None else (("Retry-After", f"{rule.retry_after:g}"),)


def fault_reply(rule: FaultRule, operation: str, version: str) -> Reply:
    """The reply an injected fault gives instead of the real one (TRUNCATED_MULTIPART aside)."""
    kind = rule.kind
    if kind is FaultKind.HTTP_429:
        return Reply(429, b"Too Many Requests\n", "text/plain; charset=utf-8", _retry_after(rule))
    if kind is FaultKind.HTTP_503:
        return Reply(503, _HTML_503, "text/html; charset=utf-8", _retry_after(rule))
    if kind is FaultKind.SOAP_FAULT:
        return fault(version, operation, "99999", "Interner Fehler im Service", server_side=True)
    if kind is FaultKind.NOK:
        return nok_reply(operation, version, "00930", "Service zurzeit nicht aufrufbar")
    if kind is FaultKind.INVALID_SESSION:
        return fault(version, operation, "00962", "Session ungültig")
    if kind is FaultKind.MALFORMED_XML:
        return Reply(200, _MALFORMED)
    if kind in (FaultKind.XXE, FaultKind.ENTITY_BOMB):
        return Reply(200, hostile_reply(operation, version, "xxe" if kind is FaultKind.XXE else "bomb"))
    if kind is FaultKind.HTML_ERROR:
        return Reply(rule.http_status or 502, _HTML_502, "text/html; charset=utf-8")
    if kind is FaultKind.EMPTY_BODY:
        return Reply(200, b"")
    if kind is FaultKind.REDIRECT:
        location = rule.location or DEFAULT_REDIRECT
        return Reply(rule.http_status or 307, b"", "text/plain; charset=utf-8", (("Location", location),))
    if kind is FaultKind.GZIP_BOMB:
        return Reply(200, gzip_bomb(), XML_CONTENT_TYPE, (("Content-Encoding", "gzip"),))
    raise ValueError(f"{kind} has no fixed reply")


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
        env, body = envelope(STS_NS)
        rstr = sub(body, q("wst", "RequestSecurityTokenResponse"))
        sct = sub(sub(rstr, q("wst", "RequestedSecurityToken")), q("wsc", "SecurityContextToken"))
        sub(sct, q("wsc", "Identifier"), f"bipro:{PLACEHOLDER}")
    elif operation == "getLinks":
        env, _ = links_response("00000", (None, "03000", PLACEHOLDER))
    else:
        env, _ = transfer_response(operation, version, True, [("Hinweis", "04000", PLACEHOLDER)])
    xml = etree.tostring(env, encoding="unicode")
    doctype, reference = (_XXE_DOCTYPE, "&xxe;") if kind == "xxe" else (_BOMB_DOCTYPE, "&lol9;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + xml.replace(PLACEHOLDER, reference)
    ).encode()
