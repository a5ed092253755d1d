"""Specification of Norm 440 ``getLinks`` and of ``Client.deep_link``, offline and online."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import ValidationError

from bipro_ruv import Client, ProtocolError, ServiceError, SessionExpiredError
from bipro_ruv._wire.soap import read_envelope
from bipro_ruv.deeplink import DEFAULT_PORTAL_LINKS, DeepLinkKind, PortalLinks
from bipro_ruv.extranet import (
    DeepLinkSource,
    Link,
    PartnerQuery,
    contract_search,
    mask_url,
    parse_links_reply,
    partner_search,
)
from bipro_ruv.sandbox import FaultKind, Sandbox
from bipro_ruv.vsnr import InvalidVsnr
from tests.conftest import fixture_file

LINKS = PortalLinks(
    contract_url="https://portal.example/vertrag/{business_area}/{number}",
    search_url="https://portal.example/suche?q={vsnr}",
)
# Port 9 (discard) is closed on loopback: a client that sends anything fails loudly.
NOWHERE = "http://127.0.0.1:9"


def links_reply(status_id: str, art: str | None = None, meldung_id: str = "03000", links: str = "") -> bytes:
    art_element = f"<nam:ArtID>{art}</nam:ArtID>" if art else ""
    return f"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
        xmlns:nam="http://www.bipro.net/namespace"><soapenv:Body><nam:getLinksResponse>
        <nam:Response Version="1.0.1.0"><nam:Status><nam:StatusID>{status_id}</nam:StatusID>
        <nam:Meldung>{art_element}<nam:MeldungID>{meldung_id}</nam:MeldungID><nam:Text>t</nam:Text></nam:Meldung>
        </nam:Status>{links}</nam:Response></nam:getLinksResponse></soapenv:Body></soapenv:Envelope>""".encode()


def link_xml(url: str, target: str = "001", description: str = "Vertrag") -> str:
    return (
        f"<nam:Link><nam:URL>{url}</nam:URL><nam:ZielID>{target}</nam:ZielID>"
        f"<nam:Beschreibung>{description}</nam:Beschreibung></nam:Link>"
    )


# --- the reply, read without a network ------------------------------------------------------------


def test_the_third_party_getlinks_reply_parses_to_its_two_links() -> None:
    payload = read_envelope(fixture_file("bipro", "response_bipro440.xml").read_bytes())
    links, status = parse_links_reply(payload)
    assert [(link.url, link.target, link.description) for link in links] == [
        ("https://www.bipro.net", "001", "BiPRO Startseite"),
        ("https://bipro.net/rclassic-normen/#normen", "999", "BiPRO RClassic Normen"),
    ]
    assert (status.ok, status.status_id, status.codes()) == (True, "00000", ("03000",))


@pytest.mark.parametrize(
    ("status_id", "art", "meldung_id", "error"),
    [
        ("00000", None, "03000", None),
        ("00000", "Hinweis", "03000", None),
        ("OK", None, "03000", None),
        ("00001", "Fehler", "00001", ServiceError),
        ("00001", None, "00001", ServiceError),
        ("00000", "Fehler", "00001", ServiceError),
        ("NOK", "Fehler", "00930", ServiceError),
        ("00001", "Fehler", "00962", SessionExpiredError),
    ],
)
def test_only_an_ok_status_returns_links(
    status_id: str, art: str | None, meldung_id: str, error: type[ServiceError] | None
) -> None:
    payload = read_envelope(
        links_reply(status_id, art, meldung_id, f"<nam:Links>{link_xml('https://a.example/')}</nam:Links>")
    )
    if error is None:
        links, _ = parse_links_reply(payload)
        assert [link.url for link in links] == ["https://a.example/"]
    else:
        with pytest.raises(error) as raised:
            parse_links_reply(payload)
        assert [m.code for m in raised.value.messages] == [meldung_id]


def test_an_ok_reply_without_links_is_an_empty_list() -> None:
    links, status = parse_links_reply(read_envelope(links_reply("00000")))
    assert (links, status.ok) == ([], True)


def test_links_directly_under_response_are_read_too() -> None:
    links, _ = parse_links_reply(read_envelope(links_reply("00000", links=link_xml("https://a.example/x"))))
    assert [link.url for link in links] == ["https://a.example/x"]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "/portal/vertrag?token=geheim", "data:text/html,x"]
)
def test_a_link_that_is_no_web_url_is_the_peers_protocol_error(url: str) -> None:
    payload = read_envelope(links_reply("00000", links=f"<nam:Links>{link_xml(url)}</nam:Links>"))
    with pytest.raises(ProtocolError, match="Link 1") as raised:
        parse_links_reply(payload)
    assert "geheim" not in str(raised.value)


