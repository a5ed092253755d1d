"""SOAP 1.1 layer: envelopes built by zeep from our own WSDL, replies read as data.

Requests: zeep's ``Client.create_message`` builds each body from the bundled WSDL/XSD
(so what we send is checked against our schema), a WS-Security header object adds
``wsse:Security`` (zeep's ``apply(envelope, headers)`` interface), and the envelope is
posted through :class:`~bipro_ruv._wire.transport.HttpTransport`.

Replies: parsed with the safe parser of :mod:`bipro_ruv._wire.xml` and read tolerantly,
because providers vary in prefixes and optional fields. A SOAP Fault carrying
``nachrichten:BiproException`` (Norm 250) and an HTTP 200 reply whose Status says NOK
both become :class:`~bipro_ruv.errors.ServiceError` subclasses here, in one place.
zeep and lxml objects never leave the service modules.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import zeep
from lxml import etree

from bipro_ruv._redact import excerpt, redact
from bipro_ruv._wire.endpoints import WSDL_BINDINGS, ServiceEndpoint, ServiceKind, SoapActionStyle
from bipro_ruv._wire.mime import parse_multipart
from bipro_ruv._wire.mime_parts import MultipartReply
from bipro_ruv._wire.policy import RetryPolicy
from bipro_ruv._wire.reply import Exchange
from bipro_ruv._wire.template import EnvelopeTemplates
from bipro_ruv._wire.transport import HttpTransport, raise_for_unreadable
from bipro_ruv._wire.xml import (
    NS,
    child,
    child_text,
    child_texts,
    children,
    descendant,
    local_name,
    parse_xml,
)
from bipro_ruv.errors import (
    AccountLockedError,
    ConfigurationError,
    HttpStatusError,
    MalformedXmlError,
    PasswordExpiredError,
    ProtocolError,
    RetryableHttpError,
    ServiceError,
    SessionExpiredError,
    TransportError,
    WrongPasswordError,
)
from bipro_ruv.models import Message, Status

__all__ = [
    "SecurityHeader",
    "SoapEndpoint",
    "check_status",
    "envelope_payload",
    "error_for_status",
    "multipart_root_xml",
    "parse_status",
    "read_envelope",
    "wsdl_dir",
]

log = logging.getLogger("bipro_ruv.soap")

T = TypeVar("T")

#: Norm 320 ST_Meldung: the session (SecurityContextToken) is not valid (any more).
SESSION_INVALID_CODES = frozenset({"00960", "00962"})
WRONG_PASSWORD_CODES = frozenset({"00961"})
ACCOUNT_LOCKED_CODES = frozenset({"00964", "00965"})
PASSWORD_EXPIRED_CODES = frozenset({"00966"})


def wsdl_dir() -> Path:
    """Folder of the bundled WSDL/XSD files.

    Installed wheels carry them as ``bipro_ruv/wsdl``; in a source checkout (editable
    install, tests) they are the repository's top-level ``wsdl/``.
    """
    packaged = Path(str(resources.files("bipro_ruv"))) / "wsdl"
    if (packaged / "transfer.wsdl").is_file():
        return packaged
    source = Path(__file__).resolve().parents[2] / "wsdl"
    if (source / "transfer.wsdl").is_file():
        return source
    raise ConfigurationError("bundled WSDL files are missing; reinstall bipro-ruv")


class SecurityHeader(Protocol):
    """zeep's WS-Security plugin interface: add a ``wsse:Security`` child to the header."""

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]: ...


_clients: dict[ServiceKind, Any] = {}
_clients_lock = threading.Lock()


def _zeep_client(kind: ServiceKind) -> Any:
    """The zeep client for ``kind``: WSDL parsed once per process, from the package."""
    with _clients_lock:
        client = _clients.get(kind)
        if client is None:
            path = wsdl_dir() / WSDL_BINDINGS[kind][0]
            settings = zeep.Settings(
                strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False
            )
            client = zeep.Client(str(path), transport=HttpTransport(), settings=settings)
            _clients[kind] = client
        return client


