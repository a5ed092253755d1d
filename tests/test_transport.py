"""Transport policy: https only (loopback excepted), timeouts always, no WSDL from the net."""

from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import ClassVar

import pytest
import requests

from bipro_ruv import (
    Client,
    ConfigurationError,
    InsecureTransportError,
    RedirectRefusedError,
    ReplyLimits,
    ReplyTooLargeError,
    Timeouts,
    TransportError,
)
from bipro_ruv._wire.deadline import WATCHDOG
from bipro_ruv._wire.policy import check_url, parse_retry_after
from bipro_ruv._wire.reply import Exchange
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox


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


def test_proxy_settings_from_the_environment_are_honoured_with_trust_env(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 on loopback refuses connections: a request that goes through the proxy fails.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = sandbox.base_url
    with (
        Client(sandbox.username, sandbox.password, base_url=url, trust_env=True) as client,
        pytest.raises(TransportError),
    ):
        client.login()
    assert sandbox.stats.sts_requests == 0
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with Client(sandbox.username, sandbox.password, base_url=url, trust_env=True) as client:
        assert client.login().lifetime_s > 0


def test_the_environment_is_ignored_without_trust_env(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    with Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client:
        assert client.login().lifetime_s > 0
        assert client._connection.transport.verify is True
    with HttpTransport(trust_env=True) as transport:
        assert transport.verify == "/nonexistent/ca.pem"


# --- the prepared-request fast path -------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Loopback server that records each request and may set a cookie."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    set_cookie: ClassVar[str | None] = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        if type(self).set_cookie:
            self.send_header("Set-Cookie", type(self).set_cookie)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"<a/>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"seen": [], "set_cookie": None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/svc", handler
    finally:
        server.shutdown()
        server.server_close()


def test_reused_prepared_request_sends_what_session_post_sends(
    recorder: tuple[str, type[_Recorder]],
) -> None:
    url, handler = recorder
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:getShipment"'}
    with HttpTransport() as transport:
        for body in (b"<first/>", b"<second-longer/>"):
            transport.send(url, body, headers).close()
        transport.session.post(url, data=b"<third/>", headers=headers, timeout=5).close()
    (fast1, body1), (fast2, body2), (slow, body3) = handler.seen
    assert (body1, body2, body3) == (b"<first/>", b"<second-longer/>", b"<third/>")
    assert fast2["content-length"] == str(len(b"<second-longer/>"))
    for fast in (fast1, fast2):
        assert {k: v for k, v in fast.items() if k != "content-length"} == {
            k: v for k, v in slow.items() if k != "content-length"
        }
    assert fast1["user-agent"].startswith("bipro-ruv/")
    assert fast1["soapaction"] == '"urn:getShipment"'


def test_a_cookie_the_server_sets_is_sent_back(recorder: tuple[str, type[_Recorder]]) -> None:
    # Load balancers pin a session with a cookie; the cached request must not lose it.
    url, handler = recorder
    handler.set_cookie = "LB=node-2; Path=/"
    with HttpTransport() as transport:
        transport.send(url, b"<a/>", {"Content-Type": "text/xml"}).close()
        transport.send(url, b"<b/>", {"Content-Type": "text/xml"}).close()
    assert "cookie" not in handler.seen[0][0]
    assert handler.seen[1][0]["cookie"] == "LB=node-2"


def test_a_session_of_the_caller_is_used_as_given(recorder: tuple[str, type[_Recorder]]) -> None:
    url, handler = recorder
    session = requests.Session()
    session.headers["X-Vendor"] = "mvp-1"
    session.auth = ("proxy-user", "proxy-secret")
    with HttpTransport(session) as transport:
        transport.send(url, b"<a/>", {"Content-Type": "text/xml"}).close()
    assert handler.seen[0][0]["x-vendor"] == "mvp-1"
    assert handler.seen[0][0]["authorization"].startswith("Basic ")
    session.close()


def test_a_deadline_passing_after_the_body_was_read_spares_the_pooled_connection(
    recorder: tuple[str, type[_Recorder]],
) -> None:
    # Read to its end, a reply gives its connection back to the pool before the exchange is
    # closed; the next exchange (in fetch: another worker's) takes it. The first exchange's
    # deadline passing then must not shut down the second one's socket.
    url, _ = recorder
    with HttpTransport() as transport:
        first = transport.send(url, b"<a/>", {"Content-Type": "text/xml"})
        assert first.read() == b"<a/>"
        second = transport.send(url, b"<b/>", {"Content-Type": "text/xml"})
        first._alarm.fire()  # what the watchdog does at the first exchange's deadline
        assert second.read() == b"<a/>"
        second.close()
        first.close()


def test_the_deadline_reaches_a_socket_wrapped_for_tls_inside_tls() -> None:
    # Through an https:// proxy, urllib3 wraps the socket in an SSLTransport (its .socket).
    ours, peer = socket.socketpair()
    with ours, peer:
        alarm = WATCHDOG.arm(600)
        alarm.attach(SimpleNamespace(sock=SimpleNamespace(socket=ours)))
        alarm.fire()
        alarm.disarm()
        assert peer.recv(1) == b""  # shut down: the peer sees the end, a blocked read returns


@pytest.mark.parametrize(
    ("read", "setting"),
    [
        (lambda exchange: exchange.read(), "ReplyLimits.xml_bytes"),
        (lambda exchange: b"".join(exchange.chunks()), "ReplyLimits.body_bytes"),
    ],
    ids=["xml", "body"],
)
def test_a_size_error_names_the_limit_that_was_hit_even_when_both_are_equal(
    recorder: tuple[str, type[_Recorder]], read: Callable[[Exchange], bytes], setting: str
) -> None:
    url, _ = recorder  # its replies are 4 bytes long
    with HttpTransport(limits=ReplyLimits(xml_bytes=3, body_bytes=3)) as transport:
        exchange = transport.send(url, b"<a/>", {"Content-Type": "text/xml"})
        with exchange, pytest.raises(ReplyTooLargeError, match=re.escape(f"({setting})")) as info:
            read(exchange)
    assert info.value.limit_name == setting


def test_a_redirect_to_an_unreadable_location_is_refused_as_any_other(sandbox: Sandbox) -> None:
    sandbox.inject(
        FaultRule(FaultKind.REDIRECT, operation="RequestSecurityToken", location="http://[x/y?pw=1")
    )
    with (
        Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client,
        pytest.raises(RedirectRefusedError, match="an unreadable Location") as info,
    ):
        client.login()
    assert (info.value.status_code, info.value.target_host) == (307, None)
    assert "pw=" not in str(info.value)


@pytest.fixture
def endless_redirect() -> Iterator[str]:
    """A server answering 307 with a chunked body that never ends (until the test is over)."""
    listener = socket.create_server(("127.0.0.1", 0))
    over = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.example/bipro\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
            )
            over.wait(30)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/bipro"
    finally:
        over.set()
        thread.join()
        listener.close()


def test_a_redirect_is_refused_before_its_body_is_read(endless_redirect: str) -> None:
    # requests reads a redirect's body whole even with allow_redirects=False (for
    # Response.next), in memory and past every ReplyLimits: it must not get the chance.
    with (
        HttpTransport(timeouts=Timeouts(connect=2, read=1, reply=5)) as transport,
        pytest.raises(RedirectRefusedError, match=r"elsewhere\.example"),
    ):
        transport.send(endless_redirect, b"<a/>", {"Content-Type": "text/xml"})
