"""Throw-away certificate authorities for the sandbox's https mode: the server's, and the clients'.

A separate CA and leaf (rather than one self-signed leaf) keep strict verifiers happy
(``VERIFY_X509_STRICT``, the default since Python 3.13): clients trust the CA's PEM
(``Sandbox.ca_file``) and the leaf names ``127.0.0.1`` in its subjectAltName.
With ``client_certificates`` a second CA, the *client CA* (:func:`create_client_ca`,
``Sandbox.client_ca_file``), issues the organisation certificates the listener requires
(mTLS, ``ssl.CERT_REQUIRED``), as PKCS#12 files like the ones a broker gets.
Keys are EC P-256 (fast to generate) and live only in the sandbox's temporary folder
(the client CA's key only in memory).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["ClientAuthority", "SandboxCertificate", "create_certificate", "create_client_ca"]

_VALIDITY = dt.timedelta(days=2)


@dataclass(frozen=True)
class SandboxCertificate:
    """Files of a generated certificate: ``ca_file`` for clients, the rest for the server."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self, client_ca_file: Path | None = None) -> ssl.SSLContext:
        """The listener's context; with ``client_ca_file`` it requires a client certificate of that CA."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        if client_ca_file is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=client_ca_file)
        return context


def _name(common_name: str, organisation: str = "bipro-ruv sandbox") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
    until: dt.datetime | None = None,
) -> x509.CertificateBuilder:
    """What every certificate shares: names, key, a random serial, the validity (``_VALIDITY`` by default)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until or now + _VALIDITY)
    )


def _ca(
    name: x509.Name, key: ec.EllipticCurvePrivateKey, now: dt.datetime, until: dt.datetime
) -> x509.Certificate:
    return (
        _builder(name, name, key, now, until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    builder: x509.CertificateBuilder,
    key: ec.EllipticCurvePrivateKey,
    usage: x509.ObjectIdentifier,
    ca_key: ec.EllipticCurvePrivateKey,
) -> x509.CertificateBuilder:
    return (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )


def create_certificate(folder: Path, host: str) -> SandboxCertificate:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` for ``host`` (an IP) into ``folder``."""
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("bipro-ruv sandbox CA")
    ca_cert = _ca(ca_name, ca_key, now, now + _VALIDITY)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _leaf(_builder(_name(host), ca_name, key, now), key, ExtendedKeyUsageOID.SERVER_AUTH, ca_key)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    result = SandboxCertificate(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    result.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    result.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result.key_file.touch(mode=0o600)
    result.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return result


class ClientAuthority:
    """The client CA of a sandbox with ``client_certificates``: its PEM for the listener, its key in RAM."""

    def __init__(self, ca_file: Path, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self.ca_file = ca_file
        self._key = key
        self._certificate = certificate

    def issue(
        self,
        path: Path,
        password: str | bytes,
        *,
        organisation: str,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> Path:
        """Write a PKCS#12 file (key, certificate, this CA as chain) encrypted with ``password``.

        The certificate (clientAuth) names ``organisation``; it is valid from ``not_before``
        (default: one day ago) to ``not_after`` (default: 365 days after ``not_before``).
        Naive datetimes are taken as UTC.
        """
        start = _as_utc(not_before) if not_before is not None else _utcnow() - dt.timedelta(days=1)
        end = _as_utc(not_after) if not_after is not None else start + dt.timedelta(days=365)
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _builder(_name(organisation, organisation), self._certificate.subject, key, start, end)
        cert = _leaf(builder, key, ExtendedKeyUsageOID.CLIENT_AUTH, self._key).sign(
            self._key, hashes.SHA256()
        )
        secret = password.encode() if isinstance(password, str) else password
        data = pkcs12.serialize_key_and_certificates(
            organisation.encode(),
            key,
            cert,
            [self._certificate],
            serialization.BestAvailableEncryption(secret),
        )
        target = Path(path)
        target.touch(mode=0o600)
        target.write_bytes(data)
        return target


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def create_client_ca(folder: Path) -> ClientAuthority:
    """A new client CA; its certificate goes to ``client-ca.pem`` in ``folder``, its key stays in memory."""
    now = _utcnow()
    key = ec.generate_private_key(ec.SECP256R1())
    # Long-lived enough for any default client certificate (one day back, a year ahead).
    certificate = _ca(
        _name("bipro-ruv sandbox client CA"), key, now - dt.timedelta(days=2), now + dt.timedelta(days=400)
    )
    ca_file = folder / "client-ca.pem"
    ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return ClientAuthority(ca_file, key, certificate)
