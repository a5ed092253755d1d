"""Secrets are masked everywhere: in every record of our loggers, in error texts, in the CLI
and in the journal, even when a server quotes them back (issue 9, "Security").

The logging tests use the machinery as installed (``import bipro_ruv``): real loggers, a
plain StreamHandler on the root logger, no filter called by hand.
"""

from __future__ import annotations

import html
import io
import logging
import re
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from bipro_ruv import PROFILES, Client, HttpStatusError, MalformedXmlError, Message, ServiceError, Status
from bipro_ruv._redact import _SecretIndex, install_redaction, register_secret
from bipro_ruv._wire.soap import read_envelope
from bipro_ruv.sandbox import FaultKind, Sandbox
from tests._cli import run_as


def new_secret(prefix: str = "geheim") -> str:
    """A secret no earlier test registered (the registry lives as long as the process)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def new_logger(parent: str = "bipro_ruv") -> logging.Logger:
    """A logger of ``parent``'s hierarchy that was never used before."""
    return logging.getLogger(f"{parent}.never_seen_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def root_output() -> Iterator[io.StringIO]:
    """What a plain StreamHandler on the root logger writes, everything at DEBUG."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# -- every record of every covered logger -------------------------------------------------------------

COVERED = [
    "bipro_ruv",
    "bipro_ruv.soap",
    "bipro_ruv.transfer.fetch",
    "zeep.transports",
    "urllib3",
    "requests",
]
LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]


@pytest.mark.parametrize("parent", COVERED)
@pytest.mark.parametrize("level", LEVELS)
def test_a_registered_secret_in_the_message_of_a_new_child_logger_is_masked(
    root_output: io.StringIO, parent: str, level: int
) -> None:
    secret = new_secret()
    register_secret(secret)
    new_logger(parent).log(level, f"login with {secret} done")
    assert "login with *** done" in root_output.getvalue()
    assert secret not in root_output.getvalue()


@pytest.mark.parametrize("parent", COVERED)
def test_a_registered_secret_in_the_arguments_is_masked(root_output: io.StringIO, parent: str) -> None:
    secret = new_secret()
    register_secret(secret)
    new_logger(parent).debug("token=%s user=%s %r", secret, "rom4711", {"password": secret})
    assert "token=*** user=rom4711 {'password': '***'}" in root_output.getvalue()
    assert secret not in root_output.getvalue()


@pytest.mark.parametrize("parent", COVERED)
def test_a_registered_secret_in_a_traceback_is_masked(root_output: io.StringIO, parent: str) -> None:
    secret = new_secret()
    register_secret(secret)
    inner = ValueError(f"server said: {secret}")
    try:
        try:
            raise inner
        except ValueError as exc:
            raise RuntimeError(f"wrapped {secret}") from exc
    except RuntimeError:
        new_logger(parent).debug("fetch failed", exc_info=True)
    output = root_output.getvalue()
    assert "ValueError: server said: ***" in output
    assert "RuntimeError: wrapped ***" in output
    assert secret not in output


def test_a_registered_secret_in_the_stack_is_masked(root_output: io.StringIO) -> None:
    # A stack shows function names: this test's own name is the secret.
    secret = "test_a_registered_secret_in_the_stack_is_masked"
    register_secret(secret)
    new_logger().debug("where am I", stack_info=True)
    output = root_output.getvalue()
    assert "Stack (most recent call last)" in output
    assert "in ***" in output
    assert secret not in output


@pytest.mark.parametrize(
    "text",
    [
        '<wsse:Password Type="x">hunter2-geheim</wsse:Password>',
        "<wsc:Identifier>bipro:42</wsc:Identifier>",
        "<wsse:Nonce>bm9uY2U=</wsse:Nonce>",
        '<wsse:BinarySecurityToken ValueType="x">TUlJQg==</wsse:BinarySecurityToken>',
        "<saml2:Assertion ID='a'><saml2:Subject>rom4711</saml2:Subject></saml2:Assertion>",
        "<saml2:EncryptedAssertion><xenc:CipherData>abc</xenc:CipherData></saml2:EncryptedAssertion>",
    ],
)
def test_secret_elements_are_masked_whatever_their_value(root_output: io.StringIO, text: str) -> None:
    new_logger("zeep.transports").debug("HTTP Post to %s:\n%s", "https://bipro.example", text)
    output = root_output.getvalue()
    assert "***" in output
    for value in ("hunter2-geheim", "bipro:42", "bm9uY2U=", "TUlJQg==", "rom4711", "CipherData>abc"):
        assert value not in output


def test_records_of_other_loggers_are_left_alone() -> None:
    logger = logging.getLogger(f"myapp_{uuid.uuid4().hex[:8]}.bipro_ruv")
    records: list[logging.LogRecord] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logger, "handle", records.append)
        logger.warning("kept as %s", "written")
    assert (records[0].msg, records[0].args) == ("kept as %s", ("written",))


# -- installation ------------------------------------------------------------------------------------


def test_importing_bipro_ruv_installs_the_masking() -> None:
    """In a fresh interpreter: no Client, only ``import bipro_ruv`` and a Password."""
    program = textwrap.dedent(
        """
        import logging, sys
        import bipro_ruv
        secret = "Fresh-Process-Secret-1"
        password = bipro_ruv.Password(secret)
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(message)s")
        logging.getLogger("bipro_ruv.somewhere.new").debug("password %s", secret)
        logging.getLogger("urllib3.connectionpool").debug(secret)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["password ***", "***"]


@pytest.fixture
def restore_record_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)