class SoapEndpoint:
    """One BiPRO service of one insurer, bound to its endpoint URL."""

    def __init__(
        self,
        kind: ServiceKind,
        endpoint: ServiceEndpoint,
        transport: HttpTransport,
        *,
        soap_action_style: SoapActionStyle = SoapActionStyle.URN,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.transport = transport
        self.soap_action_style = soap_action_style
        self.retry = retry
        self._zeep = _zeep_client(kind)
        self._service = self._zeep.create_service(WSDL_BINDINGS[kind][1], endpoint.url)
        self._templates = EnvelopeTemplates()

    def build(self, operation: str, security: SecurityHeader | None, **body: Any) -> bytes:
        """Serialize the request envelope for ``operation`` (zeep, or its template of the same shape)."""
        return self._templates.build(operation, security, body, self._build_with_zeep)

    def _build_with_zeep(
        self, operation: str, security: SecurityHeader | None, body: Mapping[str, Any]
    ) -> bytes:
        envelope = self._zeep.create_message(self._service, operation, **body)
        if security is not None:
            envelope, _ = security.apply(envelope, {})
        return bytes(etree.tostring(envelope, encoding="utf-8", xml_declaration=True))

    def headers(self, operation: str) -> dict[str, str]:
        return {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": self.soap_action_style.header_value(operation),
            "Accept": "text/xml, multipart/related",
        }

    def call(
        self, operation: str, security: SecurityHeader | None, *, idempotent: bool = False, **body: Any
    ) -> etree._Element:
        """Send ``operation`` and return the payload element of the reply's Body.

        Failed exchanges are repeated as :class:`RetryPolicy` allows (``idempotent``: the
        operation may safely run twice); a SOAP Fault or a NOK status raises a
        :class:`ServiceError` subclass.
        """
        message = self.build(operation, security, **body)
        return self.exchange(operation, message, self._read_payload, idempotent=idempotent)

    def _read_payload(self, exchange: Exchange, operation: str) -> etree._Element:
        data = exchange.read(what=operation)
        content_type = exchange.headers.get("Content-Type", "")
        if "multipart/related" in content_type.lower():
            data = _multipart_root(content_type, data, exchange.limits.xml_bytes)
        return read_envelope(data, http_status=exchange.status_code, reason=exchange.reason, what=operation)

    def exchange(
        self,
        operation: str,
        message: bytes,
        consume: Callable[[Exchange, str], T],
        *,
        idempotent: bool,
    ) -> T:
        """POST ``message`` and hand the reply to ``consume``; the whole exchange (sending
        and reading) is repeated after a failure the retry policy allows."""
        headers = self.headers(operation)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                with self.transport.send(self.endpoint.url, message, headers) as exchange:
                    return consume(exchange, operation)
            except TransportError as exc:
                delay = self._retry_delay(exc, attempt, started, idempotent)
                if delay is None:
                    raise
                log.info(
                    "%s: %s; repeating in %.1f s (attempt %d)", operation, exc.message, delay, attempt + 2
                )
                time.sleep(delay)
                attempt += 1

    def _retry_delay(
        self, error: TransportError, attempt: int, started: float, idempotent: bool
    ) -> float | None:
        policy = self.retry
        if attempt + 1 >= policy.attempts or not policy.retryable(error, idempotent=idempotent):
            return None
        retry_after = error.retry_after if isinstance(error, RetryableHttpError) else None
        delay = policy.delay(attempt, retry_after)
        if time.monotonic() - started + delay > policy.max_elapsed:
            return None
        return delay


def _multipart_root(content_type: str, data: bytes, max_root_bytes: int) -> bytes:
    """Root part of a small multipart reply held in memory (not getShipment)."""
    with tempfile.TemporaryDirectory(prefix="bipro-ruv-") as spool:
        reply = parse_multipart(content_type, [data], Path(spool), max_root_bytes=max_root_bytes)
        return multipart_root_xml(reply)


def multipart_root_xml(reply: MultipartReply) -> bytes:
    """The root part as XML lxml reads right: a part sent in another charset (e.g.
    iso-8859-1, named only in its MIME header) without an XML declaration is re-encoded."""
    root, charset = reply.root, reply.root_charset
    if not charset or charset.lower().replace("_", "-") in ("utf-8", "utf8"):
        return root
    head = root[:200].lstrip()
    if head.startswith(b"<?xml") and b"encoding" in head.split(b"?>", 1)[0]:
        return root  # the XML declaration names the encoding; lxml honours it
    try:
        return root.decode(charset).encode("utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"multipart root part is not valid {charset}: {exc}") from exc


def read_envelope(
    data: bytes,
    *,
    http_status: int = 200,
    reason: str = "",
    what: str = "reply",
) -> etree._Element:
    """Parse a SOAP reply and return its Body payload; raise for faults and NOK."""
    if http_status >= 400 and not _looks_like_xml(data):
        raise_for_unreadable(http_status, reason, data)
    try:
        root = parse_xml(data, what=what)
    except MalformedXmlError as exc:
        if http_status >= 400:
            raise HttpStatusError(
                f"HTTP {http_status} with an unreadable body ({exc.message})",
                status_code=http_status,
                body_excerpt=excerpt(data),
            ) from exc
        raise
    return envelope_payload(root, http_status=http_status, what=what)


def envelope_payload(root: etree._Element, *, http_status: int = 200, what: str = "reply") -> etree._Element:
    """The Body payload of a parsed SOAP reply; raise for faults, NOK and error statuses."""
    if local_name(root) == "Fault":
        # Some servers (and test fixtures) send a bare Fault element.
        raise _with_status(parse_fault(root), http_status)
    if root.tag not in (f"{{{NS['soap']}}}Envelope", f"{{{NS['soap12']}}}Envelope"):
        raise ProtocolError(f"{what}: expected a SOAP Envelope, got <{local_name(root)}>")
    body = child(root, "Body")
    if body is None:
        raise ProtocolError(f"{what}: SOAP Envelope without Body")
    payload = next((item for item in body if isinstance(item.tag, str)), None)
    if payload is None:
        raise ProtocolError(f"{what}: empty SOAP Body")
    if local_name(payload) == "Fault":
        raise _with_status(parse_fault(payload), http_status)
    if http_status >= 400:
        raise HttpStatusError(
            f"HTTP {http_status} with a SOAP body that is not a Fault", status_code=http_status
        )
    return payload


def _looks_like_xml(data: bytes) -> bool:
    return data.lstrip()[:1] == b"<" and not data.lstrip()[:14].lower().startswith(
        (b"<!doctype html", b"<html")
    )


def parse_status(element: etree._Element) -> Status:
    """Read a ``Status`` element (any namespace) into a :class:`Status`.

    An ArtID outside ``ST_ArtMeldung`` is kept as sent (``kind_raw``) with ``kind`` None.
    """
    messages = []
    for item in children(element, "Meldung"):
        fields = child_texts(item)
        messages.append(
            Message(
                kind_raw=fields.get("ArtID"),  # Message derives kind from it
                code=fields.get("MeldungID"),
                # A server may quote the token or password back, in OK replies too.
                text=_masked(fields.get("Text")),
                source=fields.get("Quelle"),
                reference=fields.get("Identifikationsnummer"),
            )
        )
    fields = child_texts(element)
    pending_text = fields.get("Schwebe")
    return Status(
        process_id=fields.get("ProzessID"),
        timestamp_raw=fields.get("Zeitstempel"),
        status_id=fields.get("StatusID") or "",
        valid_until_raw=fields.get("Gueltigkeitsende"),
        pending=None if pending_text is None else pending_text.lower() in ("true", "1"),
        messages=tuple(messages),
    )


def _masked(text: str | None) -> str | None:
    return None if text is None else redact(text)


def error_for_status(status: Status, message: str, *, fault_code: str | None = None) -> ServiceError:
    """The exception for a NOK status or fault, chosen by its Meldung codes.

    Norm 320 ST_Meldung: 00964 account locked and 00965 too many attempts come first,
    then 00966 password expired, then 00961 bad credentials: when an STS sends several,
    the one that tells the admin what to do wins.
    """
    codes = set(status.codes())
    cls: type[ServiceError] = ServiceError
    if codes & ACCOUNT_LOCKED_CODES:
        cls = AccountLockedError
    elif codes & PASSWORD_EXPIRED_CODES:
        cls = PasswordExpiredError
    elif codes & WRONG_PASSWORD_CODES:
        cls = WrongPasswordError
    elif codes & SESSION_INVALID_CODES:
        cls = SessionExpiredError
    return cls(message, status=status, fault_code=fault_code)


def _with_status(error: ServiceError, http_status: int) -> ServiceError:
    error.http_status = http_status
    return error


def parse_fault(fault: etree._Element) -> ServiceError:
    """Turn a SOAP 1.1 Fault (with or without ``BiproException``) into an exception."""
    fault_code = child_text(fault, "faultcode")
    fault_string = child_text(fault, "faultstring") or "SOAP Fault"
    detail = child(fault, "detail")
    exception = descendant(detail, "BiproException") if detail is not None else None
    status_element = child(exception, "Status")
    if status_element is None:
        return ServiceError(f"SOAP Fault: {fault_string}", fault_code=fault_code)
    status = parse_status(status_element)
    return error_for_status(status, f"SOAP Fault: {fault_string}", fault_code=fault_code)


def check_status(response_element: etree._Element, operation: str) -> Status:
    """Find the Status under a ``Response`` element and raise if it says NOK."""
    status_element = child(response_element, "Status")
    if status_element is None:
        raise ProtocolError(f"{operation}: reply without Status")
    status = parse_status(status_element)
    if not status.ok:
        raise error_for_status(status, f"{operation} failed (StatusID {status.status_id})")
    return status
