"""The sandbox as a BiPRO server, driven with plain requests and hand-written envelopes.

Deliberately not through the library's client: these tests pin the wire contract
(docs/sandbox-contract.md) from the outside, so client and sandbox cannot share a
misreading of the protocol.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import http.client
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import pydantic
import pytest
import requests
import urllib3
from lxml import etree

from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox, SandboxConfig
from bipro_ruv.sandbox.content.contracts import SANDBOX_CONTRACTS
from bipro_ruv.sandbox.services.soap import NS  # the sandbox's table; the client's XML code stays apart
from tests._expected import KNOWN_VSNR, document, shipment
from tests._soap import envelope, parse, sct_header, username_header

STS = "/bipro/sts/2.4.0.1.0"
TRANSFER = "/bipro/TransferService/2.6.2.1.0"
EXTRANET = "/bipro/ExtranetService/1.0.1.0"
VERSION = "2.6.2.1.0"

SCT = "http://schemas.xmlsoap.org/ws/2005/02/sc/sct"
ISSUE = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"
CANCEL = "http://schemas.xmlsoap.org/ws/2005/02/trust/Cancel"


# -- seed data -------------------------------------------------------------------------------------


MAILBOX = (
    shipment("L-100", "100007000"),
    shipment("L-120", "120000000"),
    shipment("L-140", "140012021"),
    shipment("L-999", "999010010"),
)


class Server(Protocol):
    """What the helpers need of a sandbox: in-process or a child process."""

    @property
    def base_url(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def password(self) -> str: ...


@dataclass(frozen=True)
class ChildSandbox:
    base_url: str
    username: str = "rom4711"
    password: str = "Sandbox-Passwort-1"


# -- envelopes -------------------------------------------------------------------------------------


def rst(token_type: str = SCT, request_type: str = ISSUE, extra: str = "") -> str:
    return (
        f"<wst:RequestSecurityToken><wst:TokenType>{token_type}</wst:TokenType>"
        f"<wst:RequestType>{request_type}</wst:RequestType>{extra}</wst:RequestSecurityToken>"
    )


def transfer_body(operation: str, inner: str = "", version: str | None = VERSION) -> str:
    version_xml = f"<nac:BiPROVersion>{version}</nac:BiPROVersion>" if version is not None else ""
    return f"<tran:{operation}><tran:Request>{version_xml}{inner}</tran:Request></tran:{operation}>"


def links_body(search: str, version: str = "1.0.1.0") -> str:
    request = (
        f'<nam:Request Version="{version}"><nam:Extranetsuche>{search}</nam:Extranetsuche></nam:Request>'
    )
    return f"<nam:getLinks>{request}</nam:getLinks>"


def post(
    session: requests.Session, sb: Server, path: str, data: bytes, action: str | None = None
) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = action
    return session.post(sb.base_url + path, data=data, headers=headers, timeout=30)


def login(
    session: requests.Session, sb: Server, user: str | None = None, password: str | None = None
) -> requests.Response:
    header = username_header(user or sb.username, password or sb.password)
    return post(session, sb, STS, envelope(rst(), header), '"urn:RequestSecurityToken"')


def token_of(session: requests.Session, sb: Server) -> str:
    response = login(session, sb)
    assert response.status_code == 200, response.text
    return str(parse(response.content).findtext(".//wsc:Identifier", namespaces=NS))


def call(
    session: requests.Session, sb: Server, operation: str, inner: str = "", token: str | None = None
) -> requests.Response:
    token = token or token_of(session, sb)
    return post(
        session,
        sb,
        TRANSFER,
        envelope(transfer_body(operation, inner), sct_header(token)),
        f'"urn:{operation}"',
    )


def get_links(session: requests.Session, sb: Server, search: str) -> etree._Element:
    response = post(
        session,
        sb,
        EXTRANET,
        envelope(links_body(search), sct_header(token_of(session, sb))),
        '"urn:getLinks"',
    )
    assert response.status_code == 200, response.text
    return parse(response.content)


# -- reading replies -------------------------------------------------------------------------------


def meldung_ids(root: etree._Element) -> list[str]:
    return [str(m) for m in root.xpath(".//nac:MeldungID/text() | .//nam:MeldungID/text()", namespaces=NS)]


def fault_ids(response: requests.Response) -> list[str]:
    assert response.status_code == 500, response.text
    root = parse(response.content)
    assert root.find(".//soapenv:Fault/detail/nac:BiproException", NS) is not None
    return meldung_ids(root)


def status_of(response: requests.Response) -> tuple[str, list[str]]:
    assert response.status_code == 200, response.text
    root = parse(response.content)
    return str(root.findtext(".//nac:StatusID", namespaces=NS)), meldung_ids(root)


def listed_ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [str(i) for i in parse(response.content).xpath(".//tran:Lieferung/tran:ID/text()", namespaces=NS)]


def call_cut(
    session: requests.Session, sb: Server, operation: str, inner: str = "", token: str | None = None
) -> tuple[requests.Response, bytes]:
    """A reply cut off on the wire: the response (its headers) and the bytes that did come."""
    token = token or token_of(session, sb)
    response = session.post(
        sb.base_url + TRANSFER,
        data=envelope(transfer_body(operation, inner), sct_header(token)),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"urn:{operation}"'},
        timeout=30,
        stream=True,
    )
    received = bytearray()

    def read_all() -> None:
        for chunk in response.raw.stream(1 << 16, decode_content=False):
            received.extend(chunk)

    with pytest.raises(urllib3.exceptions.ProtocolError, match="IncompleteRead"):
        read_all()
    response.close()
    assert len(received) < int(response.headers["Content-Length"])
    return response, bytes(received)


def boundary_of(response: requests.Response) -> str:
    message = email.message_from_string(f"Content-Type: {response.headers['Content-Type']}\r\n\r\n")
    boundary = message.get_boundary()
    assert boundary
    return boundary


def multipart(response: requests.Response) -> EmailMessage:
    head = f"Content-Type: {response.headers['Content-Type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + response.content, policy=email.policy.HTTP)
    assert isinstance(message, EmailMessage)
    return message


def mtom_parts(response: requests.Response) -> tuple[etree._Element, dict[str, bytes]]:
    """The root XML and the attachments by Content-ID of an MTOM reply."""
    parts = list(multipart(response).iter_parts())
    root = parse(parts[0].get_payload(decode=True))
    attachments = {str(p["Content-ID"]).strip("<>"): p.get_payload(decode=True) for p in parts[1:]}
    return root, attachments


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(mailbox="empty") as sandbox:
        sandbox.add_shipments(MAILBOX)
        yield sandbox


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


# == Norm 410: STS =================================================================================


@pytest.mark.parametrize(
    ("style", "pattern"),
    [
        ("utc", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
        ("naive", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$"),
        ("offset", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+01:00$"),
        ("dotnet", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$"),
    ],
)
def test_login_returns_bipro_token_with_lifetime_in_configured_style(
    session: requests.Session, style: str, pattern: str
) -> None:
    with Sandbox(mailbox="empty", lifetime_style=style) as sandbox:
        root = parse(login(session, sandbox).content)
    assert str(root.findtext(".//wsc:Identifier", namespaces=NS)).startswith("bipro:")
    assert re.match(pattern, str(root.findtext(".//wst:Lifetime/wsu:Expires", namespaces=NS)))


def test_login_without_lifetime_when_style_absent(session: requests.Session) -> None:
    with Sandbox(mailbox="empty", lifetime_style="absent") as sandbox:
        root = parse(login(session, sandbox).content)
    assert root.find(".//wsc:Identifier", NS) is not None
    assert root.find(".//wst:Lifetime", NS) is None


def test_token_lifetime_is_the_configured_one(session: requests.Session) -> None:
    with Sandbox(mailbox="empty", token_lifetime_s=1800) as sandbox:
        root = parse(login(session, sandbox).content)
    created = datetime.fromisoformat(str(root.findtext(".//wsu:Created", namespaces=NS)).rstrip("Z"))
    expires = datetime.fromisoformat(str(root.findtext(".//wsu:Expires", namespaces=NS)).rstrip("Z"))
    assert (expires - created).total_seconds() == pytest.approx(1800, abs=1)


@pytest.mark.parametrize(
    ("user", "password"),
    [("rom4711", "falsch"), ("rom0000", "Sandbox-Passwort-1"), ("rom4711", "sandbox-passwort-1")],
)
def test_wrong_credentials_are_fault_00961(
    sb: Sandbox, session: requests.Session, user: str, password: str
) -> None:
    assert fault_ids(login(session, sb, user, password)) == ["00961"]
    assert sb.stats.failed_logins == 1
    assert sb.stats.successful_logins == 0


def test_three_wrong_passwords_lock_the_user_even_for_the_right_one(
    sb: Sandbox, session: requests.Session
) -> None:
    codes = [fault_ids(login(session, sb, sb.username, f"falsch-{i}")) for i in range(3)]
    assert codes == [["00961"]] * 3
    assert fault_ids(login(session, sb)) == ["00964"]
    assert sb.stats.locked_users == {sb.username}
    assert sb.stats.failed_logins == 3
    assert sb.stats.auth_failures_by_user[sb.username] == 3


def test_lockout_threshold_is_configurable(session: requests.Session) -> None:
    with Sandbox(mailbox="empty", lockout_after=1) as sandbox:
        login(session, sandbox, password="falsch")
        assert fault_ids(login(session, sandbox)) == ["00964"]


def test_successful_login_resets_the_wrong_password_count(sb: Sandbox, session: requests.Session) -> None:
    for _ in range(2):
        login(session, sb, password="falsch")
    assert login(session, sb).status_code == 200
    for _ in range(2):
        login(session, sb, password="falsch")
    assert login(session, sb).status_code == 200
    assert sb.stats.locked_users == set()


def test_unknown_user_is_never_locked(sb: Sandbox, session: requests.Session) -> None:
    for _ in range(5):
        assert fault_ids(login(session, sb, "rom9999", "x")) == ["00961"]
    assert sb.stats.locked_users == set()


@pytest.mark.parametrize(
    ("header", "body", "code"),
    [
        ("", rst(), "00908"),
        ("user", rst(token_type="urn:oasis:names:tc:SAML:2.0:assertion"), "00910"),
        ("user", rst(request_type="http://schemas.xmlsoap.org/ws/2005/02/trust/Renew"), "00911"),
        ("user", rst(extra="<nac:BiPROVersion>2.6.1.1.0</nac:BiPROVersion>"), "00931"),
    ],
    ids=["no-usernametoken", "wrong-tokentype", "wrong-requesttype", "wrong-biproversion"],
)
def test_malformed_rst_is_refused(
    sb: Sandbox, session: requests.Session, header: str, body: str, code: str
) -> None:
    security = username_header(sb.username, sb.password) if header else ""
    assert fault_ids(post(session, sb, STS, envelope(body, security), '"urn:RequestSecurityToken"')) == [code]


def test_rst_with_the_sts_version_is_accepted(sb: Sandbox, session: requests.Session) -> None:
    body = rst(extra="<nac:BiPROVersion>2.4.0.1.0</nac:BiPROVersion>")
    response = post(session, sb, STS, envelope(body, username_header(sb.username, sb.password)))
    assert response.status_code == 200


def test_cancel_invalidates_the_token(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    cancel = post(
        session, sb, STS, envelope(rst(request_type=CANCEL), sct_header(token)), '"urn:RequestSecurityToken"'
    )
    assert parse(cancel.content).find(".//wst:RequestedTokenCancelled", NS) is not None
    assert fault_ids(call(session, sb, "listShipments", token=token)) == ["00962"]


def test_tokens_issued_and_sts_requests_are_counted(sb: Sandbox, session: requests.Session) -> None:
    token_of(session, sb)
    login(session, sb, password="falsch")
    assert (sb.stats.sts_requests, sb.stats.tokens_issued, sb.stats.successful_logins) == (2, 1, 1)


# == sessions on the transfer and extranet services ================================================


@pytest.mark.parametrize("path", [TRANSFER, EXTRANET])
def test_request_without_sct_is_00917(sb: Sandbox, session: requests.Session, path: str) -> None:
    body = transfer_body("listShipments") if path == TRANSFER else links_body("<nam:Vertragsuche/>")
    assert fault_ids(post(session, sb, path, envelope(body))) == ["00917"]


def test_unknown_token_is_00962(sb: Sandbox, session: requests.Session) -> None:
    assert fault_ids(call(session, sb, "listShipments", token="bipro:erfunden")) == ["00962"]


def test_expire_tokens_invalidates_issued_tokens(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    sb.expire_tokens()
    assert fault_ids(call(session, sb, "listShipments", token=token)) == ["00962"]


def test_token_of_zero_lifetime_is_expired_at_once(sb: Sandbox, session: requests.Session) -> None:
    sb.set_token_lifetime(0)
    token = token_of(session, sb)
    assert fault_ids(call(session, sb, "listShipments", token=token)) == ["00962"]


def test_set_token_lifetime_applies_to_new_tokens(sb: Sandbox, session: requests.Session) -> None:
    sb.set_token_lifetime(0)
    sb.set_token_lifetime(600)
    assert call(session, sb, "listShipments").status_code == 200


@pytest.mark.parametrize(("version", "shown"), [("2.6.1.1.0", "2.6.1.1.0"), (None, "(fehlt)")])
def test_wrong_bipro_version_is_00931_naming_both(
    sb: Sandbox, session: requests.Session, version: str | None, shown: str
) -> None:
    body = transfer_body("listShipments", version=version)
    response = post(session, sb, TRANSFER, envelope(body, sct_header(token_of(session, sb))))
    assert fault_ids(response) == ["00931"]
    assert shown in response.text
    assert VERSION in response.text


@pytest.mark.parametrize("action", ['"urn:listShipments"', "urn:listShipments", '""', None])
def test_accepted_soap_actions(sb: Sandbox, session: requests.Session, action: str | None) -> None:
    body = envelope(transfer_body("listShipments"), sct_header(token_of(session, sb)))
    assert post(session, sb, TRANSFER, body, action).status_code == 200


def test_soap_action_naming_another_operation_is_00930(sb: Sandbox, session: requests.Session) -> None:
    body = envelope(transfer_body("listShipments"), sct_header(token_of(session, sb)))
    assert fault_ids(post(session, sb, TRANSFER, body, '"urn:getShipment"')) == ["00930"]


def test_operation_of_another_service_is_00930(sb: Sandbox, session: requests.Session) -> None:
    body = envelope(transfer_body("listShipments"), sct_header(token_of(session, sb)))
    assert fault_ids(post(session, sb, STS, body)) == ["00930"]


def test_kravag_transfer_path_expects_its_own_version(sb: Sandbox, session: requests.Session) -> None:
    body = envelope(transfer_body("listShipments", version="2.4.4.1.1"), sct_header(token_of(session, sb)))
    assert post(session, sb, "/bipro/TransferService/2.4.4.1.1", body).status_code == 200


# == Norm 430: listShipments =======================================================================


def test_list_returns_open_shipments_in_mailbox_order(sb: Sandbox, session: requests.Session) -> None:
    assert listed_ids(call(session, sb, "listShipments")) == ["L-100", "L-120", "L-140", "L-999"]


def test_list_carries_the_lieferung_fields(sb: Sandbox, session: requests.Session) -> None:
    root = parse(call(session, sb, "listShipments").content)
    first = root.find(".//tran:Lieferung", NS)
    assert first is not None
    fields = {etree.QName(child).localname: child.text for child in first}
    assert fields == {
        "ID": "L-100",
        "Einstellzeitpunkt": "2026-11-21T03:15:00",
        "Kategorie": "100007000",
        "VerfuegbarBis": "2029-11-21",
        "ArtDerLieferung": "1002",
        "EnthaeltNurDaten": "false",
        "PeriodischeLieferung": "false",
        "Sparte": "040",
        "AnzahlTransfers": "1",
    }


def test_list_status_is_ok_04000_with_version_and_prozess_id(sb: Sandbox, session: requests.Session) -> None:
    root = parse(call(session, sb, "listShipments").content)
    assert root.findtext(".//tran:Response/nac:BiPROVersion", namespaces=NS) == VERSION
    assert str(root.findtext(".//nac:ProzessID", namespaces=NS)).startswith("listShipments_")
    assert (root.findtext(".//nac:StatusID", namespaces=NS), meldung_ids(root)) == ("OK", ["04000"])


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("100", ["L-100"]),
        ("120000", ["L-120"]),
        ("140012021", ["L-140"]),
        ("999", ["L-999"]),
        ("999999999", ["L-100", "L-120", "L-140", "L-999"]),
    ],
)
def test_list_filters_by_category_prefix(
    sb: Sandbox, session: requests.Session, category: str, expected: list[str]
) -> None:
    inner = f"<tran:KategorieDerLieferung>{category}</tran:KategorieDerLieferung>"
    assert listed_ids(call(session, sb, "listShipments", inner)) == expected


@pytest.mark.parametrize("category", ["10", "1000", "10000000", "abc"])
def test_list_with_unsupported_category_granularity_is_nok_04005(
    sb: Sandbox, session: requests.Session, category: str
) -> None:
    inner = f"<tran:KategorieDerLieferung>{category}</tran:KategorieDerLieferung>"
    assert status_of(call(session, sb, "listShipments", inner)) == ("NOK", ["04005"])


def test_empty_list_is_ok_with_04001(sb: Sandbox, session: requests.Session) -> None:
    inner = "<tran:KategorieDerLieferung>150</tran:KategorieDerLieferung>"
    response = call(session, sb, "listShipments", inner)
    assert status_of(response) == ("OK", ["04001"])
    assert listed_ids(response) == []


def test_acknowledged_shipment_leaves_the_list(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    call(session, sb, "acknowledgeShipment", "<tran:ID>L-120</tran:ID>", token)
    assert listed_ids(call(session, sb, "listShipments", token=token)) == ["L-100", "L-140", "L-999"]


def test_bestaetige_lieferungen_true_lists_acknowledged_ones_too(
    sb: Sandbox, session: requests.Session
) -> None:
    token = token_of(session, sb)
    call(session, sb, "acknowledgeShipment", "<tran:ID>L-120</tran:ID>", token)
    inner = "<tran:BestaetigeLieferungen>true</tran:BestaetigeLieferungen>"
    assert "L-120" in listed_ids(call(session, sb, "listShipments", inner, token))


# == Norm 430: getShipment =========================================================================


def test_get_shipment_is_mtom_with_the_document_as_attachment(sb: Sandbox, session: requests.Session) -> None:
    response = call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>")
    assert response.headers["Content-Type"].startswith('multipart/related; type="application/xop+xml"')
    root, attachments = mtom_parts(response)
    href = str(root.xpath("string(.//allg:Daten/xop:Include/@href)", namespaces=NS))
    assert attachments[unquote(href.removeprefix("cid:"))] == MAILBOX[0].documents[0].read_all()


def test_get_shipment_root_part_is_xop_xml(sb: Sandbox, session: requests.Session) -> None:
    root_part = next(multipart(call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>")).iter_parts())
    assert root_part.get_content_type() == "application/xop+xml"
    assert root_part.get_param("type") == "text/xml"


def test_get_shipment_describes_the_file(sb: Sandbox, session: requests.Session) -> None:
    root, _ = mtom_parts(call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>"))
    datei = root.find(".//tran:Transfer/gevo:Datei", NS)
    assert datei is not None
    fields = {etree.QName(c).localname: c.text for c in datei if etree.QName(c).localname != "Daten"}
    assert fields["Dateiname"] == "Police.pdf"
    assert fields["Komprimierungstyp"] == "KEINE"
    assert fields["DokumentartID"] == "Police"
    assert datei.findtext("allg:Pruefsumme/allg:Wert", namespaces=NS) == MAILBOX[0].documents[0].sha256
    assert root.findtext(".//gevo:Vertrag/gevo:Versicherungsscheinnummer", namespaces=NS) == KNOWN_VSNR


def test_document_without_vsnr_has_no_vertrag(sb: Sandbox, session: requests.Session) -> None:
    sb.add_shipments([shipment("OHNE-VSNR", "100005100", document(b"%PDF", vsnr=None))])
    root, _ = mtom_parts(call(session, sb, "getShipment", "<tran:ID>OHNE-VSNR</tran:ID>"))
    assert root.find(".//gevo:Vertrag", NS) is None


MANY = [f"VAR-{n:03d}" for n in range(24)]


@pytest.mark.parametrize("shipment_id", MANY)
def test_every_mtom_framing_variant_carries_the_exact_bytes(
    session: requests.Session, shipment_id: str
) -> None:
    data = b"%PDF-1.4\r\n" + shipment_id.encode() * 50 + b"\n"  # ends in a newline on purpose
    with Sandbox(mailbox="empty") as sandbox:
        sandbox.add_shipments([shipment(shipment_id, "100007000", document(data, "ä ö.pdf"))])
        root, attachments = mtom_parts(
            call(session, sandbox, "getShipment", f"<tran:ID>{shipment_id}</tran:ID>")
        )
    assert list(attachments.values()) == [data]
    assert root.findtext(".//allg:Dateiname", namespaces=NS) == "ä ö.pdf"


def test_framing_varies_between_shipments(session: requests.Session) -> None:
    with Sandbox(mailbox="empty") as sandbox:
        sandbox.add_shipments([shipment(i) for i in MANY])
        token = token_of(session, sandbox)
        replies = [call(session, sandbox, "getShipment", f"<tran:ID>{i}</tran:ID>", token) for i in MANY]
    prefixes = ("uuid:", "MIMEBoundary_", "----=_Part_")
    styles = {p for r in replies for p in prefixes if str(multipart(r).get_boundary()).startswith(p)}
    charsets = {str(next(multipart(r).iter_parts()).get_param("charset")).lower() for r in replies}
    assert styles == set(prefixes)
    assert charsets == {"utf-8", "iso-8859-1"}


def test_inline_mode_sends_base64_in_text_xml(session: requests.Session) -> None:
    data = bytes(range(256)) * 5 + b"x"  # a length that is not a multiple of 3
    with Sandbox(mailbox="empty", mtom=False) as sandbox:
        sandbox.add_shipments([shipment("INLINE", "100007000", document(data))])
        response = call(session, sandbox, "getShipment", "<tran:ID>INLINE</tran:ID>")
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert base64.b64decode(str(parse(response.content).findtext(".//allg:Daten", namespaces=NS))) == data


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "inline"])
def test_large_document_is_streamed_intact(session: requests.Session, mtom: bool) -> None:
    size = 3 * 1024 * 1024 + 1
    with Sandbox(mailbox="empty", large_document_bytes=size, mtom=mtom) as sandbox:
        expected = sandbox.shipments()[0].documents[0].sha256
        response = call(session, sandbox, "getShipment", "<tran:ID>GROSS-0001</tran:ID>")
    if mtom:
        data = next(iter(mtom_parts(response)[1].values()))
    else:
        data = base64.b64decode(str(parse(response.content).findtext(".//allg:Daten", namespaces=NS)))
    assert (len(data), hashlib.sha256(data).hexdigest()) == (size, expected)


def test_get_unknown_shipment_is_nok_04003(sb: Sandbox, session: requests.Session) -> None:
    assert status_of(call(session, sb, "getShipment", "<tran:ID>GIBTSNICHT</tran:ID>")) == ("NOK", ["04003"])


def test_get_acknowledged_shipment_is_nok_04003(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    call(session, sb, "acknowledgeShipment", "<tran:ID>L-100</tran:ID>", token)
    assert status_of(call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>", token)) == (
        "NOK",
        ["04003"],
    )


def test_get_without_id_is_00931(sb: Sandbox, session: requests.Session) -> None:
    assert fault_ids(call(session, sb, "getShipment")) == ["00931"]


def test_broken_multipart_shipment_is_cut_on_the_wire_before_the_closing_delimiter(
    session: requests.Session,
) -> None:
    with Sandbox(mailbox="empty", hostile=True) as sandbox:
        response, received = call_cut(session, sandbox, "getShipment", "<tran:ID>HOSTILE-MULTIPART</tran:ID>")
    assert f"--{boundary_of(response)}--".encode() not in received


def test_broken_multipart_shipment_in_inline_mode_is_cut_xml(session: requests.Session) -> None:
    with Sandbox(mailbox="empty", hostile=True, mtom=False) as sandbox:
        _, received = call_cut(session, sandbox, "getShipment", "<tran:ID>HOSTILE-MULTIPART</tran:ID>")
    with pytest.raises(etree.XMLSyntaxError):
        parse(received)


# == Norm 430: acknowledgeShipment =================================================================


def test_acknowledge_is_ok_04000_and_recorded(sb: Sandbox, session: requests.Session) -> None:
    assert status_of(call(session, sb, "acknowledgeShipment", "<tran:ID>L-140</tran:ID>")) == (
        "OK",
        ["04000"],
    )
    assert sb.is_acknowledged("L-140")
    assert sb.open_shipment_ids() == ["L-100", "L-120", "L-999"]
    assert [s.id for s in sb.shipments()] == ["L-100", "L-120", "L-140", "L-999"]


def test_acknowledge_twice_is_ok_and_logged_twice(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    for shipment_id in ("L-100", "L-140", "L-100"):
        assert (
            status_of(call(session, sb, "acknowledgeShipment", f"<tran:ID>{shipment_id}</tran:ID>", token))[0]
            == "OK"
        )
    assert sb.stats.acknowledged == ["L-100", "L-140", "L-100"]


def test_acknowledge_unknown_is_nok_04003(sb: Sandbox, session: requests.Session) -> None:
    assert status_of(call(session, sb, "acknowledgeShipment", "<tran:ID>GIBTSNICHT</tran:ID>")) == (
        "NOK",
        ["04003"],
    )
    assert sb.stats.acknowledged == []


def test_before_acknowledge_runs_before_the_ack_is_recorded(sb: Sandbox, session: requests.Session) -> None:
    seen: list[tuple[str, bool]] = []
    sb.before_acknowledge = lambda shipment_id: seen.append((shipment_id, sb.is_acknowledged(shipment_id)))
    call(session, sb, "acknowledgeShipment", "<tran:ID>L-100</tran:ID>")
    assert seen == [("L-100", False)]
    assert sb.is_acknowledged("L-100")


def test_failing_before_acknowledge_is_fault_99999_and_no_ack(sb: Sandbox, session: requests.Session) -> None:
    def refuse(shipment_id: str) -> None:
        raise OSError(f"disk full while storing {shipment_id}")

    sb.before_acknowledge = refuse
    assert fault_ids(call(session, sb, "acknowledgeShipment", "<tran:ID>L-100</tran:ID>")) == ["99999"]
    assert not sb.is_acknowledged("L-100")


def test_add_shipments_refuses_duplicate_ids(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="L-100"):
        sb.add_shipments([shipment("L-100")])


# == fault injection ===============================================================================


@pytest.mark.parametrize(
    ("kind", "options", "status", "content_type"),
    [
        (FaultKind.HTTP_429, {"retry_after": 2}, 429, "text/plain"),
        (FaultKind.HTTP_503, {"retry_after": 0.5}, 503, "text/html"),
        (FaultKind.HTML_ERROR, {}, 502, "text/html"),
        (FaultKind.HTML_ERROR, {"http_status": 200}, 200, "text/html"),
        (FaultKind.EMPTY_BODY, {}, 200, "text/xml"),
        (FaultKind.MALFORMED_XML, {}, 200, "text/xml"),
    ],
    ids=["429", "503", "html-502", "html-200", "empty", "malformed"],
)
def test_http_level_faults(
    sb: Sandbox,
    session: requests.Session,
    kind: FaultKind,
    options: dict[str, float],
    status: int,
    content_type: str,
) -> None:
    token = token_of(session, sb)
    sb.inject(kind, operation="listShipments", **options)
    response = call(session, sb, "listShipments", token=token)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(content_type)


@pytest.mark.parametrize(("retry_after", "header"), [(2, "2"), (0.5, "0.5"), (None, None)])
def test_retry_after_header_comes_from_the_rule(
    sb: Sandbox, session: requests.Session, retry_after: float | None, header: str | None
) -> None:
    sb.inject(FaultRule(FaultKind.HTTP_429, operation="RequestSecurityToken", retry_after=retry_after))
    assert login(session, sb).headers.get("Retry-After") == header


def test_empty_body_fault_has_content_length_zero(sb: Sandbox, session: requests.Session) -> None:
    sb.inject(FaultKind.EMPTY_BODY, operation="RequestSecurityToken")
    response = login(session, sb)
    assert (response.headers["Content-Length"], response.content) == ("0", b"")


def test_malformed_xml_fault_is_not_well_formed(sb: Sandbox, session: requests.Session) -> None:
    sb.inject(FaultKind.MALFORMED_XML)
    with pytest.raises(etree.XMLSyntaxError):
        parse(login(session, sb).content)


@pytest.mark.parametrize(
    ("kind", "operation", "code"),
    [
        (FaultKind.SOAP_FAULT, "listShipments", "99999"),
        (FaultKind.INVALID_SESSION, "getShipment", "00962"),
        (FaultKind.SOAP_FAULT, "RequestSecurityToken", "99999"),
    ],
)
def test_soap_faults(
    sb: Sandbox, session: requests.Session, kind: FaultKind, operation: str, code: str
) -> None:
    token = token_of(session, sb)
    sb.inject(kind, operation=operation)
    if operation == "RequestSecurityToken":
        response = login(session, sb)
    else:
        response = call(session, sb, operation, "<tran:ID>L-100</tran:ID>", token)
    assert fault_ids(response) == [code]


@pytest.mark.parametrize("operation", ["listShipments", "getShipment", "acknowledgeShipment"])
def test_nok_fault_is_http_200_with_status_nok(
    sb: Sandbox, session: requests.Session, operation: str
) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.NOK, operation=operation)
    assert status_of(call(session, sb, operation, "<tran:ID>L-100</tran:ID>", token)) == ("NOK", ["00930"])


def test_faulted_acknowledge_is_not_recorded(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.SOAP_FAULT, operation="acknowledgeShipment")
    call(session, sb, "acknowledgeShipment", "<tran:ID>L-100</tran:ID>", token)
    assert not sb.is_acknowledged("L-100")


@pytest.mark.parametrize("operation", ["RequestSecurityToken", "listShipments"])
def test_xxe_fault_declares_an_external_entity_and_uses_it(
    sb: Sandbox, session: requests.Session, operation: str
) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.XXE, operation=operation)
    response = (
        login(session, sb)
        if operation == "RequestSecurityToken"
        else call(session, sb, operation, token=token)
    )
    assert response.status_code == 200
    assert '<!ENTITY xxe SYSTEM "file:///etc/passwd">' in response.text
    assert "&xxe;" in response.text
    assert parse(response.content).getroottree().docinfo.doctype


def test_entity_bomb_fault_nests_entities(sb: Sandbox, session: requests.Session) -> None:
    sb.inject(FaultKind.ENTITY_BOMB, operation="RequestSecurityToken")
    response = login(session, sb)
    assert response.text.count("<!ENTITY lol") == 10
    assert "&lol9;" in response.text


def test_truncated_multipart_fault_cuts_the_document(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.TRUNCATED_MULTIPART, operation="getShipment")
    response, received = call_cut(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>", token)
    document_bytes = MAILBOX[0].documents[0].read_all()
    assert f"--{boundary_of(response)}--".encode() not in received
    assert not received.endswith(document_bytes)


def test_truncated_multipart_fault_applies_to_small_replies_too(
    sb: Sandbox, session: requests.Session
) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.TRUNCATED_MULTIPART, operation="listShipments")
    response, received = call_cut(session, sb, "listShipments", token=token)
    assert response.headers["Content-Type"].startswith("multipart/related")
    assert f"--{boundary_of(response)}--".encode() not in received


def test_slow_fault_answers_normally_after_the_delay(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.SLOW, operation="listShipments", delay=0.01)
    assert status_of(call(session, sb, "listShipments", token=token))[0] == "OK"


def test_stop_interrupts_a_slow_reply() -> None:
    sandbox = Sandbox(mailbox="empty").start()
    arrived = threading.Event()
    sandbox.on_request = lambda operation: arrived.set()
    sandbox.inject(FaultKind.SLOW, delay=3600)
    outcome: list[BaseException] = []

    def client() -> None:
        with requests.Session() as s:
            try:
                login(s, sandbox)
            except requests.ConnectionError as exc:
                outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    assert arrived.wait(30)
    sandbox.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert len(outcome) == 1


def test_fault_applies_only_to_its_operation_and_count(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    sb.inject(FaultRule(FaultKind.HTTP_503, operation="getShipment", times=2))
    statuses = [call(session, sb, "listShipments", token=token).status_code]
    statuses += [
        call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>", token).status_code for _ in range(3)
    ]
    assert statuses == [200, 503, 503, 200]


def test_fault_without_operation_hits_the_next_request(sb: Sandbox, session: requests.Session) -> None:
    sb.inject(FaultKind.HTTP_503)
    assert login(session, sb).status_code == 503


def test_clear_faults_disarms_every_rule(sb: Sandbox, session: requests.Session) -> None:
    sb.inject(FaultKind.HTTP_503, times=5)
    sb.clear_faults()
    assert login(session, sb).status_code == 200


@pytest.mark.parametrize(
    "options",
    [{"operation": "listshipments"}, {"times": 0}, {"delay": -1}, {"retry_after": -1}],
)
def test_invalid_fault_rules_are_refused(sb: Sandbox, options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sb.inject(FaultKind.SLOW, **options)


# == Norm 440: getLinks and the portal =============================================================


def link_urls(root: etree._Element) -> list[str]:
    return [str(u) for u in root.xpath(".//nam:Link/nam:URL/text()", namespaces=NS)]


@pytest.mark.parametrize(
    ("vsnr", "page", "query"),
    [
        (KNOWN_VSNR, "/portal/vertrag", KNOWN_VSNR),
        ("44 090312655", "/portal/vertrag", KNOWN_VSNR),
        ("44-090.312/655", "/portal/vertrag", KNOWN_VSNR),
        ("123" + KNOWN_VSNR, "/portal/vertrag", KNOWN_VSNR),
        ("123-44-090312655", "/portal/vertrag", KNOWN_VSNR),
        ("090312655", "/portal/suche", "090312655"),
        ("44999999999", "/portal/suche", "44999999999"),
    ],
    ids=["known", "spaces", "separators", "filialdirektion", "fd-separators", "without-ag", "unknown"],
)
def test_contract_search_links_to_contract_page_or_search_mask(
    sb: Sandbox, session: requests.Session, vsnr: str, page: str, query: str
) -> None:
    root = get_links(
        session,
        sb,
        f"<nam:Vertragsuche><nam:Versicherungsscheinnummer>{vsnr}</nam:Versicherungsscheinnummer></nam:Vertragsuche>",
    )
    assert root.findtext(".//nam:StatusID", namespaces=NS) == "00000"
    (url,) = link_urls(root)
    parts = urlsplit(url)
    assert (f"{parts.scheme}://{parts.netloc}", parts.path) == (sb.base_url, page)
    assert re.sub(r"\D", "", parse_qs(parts.query)["vsnr"][0]) == query
    assert url == sb.portal_url(vsnr)


@pytest.mark.parametrize(
    "search",
    [
        "<nam:Vertragsuche><nam:Versicherungsscheinnummer>ABC</nam:Versicherungsscheinnummer></nam:Vertragsuche>",
        "<nam:Vertragsuche/>",
        "<nam:Partnersuche/>",
        "",
    ],
    ids=["letters", "empty-contract", "empty-partner", "nothing"],
)
def test_invalid_search_is_status_00001(sb: Sandbox, session: requests.Session, search: str) -> None:
    root = get_links(session, sb, search)
    assert root.findtext(".//nam:StatusID", namespaces=NS) == "00001"
    assert root.findtext(".//nam:Meldung/nam:ArtID", namespaces=NS) == "Fehler"
    assert link_urls(root) == []


def test_partner_search_links_search_mask_and_matching_contracts(
    sb: Sandbox, session: requests.Session
) -> None:
    customer = next(c.customer for c in SANDBOX_CONTRACTS if c.vsnr == KNOWN_VSNR)
    name = f"<nam:Name>{customer.last_name[:3]}*</nam:Name>"
    search = (
        f"<nam:Partnersuche>{name}<nam:Postleitzahl>{customer.postcode}</nam:Postleitzahl></nam:Partnersuche>"
    )
    urls = link_urls(get_links(session, sb, search))
    assert urlsplit(urls[0]).path == "/portal/suche"
    assert parse_qs(urlsplit(urls[0]).query)["Postleitzahl"] == [customer.postcode]
    assert sb.portal_url(KNOWN_VSNR) in urls[1:]


def test_wrong_extranet_version_is_00931(sb: Sandbox, session: requests.Session) -> None:
    body = links_body("<nam:Vertragsuche/>", version="1.4.1.0")
    assert fault_ids(post(session, sb, EXTRANET, envelope(body, sct_header(token_of(session, sb))))) == [
        "00931"
    ]


def test_returned_contract_link_opens_the_contract_page(sb: Sandbox, session: requests.Session) -> None:
    page = session.get(sb.portal_url(KNOWN_VSNR), timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert KNOWN_VSNR in page.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/portal/vertrag?vsnr=44999999999", 404),
        ("/portal/suche?Name=M%C3%BCller", 200),
        ("/portal/gibtsnicht", 404),
    ],
)
def test_portal_pages(sb: Sandbox, session: requests.Session, path: str, status: int) -> None:
    assert session.get(sb.base_url + path, timeout=30).status_code == status


def test_search_mask_escapes_what_it_echoes(sb: Sandbox, session: requests.Session) -> None:
    page = session.get(sb.base_url + "/portal/suche", params={"vsnr": '"><script>x</script>'}, timeout=30)
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


# == HTTP and lifecycle ============================================================================


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/bipro/gibtsnicht", 404), ("GET", TRANSFER, 405), ("PUT", TRANSFER, 501)],
)
def test_http_routing(sb: Sandbox, session: requests.Session, method: str, path: str, status: int) -> None:
    assert session.request(method, sb.base_url + path, data=b"", timeout=30).status_code == status


def test_request_body_over_10_mb_is_413_unread(sb: Sandbox) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(urlsplit(sb.base_url).port or 0), timeout=30)
    try:
        connection.putrequest("POST", TRANSFER)
        connection.putheader("Content-Type", "text/xml")
        connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        response.read()
    finally:
        connection.close()


def test_soap_request_that_is_not_text_xml_is_415(sb: Sandbox, session: requests.Session) -> None:
    body = envelope(transfer_body("listShipments"))
    response = session.post(
        sb.base_url + TRANSFER, data=body, headers={"Content-Type": "application/soap+xml"}, timeout=30
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    "body",
    [
        b"<soapenv:Envelope",
        b"",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<Envelope/>",
        envelope(""),
    ],
    ids=["truncated", "empty", "doctype", "not-soap", "no-operation"],
)
def test_unreadable_request_is_fault_00931(sb: Sandbox, session: requests.Session, body: bytes) -> None:
    assert fault_ids(post(session, sb, TRANSFER, body)) == ["00931"]
    assert sb.stats.requests_by_operation["invalid"] == 1


def test_requests_and_headers_are_recorded_per_operation(sb: Sandbox, session: requests.Session) -> None:
    token = token_of(session, sb)
    call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>", token)
    call(session, sb, "getShipment", "<tran:ID>L-120</tran:ID>", token)
    assert sb.stats.requests_by_operation == {"RequestSecurityToken": 1, "getShipment": 2}
    headers = sb.stats.last_headers["getShipment"]
    assert (headers["soapaction"], headers["Content-Type"]) == (
        '"urn:getShipment"',
        "text/xml; charset=utf-8",
    )


def test_snapshot_is_a_consistent_copy(sb: Sandbox, session: requests.Session) -> None:
    snapshot = sb.stats.snapshot()
    token_of(session, sb)
    assert (snapshot.sts_requests, sb.stats.sts_requests) == (0, 1)


def test_keep_alive_connection_serves_several_requests(sb: Sandbox) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(urlsplit(sb.base_url).port or 0), timeout=30)
    try:
        for _ in range(3):
            connection.request("GET", "/portal/suche")
            response = connection.getresponse()
            response.read()
            assert (response.status, response.will_close) == (200, False)
    finally:
        connection.close()


def test_stop_closes_idle_keep_alive_connections_and_is_idempotent() -> None:
    sandbox = Sandbox(mailbox="empty").start()
    connection = http.client.HTTPConnection(
        "127.0.0.1", int(urlsplit(sandbox.base_url).port or 0), timeout=30
    )
    try:
        connection.request("GET", "/portal/suche")
        connection.getresponse().read()
        sandbox.stop()
        sandbox.stop()
        assert connection.sock is not None
        assert connection.sock.recv(1) == b""
    finally:
        connection.close()


def test_a_stopped_sandbox_refuses_connections(session: requests.Session) -> None:
    with Sandbox(mailbox="empty") as sandbox:
        url = sandbox.base_url
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/portal/suche", timeout=30)


def test_tls_mode_serves_https_trusted_via_ca_file(session: requests.Session) -> None:
    with Sandbox(mailbox="empty", tls=True) as sandbox:
        assert sandbox.base_url.startswith("https://127.0.0.1:")
        assert sandbox.ca_file is not None
        # Per request: REQUESTS_CA_BUNDLE in the environment would override session.verify.
        body = envelope(rst(), username_header(sandbox.username, sandbox.password))
        response = session.post(
            sandbox.base_url + STS,
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            verify=str(sandbox.ca_file),
            timeout=30,
        )
        assert response.status_code == 200


def test_tls_mode_is_not_trusted_without_the_ca_file(session: requests.Session) -> None:
    with Sandbox(mailbox="empty", tls=True) as sandbox, pytest.raises(requests.exceptions.SSLError):
        login(session, sandbox)


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "192.168.1.10"])
def test_config_refuses_any_host_but_loopback(host: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        SandboxConfig(host=host)


def test_config_object_and_overrides_combine() -> None:
    sandbox = Sandbox(SandboxConfig(mailbox="empty", mtom=False), lockout_after=5)
    assert (sandbox.config.mtom, sandbox.config.lockout_after, sandbox.shipments()) == (False, 5, [])


def test_repr_hides_the_password() -> None:
    sandbox = Sandbox(mailbox="empty")
    assert sandbox.password not in repr(sandbox)
    assert sandbox.password not in repr(sandbox.config)


def test_default_mailbox_is_seeded(session: requests.Session) -> None:
    with Sandbox() as sandbox:
        assert listed_ids(call(session, sandbox, "listShipments")) == sandbox.open_shipment_ids() != []


def test_main_prints_ready_and_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bipro_ruv.sandbox", "--port", "0", "--bulk", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert re.fullmatch(r"READY http://127\.0\.0\.1:\d+\n", line)
        child = ChildSandbox(line.split()[1])
        with requests.Session() as s:
            assert listed_ids(call(s, child, "listShipments")) == [f"BULK{n:010d}" for n in range(3)]
    finally:
        process.terminate()
        assert process.wait(timeout=60) == 0
        if process.stdout is not None:
            process.stdout.close()


def test_quiet_by_default(session: requests.Session, capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(mailbox="empty") as sandbox:
        login(session, sandbox, password="falsch")
        session.get(sandbox.base_url + "/portal/gibtsnicht", timeout=30)
    assert capsys.readouterr().err == ""


def test_verbose_logs_request_lines_but_no_secrets(
    session: requests.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox(mailbox="empty", verbose=True) as sandbox:
        token = token_of(session, sandbox)
        call(session, sandbox, "listShipments", token=token)
    logged = capsys.readouterr().err
    assert f"POST {TRANSFER}" in logged
    assert sandbox.password not in logged
    assert token not in logged


def test_stop_joins_every_thread_it_started(session: requests.Session) -> None:
    before = set(threading.enumerate())
    with Sandbox(mailbox="empty") as sandbox:
        token_of(session, sandbox)  # leaves a keep-alive connection open in the session
    assert set(threading.enumerate()) - before == set()


@pytest.mark.parametrize(
    "action",
    [
        '"http://schemas.xmlsoap.org/ws/2005/02/trust/RST/SCT"',
        "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue",
    ],
)
def test_sts_accepts_ws_trust_soap_actions(sb: Sandbox, session: requests.Session, action: str) -> None:
    body = envelope(rst(), username_header(sb.username, sb.password))
    assert post(session, sb, STS, body, action).status_code == 200


def test_inject_takes_options_only_with_a_fault_kind(sb: Sandbox) -> None:
    with pytest.raises(TypeError):
        sb.inject(FaultRule(FaultKind.SLOW), delay=1)


# == issue 9: a complete getShipment reply without its closing delimiter =============================


@pytest.mark.parametrize(
    ("variant", "ending"),
    [(None, b""), ("other_boundary", b"\r\n--MIMEBoundary_0815_Ende--\r\n")],
    ids=["missing", "other-boundary"],
)
def test_shipment_reply_without_closing_delimiter_is_complete_mtom(
    sb: Sandbox, session: requests.Session, variant: str | None, ending: bytes
) -> None:
    token = token_of(session, sb)
    sb.inject(FaultKind.MISSING_CLOSING_DELIMITER, operation="getShipment", variant=variant)
    response = call(session, sb, "getShipment", "<tran:ID>L-100</tran:ID>", token)
    document_bytes = MAILBOX[0].documents[0].read_all()
    assert response.headers["Content-Type"].startswith("multipart/related")
    assert len(response.content) == int(response.headers["Content-Length"])  # complete on the wire
    assert f"--{boundary_of(response)}--".encode() not in response.content
    assert response.content.endswith(document_bytes + ending)
    assert response.headers.get("Connection", "").lower() != "close"


def test_shipment_fault_without_closing_delimiter_makes_an_inline_sandbox_answer_mtom(
    session: requests.Session,
) -> None:
    with Sandbox(mailbox="empty", mtom=False) as sandbox:
        sandbox.add_shipments(MAILBOX)
        sandbox.inject(FaultKind.MISSING_CLOSING_DELIMITER, operation="getShipment")
        response = call(session, sandbox, "getShipment", "<tran:ID>L-100</tran:ID>")
    assert response.headers["Content-Type"].startswith("multipart/related")
    assert response.content.endswith(MAILBOX[0].documents[0].read_all())


def test_shipment_fault_variant_must_be_known() -> None:
    with pytest.raises(ValueError, match="no variant 'sometimes'"):
        FaultRule(FaultKind.MISSING_CLOSING_DELIMITER, variant="sometimes")
    with pytest.raises(ValueError, match="http_429 has no variant"):
        FaultRule(FaultKind.HTTP_429, variant="other_boundary")
