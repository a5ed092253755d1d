"""The organisation certificate (TGIC X.509 machine certificate): mTLS login to the STS.

TGIC issues each broker firm one X.509 certificate, valid for one year, as a PKCS#12 file
(``.p12``/``.pfx``) with a password. :class:`OrganisationCertificate` is its login method:

* **loading** (:func:`load_certificate`): the file is opened with ``cryptography`` when the
  client is made, before anything is sent. A wrong password, a file that is no PKCS#12, a
  certificate that is expired or not yet valid raise :class:`~bipro_ruv.errors.CertificateError`
  naming the file and the dates; 30 days before it expires every login logs a warning;
* **mTLS**: every connection of the client presents it as the TLS client certificate;
  the STS's certificate port (``profile.sts_certificate``) issues the SecurityContextToken
  for it (a RequestSecurityToken without UsernameToken), which the services then take as
  with a password login;
* **the private key never lands on disk unprotected.** Python's ``ssl`` reads a key only
  from a file, so the key is written once, *encrypted* with a random passphrase that lives
  only in this process's memory, and read into the TLS context: on Linux into an anonymous
  memory file (``memfd_create``: no path on any file system, gone with the process, also
  after a crash), elsewhere into a private temporary folder (mode 0700) deleted right
  after. Even a file left by a crash there holds only the encrypted key.

A server that refuses the certificate in the TLS handshake (one of another CA) gives a
:class:`~bipro_ruv.errors.CertificateError` after exactly one attempt.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.policy import RetryPolicy
from bipro_ruv._wire.soap import SoapEndpoint
from bipro_ruv.auth._password import Password
from bipro_ruv.auth.base import SecurityToken, TokenProvider
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.sts import issue_sct
from bipro_ruv.errors import CertificateError, ConfigurationError, TransportError

if TYPE_CHECKING:
    from cryptography import x509

# cryptography is imported where a certificate is read, not with the package: most clients log
# in with a password, and its x509/pkcs12 modules cost some 60 ms of every start.

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "CertificateLogin",
    "ClientCertificate",
    "OrganisationCertificate",
    "load_certificate",
]

log = logging.getLogger("bipro_ruv.auth")

EXPIRY_WARNING_DAYS = 30
"""Days before its end from which every login warns that the certificate expires."""


@dataclass(frozen=True, repr=False)
class ClientCertificate:
    """A loaded PKCS#12: the certificate, its chain and (in memory only) the private key."""

    path: Path
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    _key: object = field(repr=False)

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def common_name(self) -> str:
        from cryptography.x509.oid import NameOID

        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        value = names[0].value if names else self.subject
        return value if isinstance(value, str) else value.decode("utf-8", "replace")

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def check_validity(self, now: datetime | None = None) -> None:
        """Raise :class:`CertificateError` outside the validity dates; warn in the last 30 days."""
        moment = now or datetime.now(timezone.utc)
        dates = f"valid from {self.not_before:%Y-%m-%d %H:%M} to {self.not_after:%Y-%m-%d %H:%M} UTC"
        if moment < self.not_before:
            raise CertificateError(
                f"the organisation certificate {self.path} is not valid yet ({dates}); "
                "check the system clock, or wait until it is",
                not_before=self.not_before,
                not_after=self.not_after,
            )
        if moment > self.not_after:
            raise CertificateError(
                f"the organisation certificate {self.path} expired on {self.not_after:%Y-%m-%d} ({dates}); "
                "order a new one from TGIC (tgic-support@gdv-dl.de) and set its file here",
                not_before=self.not_before,
                not_after=self.not_after,
            )
        left = self.not_after - moment
        if left < timedelta(days=EXPIRY_WARNING_DAYS):
            log.warning(
                "the organisation certificate %s expires on %s (in %d days); TGIC certificates last one "
                "year: order the next one now",
                self.path,
                f"{self.not_after:%Y-%m-%d}",
                left.days,
            )

    def ssl_context(self, verify: bool | str) -> ssl.SSLContext:
        """A client TLS context presenting this certificate; ``verify``: True (the system's
        CAs) or the path of a CA bundle (see the module docstring for the key)."""
        cafile = capath = None
        if isinstance(verify, str):
            # requests takes a folder of hashed CA files as well as a bundle file.
            cafile, capath = (None, verify) if os.path.isdir(verify) else (verify, None)
        context = ssl.create_default_context(cafile=cafile, capath=capath)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        from cryptography.hazmat.primitives import serialization

        passphrase = secrets.token_bytes(32)
        key_pem = self._key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        chain_pem = b"".join(
            item.public_bytes(serialization.Encoding.PEM) for item in (self.certificate, *self.chain)
        )
        with _key_file(chain_pem + key_pem) as path:
            context.load_cert_chain(path, password=passphrase)
        return context

    def __repr__(self) -> str:
        return f"ClientCertificate({self.subject!r}, not_after={self.not_after:%Y-%m-%d})"


