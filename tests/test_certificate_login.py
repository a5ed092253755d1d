"""The organisation certificate (TGIC X.509, PKCS#12) login over real mTLS against the sandbox.

End to end through :class:`~bipro_ruv.Client`, every refusal a typed error after at most one
attempt with nothing secret logged, no private key left in clear text after a crash in the
middle of loading it, and the command line (``bipro-ruv login --method certificate``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bipro_ruv import AuthenticationError, Client
from bipro_ruv.auth.certificate import OrganisationCertificate
from bipro_ruv.errors import CertificateError, ConfigurationError
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.settings import Settings
from bipro_ruv.transfer.models import Outcome
from tests._cli import run

PIN = "Zertifikats-PIN-4711!"
WRONG_PIN = "Falsche-PIN-0815!"
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
LOGGERS = ("", "bipro_ruv", "zeep", "urllib3")
CLEAR_PEM = re.compile(rb"-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----.+?-----END \1-----", re.S)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def mtls(make_sandbox: Any) -> Sandbox:
    sb: Sandbox = make_sandbox(tls=True, client_certificates=True)
    return sb


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of the real loggers at DEBUG (levels restored by caplog afterwards)."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The TCP connections this process opens through urllib3 (requests), in order."""
    opened: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting)
    return opened


def assert_nothing_secret(caplog: pytest.LogCaptureFixture, sb: Sandbox, *texts: str) -> None:
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    for text in (logged, *texts):
        for secret in (PIN, WRONG_PIN, *sb.stats.token_ids):
            assert secret not in text
        assert "PRIVATE KEY" not in text