def test_a_link_without_url_is_the_peers_protocol_error() -> None:
    payload = read_envelope(
        links_reply("00000", links="<nam:Links><nam:Link><nam:ZielID>1</nam:ZielID></nam:Link></nam:Links>")
    )
    with pytest.raises(ProtocolError, match="no URL"):
        parse_links_reply(payload)


# --- models and request builders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://portal.example/sso?token=geheim", "https://portal.example/sso?***"),
        ("https://portal.example/sso#token=geheim", "https://portal.example/sso#***"),
        ("https://user:geheim@portal.example/a", "https://***@portal.example/a"),
        ("https://portal.example/vertrag", "https://portal.example/vertrag"),
    ],
)
def test_a_link_url_is_masked_in_reprs_but_kept_intact(url: str, masked: str) -> None:
    link = Link(url=url, target="001", description="Vertrag")
    assert mask_url(url) == masked
    assert link.url == url
    assert masked in repr(link)
    assert "geheim" not in repr(link) + str(link)


def test_a_rejected_url_does_not_appear_in_the_validation_error() -> None:
    with pytest.raises(ValidationError) as raised:
        Link(url="javascript:open('https://x.example/?token=geheim')")
    assert "geheim" not in str(raised.value)


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("32123456789", "32123456789"),
        ("32 123 456 789", "32123456789"),
        ("123/32/123456789", "32123456789"),
        ("00000032123456789", "32123456789"),
        ("123456789", "123456789"),
        ("70/850632", "70/850632"),
    ],
)
def test_a_contract_search_sends_the_canonical_number(written: str, sent: str) -> None:
    assert contract_search(written) == {"Vertragsuche": {"Versicherungsscheinnummer": sent}}


def test_a_partner_search_sends_only_the_criteria_given() -> None:
    query = PartnerQuery(last_name=" Mustermann ", city="Wiesbaden", first_name="  ")
    assert partner_search(query) == {"Partnersuche": {"Name": "Mustermann", "Ort": "Wiesbaden"}}


def test_a_partner_search_needs_a_criterion() -> None:
    with pytest.raises(ValidationError, match="at least one criterion"):
        PartnerQuery(last_name=" ")


# --- get_links against the sandbox ----------------------------------------------------------------