@contextmanager
def _key_file(data: bytes) -> Iterator[str]:
    """A path ``ssl`` can read ``data`` from for a moment: an anonymous memory file on
    Linux, else a file in a private temporary folder, removed afterwards."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None and Path("/proc/self/fd").is_dir():
        fd = memfd_create("bipro-ruv-client-certificate", getattr(os, "MFD_CLOEXEC", 0))
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    folder = tempfile.mkdtemp(prefix="bipro-ruv-cert-")  # mode 0700
    try:
        path = os.path.join(folder, "client.pem")
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(handle, data)
        finally:
            os.close(handle)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_certificate(path: str | os.PathLike[str], password: str | SecretStr | Password) -> ClientCertificate:
    """Open a PKCS#12 file (``.p12``/``.pfx``) and check its dates (see the module docstring)."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"the organisation certificate {file} cannot be read ({exc.strerror or exc}); "
            "check BIPRO_RUV_CERTIFICATE (the PKCS#12 file TGIC issued)"
        ) from exc
    from cryptography.hazmat.primitives.serialization import pkcs12

    secret = password if isinstance(password, Password) else Password(password)
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, secret.reveal().encode("utf-8"))
    except ValueError as exc:
        raise CertificateError(
            f"the organisation certificate {file} cannot be opened: the password is wrong, or the file "
            "is no PKCS#12 (.p12/.pfx) file"
        ) from exc
    if key is None or certificate is None:
        raise CertificateError(
            f"the organisation certificate {file} holds no "
            f"{'private key' if key is None else 'certificate'}; export it again with its key (PKCS#12)"
        )
    loaded = ClientCertificate(file, certificate, tuple(chain or ()), key)
    loaded.check_validity()
    return loaded


def _handshake_refused(error: TransportError) -> bool:
    """Whether ``error`` is the server refusing our certificate in the TLS handshake (not
    our side distrusting the server's certificate, which stays a TransportError)."""
    causes: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 20:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(item).lower() for item in causes)
    if "certificate verify failed" in text:
        return False
    return any(isinstance(item, ssl.SSLError) for item in causes) or "alert" in text


class CertificateLogin:
    """Token provider: the STS's certificate port over mTLS, one attempt per login."""

    def __init__(
        self,
        certificate: ClientCertificate,
        endpoint: SoapEndpoint,
        *,
        default_lifetime_s: float,
        send_bipro_version: bool = False,
    ) -> None:
        self.certificate = certificate
        self.endpoint = endpoint
        self.default_lifetime_s = default_lifetime_s
        self.send_bipro_version = send_bipro_version
        self.requests_sent = 0

    def fetch(self) -> SecurityToken:
        self.certificate.check_validity()
        self.requests_sent += 1
        log.debug(
            "STS certificate login for %s at %s", self.certificate.common_name, self.endpoint.endpoint.url
        )
        try:
            return issue_sct(
                self.endpoint,
                None,
                default_lifetime_s=self.default_lifetime_s,
                source="certificate",
                send_bipro_version=self.send_bipro_version,
            )
        except TransportError as exc:
            if not _handshake_refused(exc):
                raise
            raise CertificateError(
                f"{self.endpoint.endpoint.url} refused the organisation certificate "
                f"{self.certificate.subject} in the TLS handshake ({exc.message}); is it the certificate "
                "TGIC issued for this firm, and is it still valid?",
                not_before=self.certificate.not_before,
                not_after=self.certificate.not_after,
            ) from exc


@dataclass(frozen=True, repr=False)
class OrganisationCertificate:
    """Login method: the firm's TGIC X.509 certificate (PKCS#12 file and its password).

    ``username`` names the account (its journal and inbox rows); by default the
    certificate's common name.
    """

    path: Path
    password: Password = field(repr=False)
    username: str = ""
    certificate: ClientCertificate = field(init=False, repr=False)

    def __init__(
        self,
        path: str | os.PathLike[str],
        password: str | SecretStr | Password,
        *,
        username: str | None = None,
    ) -> None:
        secret = password if isinstance(password, Password) else Password(password)
        loaded = load_certificate(path, secret)
        object.__setattr__(self, "path", Path(path))
        object.__setattr__(self, "password", secret)
        object.__setattr__(self, "certificate", loaded)
        object.__setattr__(self, "username", username or loaded.common_name)

    def token_provider(
        self, connection: Connection, *, state_dir: str | Path | None, system: str | None
    ) -> TokenProvider:
        profile = connection.profile
        if profile.sts_certificate is None:
            raise ConfigurationError(f"profile {profile.key!r} has no STS port for certificates")
        transport = connection.transport
        transport.use_client_certificate(self.certificate.ssl_context(transport.verify))
        endpoint = SoapEndpoint(
            ServiceKind.STS,
            profile.sts_certificate,
            transport,
            soap_action_style=profile.soap_action_style,
            retry=RetryPolicy(attempts=1),
        )
        return CertificateLogin(
            self.certificate,
            endpoint,
            default_lifetime_s=profile.default_token_lifetime_s,
            send_bipro_version=profile.sts_sends_bipro_version,
        )

    def __repr__(self) -> str:
        return f"OrganisationCertificate({str(self.path)!r}, username={self.username!r})"
