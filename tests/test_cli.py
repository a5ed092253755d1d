"""The installed ``bipro-ruv`` console script, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bipro_ruv.sandbox import FaultKind, Sandbox
from tests._cli import run, run_as, script


def test_demo_lists_the_sandbox_shipments() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "Offene Lieferungen" in result.stdout
    assert "Logged in" in result.stdout
    assert "Dokumente nach Vertrag" in result.stdout
    assert "Open shipments left: 0." in result.stdout


def test_login_prints_expiry_but_never_the_token(sandbox: Sandbox) -> None:
    result = run_as(sandbox, "login")
    assert result.returncode == 0, result.stderr
    assert "Token valid until" in result.stdout
    assert "bipro:" not in result.stdout + result.stderr
    assert sandbox.password not in result.stdout + result.stderr


def test_login_with_wrong_password_exits_non_zero_with_a_clear_message(sandbox: Sandbox) -> None:
    result = run_as(sandbox, "login", password="falsch")
    assert result.returncode == 3
    assert "Login refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert "bipro-ruv" in result.stdout


def test_module_entry_point_matchesscript() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from bipro_ruv.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "login" in result.stdout
    assert "demo" in result.stdout


def test_sandbox_command_prints_url_and_credentials_and_serves() -> None:
    from bipro_ruv import Client

    process = subprocess.Popen(
        [script(), "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        url = lines[0].split("listening on", 1)[1].strip()
        username = lines[1].split(":", 1)[1].strip()
        password = lines[2].split(":", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with Client(username, password, base_url=url) as client:
            assert client.list_shipments()
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_fetch_stores_and_summarizes(sandbox: Sandbox, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    result = run_as(sandbox, "fetch", "--inbox", str(inbox))
    assert result.returncode == 0, result.stderr
    assert f"Summary: {len(sandbox.shipments())} acknowledged" in result.stdout
    assert sandbox.open_shipment_ids() == []
    assert any(inbox.rglob("*.pdf"))


def test_fetch_dry_run_and_category(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_as(sandbox, "fetch", "--inbox", str(tmp_path), "--no-ack", "--category", "999")
    assert result.returncode == 0, result.stderr
    assert "stored" in result.stdout
    assert sandbox.stats.acknowledged == []


def test_fetch_with_failures_exits_1_and_lists_them(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(hostile=True, mailbox="empty")
    result = run_as(sb, "fetch", "--inbox", str(tmp_path), env={"COLUMNS": "250"})
    assert result.returncode == 1
    assert "Nicht erledigt" in result.stdout
    assert "HOSTILE-ZIPBOMB" in result.stdout


def test_the_proxy_environment_is_used_only_with_trust_env(sandbox: Sandbox) -> None:
    # Port 9 on loopback refuses connections: a request through that "proxy" cannot work.
    proxy = {"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "NO_PROXY": ""}
    ignored = run_as(sandbox, "login", env=proxy)
    assert ignored.returncode == 0, ignored.stderr
    used = run_as(sandbox, "login", "--trust-env", env=proxy)
    assert used.returncode == 5  # ExitCode.SERVICE: the insurer could not be reached
    assert "NetworkError" in used.stderr
    assert sandbox.stats.sts_requests == 1


def test_fetch_lists_documents_kept_despite_a_faulty_reply(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.inject(FaultKind.MISSING_CLOSING_DELIMITER, operation="getShipment")
    result = run_as(sandbox, "fetch", "--inbox", str(tmp_path), env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    assert "Gespeichert trotz fehlerhafter Antwort (1)" in result.stdout
    assert "closing delimiter" in result.stdout
