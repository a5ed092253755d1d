"""No password, token identifier or SAML assertion ever reaches a log record."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bipro_ruv import AuthenticationError, Client
from bipro_ruv._redact import RedactingFilter, register_secret


def test_debug_logs_of_a_whole_session_hold_no_secret(
    make_sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sb = make_sandbox()
    for name in ("", "zeep", "zeep.transports", "urllib3", "bipro_ruv"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    identifiers: set[str] = set()
    try:
        with Client(sb.username, sb.password, base_url=sb.base_url) as client:
            client.login()
            for _ in range(3):
                client.list_shipments()
                token = client._connection.tokens.current
                assert token is not None
                identifiers.add(token.header.identifier)  # type: ignore[attr-defined]
                sb.expire_tokens()  # forces re-login: several identifiers in one session
        with (
            Client(sb.username, "Falsches-Passwort-9", base_url=sb.base_url) as bad,
            pytest.raises(AuthenticationError),
        ):
            bad.login()
    finally:
        for name in ("", "zeep", "zeep.transports", "urllib3", "bipro_ruv"):
            logging.getLogger(name).setLevel(logging.NOTSET if name else logging.WARNING)
    assert len(identifiers) == 3
    text = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert caplog.records, "the session logged nothing at DEBUG; the test would prove nothing"
    for secret in [sb.password, "Falsches-Passwort-9", *identifiers]:
        assert secret not in text


@pytest.mark.parametrize(
    "message",
    [
        '<wsse:Password Type="x">hunter2-geheim</wsse:Password>',
        "<wsc:Identifier>bipro:42</wsc:Identifier>",
        "<saml2:EncryptedAssertion><xenc:CipherData>abc</xenc:CipherData></saml2:EncryptedAssertion>",
        "<Password>hunter2-geheim</Password>",
    ],
)
def test_filter_masks_secret_elements_from_any_logger(message: str) -> None:
    record = logging.LogRecord(
        "zeep.transports", logging.DEBUG, __file__, 1, "HTTP Post:\n%s", (message,), None
    )
    RedactingFilter().filter(record)
    text = record.getMessage()
    assert "hunter2-geheim" not in text
    assert "bipro:42" not in text
    assert "CipherData>abc" not in text
    assert "***" in text


def test_filter_masks_registered_values_anywhere() -> None:
    register_secret("s3cr3t-value-1")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=%s", ("s3cr3t-value-1",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "token=***"