def _page(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


@pytest.mark.parametrize(
    ("written", "path", "target", "canonical"),
    [
        ("18560093318", "/portal/vertrag", "Vertrag", "18560093318"),
        ("18 560 093 318", "/portal/vertrag", "Vertrag", "18560093318"),
        ("123/18/560093318", "/portal/vertrag", "Vertrag", "18560093318"),
        ("560093318", "/portal/suche", "Suche", "560093318"),
    ],
)
def test_get_links_for_a_contract_returns_a_portal_link_that_opens(
    client: Client, sandbox: Sandbox, written: str, path: str, target: str, canonical: str
) -> None:
    [link] = client.get_links(vsnr=written)
    assert (link.url, link.target) == (sandbox.portal_url(canonical), target)
    assert urlsplit(link.url).path == path
    page = _page(link.url)
    assert page.status_code == 200
    assert canonical in page.text


@pytest.mark.parametrize(
    ("query", "contracts"),
    [
        (PartnerQuery(last_name="Mustermann"), ["30418820375", "10330178864"]),
        (PartnerQuery(last_name="Mustermann", first_name="Erika"), ["30418820375"]),
        (PartnerQuery(partner_number="4000100011"), ["18560093318"]),
        (PartnerQuery(last_name="Niemand"), []),
    ],
)
def test_a_partner_search_returns_the_search_mask_and_the_partners_contracts(
    client: Client, query: PartnerQuery, contracts: list[str]
) -> None:
    search, *found = client.get_links(partner=query)
    assert (urlsplit(search.url).path, search.target) == ("/portal/suche", "Suche")
    assert parse_qs(urlsplit(search.url).query) == {
        element: [value] for element, value in partner_search(query)["Partnersuche"].items()
    }
    assert [parse_qs(urlsplit(link.url).query)["vsnr"][0] for link in found] == contracts
    assert {link.target for link in found} <= {"Vertrag"}


def test_get_links_raises_when_the_service_says_nok(client: Client, sandbox: Sandbox) -> None:
    sandbox.inject(FaultKind.NOK, operation="getLinks")
    with pytest.raises(ServiceError) as raised:
        client.get_links(vsnr="18560093318")
    assert "00930" in [m.code for m in raised.value.messages]


@pytest.mark.parametrize(
    "arguments",
    [{}, {"vsnr": "18560093318", "partner": PartnerQuery(last_name="Mustermann")}],
)
def test_get_links_takes_exactly_one_search(
    client: Client, sandbox: Sandbox, arguments: dict[str, Any]
) -> None:
    with pytest.raises(TypeError, match="exactly one"):
        client.get_links(**arguments)
    assert sandbox.stats.requests_by_operation["getLinks"] == 0


def test_get_links_refuses_an_invalid_number_before_sending(client: Client, sandbox: Sandbox) -> None:
    with pytest.raises(InvalidVsnr):
        client.get_links(vsnr="B-XY 123")
    assert sandbox.stats.requests_by_operation["getLinks"] == 0


def test_get_links_never_logs_a_url(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        [link] = client.get_links(vsnr="18560093318")
    assert "getLinks" in caplog.text
    assert urlsplit(link.url).query not in caplog.text


# --- Client.deep_link: R+V's rules, offline ----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "kind", "url"),
    [
        ("32123456789", DeepLinkKind.CONTRACT, "https://portal.example/vertrag/32/123456789"),
        ("32 123 456 789", DeepLinkKind.CONTRACT, "https://portal.example/vertrag/32/123456789"),
        ("123456789", DeepLinkKind.SEARCH, "https://portal.example/suche?q=123456789"),
        ("123/32/123456789", DeepLinkKind.CONTRACT, "https://portal.example/vertrag/32/123456789"),
        ("12332123456789", DeepLinkKind.CONTRACT, "https://portal.example/vertrag/32/123456789"),
        ("70/850632", DeepLinkKind.SEARCH, "https://portal.example/suche?q=70%2F850632"),
    ],
)
def test_offline_the_client_follows_the_rules_with_its_templates_and_sends_nothing(
    written: str, kind: DeepLinkKind, url: str
) -> None:
    with Client("rom4711", "unused", base_url=NOWHERE, portal_links=LINKS) as client:
        link = client.deep_link(written)
    assert (link.kind, link.url, link.source) == (kind, url, DeepLinkSource.OFFLINE)
    assert (link.target, link.description) == (None, None)


def test_without_portal_links_the_profile_templates_apply() -> None:
    with Client("rom4711", "unused", base_url=NOWHERE) as client:
        assert client.profile.portal == DEFAULT_PORTAL_LINKS
        assert client.deep_link("32123456789").url == "https://online.ruv.de/makler/vertrag?vsnr=32123456789"


def test_portal_links_replace_only_the_profile_templates() -> None:
    with Client("rom4711", "unused", profile="kravag", base_url=NOWHERE, portal_links=LINKS) as client:
        assert (client.profile.portal, client.profile.vu_number) == (LINKS, "5058")


def test_an_invalid_number_raises_invalid_vsnr_offline() -> None:
    with Client("rom4711", "unused", base_url=NOWHERE) as client, pytest.raises(InvalidVsnr):
        client.deep_link("Kfz-Kennzeichen B-XY 123")


# --- Client.deep_link: online through getLinks -------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "kind", "path"),
    [
        ("18560093318", DeepLinkKind.CONTRACT, "/portal/vertrag"),
        ("560093318", DeepLinkKind.SEARCH, "/portal/suche"),
        ("123/18/560093318", DeepLinkKind.CONTRACT, "/portal/vertrag"),
        ("123-18560093318", DeepLinkKind.CONTRACT, "/portal/vertrag"),
    ],
)
def test_online_the_link_comes_from_getlinks(
    client: Client, sandbox: Sandbox, written: str, kind: DeepLinkKind, path: str
) -> None:
    link = client.deep_link(written, online=True)
    assert (link.kind, link.source, urlsplit(link.url).path) == (kind, DeepLinkSource.GET_LINKS, path)
    assert link.url == sandbox.portal_url(str(link.vsnr))
    assert link.target is not None
    assert urlsplit(link.url).query not in repr(link)
    assert sandbox.stats.requests_by_operation["getLinks"] == 1


def test_online_without_a_link_in_the_answer_the_offline_template_is_used(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(client.extranet, "get_links", lambda **_: [])
    with caplog.at_level(logging.WARNING, logger="bipro_ruv"):
        link = client.deep_link("32123456789", online=True)
    assert (link.source, link.kind, link.url) == (
        DeepLinkSource.OFFLINE,
        DeepLinkKind.CONTRACT,
        "https://online.ruv.de/makler/vertrag?vsnr=32123456789",
    )
    assert "without a link" in caplog.text


def test_online_an_error_status_raises_instead_of_falling_back(client: Client, sandbox: Sandbox) -> None:
    sandbox.inject(FaultKind.NOK, operation="getLinks")
    with pytest.raises(ServiceError):
        client.deep_link("18560093318", online=True)


def test_online_an_invalid_number_raises_before_sending(client: Client, sandbox: Sandbox) -> None:
    with pytest.raises(InvalidVsnr):
        client.deep_link("1856009331", online=True)
    assert sandbox.stats.requests_by_operation["getLinks"] == 0
