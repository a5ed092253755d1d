"""Issue 14 through the library: the TGIC person login (ISTS SAML with mTAN) and the VDG ticket,
end to end against the sandbox, their refusals, and the TGIC request against a third party's.

The organisation certificate has its own file (test_certificate_login.py).
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from bipro_ruv import (
    Client,
    MtanChallenge,
    OtpExpiredError,
    OtpRequiredError,
    PasswordRejectedEarlierError,
    Settings,
    TgicPerson,
    TicketRejectedError,
    VdgTicket,
    WrongOtpError,
    WrongPasswordError,
)
from bipro_ruv.auth.tgic import issue_request
from bipro_ruv.errors import ConfigurationError, ServiceError
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox
from tests._cli import run, script
from tests.conftest import fixture_file


class Mtan:
    """An otp_provider that reads the simulated SMS, counting how often it is asked."""

    def __init__(self, sandbox: Sandbox, *, wrong: bool = False, delay: float = 0.0) -> None:
        self.sandbox = sandbox
        self.wrong = wrong
        self.delay = delay
        self.asked: list[MtanChallenge] = []

    def __call__(self, challenge: MtanChallenge) -> str:
        self.asked.append(challenge)
        time.sleep(self.delay)
        sent = self.sandbox.last_mtan
        assert sent is not None
        return str((int(sent) + 1) % 1_000_000).zfill(6) if self.wrong else sent


def tgic_client(sb: Sandbox, state: Path, otp: Any, password: str | None = None) -> Client:
    credentials = TgicPerson(sb.config.tgic_username, password or sb.password, otp_provider=otp)
    return Client(credentials=credentials, base_url=sb.base_url, state_dir=state)


# -- TGIC: the whole way -----------------------------------------------------------------------


def test_fetch_with_a_tgic_login_answers_the_mtan_through_the_callback(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    otp = Mtan(sandbox)
    with tgic_client(sandbox, tmp_path / "state", otp) as client:
        report = client.fetch_open_documents(tmp_path / "inbox")
        client.list_shipments()  # the assertion is reused: no second login
    assert report.documents
    assert len(report.results) == len(sandbox.shipments())
    assert not sandbox.open_shipment_ids()
    assert [challenge.title for challenge in otp.asked] == [
        "Bitte geben Sie die mTAN ein, die per SMS an +49 171 ***4711 gesendet wurde."
    ]
    assert otp.asked[0].max_length == 6
    assert sandbox.stats.requests_by_port["ists"] == 2  # issue, answer
    assert sandbox.stats.logins_by_port["ists"] == 1
    assert sandbox.stats.sts_requests == 0  # the BiPRO services took the SAML assertion itself


def test_an_expired_assertion_means_a_new_login_with_a_new_mtan(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(saml_lifetime_s=3.0)
    otp = Mtan(sb)
    with tgic_client(sb, tmp_path, otp) as client:
        client.list_shipments()
        time.sleep(2.6)  # renewed 1/4 of the lifetime before its end
        client.list_shipments()
    assert len(otp.asked) == 2
    assert sb.stats.logins_by_port["ists"] == 2


def test_the_tgic_service_id_is_the_profiles_or_the_one_given(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(tgic_service_id="http://www.tgic.de/RuV/test/bipro/1.0")
    with tgic_client(sb, tmp_path, Mtan(sb)) as client, pytest.raises(ServiceError) as refused:
        client.login()
    assert "BIPRO_RUV_TGIC_SERVICE_ID" in str(refused.value)
    assert (refused.value.fault_code or "").endswith("InvalidRequest")
    credentials = TgicPerson(
        sb.config.tgic_username,
        sb.password,
        otp_provider=Mtan(sb),
        service_id="http://www.tgic.de/RuV/test/bipro/1.0",
    )
    with Client(credentials=credentials, base_url=sb.base_url, state_dir=tmp_path) as client:
        assert client.login().lifetime_s > 0


# -- TGIC: refusals, each one attempt ------------------------------------------------------------


def test_a_wrong_mtan_is_refused_once_and_the_next_run_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    wrong = Mtan(sandbox, wrong=True)
    with tgic_client(sandbox, tmp_path, wrong) as client:
        with pytest.raises(WrongOtpError):
            client.login()
        with pytest.raises(WrongOtpError):  # the same client does not ask again
            client.list_shipments()
    assert len(wrong.asked) == 1
    assert sandbox.stats.requests_by_port["ists"] == 2
    # The next run (another client, the same state folder) refuses before sending.
    right = Mtan(sandbox)
    with (
        tgic_client(sandbox, tmp_path, right) as client,
        pytest.raises(PasswordRejectedEarlierError) as refused,
    ):
        client.login()
    assert "wrong mTAN" in str(refused.value)
    assert right.asked == []
    assert sandbox.stats.requests_by_port["ists"] == 2


def test_a_wrong_tgic_password_is_sent_once(sandbox: Sandbox, tmp_path: Path) -> None:
    otp = Mtan(sandbox)
    for _ in range(3):
        with (
            tgic_client(sandbox, tmp_path, otp, password="falsch-falsch") as client,
            pytest.raises((WrongPasswordError, PasswordRejectedEarlierError)),
        ):
            client.login()
    assert otp.asked == []
    assert sandbox.stats.requests_by_port["ists"] == 1
    assert sandbox.stats.failed_logins == 1


def test_an_mtan_that_comes_too_late_is_no_wrong_credential(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(mtan_lifetime_s=0.2)
    with tgic_client(sb, tmp_path, Mtan(sb, delay=0.5)) as client, pytest.raises(OtpExpiredError):
        client.login()
    assert sb.stats.requests_by_port["ists"] == 2
    with tgic_client(sb, tmp_path, Mtan(sb)) as client:  # not recorded: the next login may go
        assert client.login().lifetime_s > 0


def test_without_an_otp_provider_nothing_is_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    with tgic_client(sandbox, tmp_path, None) as client, pytest.raises(OtpRequiredError, match="mTAN"):
        client.login()
    assert sandbox.stats.requests_by_port["ists"] == 0


def test_the_command_line_refuses_a_tgic_login_without_a_terminal(sandbox: Sandbox) -> None:
    result = run(
        "login",
        "--method",
        "tgic",
        "--base-url",
        sandbox.base_url,
        env={"BIPRO_RUV_USERNAME": sandbox.config.tgic_username, "BIPRO_RUV_PASSWORD": sandbox.password},
    )
    assert result.returncode == 2, result.stderr
    assert "mTAN" in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.stats.requests_by_port["ists"] == 0


def test_settings_choose_the_method(sandbox: Sandbox) -> None:
    environ = {
        "BIPRO_RUV_LOGIN": "tgic",
        "BIPRO_RUV_USERNAME": "TGIC-1",
        "BIPRO_RUV_PASSWORD": "x" * 12,
        "BIPRO_RUV_TGIC_SERVICE_ID": "http://www.tgic.de/RuV/test/bipro/1.0",
    }
    credentials = Settings.from_env(environ, use_keyring=False).credentials(otp_provider=lambda c: "1")
    assert isinstance(credentials, TgicPerson)
    assert credentials.service_id == "http://www.tgic.de/RuV/test/bipro/1.0"
    ticket = sandbox.issue_vdg_ticket()
    vdg = Settings.from_env({"BIPRO_RUV_LOGIN": "vdg", "BIPRO_RUV_VDG_TICKET": ticket}, use_keyring=False)
    assert isinstance(vdg.credentials(), VdgTicket)
    with pytest.raises(ConfigurationError, match="BIPRO_RUV_VDG_TICKET"):
        Settings.from_env({"BIPRO_RUV_LOGIN": "vdg"}, use_keyring=False)
    with pytest.raises(ConfigurationError, match="BIPRO_RUV_PASSWORD"):
        Settings.from_env({"BIPRO_RUV_LOGIN": "tgic", "BIPRO_RUV_USERNAME": "TGIC-1"}, use_keyring=False)


# -- nothing secret in the logs --------------------------------------------------------------------


def test_no_secret_of_a_tgic_or_vdg_login_reaches_the_logs(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mtans: list[str] = []

    def otp(challenge: MtanChallenge) -> str:
        mtans.append(sandbox.last_mtan or "")
        return mtans[-1]

    ticket = sandbox.issue_vdg_ticket()
    with tgic_client(sandbox, tmp_path, otp) as client:
        client.list_shipments()
    with (
        tgic_client(sandbox, tmp_path / "other", Mtan(sandbox, wrong=True)) as client,
        pytest.raises(WrongOtpError),
    ):
        client.login()
    with Client(credentials=VdgTicket(ticket), base_url=sandbox.base_url) as client:
        client.list_shipments()
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "TGIC login for" in logged  # the records were captured
    secrets = [sandbox.password, ticket, *mtans, *sandbox.stats.token_ids]
    assert secrets[2:]
    assert [secret for secret in secrets if secret in logged] == []


# -- VDG ticket --------------------------------------------------------------------------------------


def test_fetch_with_a_vdg_ticket(sandbox: Sandbox, tmp_path: Path) -> None:
    credentials = VdgTicket(sandbox.issue_vdg_ticket())
    assert credentials.username == sandbox.username  # from the ticket's TargetUserId
    with Client(credentials=credentials, base_url=sandbox.base_url) as client:
        report = client.fetch_open_documents(tmp_path)
    assert report.documents
    assert not sandbox.open_shipment_ids()
    assert sandbox.stats.logins_by_port["sts_ticket"] == 1
    assert sandbox.stats.requests_by_port["sts"] == 0


def _tampered(ticket: str) -> str:
    xml = base64.b64decode(ticket).replace(b"<AuthLevel>", b"<AuthLevel>9")
    return base64.b64encode(xml).decode("ascii")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(lambda sb: sb.issue_vdg_ticket(valid_for_s=-60), "00943", id="expired"),
        pytest.param(lambda sb: _tampered(sb.issue_vdg_ticket()), "00942", id="tampered"),
        pytest.param(lambda sb: sb.issue_vdg_ticket(user="rom9999"), "00961", id="another-user"),
    ],
)
def test_a_refused_ticket_is_sent_once(sandbox: Sandbox, make: Any, says: str) -> None:
    ticket = VdgTicket(make(sandbox), username="rom4711")
    with Client(credentials=ticket, base_url=sandbox.base_url) as client:
        with pytest.raises(TicketRejectedError) as refused:
            client.login()
        with pytest.raises(TicketRejectedError):
            client.list_shipments()
    assert says in str(refused.value)
    assert sandbox.stats.requests_by_port["sts_ticket"] == 1


def test_a_ticket_that_is_no_base64_is_refused_before_sending() -> None:
    with pytest.raises(ConfigurationError, match="base64"):
        VdgTicket("kein Ticket!")


def test_the_command_line_logs_in_with_a_ticket(sandbox: Sandbox, tmp_path: Path) -> None:
    base = ["login", "--method", "vdg", "--base-url", sandbox.base_url]
    by_variable = run(*base, env={"BIPRO_RUV_VDG_TICKET": sandbox.issue_vdg_ticket()})
    assert by_variable.returncode == 0, by_variable.stderr
    assert "Login OK" in by_variable.stdout
    (tmp_path / "ticket.txt").write_text(sandbox.issue_vdg_ticket() + "\n")
    by_file = run(*base, env={"BIPRO_RUV_VDG_TICKET_FILE": str(tmp_path / "ticket.txt")})
    assert by_file.returncode == 0, by_file.stderr
    expired = run(*base, env={"BIPRO_RUV_VDG_TICKET": sandbox.issue_vdg_ticket(valid_for_s=-60)})
    assert expired.returncode == 3
    assert "Login refused (VDG ticket)" in expired.stderr
    assert "Traceback" not in expired.stderr


# -- the TGIC request has the third party's structure ------------------------------------------------


def _shape(element: etree._Element) -> list[Any]:
    """Tag, attributes (values only where the sample is not a ${placeholder}), fixed texts, children."""
    attributes = sorted((name, None if "${" in value else value) for name, value in element.attrib.items())
    text = (element.text or "").strip()
    fixed = text if text and "${" not in text else None
    return [element.tag, attributes, fixed, [_shape(item) for item in element if isinstance(item.tag, str)]]


def _blank_variables(shape: list[Any], sample: list[Any]) -> list[Any]:
    """``shape`` with the values the sample leaves open (placeholders) blanked the same way."""
    tag, attributes, text, children = shape
    open_names = {name for name, value in sample[1] if value is None}
    attributes = [(name, None if name in open_names else value) for name, value in attributes]
    text = None if sample[2] is None else text
    return [
        tag,
        attributes,
        text,
        [_blank_variables(c, s) for c, s in zip(children, sample[3], strict=False)],
    ]


def test_the_issue_request_has_the_structure_of_the_third_party_request() -> None:
    sample = etree.parse(str(fixture_file("bipro", "request_saml_issue.xml"))).getroot()
    ours = etree.fromstring(
        issue_request(
            "https://ists.example/RST/Issue",
            "TGIC-1",
            "geheim",
            "http://www.tgic.de/RuV/prod/bipro/1.0",
            message_id="urn:uuid:1",
            now=datetime(2026, 12, 1, tzinfo=timezone.utc),
        )
    )
    expected = _shape(sample)
    assert _blank_variables(_shape(ours), expected) == expected


# -- found in review --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "refused"),
    [("IstsIssue", WrongPasswordError), ("IstsChallengeResponse", WrongOtpError)],
)
def test_a_bare_http_401_of_the_ists_is_a_refusal_and_recorded(
    sandbox: Sandbox, tmp_path: Path, operation: str, refused: type[Exception]
) -> None:
    """A gateway's 401 with an HTML page (no SOAP Fault) refuses the login all the same: the
    next run must not send the password again."""
    sandbox.inject(FaultRule(kind=FaultKind.HTML_ERROR, operation=operation, http_status=401))
    with tgic_client(sandbox, tmp_path, Mtan(sandbox)) as client, pytest.raises(refused):
        client.login()
    sent = sandbox.stats.requests_by_port["ists"]
    with tgic_client(sandbox, tmp_path, Mtan(sandbox)) as client, pytest.raises(PasswordRejectedEarlierError):
        client.login()
    assert sandbox.stats.requests_by_port["ists"] == sent


def test_one_tgic_id_has_one_record_for_every_insurer(sandbox: Sandbox, tmp_path: Path) -> None:
    """The TGIC-ID is one account at the GDV: refused under R+V, it is not sent for KRAVAG."""
    for profile in ("ruv", "kravag"):
        credentials = TgicPerson(sandbox.config.tgic_username, "falsch-falsch", otp_provider=Mtan(sandbox))
        with (
            Client(
                credentials=credentials, profile=profile, base_url=sandbox.base_url, state_dir=tmp_path
            ) as c,
            pytest.raises((WrongPasswordError, PasswordRejectedEarlierError)),
        ):
            c.login()
    assert sandbox.stats.requests_by_port["ists"] == 1


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_the_nightly_command_asks_for_the_mtan_on_a_terminal(sandbox: Sandbox, tmp_path: Path) -> None:
    """`bipro-ruv fetch` with login tgic, run by a person at a terminal: the mTAN is asked
    (it was refused as if there were no terminal)."""
    master, slave = os.openpty()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIPRO_RUV_")}
    env.update(
        BIPRO_RUV_LOGIN="tgic",
        BIPRO_RUV_USERNAME=sandbox.config.tgic_username,
        BIPRO_RUV_PASSWORD=sandbox.password,
        BIPRO_RUV_BASE_URL=sandbox.base_url,
        BIPRO_RUV_STATE_DIR=str(tmp_path / "state"),
    )
    process = subprocess.Popen(
        [script(), "fetch", "--inbox", str(tmp_path / "inbox")],
        stdin=slave,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    stream = process.stderr
    assert stream is not None
    shown: list[bytes] = []
    reader = threading.Thread(target=lambda: shown.extend(iter(lambda: stream.read1(4096), b"")))
    reader.start()
    try:
        # Answer only once the prompt is up: a hidden prompt flushes what was typed before it.
        deadline = time.monotonic() + 60
        while b"mTAN:" not in b"".join(shown) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox.last_mtan is not None, b"".join(shown).decode(errors="replace")
        os.write(master, f"{sandbox.last_mtan}\n".encode())
        process.wait(timeout=60)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        stream.close()
    err = b"".join(shown)
    assert process.returncode == 0, err.decode(errors="replace")
    assert sandbox.stats.logins_by_port["ists"] == 1
    assert not sandbox.open_shipment_ids()


def test_an_admin_unblocks_a_tgic_id_after_a_wrong_mtan(sandbox: Sandbox, tmp_path: Path) -> None:
    with tgic_client(sandbox, tmp_path, Mtan(sandbox, wrong=True)) as client, pytest.raises(WrongOtpError):
        client.login()
    args = ["credentials", "unblock", "--method", "tgic", "-u", sandbox.config.tgic_username]
    where = ["--base-url", sandbox.base_url, "--state-dir", str(tmp_path)]
    shown = run(*args, *where)
    assert shown.returncode == 2, shown.stderr
    assert "wrong mTAN" in shown.stdout
    assert "--confirm" in shown.stderr
    with tgic_client(sandbox, tmp_path, Mtan(sandbox)) as client, pytest.raises(PasswordRejectedEarlierError):
        client.login()  # not yet forgotten
    forgotten = run(*args, *where, "--confirm")
    assert forgotten.returncode == 0, forgotten.stderr
    with tgic_client(sandbox, tmp_path, Mtan(sandbox)) as client:
        assert client.login().lifetime_s > 0
    again = run(*args, *where)
    assert again.returncode == 0
    assert "No refused password" in again.stdout