def foreign_pkcs12(path: Path, password: str) -> Path:
    """A valid client certificate of a CA of our own, one the sandbox never heard of."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fremde CA")])

    def builder(subject: x509.Name, public_key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now() - dt.timedelta(days=1))
            .not_valid_after(now() + dt.timedelta(days=300))
        )

    ca = (
        builder(ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fremdmakler GmbH")])
    leaf = (
        builder(leaf_name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password.encode())
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"fremd", key, leaf, [ca], encryption))
    return path


# == 1. end to end ================================================================================


def test_fetch_with_the_organisation_certificate_over_mtls(
    mtls: Sandbox, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    assert mtls.base_url.startswith("https://")
    assert mtls.ca_file is not None
    opened = mtls.open_shipment_ids()
    assert opened
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    credentials = OrganisationCertificate(p12, PIN)
    with Client(credentials=credentials, base_url=mtls.base_url, verify=mtls.ca_file) as client:
        report = client.fetch_open_documents(tmp_path / "inbox")
    assert sorted(result.shipment_id for result in report.results) == sorted(opened)
    assert {result.outcome for result in report.results} == {Outcome.ACKNOWLEDGED}
    assert mtls.open_shipment_ids() == []
    assert all(mtls.is_acknowledged(shipment_id) for shipment_id in opened)
    assert report.documents
    for document in report.documents:
        assert document.path.is_file()
        assert document.path.stat().st_size == document.size
    stats = mtls.stats
    assert stats.logins_by_port == {"sts_certificate": 1}
    assert stats.requests_by_port["sts_certificate"] == 1
    assert stats.sts_requests == 1
    assert stats.requests_by_port["sts"] == 0
    assert stats.token_ids
    assert debug_logs.records, "nothing logged at DEBUG: the secret check would prove nothing"
    assert_nothing_secret(debug_logs, mtls, repr(credentials), repr(credentials.certificate))


# == 2. refusals: typed, one attempt (or none), nothing secret ====================================


def test_wrong_certificate_password_fails_when_the_credentials_are_made(
    mtls: Sandbox, tmp_path: Path, debug_logs: pytest.LogCaptureFixture, connections: list[Any]
) -> None:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    with pytest.raises(CertificateError, match="password is wrong") as caught:
        OrganisationCertificate(p12, WRONG_PIN)
    assert str(p12) in str(caught.value)
    assert connections == []
    assert mtls.stats.requests_by_port == {}
    assert mtls.stats.tokens_issued == 0
    assert_nothing_secret(debug_logs, mtls, str(caught.value), repr(caught.value))


def test_expired_certificate_names_its_dates_and_sends_nothing(
    mtls: Sandbox, tmp_path: Path, debug_logs: pytest.LogCaptureFixture, connections: list[Any]
) -> None:
    start, end = now() - dt.timedelta(days=400), now() - dt.timedelta(days=35)
    p12 = mtls.issue_client_certificate(tmp_path / "alt.p12", PIN, not_before=start, not_after=end)
    with pytest.raises(CertificateError, match="expired") as caught:
        OrganisationCertificate(p12, PIN)
    error = caught.value
    assert error.not_after is not None
    assert abs(error.not_after - end) < dt.timedelta(seconds=1)
    assert error.not_before is not None
    assert abs(error.not_before - start) < dt.timedelta(seconds=1)
    assert f"{end:%Y-%m-%d}" in str(error)
    assert f"{start:%Y-%m-%d}" in str(error)
    assert connections == []
    assert mtls.stats.requests_by_port == {}
    assert mtls.stats.tokens_issued == 0
    assert_nothing_secret(debug_logs, mtls, str(error))


def test_certificate_not_yet_valid_is_refused(mtls: Sandbox, tmp_path: Path, connections: list[Any]) -> None:
    start = now() + dt.timedelta(days=3)
    p12 = mtls.issue_client_certificate(tmp_path / "neu.p12", PIN, not_before=start)
    with pytest.raises(CertificateError, match="not valid yet") as caught:
        OrganisationCertificate(p12, PIN)
    assert caught.value.not_before is not None
    assert abs(caught.value.not_before - start) < dt.timedelta(seconds=1)
    assert connections == []
    assert mtls.stats.requests_by_port == {}


def test_certificate_of_another_ca_is_refused_after_one_attempt(
    mtls: Sandbox, tmp_path: Path, debug_logs: pytest.LogCaptureFixture, connections: list[Any]
) -> None:
    credentials = OrganisationCertificate(foreign_pkcs12(tmp_path / "fremd.p12", PIN), PIN)
    with (
        Client(credentials=credentials, base_url=mtls.base_url, verify=mtls.ca_file) as client,
        pytest.raises(CertificateError, match="TLS handshake") as caught,
    ):
        client.login()
    assert isinstance(caught.value, AuthenticationError)
    assert "Fremdmakler GmbH" in str(caught.value)
    assert len(connections) == 1, connections
    stats = mtls.stats
    assert stats.token_ids == []
    assert stats.logins_by_port == {}
    assert stats.requests_by_port == {}
    assert_nothing_secret(debug_logs, mtls, str(caught.value))


def test_certificate_expiring_soon_warns_at_login(
    mtls: Sandbox, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    end = now() + dt.timedelta(days=10)
    p12 = mtls.issue_client_certificate(
        tmp_path / "bald.p12", PIN, not_before=end - dt.timedelta(days=365), not_after=end
    )
    with Client(
        credentials=OrganisationCertificate(p12, PIN), base_url=mtls.base_url, verify=mtls.ca_file
    ) as client:
        debug_logs.clear()
        client.login()
    warnings = [r.getMessage() for r in debug_logs.records if r.levelno == logging.WARNING]
    assert any(f"{end:%Y-%m-%d}" in text and "expires" in text for text in warnings), warnings
    assert mtls.stats.logins_by_port == {"sts_certificate": 1}
    assert_nothing_secret(debug_logs, mtls)


# == 3. a crash while the key is being loaded leaves no clear key behind ===========================

CHILD = """
import json, os, ssl, sys, time
mode, marker, p12, base_url, ca_file, state_dir = sys.argv[1:]
if mode == "fallback":
    del os.memfd_create

def stalled(self, certfile, keyfile=None, password=None):
    with open(certfile, "rb") as handle:
        data = handle.read()
    info = {"path": os.fspath(certfile), "encrypted": b"BEGIN ENCRYPTED PRIVATE KEY" in data}
    with open(marker + ".part", "w") as out:
        json.dump(info, out)
    os.replace(marker + ".part", marker)
    time.sleep(300)

