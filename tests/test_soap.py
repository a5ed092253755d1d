"""The SOAP layer: our own WSDL, parsed once, envelopes as the profile asks."""

from __future__ import annotations

from lxml import etree

from bipro_ruv import Client, SoapActionStyle, get_profile
from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.soap import SoapEndpoint, _zeep_client, wsdl_dir
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv.auth import SecurityContextTokenHeader
from bipro_ruv.sandbox import Sandbox

SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"


def test_wsdl_files_are_ours_and_local() -> None:
    folder = wsdl_dir()
    names = sorted(p.name for p in folder.iterdir() if p.suffix in (".wsdl", ".xsd"))
    assert names == [
        "bipro-allgemein.xsd",
        "bipro-extranet.xsd",
        "bipro-nachrichten.xsd",
        "bipro-transfer.xsd",
        "extranet.wsdl",
        "sts.wsdl",
        "transfer.wsdl",
        "ws-trust-200502.xsd",
    ]
    for path in folder.glob("*.xsd"):
        assert "bipro-ruv's own" in path.read_text("utf-8")


def test_each_wsdl_is_parsed_once_per_process() -> None:
    for kind in ServiceKind:
        assert _zeep_client(kind) is _zeep_client(kind)


def test_envelope_carries_only_the_sct_in_the_security_header() -> None:
    with HttpTransport() as transport:
        endpoint = SoapEndpoint(ServiceKind.TRANSFER, get_profile("ruv").transfer, transport)
        data = endpoint.build(
            "listShipments", SecurityContextTokenHeader("bipro:4711"), Request={"BiPROVersion": "2.6.2.1.0"}
        )
    root = etree.fromstring(data)
    security = root.find(
        f"{SOAP}Header/{{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}}Security"
    )
    assert security is not None
    assert [etree.QName(c).localname for c in security] == ["SecurityContextToken"]
    assert root.findtext(".//{http://schemas.xmlsoap.org/ws/2005/02/sc}Identifier") == "bipro:4711"
    assert root.findtext(".//{http://www.bipro.net/namespace/nachrichten}BiPROVersion") == "2.6.2.1.0"


def test_sts_request_sends_the_password_as_password_text(sandbox: Sandbox, client: Client) -> None:
    client.login()
    headers = sandbox.stats.last_headers["RequestSecurityToken"]
    assert headers["SOAPAction"] == '"urn:RequestSecurityToken"'
    assert headers["Content-Type"].startswith("text/xml")


def test_empty_soapaction_style_from_the_profile(sandbox: Sandbox) -> None:
    profile = get_profile("ruv").model_copy(update={"soap_action_style": SoapActionStyle.EMPTY})
    with Client(sandbox.username, sandbox.password, profile=profile, base_url=sandbox.base_url) as client:
        client.list_shipments()
    assert sandbox.stats.last_headers["listShipments"]["SOAPAction"] == '""'