@pytest.mark.usefixtures("restore_record_factory")
def test_installing_twice_changes_nothing() -> None:
    install_redaction()
    factory = logging.getLogRecordFactory()
    install_redaction()
    assert logging.getLogRecordFactory() is factory


@pytest.mark.usefixtures("restore_record_factory")
def test_a_factory_chained_after_ours_keeps_the_masking(root_output: io.StringIO) -> None:
    secret = new_secret()
    register_secret(secret)
    previous = logging.getLogRecordFactory()

    def chained(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        record.tenant = "x"  # what an application's factory typically adds
        return record

    logging.setLogRecordFactory(chained)
    new_logger().debug("token %s", secret)
    assert "token ***" in root_output.getvalue()


@pytest.mark.usefixtures("restore_record_factory")
def test_a_client_reinstalls_the_masking_after_a_factory_that_does_not_chain(
    root_output: io.StringIO, sandbox: Sandbox
) -> None:
    secret = new_secret()
    register_secret(secret)
    logging.setLogRecordFactory(logging.LogRecord)
    with Client(sandbox.username, sandbox.password, base_url=sandbox.base_url):
        new_logger().debug("token %s", secret)
    assert "token ***" in root_output.getvalue()


# -- many secrets ------------------------------------------------------------------------------------


def test_ten_thousand_secrets_are_all_still_masked(root_output: io.StringIO) -> None:
    """A process that runs for years registers a token every ten minutes: none is forgotten."""
    run = uuid.uuid4().hex[:8]
    # Token identifiers often share a long prefix; passwords are shorter.
    secrets = [f"urn:uuid:{run}-{i:05d}-{uuid.uuid4().hex}" for i in range(9_000)]
    secrets += [f"pw{run}{i:04d}"[: 8 + i % 8] for i in range(1_000)]
    for secret in secrets:
        register_secret(secret)
    logger = logging.getLogger("bipro_ruv")  # the logger the filter of old sat on: only the cap counts
    for secret in (secrets[0], secrets[4_096], secrets[8_999], secrets[9_000], secrets[-1]):
        logger.debug("server quoted %s back", secret)
    output = root_output.getvalue()
    assert output.count("server quoted *** back") == 5
    assert not [secret for secret in secrets if secret in output]


@pytest.mark.parametrize("length", [4, 5, 7, 8, 9, 12, 38])
@pytest.mark.parametrize("offset", [0, 1, 7, 8, 9])
def test_the_index_finds_a_secret_whatever_its_length_and_position(length: int, offset: int) -> None:
    """A fresh index that never falls back to testing each secret (the process-wide one
    does while it holds only a few)."""
    index = _SecretIndex(few=0)
    secret = (uuid.uuid4().hex * 2)[:length]
    index.add(secret)
    index.add(f"urn:uuid:{uuid.uuid4()}")
    index.add(f"urn:uuid:{uuid.uuid4()}"[:-8] + secret[-8:])  # another secret under the same key
    assert index.find(f"{'x' * offset}{secret}|") == [secret]
    assert index.find(f"{'x' * offset}{secret}") == [secret]
    assert index.find(f"{'x' * offset}{secret[:-1]}|") == []


def test_a_secret_inside_a_longer_one_leaves_nothing_of_the_longer_one(root_output: io.StringIO) -> None:
    short = new_secret()
    long = f"{short}-and-more"
    register_secret(short)
    register_secret(long)
    new_logger().debug("%s / %s", long, short)
    assert "*** / ***" in root_output.getvalue()


# -- what a server quotes back ----------------------------------------------------------------------


def test_error_texts_mask_secrets_in_message_meldungen_and_excerpt() -> None:
    secret = new_secret()
    register_secret(secret)
    meldung = Message(code="99999", text=f"Token {secret} abgelehnt", source=f"//Identifier[{secret}]")
    error = ServiceError(
        f"SOAP Fault: {secret}", status=Status(status_id="NOK", process_id="P-1", messages=(meldung,))
    )
    assert str(error) == "SOAP Fault: *** [99999 Token *** abgelehnt] (ProzessID P-1)"
    assert error.message == "SOAP Fault: ***"
    assert error.args == ("SOAP Fault: ***",)
    assert [m.text for m in error.messages] == ["Token *** abgelehnt"]
    assert error.status is not None
    assert [(m.text, m.source) for m in error.status.messages] == [
        ("Token *** abgelehnt", "//Identifier[***]")
    ]
    excerpt = HttpStatusError("HTTP 500", status_code=500, body_excerpt=f"<html>{secret}</html>")
    assert excerpt.body_excerpt == "<html>***</html>"


@pytest.mark.parametrize(
    "escape",
    [
        pytest.param(
            lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), id="xml-text"
        ),
        pytest.param(lambda s: html.escape(s, quote=True), id="html"),
    ],
)
def test_a_password_a_server_quotes_escaped_is_masked_too(
    root_output: io.StringIO, escape: Callable[[str], str]
) -> None:
    password = new_secret("So&mmer<2026>'\"")
    register_secret(password)
    page = f"<html><body>Passwort {escape(password)} ist falsch</body></html>".encode()
    with pytest.raises(MalformedXmlError) as as_ok:
        read_envelope(page, http_status=200)
    with pytest.raises(HttpStatusError) as as_error:
        read_envelope(page, http_status=500, reason="Internal Server Error")
    new_logger().warning("reply: %s", page.decode())
    shown = [str(as_ok.value), as_error.value.body_excerpt, root_output.getvalue()]
    for text in shown:
        assert "Passwort *** ist falsch" in text
        assert password[-32:] not in text  # its unique tail