ssl.SSLContext.load_cert_chain = stalled
from bipro_ruv import Client
from bipro_ruv.auth.certificate import OrganisationCertificate

credentials = OrganisationCertificate(p12, os.environ["CHILD_PIN"])
with Client(credentials=credentials, base_url=base_url, verify=ca_file, state_dir=state_dir) as client:
    client.login()
sys.exit(3)
"""


def files_in(folder: Path) -> dict[Path, tuple[int, int, int]]:
    found: dict[Path, tuple[int, int, int]] = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            if path.is_file() and not path.is_symlink():
                found[path] = (info.st_mtime_ns, info.st_size, info.st_ino)
    return found


def holds_clear_key(path: Path, ders: tuple[bytes, ...], *, any_key: bool) -> bool:
    """Whether ``path`` holds the key unencrypted (``any_key``: any unencrypted PEM key at all)."""
    try:
        data = path.read_bytes() if path.stat().st_size < 8 << 20 else b""
    except OSError:
        return False
    if any(der in data for der in ders):
        return True
    for block in CLEAR_PEM.finditer(data):
        if any_key:
            return True
        try:
            found = serialization.load_pem_private_key(block.group(0), None)
        except (ValueError, TypeError):
            continue
        der = found.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if der in ders:
            return True
    return False


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("mode", ["memfd", "fallback"])
def test_sigkill_while_loading_the_key_leaves_no_clear_key(mtls: Sandbox, tmp_path: Path, mode: str) -> None:
    if mode == "memfd" and not (hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir()):
        pytest.skip("no memfd_create on this system")
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    key, _, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), PIN.encode())
    assert key is not None
    ders = tuple(
        key.private_bytes(serialization.Encoding.DER, form, serialization.NoEncryption())
        for form in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL)
    )
    child_tmp, state, cwd = (tmp_path / "child-tmp", tmp_path / "state", tmp_path / "cwd")
    for folder in (child_tmp, state, cwd):
        folder.mkdir()
    broad = [Path(tempfile.gettempdir())] + ([Path("/dev/shm")] if Path("/dev/shm").is_dir() else [])
    before = {folder: files_in(folder) for folder in broad}
    marker = tmp_path / "marker.json"
    env = {**os.environ, "TMPDIR": str(child_tmp), "CHILD_PIN": PIN}
    args = [mode, str(marker), str(p12), mtls.base_url, str(mtls.ca_file), str(state)]
    with (tmp_path / "child.log").open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args], cwd=cwd, env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 60
            while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    output = (tmp_path / "child.log").read_text(errors="replace")
    assert marker.exists(), f"the child never reached load_cert_chain:\n{output}"
    assert child.returncode == -signal.SIGKILL, output
    reached = json.loads(marker.read_text())
    assert reached["encrypted"], "the key given to ssl was not encrypted"

    leftovers = files_in(child_tmp)
    if mode == "memfd":
        assert reached["path"].startswith("/proc/self/fd/")
        assert leftovers == {}, leftovers
    else:
        left = Path(reached["path"])
        assert left.parent.parent == child_tmp
        assert left.parent.name.startswith("bipro-ruv-cert-")
        assert list(leftovers) == [left]  # the crash kept it: it must hold only the encrypted key
        assert left.parent.stat().st_mode & 0o777 == 0o700
        assert left.stat().st_mode & 0o777 == 0o600
        data = left.read_bytes()
        assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
        assert b"-----BEGIN CERTIFICATE-----" in data

    clear = [
        path
        for folder in (child_tmp, state, cwd)
        for path in files_in(folder)
        if holds_clear_key(path, ders, any_key=True)
    ]
    for folder, seen in before.items():
        changed = [path for path, info in files_in(folder).items() if seen.get(path) != info]
        clear += [path for path in changed if holds_clear_key(path, ders, any_key=False)]
    assert sorted(set(clear)) == []


# == 4. command line and settings =================================================================


def cli_env(p12: Path, password: str | None) -> dict[str, str]:
    env = {**NO_KEYRING, "BIPRO_RUV_CERTIFICATE": str(p12)}
    return env if password is None else {**env, "BIPRO_RUV_CERTIFICATE_PASSWORD": password}


def login(sb: Sandbox, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = ("login", "--method", "certificate", "--base-url", sb.base_url, "--ca-bundle", str(sb.ca_file))
    return run(*args, env=env)


def test_cli_login_with_the_certificate(mtls: Sandbox, tmp_path: Path) -> None:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    result = login(mtls, cli_env(p12, PIN))
    assert result.returncode == 0, result.stderr
    assert "Login OK" in result.stdout
    assert "Mustermakler GmbH" in result.stdout
    assert mtls.stats.logins_by_port == {"sts_certificate": 1}
    assert PIN not in result.stdout + result.stderr


def test_cli_login_with_a_wrong_certificate_password(mtls: Sandbox, tmp_path: Path) -> None:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    result = login(mtls, cli_env(p12, WRONG_PIN))
    assert result.returncode == 3, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("Login refused (organisation certificate): "), lines
    assert "Traceback" not in result.stderr + result.stdout
    assert WRONG_PIN not in result.stderr + result.stdout
    assert PIN not in result.stderr
    assert mtls.stats.requests_by_port == {}


def test_cli_login_without_the_password_and_without_a_terminal(mtls: Sandbox, tmp_path: Path) -> None:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    result = login(mtls, cli_env(p12, None))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "BIPRO_RUV_CERTIFICATE_PASSWORD" in result.stderr
    assert "no terminal" in result.stderr  # not prompted, not an unreadable stdin
    assert "Traceback" not in result.stderr
    assert mtls.stats.requests_by_port == {}


def test_settings_from_env_give_the_organisation_certificate(mtls: Sandbox, tmp_path: Path) -> None:
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN, organisation="Beispiel Makler AG")
    environ = {
        "BIPRO_RUV_LOGIN": "certificate",
        "BIPRO_RUV_CERTIFICATE": str(p12),
        "BIPRO_RUV_CERTIFICATE_PASSWORD": PIN,
    }
    settings = Settings.from_env(environ, use_keyring=False)
    assert settings.login == "certificate"
    assert settings.certificate == p12
    credentials = settings.credentials()
    assert isinstance(credentials, OrganisationCertificate)
    assert credentials.path == p12
    assert credentials.username == "Beispiel Makler AG"
    assert PIN not in repr(settings) + repr(credentials)

    del environ["BIPRO_RUV_CERTIFICATE"]
    with pytest.raises(ConfigurationError, match="BIPRO_RUV_CERTIFICATE") as caught:
        Settings.from_env(environ, use_keyring=False)
    assert "BIPRO_RUV_CERTIFICATE_PASSWORD" not in str(caught.value)
    assert PIN not in str(caught.value)


# -- found in review ---------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to name the CA file by its hash")
def test_a_folder_of_ca_files_verifies_as_a_bundle_does(mtls: Sandbox, tmp_path: Path) -> None:
    """``verify`` may name a folder of hashed CA files, as requests allows; a password login
    took it, the certificate login crashed with IsADirectoryError."""
    assert mtls.ca_file is not None
    name = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(mtls.ca_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder = tmp_path / "ca"
    folder.mkdir()
    shutil.copy(mtls.ca_file, folder / f"{name}.0")
    p12 = mtls.issue_client_certificate(tmp_path / "org.p12", PIN)
    credentials = OrganisationCertificate(p12, PIN)
    with Client(credentials=credentials, base_url=mtls.base_url, verify=str(folder)) as client:
        assert client.login().lifetime_s > 0
    assert mtls.stats.logins_by_port["sts_certificate"] == 1


def test_a_missing_certificate_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BIPRO_RUV_CERTIFICATE"):
        OrganisationCertificate(tmp_path / "fehlt.p12", PIN)
    result = run(
        "login",
        "--method",
        "certificate",
        env={
            "BIPRO_RUV_CERTIFICATE": str(tmp_path / "fehlt.p12"),
            "BIPRO_RUV_CERTIFICATE_PASSWORD": PIN,
        },
    )
    assert result.returncode == 2, result.stderr
    assert "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
