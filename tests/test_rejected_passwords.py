"""Lockout-safe logins across processes (issue 9): a password the STS rejected is
remembered durably per account and never sent again, by any client or process, until
a different password logs in successfully."""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bipro_ruv import (
    AccountLockedError,
    AuthenticationError,
    Client,
    ConfigurationError,
    PasswordExpiredError,
    PasswordRejectedEarlierError,
    ServiceError,
    SessionExpiredError,
    Settings,
    WrongPasswordError,
)
from bipro_ruv._wire.soap import error_for_status
from bipro_ruv.auth._rejections import RejectionReason, RejectionStore, default_state_dir
from bipro_ruv.models import Message, MessageKind, Status
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox
from tests._cli import run, run_as

WRONG = "falsches-Passwort-7"
REJECTED_ON = re.compile(r"rejected on (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")


def record_of(state_dir: Path, sb: Sandbox) -> RejectionStore:
    """The record the clients of these tests use: the sandbox is a system of its own."""
    return RejectionStore(state_dir, "ruv", sb.username, sb.base_url.split("://", 1)[1])


def login(sb: Sandbox, password: str, state_dir: Path, **kwargs: Any) -> None:
    with Client(sb.username, password, base_url=sb.base_url, state_dir=state_dir, **kwargs) as client:
        client.login()


def every_byte_under(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


# -- which error for which STS answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["00961"], WrongPasswordError),
        (["00964"], AccountLockedError),
        (["00965"], AccountLockedError),
        (["00966"], PasswordExpiredError),
        (["00961", "00964"], AccountLockedError),  # locked is what the admin must act on
        (["00966", "00961"], PasswordExpiredError),
        (["00960"], SessionExpiredError),
        (["00962"], SessionExpiredError),
        (["00930"], ServiceError),
    ],
)
def test_sts_codes_become_distinct_error_classes(codes: list[str], expected: type[ServiceError]) -> None:
    status = Status(status_id="NOK", messages=tuple(Message(kind=MessageKind.ERROR, code=c) for c in codes))
    assert type(error_for_status(status, "login failed")) is expected


@pytest.mark.parametrize(
    ("setup", "expected", "reason", "code"),
    [
        ("wrong", WrongPasswordError, RejectionReason.WRONG_PASSWORD, "00961"),
        ("locked", AccountLockedError, RejectionReason.ACCOUNT_LOCKED, "00964"),
        ("expired", PasswordExpiredError, RejectionReason.PASSWORD_EXPIRED, "00966"),
        ("http-401", WrongPasswordError, RejectionReason.WRONG_PASSWORD, "HTTP 401"),
        ("http-403", WrongPasswordError, RejectionReason.WRONG_PASSWORD, "HTTP 403"),
        ("00962", AuthenticationError, RejectionReason.NOT_AUTHENTICATED, "00962"),
    ],
)
def test_each_refusal_has_its_class_and_is_remembered_with_its_reason(
    make_sandbox: Any,
    tmp_path: Path,
    setup: str,
    expected: type[AuthenticationError],
    reason: RejectionReason,
    code: str,
) -> None:
    sb = make_sandbox(lockout_after=1, password_expired=setup == "expired")
    password = sb.password
    if setup == "wrong":
        password = WRONG
    elif setup == "locked":
        with pytest.raises(WrongPasswordError):
            login(sb, "locks-the-account", tmp_path / "elsewhere")
    elif setup.startswith("http-"):
        sb.inject(FaultKind.HTML_ERROR, operation="RequestSecurityToken", http_status=int(setup[-3:]))
    elif setup == "00962":
        sb.inject(FaultKind.INVALID_SESSION, operation="RequestSecurityToken")
    sent_before = sb.stats.sts_requests

    with pytest.raises(AuthenticationError) as first:
        login(sb, password, tmp_path)
    with pytest.raises(PasswordRejectedEarlierError) as second:
        login(sb, password, tmp_path)

    assert type(first.value) is expected
    assert sb.stats.sts_requests == sent_before + 1
    assert second.value.reason is reason
    assert second.value.code == code
    assert reason.described in str(second.value)
    assert reason.advice in str(second.value)


# -- the durable record ------------------------------------------------------------------------


