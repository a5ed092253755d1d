"""One service object per BiPRO norm on one connection; login methods as values (issue 10)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pytest
from pydantic import SecretStr

from bipro_ruv import Client, ExtranetService, Settings, TransferService, UsernamePassword
from bipro_ruv.auth import Connection
from bipro_ruv.sandbox import Sandbox


def test_each_norm_is_one_service_object_of_the_client(sandbox: Sandbox, tmp_path: Path) -> None:
    with Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client:
        assert isinstance(client.transfer, TransferService)
        assert isinstance(client.extranet, ExtranetService)
        assert client.transfer is client.transfer
        shipments = client.transfer.list_shipments()
        assert [s.id for s in client.list_shipments()] == [s.id for s in shipments]  # the delegate
        report = client.transfer.fetch_open_documents(tmp_path / "inbox")
        assert report.ok
        assert client.extranet.deep_link("44090312655").url
        assert client.logins == 1  # both services share the connection and its token


def test_credentials_are_a_value(sandbox: Sandbox) -> None:
    credentials = UsernamePassword(sandbox.username, SecretStr(sandbox.password))
    assert sandbox.password not in repr(credentials)
    with Client(credentials=credentials, base_url=sandbox.base_url) as client:
        assert client.login().lifetime_s > 0
        assert client.username == sandbox.username


@pytest.mark.parametrize(
    "arguments",
    [
        {"username": "rom4711", "credentials": UsernamePassword("rom4711", "geheim-1")},
        {"password": "geheim-1", "credentials": UsernamePassword("rom4711", "geheim-1")},
        {"username": "rom4711"},
        {"password": "geheim-1"},
        {},
    ],
    ids=["username-and-credentials", "password-and-credentials", "no-password", "no-username", "nothing"],
)
def test_either_username_and_password_or_credentials(arguments: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="credentials="):
        Client(**arguments)  # type: ignore[arg-type]


def test_settings_describe_the_login_method(sandbox: Sandbox) -> None:
    settings = Settings(username=sandbox.username, password=sandbox.password, base_url=sandbox.base_url)
    assert settings.login == "password"
    credentials = settings.credentials()
    assert isinstance(credentials, UsernamePassword)
    assert credentials.username == sandbox.username
    with Client.from_settings(settings) as client:
        assert client.login().lifetime_s > 0


class _EchoService:
    """A service of a later norm: all it needs is the client's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection


class _ClientWithEcho(Client):
    @cached_property
    def echo(self) -> _EchoService:  # the one registration line a new service needs
        return _EchoService(self._connection)


def test_a_new_service_is_one_registration_on_the_same_connection(sandbox: Sandbox) -> None:
    with _ClientWithEcho(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client:
        client.list_shipments()
        assert client.echo.connection is client.transfer._connection
        assert client.echo.connection.tokens.logins == 1
