"""VDG tickets for the STS port VDGTicketLogin (BiPRO Norm 410): made by the sandbox, checked by the port.

A ticket stands for a login that happened elsewhere (at a broker's management system, the *issuer*) and
names the user it is meant for at the insurer (``TargetUserId``). On the wire it is the base64 of UTF-8 XML
``<Ticket><TicketInfo>...</TicketInfo><Signature/></Ticket>``, sent as a ``wsse:BinarySecurityToken`` of
ValueType ``bipro:VDGTicket``; ``Signature`` is the hex HMAC-SHA256 of the TicketInfo's canonical bytes
(C14N) under a secret of the sandbox (:attr:`SandboxState.ticket_secret
<bipro_ruv.sandbox.state.SandboxState.ticket_secret>`). Times are ISO 8601 UTC with ``Z``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from lxml import etree

from bipro_ruv.profiles import PROFILES
from bipro_ruv.sandbox.services.soap import RequestError, SoapRequest, find_text, parse_xml, q

__all__ = [
    "BASE64_BINARY",
    "TICKET_FIELDS",
    "TICKET_VALUE_TYPE",
    "VdgTicket",
    "make_ticket",
    "ticket_of",
    "verify_ticket",
]

TICKET_VALUE_TYPE = "bipro:VDGTicket"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
#: The children of ``TicketInfo``, in order.
TICKET_FIELDS = (
    "TicketId",
    "TargetId",
    "TargetUserId",
    "IssuerUserId",
    "AuthLevel",
    "AuthMethod",
    "AuthTimestamp",
    "IssuerId",
    "ValidUntil",
)
_INVALID = "VDG-Ticket ungültig"


@dataclass(frozen=True)
class VdgTicket:
    """A ticket whose signature was found right: who it is for, and until when."""

    ticket_id: str
    target_user_id: str
    issuer_id: str
    valid_until: dt.datetime


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature(secret: bytes, info: etree._Element) -> str:
    canonical = etree.tostring(info, method="c14n")
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def make_ticket(secret: bytes, user: str, valid_for_s: float, now: dt.datetime | None = None) -> str:
    """A signed ticket for ``user``, valid for ``valid_for_s`` seconds (negative: already expired), base64."""
    now = now or dt.datetime.now(dt.timezone.utc)
    values = {
        "TicketId": str(uuid.uuid4()),
        "TargetId": PROFILES["ruv"].vu_number,
        "TargetUserId": user,
        "IssuerUserId": "makler-admin",
        "AuthLevel": "2",
        "AuthMethod": "Passwort",
        "AuthTimestamp": _utc(now),
        "IssuerId": "bipro-ruv-sandbox-mvp",
        "ValidUntil": _utc(now + dt.timedelta(seconds=valid_for_s)),
    }
    ticket = etree.Element("Ticket")
    info = etree.SubElement(ticket, "TicketInfo")
    for name in TICKET_FIELDS:
        etree.SubElement(info, name).text = values[name]
    etree.SubElement(ticket, "Signature").text = _signature(secret, info)
    xml = etree.tostring(ticket, encoding="UTF-8", xml_declaration=True)
    return base64.b64encode(xml).decode("ascii")


def ticket_of(request: SoapRequest) -> str:
    """The base64 text of the request's ``wsse:BinarySecurityToken`` of ValueType ``bipro:VDGTicket``.

    None there (or only one of another ValueType or EncodingType) is 00908; a missing EncodingType
    means Base64Binary, the WS-Security default.
    """
    if request.security is not None:
        for token in request.security.iter(q("wsse", "BinarySecurityToken")):
            encoding = token.get("EncodingType", BASE64_BINARY)
            if token.get("ValueType") == TICKET_VALUE_TYPE and encoding == BASE64_BINARY:
                return "".join((token.text or "").split())
    raise RequestError(
        "00908", "Kein VDG-Ticket (wsse:BinarySecurityToken bipro:VDGTicket) im Security-Header"
    )


def verify_ticket(secret: bytes, text: str, now: dt.datetime | None = None) -> VdgTicket:
    """The ticket, if well-formed and rightly signed (else 00942) and still valid (else 00943)."""
    try:
        root = parse_xml(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise RequestError("00942", _INVALID) from exc
    info = root.find("TicketInfo")
    if root.tag != "Ticket" or info is None or any(info.find(name) is None for name in TICKET_FIELDS):
        raise RequestError("00942", _INVALID)
    signature = find_text(root, "Signature").lower()
    if not hmac.compare_digest(signature.encode(), _signature(secret, info).encode()):
        raise RequestError("00942", _INVALID)
    try:
        valid_until = dt.datetime.fromisoformat(find_text(info, "ValidUntil").replace("Z", "+00:00"))
    except ValueError as exc:
        raise RequestError("00942", _INVALID) from exc
    if valid_until.tzinfo is None:
        valid_until = valid_until.replace(tzinfo=dt.timezone.utc)
    if valid_until <= (now or dt.datetime.now(dt.timezone.utc)):
        raise RequestError("00943", "VDG-Ticket abgelaufen")
    return VdgTicket(
        ticket_id=find_text(info, "TicketId"),
        target_user_id=find_text(info, "TargetUserId"),
        issuer_id=find_text(info, "IssuerId"),
        valid_until=valid_until,
    )
