"""Norm 410 login: a rejected password is never sent again (R+V locks accounts)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bipro_ruv import AuthenticationError, Client, Password
from bipro_ruv.sandbox import Sandbox


def test_login_returns_expiry_not_the_token(client: Client) -> None:
    info = client.login()
    assert 590 <= info.lifetime_s <= 600
    assert "bipro:" not in repr(info)


def test_token_is_reused_across_calls(sandbox: Sandbox, client: Client) -> None:
    for _ in range(5):
        client.list_shipments()
    assert sandbox.stats.sts_requests == 1
    assert client.logins == 1


def test_wrong_password_is_sent_exactly_once(make_sandbox: Any) -> None:
    sb = make_sandbox(lockout_after=3)
    with Client(sb.username, "falsches-Passwort", base_url=sb.base_url) as client:
        for _ in range(20):
            with pytest.raises(AuthenticationError):
                client.login()
            with pytest.raises(AuthenticationError):
                client.list_shipments()
    assert sb.stats.sts_requests == 1
    assert sb.stats.failed_logins == 1
    assert sb.username not in sb.stats.locked_users


def test_lockout_counter_stays_below_the_limit_however_often_the_caller_retries(make_sandbox: Any) -> None:
    sb = make_sandbox(lockout_after=2)
    password = Password("falsches-Passwort")
    for _ in range(5):
        # A careless MVP building a new client per retry, reusing the same Password object.
        with (
            Client(sb.username, password, base_url=sb.base_url) as client,
            pytest.raises(AuthenticationError),
        ):
            client.list_shipments()
    assert sb.stats.failed_logins == 1 < 2
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        client.login()  # the account is not locked: the right password still works


def test_authentication_error_carries_the_meldung(make_sandbox: Any) -> None:
    sb = make_sandbox()
    with (
        Client(sb.username, "Falsches-Passwort-7", base_url=sb.base_url) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.login()
    assert [m.code for m in info.value.messages] == ["00961"]
    assert "00961" in str(info.value)


def test_locked_account_is_reported_and_not_retried(make_sandbox: Any) -> None:
    sb = make_sandbox(lockout_after=1)
    with (
        Client(sb.username, "Falsches-Passwort-7", base_url=sb.base_url) as client,
        pytest.raises(AuthenticationError),
    ):
        client.login()
    with Client(sb.username, sb.password, base_url=sb.base_url) as client:
        with pytest.raises(AuthenticationError) as info:
            client.login()
        with pytest.raises(AuthenticationError):
            client.login()
    assert "00964" in {m.code for m in info.value.messages}
    assert sb.stats.sts_requests == 2


def test_password_never_shows_in_repr_or_str() -> None:
    password = Password("Geheim-123")
    assert "Geheim" not in repr(password)
    assert "Geheim" not in str(password)


class _Refusing(http.server.BaseHTTPRequestHandler):
    status = 401
    hits = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b"<html><body>Unauthorized</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(params=[401, 403])
def refusing_sts(request: pytest.FixtureRequest) -> Iterator[tuple[str, type[_Refusing]]]:
    handler = type("Handler", (_Refusing,), {"status": request.param, "hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_401_and_403_from_the_sts_block_the_password(refusing_sts: tuple[str, type[_Refusing]]) -> None:
    url, handler = refusing_sts
    with Client("rom1", "pw-abc", base_url=url) as client:
        for _ in range(3):
            with pytest.raises(AuthenticationError, match=f"HTTP {handler.status}"):
                client.login()
    assert handler.hits == 1
