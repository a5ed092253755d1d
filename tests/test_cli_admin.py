"""What an office admin sees from the real ``bipro-ruv`` command (issue 12): each setup mistake in
one sentence with its documented exit code, the keyring, an interrupted fetch, and resolving
quarantined shipments with ``bipro-ruv shipments``.

Every run is the installed console script in its own process, against the sandbox (a real
HTTP SOAP server on 127.0.0.1), without a terminal: as cron or systemd run it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import Client, WrongPasswordError
from bipro_ruv.sandbox import FaultKind, FaultRule, Sandbox
from bipro_ruv.sandbox.content.hostile import DEFECTS_THAT_FAIL
from tests._cli import run, run_as, script
from tests._keyring_backend import ENV as KEYRING_FILE_ENV

ROOT = Path(__file__).resolve().parents[1]
NOWHERE = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
WRONG = "falsches-Passwort-12"
#: The keyring of a server without one: runs never pick up a password stored on this machine.
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
#: Two sentences in one line: an end mark, a space, a capital.
SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-ZÄÖÜ]")


def message_lines(result: subprocess.CompletedProcess[str], *, one_sentence: bool = True) -> list[str]:
    """The error as the admin reads it: no traceback, one line (one sentence unless told), and
    at most one more line saying what to do. Returns the non-empty lines of stderr."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, result.stderr
    assert not lines[0].startswith(("Usage:", "Error:")), result.stderr
    if len(lines) == 2:
        assert lines[1].startswith("What to do: "), result.stderr
    if one_sentence:
        assert not SENTENCE_BREAK.search(lines[0]), lines[0]
    return lines


# -- each admin mistake: one sentence, the documented exit code (issue 12, point 3) -------------


@dataclass
class Attempt:
    """A ``bipro-ruv`` command line set up to go wrong, and what its message must say."""

    args: list[str]
    says: str
    env: dict[str, str] = field(default_factory=dict, repr=False)
    sandbox: Sandbox | None = None
    advice: str | None = None  # in the "What to do:" line


Setup = Callable[[Any, Path, ExitStack], Attempt]


