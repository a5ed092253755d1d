"""Transport policy: https only (loopback excepted), timeouts always, no WSDL from the net."""

from __future__ import annotations

import pytest

from bipro_ruv import Client, ConfigurationError, InsecureTransportError, Timeouts, TransportError
from bipro_ruv._transport import HttpTransport, check_url, parse_retry_after
from bipro_ruv.sandbox import Sandbox


@pytest.mark.parametrize(
    "url",
    ["https://webservice.ruv.de/bipro", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/x"],
)
def test_allowed_urls(url: str) -> None:
    check_url(url, allow_insecure_http=False)


@pytest.mark.parametrize(
    "url", ["http://webservice.ruv.de/bipro", "http://10.0.0.5/x", "http://127.example/x"]
)
def test_plain_http_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(InsecureTransportError):
        check_url(url, allow_insecure_http=False)


def test_plain_http_with_explicit_opt_in() -> None:
    check_url("http://test.example/x", allow_insecure_http=True)


def test_other_schemes_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        check_url("ftp://example.org/x", allow_insecure_http=True)


def test_client_refuses_insecure_base_url_before_sending_anything() -> None:
    with (
        Client("rom1", "pw", base_url="http://bipro.example") as client,
        pytest.raises(InsecureTransportError),
    ):
        client.login()


def test_tls_verification_cannot_be_switched_off() -> None:
    with pytest.raises(ConfigurationError):
        HttpTransport(verify=False)


@pytest.mark.parametrize(("connect", "read"), [(0, 10), (10, 0), (-1, 5)])
def test_timeouts_must_be_positive(connect: float, read: float) -> None:
    with pytest.raises(ConfigurationError):
        Timeouts(connect=connect, read=read)


def test_schema_loading_never_uses_the_network() -> None:
    with HttpTransport() as transport, pytest.raises(ConfigurationError, match="offline"):
        transport.load("https://www.bipro.net/xsd/bipro-nachrichten.xsd")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ],
)
def test_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_proxy_settings_from_the_environment_are_honoured(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 on loopback refuses connections: a request that goes through the proxy fails.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with (
        Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client,
        pytest.raises(TransportError),
    ):
        client.login()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client:
        assert client.login().lifetime_s > 0
