"""The sandbox's other logins on the wire: organisation certificate (mTLS), VDG ticket, TGIC (ISTS + mTAN).

Driven with plain requests and hand-written envelopes, as in test_sandbox_server.py, never through the
library's client: these tests pin the contract (docs/sandbox-contract.md, "The other logins") from the
outside, so the client and the sandbox cannot share a misreading of it.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree

from bipro_ruv.profiles import PROFILES
from bipro_ruv.sandbox import Sandbox, SandboxConfig
from bipro_ruv.sandbox.services.soap import NS  # the sandbox's table; the client's XML code stays apart
from tests._expected import shipment
from tests._soap import envelope, parse, sct_header, username_header

STS = "/bipro/sts/2.4.0.1.0"
X509 = "/bipro/sts/X509Login/2.4.0.1.0"
TICKET = "/bipro/sts/VDGTicketLogin/2.4.0.1.0"
ISTS = "/RST/Issue"
TRANSFER = "/bipro/TransferService/2.6.2.1.0"
VERSION = "2.6.2.1.0"

SCT = "http://schemas.xmlsoap.org/ws/2005/02/sc/sct"
ISSUE = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"
CANCEL = "http://schemas.xmlsoap.org/ws/2005/02/trust/Cancel"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

WST13 = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WST14 = "http://docs.oasis-open.org/ws-sx/ws-trust/200802"
RST_ISSUE_ACTION = f"{WST13}/RST/Issue"
RSTR_ISSUE_ACTION = f"{WST13}/RSTR/Issue"
WST13_ISSUE = f"{WST13}/Issue"
SAML2 = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
OTP = f"{WST14}/challenge/OTP"
TGIC_USER = "TGIC-4711-0815"
SERVICE_ID = "http://www.tgic.de/RuV/prod/bipro/1.0"
TITLE = "Bitte geben Sie die mTAN ein, die per SMS an +49 171 ***4711 gesendet wurde."

MAILBOX = (shipment("L-100", "100007000"), shipment("L-120", "120000000"))


# -- envelopes -------------------------------------------------------------------------------------


def rst(token_type: str = SCT, request_type: str = ISSUE) -> str:
    return (
        f"<wst:RequestSecurityToken><wst:TokenType>{token_type}</wst:TokenType>"
        f"<wst:RequestType>{request_type}</wst:RequestType></wst:RequestSecurityToken>"
    )


def ticket_header(ticket: str, value_type: str = "bipro:VDGTicket") -> str:
    return (
        f'<wsse:Security><wsse:BinarySecurityToken ValueType="{value_type}" EncodingType="{BASE64_BINARY}">'
        f"{ticket}</wsse:BinarySecurityToken></wsse:Security>"
    )


def list_body() -> str:
    request = f"<tran:Request><nac:BiPROVersion>{VERSION}</nac:BiPROVersion></tran:Request>"
    return f"<tran:listShipments>{request}</tran:listShipments>"


def ists_issue(
    user: str = TGIC_USER,
    password: str = "Sandbox-Passwort-1",
    *,
    applies_to: str = SERVICE_ID,
    token_type: str = SAML2,
    request_type: str = WST13_ISSUE,
    action: str = RST_ISSUE_ACTION,
    message_id: str = "urn:uuid:11111111-2222-3333-4444-555555555555",
    context: str = "tgic-login-1",
) -> bytes:
    header = (
        f"<wsa:To>https://ists.example/RST/Issue</wsa:To><wsa:Action>{action}</wsa:Action>"
        f"<wsa:MessageID>{message_id}</wsa:MessageID>{username_header(user, password)}"
    )
    body = (
        f'<wst13:RequestSecurityToken Context="{context}"><wst13:TokenType>{token_type}</wst13:TokenType>'
        f"<wst13:RequestType>{request_type}</wst13:RequestType>"
        f"<wsp:AppliesTo><wsp:URI>{applies_to}</wsp:URI></wsp:AppliesTo>"
        '<wst13:Claims Dialect="http://docs.oasis-open.org/wsfed/authorization/200706/authclaims"/>'
        "<wst13:Lifetime><wsu:Created>2026-11-22T10:00:00Z</wsu:Created>"
        "<wsu:Expires>2026-11-22T11:00:00Z</wsu:Expires></wst13:Lifetime>"
        "</wst13:RequestSecurityToken>"
    )
    return envelope(body, header)


def ists_answer(
    relates_to: str, mtan: str, *, action: str = RSTR_ISSUE_ACTION, context: str = "tgic-login-1"
) -> bytes:
    header = (
        f"<wsa:To>https://ists.example/RST/Issue</wsa:To><wsa:Action>{action}</wsa:Action>"
        "<wsa:MessageID>urn:uuid:66666666-7777-8888-9999-000000000000</wsa:MessageID>"
        f"<wsa:RelatesTo>{relates_to}</wsa:RelatesTo>"
    )
    body = (
        f'<wst13:RequestSecurityTokenResponse Context="{context}"><wst14:InteractiveChallengeResponse>'
        f'<wst14:TextChallengeResponse RefId="{OTP}">{mtan}</wst14:TextChallengeResponse>'
        "</wst14:InteractiveChallengeResponse></wst13:RequestSecurityTokenResponse>"
    )
    return envelope(body, header)


def assertion_header(cipher_value: str) -> str:
    return (
        '<wsse:Security><saml2:EncryptedAssertion><xenc:EncryptedData Type="http://www.w3.org/2001/04/xmlenc#Element">'
        '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>'
        f"<xenc:CipherData><xenc:CipherValue>{cipher_value}</xenc:CipherValue></xenc:CipherData>"
        "</xenc:EncryptedData></saml2:EncryptedAssertion></wsse:Security>"
    )


# -- talking and reading ---------------------------------------------------------------------------


def post(
    sb: Sandbox,
    path: str,
    data: bytes,
    action: str | None = None,
    cert: tuple[str, str] | None = None,
) -> requests.Response:
    """One POST with a fresh connection; over https trusting the sandbox's CA, with ``cert`` if given."""
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = action
    verify: str | bool = str(sb.ca_file) if sb.ca_file is not None else True
    return requests.post(sb.base_url + path, data=data, headers=headers, timeout=30, verify=verify, cert=cert)