def test_two_clients_in_one_process_share_the_record(sandbox: Sandbox, tmp_path: Path) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    with Client(sandbox.username, WRONG, base_url=sandbox.base_url, state_dir=tmp_path) as first:
        with pytest.raises(WrongPasswordError):
            first.login()
        with Client(sandbox.username, WRONG, base_url=sandbox.base_url, state_dir=tmp_path) as second:
            with pytest.raises(PasswordRejectedEarlierError) as info:
                second.login()
            with pytest.raises(PasswordRejectedEarlierError):
                second.list_shipments()
    assert sandbox.stats.sts_requests == 1
    error = info.value
    assert before <= error.rejected_at <= datetime.now(timezone.utc)
    assert error.rejected_at.utcoffset() == timedelta(0)
    assert error.reason is RejectionReason.WRONG_PASSWORD
    assert error.code == "00961"
    assert error.record_path == record_of(tmp_path, sandbox).path
    assert f"rejected on {error.rejected_at:%Y-%m-%d %H:%M} UTC" in str(error)
    assert "Maklerportal" in str(error)
    assert "update it here" in str(error)


def test_the_same_password_is_refused_for_another_spelling_of_the_user_id(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with pytest.raises(WrongPasswordError):
        login(sandbox, WRONG, tmp_path)
    with (
        Client(sandbox.username.upper(), WRONG, base_url=sandbox.base_url, state_dir=tmp_path) as client,
        pytest.raises(PasswordRejectedEarlierError),
    ):
        client.login()
    assert sandbox.stats.sts_requests == 1


def test_the_record_is_per_account(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(lockout_after=5)
    with pytest.raises(WrongPasswordError):
        login(sb, WRONG, tmp_path)
    with (
        Client("rom0815", WRONG, base_url=sb.base_url, state_dir=tmp_path) as other_user,
        pytest.raises(WrongPasswordError),
    ):
        other_user.login()
    with (
        Client(sb.username, WRONG, profile="kravag", base_url=sb.base_url, state_dir=tmp_path) as kravag,
        pytest.raises(AuthenticationError),
    ):
        kravag.login()
    assert sb.stats.sts_requests == 3


def test_a_different_password_is_sent_and_both_wrong_ones_are_remembered(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(lockout_after=5)
    for password in (WRONG, "noch-falscher-2"):
        with pytest.raises(WrongPasswordError):
            login(sb, password, tmp_path)
    for password in (WRONG, "noch-falscher-2"):
        with pytest.raises(PasswordRejectedEarlierError):
            login(sb, password, tmp_path)
    assert sb.stats.sts_requests == 2
    assert len(record_of(tmp_path, sb).rejections()) == 2


def test_a_successful_login_with_another_password_clears_the_record(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(WrongPasswordError):
        login(sandbox, WRONG, tmp_path)
    record = record_of(tmp_path, sandbox)
    assert record.path.is_file()

    login(sandbox, sandbox.password, tmp_path)

    assert not record.path.exists()
    assert record.rejections() == []
    # The mark is gone: the old password is tried again (the success reset R+V's count).
    with pytest.raises(WrongPasswordError):
        login(sandbox, WRONG, tmp_path)
    assert sandbox.stats.sts_requests == 3


def test_a_success_without_a_record_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    login(sandbox, sandbox.password, tmp_path)
    assert list(tmp_path.rglob("*.json")) == []


def test_the_state_folder_never_holds_the_password(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(lockout_after=2)
    secret = "Sehr-Geheim-4711"
    for password in (secret, WRONG, sb.password):  # wrong, then locked (00964) for the right one
        with pytest.raises(AuthenticationError):
            login(sb, password, tmp_path)
    assert len(record_of(tmp_path, sb).rejections()) == 3
    stored = every_byte_under(tmp_path)
    for password in (secret, WRONG, sb.password):
        for form in (password.encode(), password.encode("utf-16-le"), base64.b64encode(password.encode())):
            assert form not in stored


def test_a_server_message_quoting_the_password_is_stored_masked(tmp_path: Path) -> None:
    # Sent by no Client, so not registered for log redaction: only the record masks it.
    quoted = "nur-hier-zitiert-5521"
    store = RejectionStore(tmp_path, "ruv", "rom4711")
    with store.attempt(quoted) as attempt:
        attempt.rejected(WrongPasswordError(f"Passwort {quoted} ist falsch"), at=datetime.now(timezone.utc))
    (stored,) = store.rejections()
    assert stored.message == "Passwort *** ist falsch"
    assert quoted.encode() not in every_byte_under(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_the_record_is_private_to_the_user(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(WrongPasswordError):
        login(sandbox, WRONG, tmp_path / "state")
    record = record_of(tmp_path / "state", sandbox)
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.folder.stat().st_mode) == 0o700


def test_the_record_is_written_whole_without_temporary_files_left(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(WrongPasswordError):
        login(sandbox, WRONG, tmp_path)
    record = record_of(tmp_path, sandbox)
    assert {p.name for p in record.folder.iterdir()} == {record.path.name, record.lock_path.name}
    document = json.loads(record.path.read_text(encoding="utf-8"))
    assert document["username"] == sandbox.username
    assert document["rejections"][0]["code"] == "00961"
    assert document["rejections"][0]["kdf"]["name"] == "scrypt"


def test_a_record_that_cannot_be_written_does_not_hide_the_refusal(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def disk_full(self: RejectionStore, rejections: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RejectionStore, "_write", disk_full)
    with Client(sandbox.username, WRONG, base_url=sandbox.base_url, state_dir=tmp_path) as client:
        with pytest.raises(WrongPasswordError):
            client.login()
        with pytest.raises(WrongPasswordError):
            client.login()  # still refused in memory
    assert sandbox.stats.sts_requests == 1
    assert "could not record the rejected password" in caplog.text


# -- a record that cannot be read: nothing is sent ---------------------------------------------


def _valid_record(state_dir: Path, sb: Sandbox) -> dict[str, Any]:
    with pytest.raises(WrongPasswordError):
        login(sb, "anderes-falsches-1", state_dir)
    document: dict[str, Any] = json.loads(record_of(state_dir, sb).path.read_text(encoding="utf-8"))
    return document


def _with(document: dict[str, Any], **changes: Any) -> bytes:
    entry = {**document["rejections"][0], **changes.pop("entry", {})}
    return json.dumps({**document, "rejections": [entry], **changes}).encode()


CORRUPTIONS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "empty file": lambda doc: b"",
    "cut off": lambda doc: json.dumps(doc).encode()[:40],
    "not JSON": lambda doc: b"\x00\xff garbage",
    "another format": lambda doc: _with(doc, format="something else"),
    "newer version": lambda doc: _with(doc, version=2),
    "no rejections list": lambda doc: json.dumps({**doc, "rejections": None}).encode(),
    "bad base64": lambda doc: _with(doc, entry={"salt": "!!!"}),
    "unknown reason": lambda doc: _with(doc, entry={"reason": "solar flare"}),
    "naive time": lambda doc: _with(doc, entry={"rejected_at": "2026-11-30T17:40:00"}),
    "scrypt cost out of bounds": lambda doc: _with(
        doc, entry={"kdf": {"name": "scrypt", "n": 2**30, "r": 8, "p": 1}}
    ),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_record_stops_the_login_before_anything_is_sent(
    make_sandbox: Any, tmp_path: Path, corruption: str
) -> None:
    sb = make_sandbox(lockout_after=5)
    record = record_of(tmp_path, sb)
    record.path.write_bytes(CORRUPTIONS[corruption](_valid_record(tmp_path, sb)))
    sent = sb.stats.sts_requests

    for password in (WRONG, sb.password):  # not even a different password: the record is unknown
        with pytest.raises(ConfigurationError, match="login not attempted") as info:
            login(sb, password, tmp_path)
        assert str(record.path) in str(info.value)
    assert sb.stats.sts_requests == sent


def test_a_record_that_is_no_file_stops_the_login(sandbox: Sandbox, tmp_path: Path) -> None:
    record_of(tmp_path, sandbox).path.mkdir(parents=True)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        login(sandbox, sandbox.password, tmp_path)
    assert sandbox.stats.sts_requests == 0


def test_an_unusable_state_folder_stops_the_login(sandbox: Sandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError, match="state folder"):
        login(sandbox, sandbox.password, blocker)
    assert sandbox.stats.sts_requests == 0


# -- where the record lives ---------------------------------------------------------------------


def test_tests_never_touch_the_real_user_data_folder(isolated_user_data: Path) -> None:
    assert default_state_dir().is_relative_to(isolated_user_data)


def test_the_default_state_folder_is_the_user_data_folder(sandbox: Sandbox, isolated_user_data: Path) -> None:
    with (
        Client(sandbox.username, WRONG, base_url=sandbox.base_url) as client,
        pytest.raises(WrongPasswordError),
    ):
        client.login()
    assert record_of(isolated_user_data / "bipro-ruv", sandbox).path.is_file()


def test_settings_read_and_pass_the_state_folder(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BIPRO_RUV_USERNAME": sandbox.username,
            "BIPRO_RUV_PASSWORD": WRONG,
            "BIPRO_RUV_BASE_URL": sandbox.base_url,
            "BIPRO_RUV_STATE_DIR": str(tmp_path / "state"),
        }
    )
    assert settings.state_dir == tmp_path / "state"
    assert settings.client_kwargs()["state_dir"] == tmp_path / "state"
    with Client.from_settings(settings) as client, pytest.raises(WrongPasswordError):
        client.login()
    assert record_of(tmp_path / "state", sandbox).path.is_file()


# -- the command line, as separate processes ---------------------------------------------------


def test_three_cron_runs_with_a_wrong_password_send_it_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """Issue 9, acceptance point 4: three runs, one STS attempt, the account stays unlocked."""
    started = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    results = [run_as(sandbox, "login", "--state-dir", str(tmp_path), password=WRONG) for _ in range(3)]

    assert [result.returncode for result in results] == [3, 3, 3]
    assert sandbox.stats.sts_requests == 1
    assert sandbox.username not in sandbox.stats.locked_users
    assert "Login refused (wrong user id or password)" in results[0].stderr
    for later in results[1:]:
        match = REJECTED_ON.search(later.stderr)
        assert match, later.stderr
        rejected_at = datetime.strptime(match[1], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
        assert started <= rejected_at <= datetime.now(timezone.utc)
        assert "Maklerportal" in later.stderr
        assert "Traceback" not in later.stderr
    for result in results:
        assert WRONG not in result.stdout + result.stderr


def test_three_processes_started_together_send_the_password_once(make_sandbox: Any, tmp_path: Path) -> None:
    """The account lock is held around check -> send -> record: while the first login's reply
    is held back by the sandbox, the others wait instead of sending the same password."""
    sb = make_sandbox(lockout_after=5)
    sb.inject(FaultRule(kind=FaultKind.SLOW, operation="RequestSecurityToken", delay=3.0))

    def one_run(_: int) -> subprocess.CompletedProcess[str]:
        return run_as(sb, "login", "--state-dir", str(tmp_path), password=WRONG)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(one_run, range(3)))

    assert [result.returncode for result in results] == [3, 3, 3]
    assert sb.stats.sts_requests == 1
    outputs = [result.stderr for result in results]
    assert sum("Login refused (wrong user id or password)" in text for text in outputs) == 1
    assert sum(bool(REJECTED_ON.search(text)) for text in outputs) == 2


@pytest.mark.parametrize(
    ("setup", "explanation", "advice"),
    [
        ("wrong", "Login refused (wrong user id or password)", "Check the password in the Maklerportal"),
        ("locked", "Login refused (account locked)", "Have the account unlocked in the Maklerportal"),
        ("expired", "Login refused (password expired)", "Set a new password in the Maklerportal"),
    ],
)
def test_the_cli_explains_each_refusal_and_what_to_do(
    make_sandbox: Any, tmp_path: Path, setup: str, explanation: str, advice: str
) -> None:
    sb = make_sandbox(lockout_after=1, password_expired=setup == "expired")
    if setup == "locked":
        with pytest.raises(WrongPasswordError):
            login(sb, "locks-the-account", tmp_path)
    password = WRONG if setup == "wrong" else sb.password

    first = run_as(sb, "login", "--state-dir", str(tmp_path), password=password)
    again = run_as(sb, "login", "--state-dir", str(tmp_path), password=password)

    assert (first.returncode, again.returncode) == (3, 3)
    assert explanation in first.stderr
    assert f"What to do: {advice}" in first.stderr
    assert "Login not attempted" in again.stderr
    assert explanation.split("(")[1].rstrip(")") in again.stderr  # the reason, again
    assert advice in again.stderr
    assert "Traceback" not in first.stderr + again.stderr


def test_the_state_folder_comes_from_the_environment_too(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {"BIPRO_RUV_STATE_DIR": str(tmp_path / "from-env")}
    run_as(sandbox, "login", password=WRONG, env=env)
    again = run_as(sandbox, "login", password=WRONG, env=env)
    assert again.returncode == 3
    assert REJECTED_ON.search(again.stderr)
    assert record_of(tmp_path / "from-env", sandbox).path.is_file()
    assert sandbox.stats.sts_requests == 1


def test_cli_runs_keep_their_record_in_the_isolated_user_data_folder(
    sandbox: Sandbox, isolated_user_data: Path
) -> None:
    result = run_as(sandbox, "login", password=WRONG)
    assert result.returncode == 3
    assert record_of(isolated_user_data / "bipro-ruv", sandbox).path.is_file()


def test_the_cli_reports_a_corrupt_record_without_sending(sandbox: Sandbox, tmp_path: Path) -> None:
    record = record_of(tmp_path, sandbox)
    record.folder.mkdir(parents=True)
    record.path.write_bytes(b"{ broken")
    result = run_as(sandbox, "login", "--state-dir", str(tmp_path))
    assert result.returncode == 2
    assert "login not attempted" in result.stderr
    assert record.path.name in result.stderr
    assert sandbox.stats.sts_requests == 0


def test_fetch_and_link_take_the_state_folder_option(sandbox: Sandbox, tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    fetch = run_as(sandbox, "fetch", "--inbox", str(tmp_path / "inbox"), "--state-dir", state, password=WRONG)
    link = run_as(sandbox, "link", "18560093318", "--online", "--state-dir", state, password=WRONG)
    assert (fetch.returncode, link.returncode) == (3, 3)
    assert REJECTED_ON.search(link.stderr)
    assert sandbox.stats.sts_requests == 1


@pytest.mark.skipif(os.name == "nt", reason="XDG_DATA_HOME is not used on Windows")
def test_the_isolation_fixture_reaches_subprocesses(isolated_user_data: Path) -> None:
    code = "from bipro_ruv.auth._rejections import default_state_dir; print(default_state_dir())"
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert Path(printed).is_relative_to(isolated_user_data)


def test_the_demo_keeps_the_sandbox_login_state_out_of_the_user_data_folder(isolated_user_data: Path) -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert list(isolated_user_data.iterdir()) == []


# -- refusals without a BiPRO code ----------------------------------------------------------------

_WSSE_FAULT = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
    "<s:Body><s:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></s:Fault>"
    "</s:Body></s:Envelope>"
)


class _RefusingSts(http.server.BaseHTTPRequestHandler):
    """An STS that refuses every login in WS-Security's words, not BiPRO's."""

    reply: tuple[int, bytes] = (500, b"")
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(self.path)
        status, body = self.reply
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "wsse:FailedAuthentication"),
        (500, "wsse:InvalidSecurityToken"),
        (401, "s:Client"),
        (403, "s:Server"),
    ],
)
def test_a_refusal_in_ws_security_words_is_remembered_too(tmp_path: Path, status: int, code: str) -> None:
    fault = _WSSE_FAULT.format(code=code, text="The security token could not be authenticated").encode()
    handler = type("Sts", (_RefusingSts,), {"reply": (status, fault), "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        for _ in range(3):
            with (
                Client("rom4711", "Veraltetes-Passwort-3", base_url=url, state_dir=tmp_path) as client,
                pytest.raises(AuthenticationError) as info,
            ):
                client.login()
        assert isinstance(info.value, PasswordRejectedEarlierError)
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.requests) == 1


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("a-b", "c", None), ("a", "b-c", None)),  # the first "-" separates profile and user
        (("ruv", "rom4711", None), ("ruv", "rom4711", "test.example:8443")),  # a test system
        (("ruv", "rom4711", "test.example:8443"), ("ruv", "rom4711", "test.example:9443")),
        (("ruv", "rom4711", None), ("kravag", "rom4711", None)),
    ],
)
def test_different_accounts_never_share_a_record(
    tmp_path: Path, one: tuple[str, str, str | None], other: tuple[str, str, str | None]
) -> None:
    assert RejectionStore(tmp_path, *one).path != RejectionStore(tmp_path, *other).path


def test_spellings_of_one_account_share_a_record(tmp_path: Path) -> None:
    assert RejectionStore(tmp_path, "RUV", "ROM4711").path == RejectionStore(tmp_path, "ruv", " rom4711").path