@pytest.mark.parametrize("blank", [b" ", b"\n"])
def test_a_secret_at_the_end_of_the_excerpt_window_shows_no_head_either(blank: bytes) -> None:
    # Blank lines before a quoted password collapse to nothing in the excerpt; the password
    # itself is cut where the excerpt's window ends.
    password = new_secret()
    register_secret(password)
    for padding in range(4740, 4790, 3):
        page = b"<html>" + blank * padding + f"Passwort {password} ist falsch".encode() + blank * 5000
        with pytest.raises(HttpStatusError) as info:
            read_envelope(page, http_status=500, reason="Internal Server Error")
        assert password[:8] not in info.value.body_excerpt


def soap_post(sb: Sandbox, url: str, security: str, body: str) -> requests.Response:
    """A hand-written request, so the raw reply can be read (the client would mask it)."""
    namespaces = {
        "s": "http://schemas.xmlsoap.org/soap/envelope/",
        "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
        "wsc": "http://schemas.xmlsoap.org/ws/2005/02/sc",
        "wst": "http://schemas.xmlsoap.org/ws/2005/02/trust",
        "tran": "http://www.bipro.net/namespace/transfer",
    }
    xmlns = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in namespaces.items())
    data = (
        f"<s:Envelope {xmlns}><s:Header><wsse:Security>{security}</wsse:Security></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )
    return requests.post(
        sb.base_url + urlsplit(url).path,
        data=data.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=30,
    )


def test_the_sandbox_quotes_the_token_and_password_when_told_to(sandbox: Sandbox) -> None:
    """Pins the fault itself on the wire, so the tests below prove something."""
    profile = PROFILES["ruv"]
    sandbox.inject(FaultKind.QUOTE_SECRETS, operation="RequestSecurityToken")
    sandbox.inject(FaultKind.QUOTE_SECRETS, operation="listShipments")
    credentials = (
        f"<wsse:UsernameToken><wsse:Username>{sandbox.username}</wsse:Username>"
        "<wsse:Password>Gesendet-123</wsse:Password></wsse:UsernameToken>"
    )
    sts = soap_post(sandbox, profile.sts.url, credentials, "<wst:RequestSecurityToken/>")
    assert sts.status_code == 500
    assert "BiproException" in sts.text
    assert sts.text.count("Gesendet-123") == 2  # faultstring and Meldung Text
    token = "bipro:quoted-token-0815"
    sct = f"<wsc:SecurityContextToken><wsc:Identifier>{token}</wsc:Identifier></wsc:SecurityContextToken>"
    listing = soap_post(sandbox, profile.transfer.url, sct, "<tran:listShipments/>")
    assert listing.status_code == 500
    assert "BiproException" in listing.text
    assert listing.text.count(token) == 2
    assert listing.text.count(sandbox.password) == 2


def test_the_sandbox_lists_the_token_identifiers_it_issued(client: Client, sandbox: Sandbox) -> None:
    client.login()
    sandbox.expire_tokens()
    client.list_shipments()  # 00962, a second login
    token = client._connection.tokens.current
    assert token is not None
    assert len(sandbox.stats.token_ids) == 2
    assert sandbox.stats.token_ids[-1] == token.header.identifier  # type: ignore[attr-defined]


def test_a_login_fault_quoting_the_password_shows_it_nowhere(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sb = sandbox
    sb.inject(FaultKind.QUOTE_SECRETS, operation="RequestSecurityToken")
    caplog.set_level(logging.DEBUG)
    with (
        Client(sb.username, sb.password, base_url=sb.base_url) as client,
        pytest.raises(ServiceError) as caught,
    ):
        client.login()
    error = caught.value
    assert "99999" in str(error)
    shown = [str(error), repr(error), error.message, *(m.text or "" for m in error.messages), caplog.text]
    assert "***" in str(error)
    assert not [text for text in shown if sb.password in text]


TRANSFER_CALLS: dict[str, Callable[[Client, str, Path], object]] = {
    "listShipments": lambda client, shipment_id, directory: client.list_shipments(),
    "getShipment": lambda client, shipment_id, directory: client.get_shipment(shipment_id, directory),
    "acknowledgeShipment": lambda client, shipment_id, directory: client.acknowledge_shipment(shipment_id),
}


@pytest.mark.parametrize("operation", sorted(TRANSFER_CALLS))
def test_a_transfer_fault_quoting_token_and_password_shows_neither(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, tmp_path: Path, operation: str
) -> None:
    sb = sandbox
    sb.inject(FaultKind.QUOTE_SECRETS, operation=operation)
    caplog.set_level(logging.DEBUG)
    shipment_id = sb.open_shipment_ids()[0]
    with (
        Client(sb.username, sb.password, base_url=sb.base_url) as client,
        pytest.raises(ServiceError) as caught,
    ):
        TRANSFER_CALLS[operation](client, shipment_id, tmp_path)
    error = caught.value
    secrets = [sb.password, *sb.stats.token_ids]
    assert len(secrets) == 2
    shown = [str(error), repr(error), error.message, *(m.text or "" for m in error.messages), caplog.text]
    assert "Token ***" in str(error)
    assert not [(secret, text) for secret in secrets for text in shown if secret in text]


# -- acceptance point 3 of issue 9: a whole CLI run ---------------------------------------------------


def journal_of(inbox: Path) -> tuple[str, list[str]]:
    """The journal's files (database, WAL, ...) as text, and its ``error`` column."""
    folder = inbox / ".bipro-ruv"
    files = sorted(folder.glob("journal.sqlite3*"))
    assert files, f"no journal in {folder}"
    data = b"".join(path.read_bytes() for path in files).decode("utf-8", "replace")
    db = sqlite3.connect(files[0])
    try:
        errors = [row[0] for row in db.execute("SELECT error FROM shipments WHERE error IS NOT NULL")]
    finally:
        db.close()
    return data, errors


def unwrapped(text: str) -> str:
    """``text`` without white space and table borders, so that a value rich wrapped is whole again."""
    return re.sub(r"[\s│┃]+", "", text)


@pytest.mark.parametrize(
    ("faults", "exit_code"),
    [
        ({"getShipment": 1_000}, 1),  # every shipment fails: report table, warnings, journal
        ({"getShipment": 2, "acknowledgeShipment": 1_000}, 1),  # the rest are stored, not acknowledged
        ({"listShipments": 1_000}, 5),  # the run stops: the CLI's error line (ExitCode.SERVICE)
    ],
    ids=["getShipment", "acknowledge", "listShipments"],
)
def test_a_debug_cli_run_against_a_quoting_server_shows_no_secret(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, faults: dict[str, int], exit_code: int
) -> None:
    sb = make_sandbox()
    for operation, times in faults.items():
        sb.inject(FaultKind.QUOTE_SECRETS, operation=operation, times=times)
    inbox = tmp_path / "inbox"
    result = run_as(sb, "-vv", "fetch", "--inbox", str(inbox))
    secrets = [sb.password, *sb.stats.token_ids]
    assert len(secrets) >= 2
    journal, errors = journal_of(inbox)
    outputs = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "journal file": journal,
        "journal errors": "\n".join(errors),
    }
    leaks = [
        (where, secret)
        for where, text in outputs.items()
        for secret in secrets
        if secret in text or secret in unwrapped(text)
    ]
    assert leaks == []
    # The run went as planned, and the server's texts did reach the outputs, masked.
    assert result.returncode == exit_code, result.stderr
    assert "DEBUG" in result.stderr
    assert "Token ***" in result.stderr
    if exit_code == 1:
        assert "Token ***" in result.stdout
        assert errors
        assert all("Token ***" in error for error in errors)