def texts(root: etree._Element, path: str) -> list[str]:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(text) for text in found]


def fault_ids(response: requests.Response) -> list[str]:
    assert response.status_code == 500, response.text
    root = parse(response.content)
    assert root.find(".//soapenv:Fault/detail/nac:BiproException", NS) is not None
    return texts(root, ".//nac:MeldungID/text()")


def sct_of(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    identifier = parse(response.content).findtext(
        ".//wst:RequestedSecurityToken//wsc:Identifier", namespaces=NS
    )
    assert identifier is not None
    assert identifier.startswith("bipro:")
    return identifier


def list_with(sb: Sandbox, header: str, cert: tuple[str, str] | None = None) -> requests.Response:
    return post(sb, TRANSFER, envelope(list_body(), header), '"urn:listShipments"', cert=cert)


def listed_ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return texts(parse(response.content), ".//tran:Lieferung/tran:ID/text()")


def trust_fault(response: requests.Response) -> tuple[str, str]:
    """(WS-Trust fault code's local name, faultstring) of an ISTS Fault; checks its form."""
    assert response.status_code == 500, response.text
    fault = parse(response.content).find(".//soapenv:Fault", NS)
    assert fault is not None
    prefix, local = str(fault.findtext("faultcode")).split(":")
    assert fault.nsmap[prefix] == WST13
    parent = fault.getparent()
    assert parent is not None
    assert prefix not in parent.nsmap  # bound on the Fault itself
    assert fault.find("detail") is None
    return local, str(fault.findtext("faultstring"))


# -- certificates ----------------------------------------------------------------------------------


def pem_files(p12: Path, password: bytes, folder: Path) -> tuple[str, str]:
    """The certificate and key of a PKCS#12 file as PEM files, for requests' ``cert=``."""
    key, certificate, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), password)
    assert key is not None
    assert certificate is not None
    cert_file, key_file = folder / f"{p12.stem}.crt", folder / f"{p12.stem}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_file), str(key_file)


