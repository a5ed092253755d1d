"""TLS against the sandbox's self-signed certificate: verified, never switched off."""

from __future__ import annotations

from typing import Any

import pytest

from bipro_ruv import Client, TransportError


def test_https_with_the_servers_ca_bundle_works(make_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A CA bundle in the environment must not replace the one the caller passed.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    sb = make_sandbox(tls=True)
    assert sb.base_url.startswith("https://127.0.0.1:")
    assert sb.ca_file is not None
    with Client(sb.username, sb.password, base_url=sb.base_url, verify=sb.ca_file) as client:
        assert client.list_shipments()


def test_unknown_certificate_is_refused(make_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    sb = make_sandbox(tls=True)
    with (
        Client(sb.username, sb.password, base_url=sb.base_url) as client,
        pytest.raises(TransportError, match="TLS"),
    ):
        client.login()
    assert sb.stats.sts_requests == 0  # the password never left the process