def as_user(sb: Sandbox, *args: str, password: str | None = None) -> tuple[list[str], dict[str, str]]:
    """``args`` for the sandbox's user, the password in the environment as a job passes it."""
    secret = sb.password if password is None else password
    return [*args, "--base-url", sb.base_url, "-u", sb.username], {"BIPRO_RUV_PASSWORD": secret}


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` cannot be written into, for root too: ``chattr +i`` (root may write into any
    mode), ``chmod 0o555`` for anyone else. Always undone."""
    if sys.platform == "win32":
        pytest.skip("no read-only folders by permission bits on Windows")
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root, for whom a read-only folder is writable, and chattr is not installed")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"running as root, and chattr +i does not work here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def wrong_password(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox(lockout_after=3)
    args, env = as_user(sb, "fetch", "--inbox", str(tmp / "inbox"), password=WRONG)
    return Attempt(args, "Login refused (wrong user id or password)", env, sb, "Check the password")


def locked_account(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox(lockout_after=1)
    # Locked by someone else (another program, the portal): the right password is refused too.
    with (
        Client(sb.username, "sperrt-das-Konto", base_url=sb.base_url, state_dir=tmp / "elsewhere") as other,
        pytest.raises(WrongPasswordError),
    ):
        other.login()
    args, env = as_user(sb, "fetch", "--inbox", str(tmp / "inbox"))
    return Attempt(args, "Login refused (account locked)", env, sb, "unlocked in the Maklerportal")


def unreachable_host(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    args = ["fetch", "--inbox", str(tmp / "inbox"), "--base-url", NOWHERE, "-u", "rom4711"]
    env = {"BIPRO_RUV_PASSWORD": "irgendeins"}
    return Attempt(args, f"NetworkError: could not connect to {NOWHERE}", env, None, "--base-url")


def inbox_is_a_file(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox()
    inbox = tmp / "inbox"
    inbox.write_text("a file, not a folder")
    args, env = as_user(sb, "fetch", "--inbox", str(inbox))
    return Attempt(args, f"StorageError: the inbox {inbox} is a file, not a folder", env, sb, "is a folder")


def read_only_inbox(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox()
    inbox = tmp / "inbox"
    inbox.mkdir()
    hold.enter_context(read_only(inbox))
    args, env = as_user(sb, "fetch", "--inbox", str(inbox))
    return Attempt(args, f"StorageError: cannot write into {inbox}", env, sb, "may write into it")


def read_only_inbox_with_a_journal(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    """The inbox of last night's run (its journal in INBOX/.bipro-ruv/), made read-only since."""
    sb = make_sandbox()
    inbox = tmp / "inbox"
    first = run_as(sb, "fetch", "--inbox", str(inbox), "--category", "999")  # leaves the rest open
    assert first.returncode == 0, first.stderr
    assert sb.open_shipment_ids()
    hold.enter_context(read_only(inbox))
    args, env = as_user(sb, "fetch", "--inbox", str(inbox))
    return Attempt(args, str(inbox), env, sb, "may write into it")


def missing_password(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox()
    args, _ = as_user(sb, "fetch", "--inbox", str(tmp / "inbox"))
    return Attempt(args, "the password is not set and there is no terminal", {}, sb, "BIPRO_RUV_PASSWORD")


def misspelt_password_variable(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox()
    args, _ = as_user(sb, "fetch", "--inbox", str(tmp / "inbox"))
    env = {"BIPRO_RUV_PASSWORT": sb.password}
    return Attempt(args, "BIPRO_RUV_PASSWORT (did you mean BIPRO_RUV_PASSWORD?)", env, sb)


def bad_setting(variable: str, value: str, says: str) -> Setup:
    def setup(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
        sb = make_sandbox()
        args, env = as_user(sb, "fetch", "--inbox", str(tmp / "inbox"))
        return Attempt(args, says, {**env, variable: value}, sb)

    return setup


def unknown_category(make_sandbox: Any, tmp: Path, hold: ExitStack) -> Attempt:
    sb = make_sandbox()
    args, env = as_user(sb, "fetch", "--inbox", str(tmp / "inbox"), "--category", "123")
    return Attempt(args, "the category filter '123' names no known business area", env, sb)


# (case, setup, exit code, STS requests it may make: None = not counted)
MISTAKES = [
    pytest.param(wrong_password, 3, 1, id="wrong password"),
    pytest.param(locked_account, 3, 1, id="locked account"),
    pytest.param(unreachable_host, 5, None, id="unreachable host"),
    pytest.param(inbox_is_a_file, 4, 0, id="inbox is a file"),
    pytest.param(read_only_inbox, 4, 0, id="read-only inbox"),
    pytest.param(
        read_only_inbox_with_a_journal,
        4,
        None,
        id="read-only inbox with a journal",
    ),
    pytest.param(missing_password, 2, 0, id="missing password without a terminal"),
    pytest.param(
        misspelt_password_variable,
        2,
        0,
        id="misspelt password variable",
    ),
    pytest.param(
        bad_setting("BIPRO_RUV_TRUST_ENV", "ture", "BIPRO_RUV_TRUST_ENV='ture'"),
        2,
        0,
        id="bad setting TRUST_ENV=ture",
    ),
    pytest.param(
        bad_setting("BIPRO_RUV_WORKERS", "0", "BIPRO_RUV_WORKERS='0'"), 2, 0, id="bad setting WORKERS=0"
    ),
    pytest.param(
        bad_setting("BIPRO_RUV_TRUSTENV", "1", "BIPRO_RUV_TRUSTENV (did you mean BIPRO_RUV_TRUST_ENV?)"),
        2,
        0,
        id="misspelt setting TRUSTENV",
    ),
    pytest.param(unknown_category, 2, 0, id="unknown category"),
]


@pytest.fixture
def hold() -> Iterator[ExitStack]:
    """What a case set up and must undo whatever the test's outcome (``chattr -i``)."""
    with ExitStack() as stack:
        yield stack


@pytest.mark.parametrize(("setup", "code", "logins"), MISTAKES)
def test_each_admin_mistake_is_one_sentence_with_its_exit_code(
    setup: Setup, code: int, logins: int | None, make_sandbox: Any, tmp_path: Path, hold: ExitStack
) -> None:
    attempt = setup(make_sandbox, tmp_path, hold)
    sb = attempt.sandbox
    sent_before = sb.stats.sts_requests if sb is not None else 0
    acknowledged_before = sb.stats.acknowledged if sb is not None else []

    # Narrow: the message is printed unwrapped, a path or a variable name is never cut in two.
    result = run(*attempt.args, env={**NO_KEYRING, "COLUMNS": "60", **attempt.env})

    assert result.returncode == code, result.stdout + result.stderr
    lines = message_lines(result)
    assert attempt.says in lines[0], lines[0]
    if attempt.advice is not None:
        assert len(lines) == 2, result.stderr
        assert attempt.advice in lines[1], lines[1]
    assert result.stdout == ""
    assert attempt.env.get("BIPRO_RUV_PASSWORD", "no password given") not in result.stderr
    if sb is not None:
        assert sb.stats.acknowledged == acknowledged_before
        if logins is not None:
            assert sb.stats.sts_requests == sent_before + logins


def test_a_wrong_password_is_sent_once_across_two_fetches(sandbox: Sandbox, tmp_path: Path) -> None:
    """(Across three ``login`` runs: test_rejected_passwords.py.) The second run sends nothing."""
    inbox = str(tmp_path / "inbox")
    first, second = (run_as(sandbox, "fetch", "--inbox", inbox, password=WRONG) for _ in range(2))

    assert (first.returncode, second.returncode) == (3, 3)
    assert sandbox.stats.sts_requests == 1
    assert "Login refused (wrong user id or password)" in message_lines(first)[0]
    # PasswordRejectedEarlierError: several sentences (when, why, what to do), but in one line.
    (line,) = message_lines(second, one_sentence=False)
    assert line.startswith("Login not attempted: this password for user rom4711 was rejected on ")
    assert WRONG not in first.stderr + second.stderr


def test_json_and_ndjson_together_are_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_as(sandbox, "fetch", "--inbox", str(tmp_path / "inbox"), "--json", "--ndjson")
    assert result.returncode == 2
    assert "--json and --ndjson exclude each other" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "inbox").exists()
    assert sandbox.stats.sts_requests == 0


# -- the password in the keyring ----------------------------------------------------------------


@pytest.fixture
def keyring_env(tmp_path: Path) -> dict[str, str]:
    """Subprocesses use the file keyring of tests/_keyring_backend.py, in this test's folder."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        "PYTHON_KEYRING_BACKEND": "tests._keyring_backend.FileKeyring",
        "PYTHONPATH": os.pathsep.join(paths),
        KEYRING_FILE_ENV: str(tmp_path / "keyring.json"),
    }


def store_in_keyring(
    keyring_env: dict[str, str], user: str, password: str
) -> subprocess.CompletedProcess[str]:
    """``bipro-ruv credentials set --password-stdin`` with the password piped in."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("BIPRO_RUV_")}
    return subprocess.run(
        [script(), "credentials", "set", "-u", user, "--password-stdin"],
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, "COLUMNS": "200", **keyring_env},
        check=False,
    )


def test_a_password_stored_in_the_keyring_lets_the_job_fetch_without_one(
    sandbox: Sandbox, tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    stored = store_in_keyring(keyring_env, sandbox.username, sandbox.password)
    assert stored.returncode == 0, stored.stderr
    assert "stored in the keyring" in stored.stdout
    keyring = json.loads(Path(keyring_env[KEYRING_FILE_ENV]).read_text(encoding="utf-8"))
    assert keyring == {"bipro-ruv": {f"ruv/{sandbox.username}": sandbox.password}}

    shown = run("credentials", "show", "-u", sandbox.username, env=keyring_env)
    assert shown.returncode == 0, shown.stderr
    assert f"ruv/{sandbox.username}: a password is stored" in shown.stdout

    # No BIPRO_RUV_PASSWORD: run() strips every BIPRO_RUV_ variable. -vv: the debug log too.
    fetched = run(
        "-vv",
        "fetch",
        "--inbox",
        str(tmp_path / "inbox"),
        "--base-url",
        sandbox.base_url,
        "-u",
        sandbox.username,
        env=keyring_env,
    )
    assert fetched.returncode == 0, fetched.stderr
    assert f"Summary: {len(sandbox.shipments())} acknowledged" in fetched.stdout
    assert sandbox.open_shipment_ids() == []
    assert sandbox.stats.successful_logins == 1
    for result in (stored, shown, fetched):
        assert sandbox.password not in result.stdout + result.stderr


def test_after_credentials_delete_the_job_says_what_to_set(
    sandbox: Sandbox, tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    assert store_in_keyring(keyring_env, sandbox.username, sandbox.password).returncode == 0
    deleted = run("credentials", "delete", "-u", sandbox.username, env=keyring_env)
    assert deleted.returncode == 0, deleted.stderr
    assert "removed from the keyring" in deleted.stdout
    shown = run("credentials", "show", "-u", sandbox.username, env=keyring_env)
    assert "no password stored" in shown.stdout

    fetched = run(
        "fetch",
        "--inbox",
        str(tmp_path / "inbox"),
        "--base-url",
        sandbox.base_url,
        "-u",
        sandbox.username,
        env=keyring_env,
    )

    assert fetched.returncode == 2
    lines = message_lines(fetched)
    assert "the password is not set and there is no terminal" in lines[0]
    assert "BIPRO_RUV_PASSWORD" in lines[1]
    assert "`bipro-ruv credentials set`" in lines[1]
    assert sandbox.stats.sts_requests == 0


def test_credentials_set_without_a_terminal_asks_for_password_stdin(
    sandbox: Sandbox, keyring_env: dict[str, str]
) -> None:
    result = run("credentials", "set", "-u", sandbox.username, env=keyring_env)  # stdin: /dev/null
    assert result.returncode == 2
    lines = message_lines(result)
    assert "no terminal" in lines[0]
    assert "--password-stdin" in lines[1]
    assert not Path(keyring_env[KEYRING_FILE_ENV]).exists()


# -- Ctrl-C and SIGTERM: the shipments in progress are finished, the rest waits -----------------

BULK = 300


def start_fetch(sb: Sandbox, inbox: Path, out: Path, err: Path) -> subprocess.Popen[bytes]:
    """``bipro-ruv fetch`` in the background. SIGINT is reset to its default on the way, for a
    runner that ignores it (a background job): Python then turns it into KeyboardInterrupt."""
    reset = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("BIPRO_RUV_")}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                reset,
                script(),
                "fetch",
                "--inbox",
                str(inbox),
                "--base-url",
                sb.base_url,
                "-u",
                sb.username,
            ],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env={**environment, **NO_KEYRING, "COLUMNS": "200", "BIPRO_RUV_PASSWORD": sb.password},
        )


def shipment_folders(inbox: Path) -> list[str]:
    return sorted(path.name for path in inbox.iterdir() if not path.name.startswith("."))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_fetch_reports_what_it_did_and_the_next_run_does_the_rest(
    signum: signal.Signals, make_sandbox: Any, tmp_path: Path
) -> None:
    sb: Sandbox = make_sandbox(mailbox="empty", bulk_shipments=BULK)
    every_id = {shipment.id for shipment in sb.shipments()}
    # Each download takes a moment: the signal comes while most shipments are still open.
    sb.inject(FaultRule(FaultKind.SLOW, operation="getShipment", times=10 * BULK, delay=0.03))
    inbox = tmp_path / "inbox"
    process = start_fetch(sb, inbox, tmp_path / "out", tmp_path / "err")
    try:
        deadline = time.monotonic() + 60
        while len(sb.stats.acknowledged) < 3:
            assert process.poll() is None, "the fetch ended before it was interrupted"
            assert time.monotonic() < deadline, "no shipment acknowledged within 60 s"
            time.sleep(0.01)
        process.send_signal(signum)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stdout = (tmp_path / "out").read_text(encoding="utf-8")
    stderr = (tmp_path / "err").read_text(encoding="utf-8")

    assert code == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    done = sb.stats.acknowledged
    assert 3 <= len(done) < BULK
    summary = stdout.strip().splitlines()[-1]
    assert summary.startswith(f"Summary: {len(done)} acknowledged. Inbox: {inbox}"), summary
    assert "Interrupted: the shipments not done stay in the mailbox" in summary
    # The shipments in progress were finished: what is stored is exactly what was acknowledged.
    assert shipment_folders(inbox) == sorted(done)
    assert set(sb.open_shipment_ids()) == every_id - set(done)

    sb.clear_faults()
    rerun = run_as(sb, "fetch", "--inbox", str(inbox))

    assert rerun.returncode == 0, rerun.stderr
    assert f"Summary: {BULK - len(done)} acknowledged." in rerun.stdout
    assert shipment_folders(inbox) == sorted(every_id)  # no "ID (2)": each stored once
    assert all(len(list((inbox / name).iterdir())) == 1 for name in every_id)
    assert Counter(sb.stats.acknowledged) == Counter(every_id)
    assert sb.stats.requests_by_operation["getShipment"] == BULK  # none downloaded twice
    assert sb.open_shipment_ids() == []


# -- resolving quarantined shipments by hand (issue 12, point 2) --------------------------------


def attention(inbox: Path, *extra: str) -> dict[str, dict[str, Any]]:
    """``bipro-ruv shipments list --json``, by shipment id."""
    result = run("shipments", "list", "--inbox", str(inbox), "--json", *extra)
    assert result.returncode == 0, result.stderr
    return {record["shipment_id"]: record for record in json.loads(result.stdout)}


def test_quarantined_shipments_are_listed_shown_retried_and_acknowledged(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb: Sandbox = make_sandbox(hostile=True, mailbox="empty")
    failing = {shipment.id for shipment in sb.shipments() if shipment.defect in DEFECTS_THAT_FAIL}
    assert len(failing) == 4
    inbox = tmp_path / "inbox"

    nights = [run_as(sb, "fetch", "--inbox", str(inbox)) for _ in range(3)]

    assert [night.returncode for night in nights] == [1, 1, 0]  # quarantined: reported, not failed
    assert "Summary: 4 quarantined." in nights[2].stdout
    assert set(sb.open_shipment_ids()) == failing

    listed = run("shipments", "list", "--inbox", str(inbox), env={"COLUMNS": "250"})
    assert listed.returncode == 0, listed.stderr
    assert "4 quarantined" in listed.stdout
    rows = [line for line in listed.stdout.splitlines() if line.startswith("│ HOSTILE-")]
    assert {row.split("│")[1].strip() for row in rows} == failing
    assert all("quarantined" in row for row in rows)
    records = attention(inbox)
    assert set(records) == failing
    assert {record["state"] for record in records.values()} == {"quarantined"}
    assert all(record["failure_count"] == 3 for record in records.values())

    checksum = "HOSTILE-CHECKSUM"
    shown = run("shipments", "show", checksum, "--inbox", str(inbox), env={"COLUMNS": "250"})
    assert shown.returncode == 0, shown.stderr
    quarantine = inbox / records[checksum]["quarantine_dir"]
    assert quarantine.is_dir()
    assert f"Antwort und Fehler in:     {quarantine}" in shown.stdout
    assert "Fehler:                    ChecksumMismatchError: Pruefsumme mismatch" in shown.stdout
    assert "quarantined (not downloaded again until retried)" in shown.stdout

    # retry: the next fetch downloads that one again, and only that one.
    retried = run("shipments", "retry", checksum, "--inbox", str(inbox))
    assert retried.returncode == 0, retried.stderr
    assert f"Shipment {checksum} will be downloaded again" in retried.stdout
    downloads = sb.stats.requests_by_operation["getShipment"]
    again = run_as(sb, "fetch", "--inbox", str(inbox))
    assert again.returncode == 1  # it still fails: the server still sends it broken
    assert sb.stats.requests_by_operation["getShipment"] == downloads + 1
    assert attention(inbox)[checksum]["state"] == "failed"

    # acknowledge: refused without --confirm (nothing sent), done with it.
    zipbomb = "HOSTILE-ZIPBOMB"
    logins = sb.stats.sts_requests
    refused = run_as(sb, "shipments", "acknowledge", zipbomb, "--inbox", str(inbox))
    assert refused.returncode == 2
    lines = message_lines(refused)
    assert f"removes shipment {zipbomb} from the insurer's mailbox for good" in lines[0]
    assert "--confirm" in lines[1]
    assert zipbomb in sb.open_shipment_ids()
    assert sb.stats.sts_requests == logins
    assert attention(inbox)[zipbomb]["state"] == "quarantined"

    confirmed = run_as(sb, "shipments", "acknowledge", zipbomb, "--inbox", str(inbox), "--confirm")
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"Shipment {zipbomb} is acknowledged" in confirmed.stdout
    assert zipbomb not in sb.open_shipment_ids()
    assert sb.stats.acknowledged.count(zipbomb) == 1
    assert set(attention(inbox)) == failing - {zipbomb}
    assert attention(inbox, "--all")[zipbomb]["state"] == "acknowledged"