def foreign_certificate(folder: Path) -> tuple[str, str]:
    """A client certificate from a CA of our own, one the sandbox never heard of."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fremde CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mustermakler GmbH")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = folder / "fremd.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"fremd", key, cert, [ca], serialization.BestAvailableEncryption(b"geheim")
        )
    )
    return pem_files(p12, b"geheim", folder)


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(mailbox="empty") as sandbox:
        sandbox.add_shipments(MAILBOX)
        yield sandbox


@pytest.fixture
def mtls() -> Iterator[Sandbox]:
    with Sandbox(mailbox="empty", tls=True, client_certificates=True) as sandbox:
        sandbox.add_shipments(MAILBOX)
        yield sandbox


@pytest.fixture
def good_cert(mtls: Sandbox, tmp_path: Path) -> tuple[str, str]:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", "Zertifikats-PIN-1")
    return pem_files(p12, b"Zertifikats-PIN-1", tmp_path)


# == configuration ================================================================================


def test_client_certificates_need_tls() -> None:
    with pytest.raises(pydantic.ValidationError, match="client_certificates"):
        SandboxConfig(client_certificates=True)


def test_tgic_defaults_follow_the_sandbox_and_the_profile() -> None:
    config = SandboxConfig()
    tgic = PROFILES["ruv"].tgic
    assert tgic is not None
    assert (config.tgic_username, config.tgic_secret) == (TGIC_USER, config.password)
    assert config.tgic_applies_to == tgic.service_id == SERVICE_ID
    assert (config.mtan_lifetime_s, config.saml_lifetime_s) == (300.0, 3600.0)
    assert "TGIC-Geheim" not in repr(SandboxConfig(tgic_password="TGIC-Geheim"))


def test_issue_client_certificate_needs_a_client_ca(sb: Sandbox, tmp_path: Path) -> None:
    assert sb.client_ca_file is None
    with pytest.raises(RuntimeError, match="client_certificates"):
        sb.issue_client_certificate(tmp_path / "org.p12", "pin")


# == organisation certificate (mTLS) ==============================================================


def test_issued_pkcs12_holds_key_certificate_and_client_ca(mtls: Sandbox, tmp_path: Path) -> None:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", "pin", organisation="Beispiel Makler AG")
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(p12.read_bytes(), b"falsch")
    key, cert, chain = pkcs12.load_key_and_certificates(p12.read_bytes(), b"pin")
    assert key is not None
    assert cert is not None
    assert mtls.client_ca_file is not None
    client_ca = x509.load_pem_x509_certificate(mtls.client_ca_file.read_bytes())
    assert [c.subject for c in chain] == [client_ca.subject]
    assert cert.issuer == client_ca.subject
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Beispiel Makler AG"
    now = dt.datetime.now(dt.timezone.utc)
    assert abs(cert.not_valid_before_utc - (now - dt.timedelta(days=1))) < dt.timedelta(minutes=5)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=365)


def test_certificate_login_issues_an_sct_that_opens_the_transfer_service(
    mtls: Sandbox, good_cert: tuple[str, str]
) -> None:
    assert mtls.base_url.startswith("https://")
    token = sct_of(post(mtls, X509, envelope(rst()), '"urn:RequestSecurityToken"', cert=good_cert))
    assert listed_ids(list_with(mtls, sct_header(token), cert=good_cert)) == ["L-100", "L-120"]
    stats = mtls.stats
    assert stats.logins_by_port == {"sts_certificate": 1}
    assert stats.requests_by_port["sts_certificate"] == 1
    assert stats.token_ids == [token]


def test_certificate_login_with_an_empty_security_header_and_lifetime_style(tmp_path: Path) -> None:
    with Sandbox(mailbox="empty", tls=True, client_certificates=True, lifetime_style="dotnet") as sandbox:
        cert = pem_files(sandbox.issue_client_certificate(tmp_path / "o.p12", "pin"), b"pin", tmp_path)
        response = post(sandbox, X509, envelope(rst(), "<wsse:Security/>"), cert=cert)
    sct_of(response)
    expires = parse(response.content).findtext(".//wst:Lifetime/wsu:Expires", namespaces=NS)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", str(expires))


def test_without_a_client_certificate_the_handshake_fails(mtls: Sandbox) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        post(mtls, X509, envelope(rst()))
    assert mtls.stats.requests_by_port == {}


def test_a_certificate_of_another_ca_fails_the_handshake(mtls: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        post(mtls, X509, envelope(rst()), cert=foreign_certificate(tmp_path))
    assert mtls.stats.requests_by_port == {}


def test_an_expired_certificate_fails_the_handshake(mtls: Sandbox, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    p12 = mtls.issue_client_certificate(
        tmp_path / "alt.p12",
        "pin",
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=1),
    )
    with pytest.raises(requests.exceptions.SSLError):
        post(mtls, X509, envelope(rst()), cert=pem_files(p12, b"pin", tmp_path))
    assert mtls.stats.requests_by_port == {}


def test_certificate_port_without_verified_certificate_is_00960(sb: Sandbox) -> None:
    assert fault_ids(post(sb, X509, envelope(rst()))) == ["00960"]  # plain http
    with Sandbox(mailbox="empty", tls=True) as sandbox:  # TLS, but no client certificate asked for
        assert fault_ids(post(sandbox, X509, envelope(rst()))) == ["00960"]
    assert sb.stats.logins_by_port == {}


def test_certificate_port_checks_the_rst(mtls: Sandbox, good_cert: tuple[str, str]) -> None:
    wrong_type = post(mtls, X509, envelope(rst(token_type="urn:falsch")), cert=good_cert)
    wrong_request = post(mtls, X509, envelope(rst(request_type="urn:falsch")), cert=good_cert)
    assert (fault_ids(wrong_type), fault_ids(wrong_request)) == (["00910"], ["00911"])
    assert mtls.stats.logins_by_port == {}


def test_on_an_mtls_listener_the_other_services_still_want_the_sct(
    mtls: Sandbox, good_cert: tuple[str, str]
) -> None:
    assert fault_ids(list_with(mtls, "", cert=good_cert)) == ["00917"]
    password_login = post(
        mtls, STS, envelope(rst(), username_header(mtls.username, mtls.password)), cert=good_cert
    )
    assert listed_ids(list_with(mtls, sct_header(sct_of(password_login)), cert=good_cert)) == [
        "L-100",
        "L-120",
    ]
    assert mtls.stats.logins_by_port == {"sts": 1}


def test_certificate_port_cancels_its_token(mtls: Sandbox, good_cert: tuple[str, str]) -> None:
    token = sct_of(post(mtls, X509, envelope(rst()), cert=good_cert))
    cancelled = post(mtls, X509, envelope(rst(request_type=CANCEL), sct_header(token)), cert=good_cert)
    assert cancelled.status_code == 200
    assert parse(cancelled.content).find(".//wst:RequestedTokenCancelled", NS) is not None
    assert fault_ids(list_with(mtls, sct_header(token), cert=good_cert)) == ["00962"]


# == VDG ticket ===================================================================================


def test_ticket_login_issues_an_sct_that_opens_the_transfer_service(sb: Sandbox) -> None:
    ticket = sb.issue_vdg_ticket()
    token = sct_of(post(sb, TICKET, envelope(rst(), ticket_header(ticket)), '"urn:RequestSecurityToken"'))
    assert listed_ids(list_with(sb, sct_header(token))) == ["L-100", "L-120"]
    assert sb.stats.logins_by_port == {"sts_ticket": 1}
    assert sb.stats.requests_by_port["sts_ticket"] == 1


def test_ticket_is_base64_of_signed_ticket_xml(sb: Sandbox) -> None:
    root = parse(base64.b64decode(sb.issue_vdg_ticket(valid_for_s=120)))
    info = root.find("TicketInfo")
    assert root.tag == "Ticket"
    assert info is not None
    assert [child.tag for child in info] == [
        "TicketId", "TargetId", "TargetUserId", "IssuerUserId", "AuthLevel",
        "AuthMethod", "AuthTimestamp", "IssuerId", "ValidUntil",
    ]  # fmt: skip
    assert info.findtext("TargetUserId") == sb.username
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", str(info.findtext("ValidUntil")))
    assert re.match(r"^[0-9a-f]{64}$", str(root.findtext("Signature")))


def test_expired_ticket_is_00943(sb: Sandbox) -> None:
    ticket = sb.issue_vdg_ticket(valid_for_s=-60)
    assert fault_ids(post(sb, TICKET, envelope(rst(), ticket_header(ticket)))) == ["00943"]


def test_ticket_for_another_user_is_00961(sb: Sandbox) -> None:
    ticket = sb.issue_vdg_ticket(user="rom0000")
    assert fault_ids(post(sb, TICKET, envelope(rst(), ticket_header(ticket)))) == ["00961"]
    assert sb.stats.logins_by_port == {}


def test_tampered_ticket_is_00942(sb: Sandbox) -> None:
    xml = base64.b64decode(sb.issue_vdg_ticket(valid_for_s=-60)).decode()
    # Prolong the expired ticket by a year, keeping its signature.
    later = re.sub(r"<ValidUntil>(\d{4})", lambda m: f"<ValidUntil>{int(m[1]) + 1}", xml)
    assert later != xml
    tampered = base64.b64encode(later.encode()).decode()
    assert fault_ids(post(sb, TICKET, envelope(rst(), ticket_header(tampered)))) == ["00942"]


@pytest.mark.parametrize(
    "ticket",
    ["kein base64!", base64.b64encode(b"kein XML").decode(), base64.b64encode(b"<Ticket/>").decode()],
)
def test_ticket_that_is_no_ticket_is_00942(sb: Sandbox, ticket: str) -> None:
    assert fault_ids(post(sb, TICKET, envelope(rst(), ticket_header(ticket)))) == ["00942"]


def test_ticket_of_another_sandbox_is_00942(sb: Sandbox) -> None:
    with Sandbox(mailbox="empty") as other:
        ticket = other.issue_vdg_ticket()
    assert fault_ids(post(sb, TICKET, envelope(rst(), ticket_header(ticket)))) == ["00942"]


@pytest.mark.parametrize(
    "header",
    [
        "",
        "<wsse:Security/>",
        ticket_header("dGVzdA==", value_type="bipro:SonstigesTicket"),
        username_header("rom4711", "Sandbox-Passwort-1"),
    ],
)
def test_ticket_port_without_a_ticket_is_00908(sb: Sandbox, header: str) -> None:
    assert fault_ids(post(sb, TICKET, envelope(rst(), header))) == ["00908"]


def test_ticket_port_checks_the_rst(sb: Sandbox) -> None:
    header = ticket_header(sb.issue_vdg_ticket())
    assert fault_ids(post(sb, TICKET, envelope(rst(token_type="urn:falsch"), header))) == ["00910"]


# == TGIC person login (ISTS) =====================================================================


def challenge_of(response: requests.Response) -> str:
    """The challenge's id (its wsa:MessageID) from the ISTS's step-1 reply, checking its form."""
    assert response.status_code == 200, response.text
    root = parse(response.content)
    assert root.findtext(".//soapenv:Header/wsa:Action", namespaces=NS) == RSTR_ISSUE_ACTION
    assert root.findtext(".//soapenv:Header/wsa:RelatesTo", namespaces=NS) == (
        "urn:uuid:11111111-2222-3333-4444-555555555555"
    )
    message_id = str(root.findtext(".//soapenv:Header/wsa:MessageID", namespaces=NS))
    assert re.match(r"^urn:uuid:[0-9a-f-]{36}$", message_id)
    rstr = root.find(".//soapenv:Body/wst13:RequestSecurityTokenResponse", NS)
    assert rstr is not None
    assert rstr.get("Context") == "tgic-login-1"
    assert rstr.findtext("wst14:InteractiveChallenge/wst14:Title", namespaces=NS) == TITLE
    text_challenge = rstr.find("wst14:InteractiveChallenge/wst14:TextChallenge", NS)
    assert text_challenge is not None
    assert dict(text_challenge.items()) == {"RefId": OTP, "Label": "mTAN", "MaxLen": "6", "HideText": "true"}
    return message_id


def step1(sb: Sandbox, **options: str) -> requests.Response:
    return post(sb, ISTS, ists_issue(**options), f'"{RST_ISSUE_ACTION}"')


def step2(sb: Sandbox, challenge: str, mtan: str, **options: str) -> requests.Response:
    return post(sb, ISTS, ists_answer(challenge, mtan, **options), RSTR_ISSUE_ACTION)


def test_tgic_login_gives_an_assertion_that_opens_the_transfer_service(sb: Sandbox) -> None:
    assert sb.last_mtan is None
    challenge = challenge_of(step1(sb))
    mtan = sb.last_mtan
    assert mtan is not None
    assert re.match(r"^\d{6}$", mtan)
    response = step2(sb, challenge, mtan)
    assert response.status_code == 200, response.text
    root = parse(response.content)
    rstr = root.find(
        ".//soapenv:Body/wst13:RequestSecurityTokenResponseCollection/wst13:RequestSecurityTokenResponse", NS
    )
    assert rstr is not None
    assert rstr.findtext("wst13:TokenType", namespaces=NS) == SAML2
    assertion = rstr.find("wst13:RequestedSecurityToken/saml2:EncryptedAssertion", NS)
    assert assertion is not None
    data = assertion.find("xenc:EncryptedData", NS)
    assert data is not None
    assert data.get("Type") == "http://www.w3.org/2001/04/xmlenc#Element"
    method = data.find("xenc:EncryptionMethod", NS)
    assert method is not None
    assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    cipher_value = str(data.findtext("xenc:CipherData/xenc:CipherValue", namespaces=NS))
    assert len(base64.b64decode(cipher_value, validate=True)) == 48
    created = str(rstr.findtext("wst13:Lifetime/wsu:Created", namespaces=NS))
    expires = str(rstr.findtext("wst13:Lifetime/wsu:Expires", namespaces=NS))
    assert created.endswith("Z")
    assert expires.endswith("Z")
    lifetime = dt.datetime.fromisoformat(expires[:-1]) - dt.datetime.fromisoformat(created[:-1])
    assert lifetime.total_seconds() == pytest.approx(3600, abs=1)
    # A client puts the EncryptedAssertion as it came into wsse:Security in place of the SCT.
    header = f"<wsse:Security>{etree.tostring(assertion).decode()}</wsse:Security>"
    assert listed_ids(list_with(sb, header)) == ["L-100", "L-120"]
    stats = sb.stats
    assert stats.logins_by_port == {"ists": 1}
    assert stats.requests_by_port["ists"] == 2
    assert (
        stats.requests_by_operation["IstsIssue"],
        stats.requests_by_operation["IstsChallengeResponse"],
    ) == (1, 1)
    assert stats.sts_requests == 0
    assert cipher_value in stats.token_ids


def test_ists_takes_an_empty_soap_action_and_a_bare_challenge_id(sb: Sandbox) -> None:
    challenge = challenge_of(post(sb, ISTS, ists_issue(), '""'))
    response = post(sb, ISTS, ists_answer(challenge.removeprefix("urn:uuid:"), str(sb.last_mtan)), '""')
    assert response.status_code == 200, response.text


def test_ists_soap_action_naming_something_else_is_invalid_request(sb: Sandbox) -> None:
    assert trust_fault(post(sb, ISTS, ists_issue(), '"urn:RequestSecurityToken"'))[0] == "InvalidRequest"


def test_each_challenge_has_its_own_mtan(sb: Sandbox) -> None:
    first = challenge_of(step1(sb))
    first_mtan = sb.last_mtan
    second = challenge_of(step1(sb))
    assert first != second
    assert step2(sb, second, str(sb.last_mtan)).status_code == 200
    assert step2(sb, first, str(first_mtan)).status_code == 200


def test_wrong_mtan_is_failed_authentication_and_uses_the_challenge_up(sb: Sandbox) -> None:
    challenge = challenge_of(step1(sb))
    mtan = str(sb.last_mtan)
    wrong = f"{(int(mtan) + 1) % 1_000_000:06d}"
    assert trust_fault(step2(sb, challenge, wrong)) == ("FailedAuthentication", "mTAN falsch")
    assert trust_fault(step2(sb, challenge, mtan))[0] == "InvalidRequest"
    assert sb.stats.failed_logins == 1
    assert sb.stats.auth_failures_by_user[TGIC_USER] == 1


def test_challenge_answered_twice_is_invalid_request(sb: Sandbox) -> None:
    challenge = challenge_of(step1(sb))
    assert step2(sb, challenge, str(sb.last_mtan)).status_code == 200
    assert trust_fault(step2(sb, challenge, str(sb.last_mtan)))[0] == "InvalidRequest"
    assert sb.stats.logins_by_port == {"ists": 1}


def test_unknown_challenge_is_invalid_request(sb: Sandbox) -> None:
    step1(sb)
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000000"
    assert trust_fault(step2(sb, unknown, str(sb.last_mtan)))[0] == "InvalidRequest"


def test_expired_challenge_is_expired_data() -> None:
    with Sandbox(mailbox="empty", mtan_lifetime_s=0) as sandbox:
        challenge = challenge_of(step1(sandbox))
        response = step2(sandbox, challenge, str(sandbox.last_mtan))
    assert trust_fault(response) == ("ExpiredData", "mTAN abgelaufen")


@pytest.mark.parametrize(
    ("user", "password"), [(TGIC_USER, "falsch"), ("TGIC-0000-0000", "Sandbox-Passwort-1")]
)
def test_wrong_tgic_credentials_are_failed_authentication(sb: Sandbox, user: str, password: str) -> None:
    assert trust_fault(step1(sb, user=user, password=password)) == (
        "FailedAuthentication",
        "Benutzerkennung oder Passwort falsch",
    )
    assert sb.last_mtan is None
    assert sb.stats.failed_logins == 1


def test_wrong_passwords_and_mtans_lock_the_tgic_user(sb: Sandbox) -> None:
    trust_fault(step1(sb, password="falsch-1"))
    challenge = challenge_of(step1(sb))
    trust_fault(step2(sb, challenge, "000000" if sb.last_mtan != "000000" else "000001"))
    trust_fault(step1(sb, password="falsch-2"))
    assert trust_fault(step1(sb)) == ("FailedAuthentication", "Benutzerkonto gesperrt")
    assert sb.stats.locked_users == {TGIC_USER}
    # The TGIC account is its own: the R+V password login is not locked with it.
    assert post(sb, STS, envelope(rst(), username_header(sb.username, sb.password))).status_code == 200


def test_right_password_alone_does_not_forgive_wrong_mtans() -> None:
    with Sandbox(mailbox="empty", lockout_after=2) as sandbox:
        for _ in range(2):
            challenge = challenge_of(step1(sandbox))
            mtan = str(sandbox.last_mtan)
            trust_fault(step2(sandbox, challenge, f"{(int(mtan) + 1) % 1_000_000:06d}"))
        assert trust_fault(step1(sandbox)) == ("FailedAuthentication", "Benutzerkonto gesperrt")


@pytest.mark.parametrize(
    "options",
    [
        {"applies_to": "http://www.tgic.de/Andere/prod/bipro/1.0"},
        {"token_type": "http://schemas.xmlsoap.org/ws/2005/02/sc/sct"},
        {"request_type": "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"},
        {"action": RSTR_ISSUE_ACTION},
    ],
    ids=["applies_to", "token_type", "request_type", "action"],
)
def test_wrong_rst_is_invalid_request_and_no_failed_login(sb: Sandbox, options: dict[str, str]) -> None:
    assert trust_fault(post(sb, ISTS, ists_issue(**options)))[0] == "InvalidRequest"
    assert sb.last_mtan is None
    assert sb.stats.failed_logins == 0


def test_answer_with_the_wrong_action_is_invalid_request(sb: Sandbox) -> None:
    challenge = challenge_of(step1(sb))
    response = post(sb, ISTS, ists_answer(challenge, str(sb.last_mtan), action=RST_ISSUE_ACTION))
    assert trust_fault(response)[0] == "InvalidRequest"


def test_malformed_or_foreign_requests_to_the_ists_are_invalid_request(sb: Sandbox) -> None:
    assert trust_fault(post(sb, ISTS, b"<kein XML"))[0] == "InvalidRequest"
    assert (
        trust_fault(post(sb, ISTS, envelope(rst(), username_header(TGIC_USER, sb.password))))[0]
        == "InvalidRequest"
    )
    # ... and the ISTS's request at the password STS is no Norm 410 operation there.
    assert fault_ids(post(sb, STS, ists_issue())) == ["00930"]


def test_configured_tgic_account_and_service_id() -> None:
    service_id = "http://www.tgic.de/RuV/test/bipro/2.0"
    with Sandbox(
        mailbox="empty", tgic_username="TGIC-1", tgic_password="TGIC-Passwort", tgic_service_id=service_id
    ) as sandbox:
        assert trust_fault(step1(sandbox, user="TGIC-1", password="TGIC-Passwort"))[0] == "InvalidRequest"
        assert trust_fault(step1(sandbox, user="TGIC-1", applies_to=service_id))[0] == "FailedAuthentication"
        challenge = challenge_of(
            step1(sandbox, user="TGIC-1", password="TGIC-Passwort", applies_to=service_id)
        )
        assert step2(sandbox, challenge, str(sandbox.last_mtan)).status_code == 200


def assertion_of(sb: Sandbox) -> str:
    challenge = challenge_of(step1(sb))
    response = step2(sb, challenge, str(sb.last_mtan))
    assert response.status_code == 200, response.text
    return str(parse(response.content).findtext(".//xenc:CipherValue", namespaces=NS))


def test_expired_assertion_is_00962() -> None:
    with Sandbox(mailbox="empty", saml_lifetime_s=0) as sandbox:
        assert fault_ids(list_with(sandbox, assertion_header(assertion_of(sandbox)))) == ["00962"]


def test_unknown_assertion_is_00962_and_none_at_all_00917(sb: Sandbox) -> None:
    unknown = base64.b64encode(bytes(48)).decode()
    assert fault_ids(list_with(sb, assertion_header(unknown))) == ["00962"]
    assert fault_ids(list_with(sb, "<wsse:Security/>")) == ["00917"]


def test_expire_tokens_ends_assertions_too(sb: Sandbox) -> None:
    cipher_value = assertion_of(sb)
    assert list_with(sb, assertion_header(cipher_value)).status_code == 200
    sb.expire_tokens()
    assert fault_ids(list_with(sb, assertion_header(cipher_value))) == ["00962"]


def test_an_assertion_is_no_sct_and_an_sct_no_assertion(sb: Sandbox) -> None:
    cipher_value = assertion_of(sb)
    assert fault_ids(list_with(sb, sct_header(cipher_value))) == ["00962"]
    token = sct_of(post(sb, STS, envelope(rst(), username_header(sb.username, sb.password))))
    assert fault_ids(list_with(sb, assertion_header(token))) == ["00962"]
