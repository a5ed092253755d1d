"""Status/Meldung are data; NOK and SOAP Faults become one exception tree (Norm 250)."""

from __future__ import annotations

import pytest

from bipro_ruv import (
    AccountLockedError,
    AuthenticationError,
    PasswordExpiredError,
    ServiceError,
    SessionExpiredError,
    WrongPasswordError,
)
from bipro_ruv._wire.soap import read_envelope
from bipro_ruv._wire.xml import parse_xml
from bipro_ruv.auth.sts import parse_rstr
from bipro_ruv.models import MessageKind, Status
from bipro_ruv.transfer._parse import parse_list_reply
from tests.conftest import fixture_file

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NAC = "http://www.bipro.net/namespace/nachrichten"


def fault(code: str, text: str = "msg", *, prefix: str = "n") -> bytes:
    return f"""<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><faultcode>s:Server</faultcode>
    <faultstring>Fehler</faultstring><detail><{prefix}:BiproException xmlns:{prefix}="{NAC}">
    <{prefix}:BiPROVersion>2.6.2.1.0</{prefix}:BiPROVersion><{prefix}:Status>
    <{prefix}:ProzessID>P-1</{prefix}:ProzessID><{prefix}:StatusID>NOK</{prefix}:StatusID>
    <{prefix}:Meldung><{prefix}:ArtID>Fehler</{prefix}:ArtID><{prefix}:MeldungID>{code}</{prefix}:MeldungID>
    <{prefix}:Text>{text}</{prefix}:Text></{prefix}:Meldung></{prefix}:Status></{prefix}:BiproException>
    </detail></s:Fault></s:Body></s:Envelope>""".encode()


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("00961", WrongPasswordError),
        ("00964", AccountLockedError),
        ("00965", AccountLockedError),
        ("00966", PasswordExpiredError),
        ("00960", SessionExpiredError),
        ("00962", SessionExpiredError),
        ("04003", ServiceError),
        ("99999", ServiceError),
    ],
)
def test_fault_code_selects_the_exception(code: str, error: type[ServiceError]) -> None:
    with pytest.raises(error) as info:
        read_envelope(fault(code), http_status=500)
    assert type(info.value) is error
    assert info.value.process_id == "P-1"
    assert [m.code for m in info.value.messages] == [code]


def test_fault_prefix_does_not_matter() -> None:
    with pytest.raises(AuthenticationError):
        read_envelope(fault("00961", prefix="xyz"), http_status=500)


def test_exception_message_carries_meldung_text_and_prozess_id() -> None:
    with pytest.raises(AuthenticationError) as info:
        read_envelope(fault("00961", "Benutzerkennung oder Passwort falsch"), http_status=500)
    assert "00961 Benutzerkennung oder Passwort falsch" in str(info.value)
    assert "P-1" in str(info.value)


def test_nok_with_http_200_raises_from_the_same_tree() -> None:
    reply = f"""<s:Envelope xmlns:s="{SOAP}"><s:Body>
      <t:listShipmentsResponse xmlns:t="http://www.bipro.net/namespace/transfer"><t:Response>
      <n:Status xmlns:n="{NAC}"><n:StatusID>NOK</n:StatusID><n:Meldung><n:ArtID>Fehler</n:ArtID>
      <n:MeldungID>04005</n:MeldungID><n:Text>Granularitaet</n:Text></n:Meldung></n:Status>
      </t:Response></t:listShipmentsResponse></s:Body></s:Envelope>""".encode()
    payload = read_envelope(reply)
    with pytest.raises(ServiceError) as info:
        parse_list_reply(payload)
    assert info.value.messages[0].code == "04005"


def test_fault_without_bipro_exception_is_still_a_service_error() -> None:
    reply = f"""<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><faultcode>s:Client</faultcode>
      <faultstring>Action ist nicht vorhanden!</faultstring></s:Fault></s:Body></s:Envelope>""".encode()
    with pytest.raises(ServiceError, match="Action ist nicht vorhanden") as info:
        read_envelope(reply, http_status=500)
    assert info.value.fault_code == "s:Client"
    assert info.value.messages == ()


@pytest.mark.parametrize(
    ("status", "ok"),
    [
        (Status(status_id="OK"), True),
        (Status(status_id="NOK"), False),
        (Status(status_id="00000"), True),
        (Status(status_id="00001"), False),
    ],
)
def test_status_ok(status: Status, ok: bool) -> None:
    assert status.ok is ok


# -- third-party messages (../shared/fixtures/bipro) ------------------------------------


def test_third_party_error_response_parses() -> None:
    data = fixture_file("bipro", "response_error.xml").read_bytes()
    with pytest.raises(ServiceError) as info:
        read_envelope(data, http_status=500)
    assert type(info.value) is ServiceError
    assert info.value.status is not None
    assert info.value.status.status_id == "NOK"
    assert (info.value.messages[0].kind, info.value.messages[0].kind_raw) == (MessageKind.ERROR, "Fehler")
    assert info.value.messages[0].text == "${msg}"
    assert info.value.fault_code == "soap-env:Server"


def test_third_party_sts_response_parses() -> None:
    data = fixture_file("bipro", "sts_response.xml").read_bytes()
    identifier, created, expires = parse_rstr(read_envelope(data))
    assert identifier == "bipro:xxx"
    assert (created, expires) == ("2022-10-01T15:57:44", "2022-10-01T16:27:44")


def test_parse_xml_accepts_every_third_party_bipro_file() -> None:
    for name in (
        "sts_response.xml",
        "response_error.xml",
        "response_bipro430_list.xml",
        "response_bipro440.xml",
    ):
        assert parse_xml(fixture_file("bipro", name).read_bytes()) is not None
