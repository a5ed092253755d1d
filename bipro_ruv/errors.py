"""The exception tree of bipro-ruv.

Every exception the library raises on purpose derives from :class:`BiproError`, so
``except BiproError`` is the one net a caller needs. Lower-layer errors (requests,
lxml, zeep, zipfile, the file system, sqlite3) are mapped onto this tree in one place
per layer and chained with ``raise ... from exc`` so the cause stays visible::

    BiproError
    +-- ConfigurationError            our caller's fault: bad profile, settings, URL
    |   +-- InsecureTransportError    plain http to a non-loopback host without opt-in
    |   +-- OtpRequiredError          a TGIC login needs an mTAN and nobody can give one
    +-- TransportError                the network: connection, TLS, timeout
    |   +-- RequestTimeout            connect/read timeout
    |   |   +-- ReplyDeadlineExceeded the whole reply took longer than Timeouts.reply
    |   +-- NetworkError              refused, reset, DNS, a body cut off on the wire
    |   +-- RedirectRefusedError      any 3xx: redirects are never followed
    |   +-- HttpStatusError           an HTTP status the SOAP layer cannot read
    |       +-- RetryableHttpError    429 / 503, carries ``retry_after``
    +-- ProtocolError                 the peer broke SOAP/BiPRO (its fault, not ours)
    |   +-- MalformedXmlError         not well-formed, empty, HTML instead of SOAP
    |   +-- UnsafeXmlError            DOCTYPE, entities, external references
    |   +-- MimeError                 broken multipart/MTOM reply
    |   +-- ReplyTooLargeError        a reply exceeds a size limit (names the limit)
    |   +-- WrongShipmentError        getShipment answered with another Lieferung
    |   +-- AmbiguousDocumentError    two documents of one reply share one attachment
    +-- ServiceError                  the service said NOK or sent a SOAP Fault
    |   +-- SessionExpiredError       00960 / 00962: token no longer valid
    |   +-- AuthenticationError       the STS refused the login: password not sent again
    |       +-- WrongPasswordError        00961 (or HTTP 401/403 at the STS)
    |       +-- AccountLockedError        00964 / 00965: locked, too many attempts
    |       +-- PasswordExpiredError      00966
    |       +-- PasswordRejectedEarlierError  refused locally: rejected by an earlier run
    |       +-- WrongOtpError             TGIC: the mTAN was wrong (never retried)
    |       +-- OtpExpiredError           TGIC: the mTAN came too late
    |       +-- TicketRejectedError       the STS refused the VDG ticket (00942-00949, 00961)
    |       +-- CertificateError          the organisation certificate cannot be used (see below)
    +-- DocumentError                 a delivered document cannot be stored safely
    |   +-- ChecksumMismatchError     Pruefsumme does not match the bytes
    |   +-- UnsafeArchiveError        zip bomb, nested archive, too many members
    +-- StorageError                  our side's folder or file: inbox, target folder, a local file
    |   +-- JournalError              the fetch journal (SQLite) cannot be opened, read or written
    +-- DataPackageError              a data package (portal list, CSV) cannot be read at all
    +-- GdvFormatError                a GDV file cannot be read at all (not GDV, unknown encoding)
    +-- InvalidVsnr                   not an R+V Versicherungsscheinnummer (also a ValueError)

:class:`InvalidVsnr` is also a :class:`ValueError`, so code that validates input with
``except ValueError`` keeps working.

:class:`StorageError` carries the ``path`` it is about, and its message says in one
sentence what is wrong with it ("the inbox /srv/x is a file, not a folder"); the
``OSError`` or ``sqlite3.Error`` behind it is chained as ``__cause__``.

Every :class:`BiproError` carries ``process_id`` (the ProzessID) and ``messages`` (the
Meldungen) when the server sent them (BiPRO Norm 250: ``nachrichten:Status``), so a support
ticket can quote them. ``message`` (singular) is the exception's own text, not a Meldung.

Texts a server sent can quote what the request carried (a careless server echoes the
token or password). So :class:`BiproError` masks registered secrets and secret XML
elements (:func:`bipro_ruv._redact.redact`) in its message, its Meldungen and its
``str()``: what an exception shows, the CLI prints and the journal stores is masked.

Every exception of the tree pickles with its attributes (process pools, task queues):
:meth:`BiproError.__reduce__` rebuilds it from ``args`` and ``__dict__`` without calling
``__init__``, so keyword-only constructors are no obstacle and nothing is masked twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from bipro_ruv._redact import redact

if TYPE_CHECKING:
    from datetime import datetime

    from bipro_ruv.models import Message, Status

__all__ = [
    "AccountLockedError",
    "FetchInterrupted",
    "Interrupted",
    "AmbiguousDocumentError",
    "AuthenticationError",
    "BiproError",
    "CertificateError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "CsvFormatError",
    "DataPackageError",
    "DocumentError",
    "GdvFormatError",
    "HttpStatusError",
    "InsecureTransportError",
    "InvalidVsnr",
    "JournalError",
    "MalformedXmlError",
    "MimeError",
    "NetworkError",
    "OtpExpiredError",
    "OtpRequiredError",
    "PasswordExpiredError",
    "PasswordRejectedEarlierError",
    "ProtocolError",
    "RedirectRefusedError",
    "ReplyDeadlineExceeded",
    "ReplyTooLargeError",
    "RequestTimeout",
    "RetryableHttpError",
    "ServiceError",
    "SessionExpiredError",
    "StorageError",
    "TicketRejectedError",
    "TransportError",
    "UnsafeArchiveError",
    "UnsafeXmlError",
    "WrongOtpError",
    "WrongPasswordError",
    "WrongShipmentError",
]


class _ServerContext(TypedDict, total=False):
    """What a server said about a failed call; every exception of the tree takes it."""

    status: Status | None
    process_id: str | None
    messages: Sequence[Message]


class BiproError(Exception):
    """Root of every error raised by bipro-ruv.

    ``status`` is the parsed BiPRO ``Status`` when the server sent one; ``process_id``
    (ProzessID) and ``messages`` (its Meldungen) are taken from it (or given directly).
    ``message``, the Meldungen (in ``messages`` and ``status``) and ``str()`` have every
    known secret masked.
    Subclasses with attributes of their own accept the same three keywords.
    """

    def __init__(
        self,
        message: str,
        *,
        status: Status | None = None,
        process_id: str | None = None,
        messages: Sequence[Message] = (),
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = _masked_status(status)
        self.process_id = (
            redact(process_id)
            if process_id is not None
            else (self.status.process_id if self.status else None)
        )
        self.messages: tuple[Message, ...] = tuple(_masked_message(m) for m in messages) or (
            self.status.messages if self.status else ()
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as class, ``args`` and attributes; unpickling calls no ``__init__``.

        The default (``cls(*args)``) fails for keyword-only arguments and would run the
        masking again. :func:`_unpickle` makes the bare instance (``args`` set, as
        ``BaseException.__new__`` does), then pickle restores ``__dict__`` as it was:
        already masked. Notes added with ``add_note`` live in ``__dict__`` and travel along.
        """
        return (_unpickle, (type(self), self.args), dict(self.__dict__))

    def __str__(self) -> str:
        parts = [self.message]
        codes = ", ".join(f"{m.code or '?'} {m.text or ''}".strip() for m in self.messages)
        if codes:
            parts.append(f"[{codes}]")
        if self.process_id:
            parts.append(f"(ProzessID {self.process_id})")
        # Masked again as a whole: attributes may have been replaced since __init__, and a
        # secret registered later is masked too.
        return redact(" ".join(parts))


def _unpickle(cls: type[BiproError], args: tuple[object, ...]) -> BiproError:
    """The instance :meth:`BiproError.__reduce__` describes, before its attributes are restored."""
    return cls.__new__(cls, *args)


def _masked_message(message: Message) -> Message:
    """``message`` with its server texts (Text, Quelle, Identifikationsnummer) masked."""
    fields = {"text": message.text, "source": message.source, "reference": message.reference}
    masked = {name: redact(value) for name, value in fields.items() if value is not None}
    changed = {name: value for name, value in masked.items() if value != fields[name]}
    return message.model_copy(update=changed) if changed else message


def _masked_status(status: Status | None) -> Status | None:
    """``status`` with its Meldungen and ProzessID masked (the same object if nothing changed)."""
    if status is None:
        return None
    changed: dict[str, object] = {}
    messages = tuple(_masked_message(m) for m in status.messages)
    if any(new is not old for new, old in zip(messages, status.messages, strict=True)):
        changed["messages"] = messages
    process_id = None if status.process_id is None else redact(status.process_id)
    if process_id != status.process_id:
        changed["process_id"] = process_id
    return status.model_copy(update=changed) if changed else status


class ConfigurationError(BiproError):
    """The caller configured something that cannot work (our side's fault)."""


class InsecureTransportError(ConfigurationError):
    """Plain ``http://`` to a host that is not loopback, without ``allow_insecure_http``."""


class TransportError(BiproError):
    """The request did not complete on the network level.

    ``during_reply`` is True when the server had begun to answer (the reply's headers had
    arrived) and the body then broke off or never ended: a fault of that one reply as much
    as of the network (the fetch's quarantine counts it for the shipment).
    """

    during_reply: bool = False


class RequestTimeout(TransportError):
    """Connect or read timeout elapsed."""


class ReplyDeadlineExceeded(RequestTimeout):
    """The whole reply was not received within ``Timeouts.reply`` seconds (a trickling server)."""


class NetworkError(TransportError):
    """The connection failed: refused, reset, DNS failure, or a body cut off on the wire.

    ``request_sent`` is False when the request cannot have reached the server (the
    connection was never established), so repeating it is always safe.
    """

    def __init__(self, message: str, *, request_sent: bool = True, **context: Unpack[_ServerContext]) -> None:
        super().__init__(message, **context)
        self.request_sent = request_sent


class RedirectRefusedError(TransportError):
    """The server answered with a redirect (3xx). bipro-ruv never follows one: the request
    carries the password or token, and the target could be any host, even plain http."""

    def __init__(
        self, message: str, *, status_code: int, target_host: str | None, **context: Unpack[_ServerContext]
    ) -> None:
        super().__init__(message, **context)
        self.status_code = status_code
        self.target_host = target_host


class HttpStatusError(TransportError):
    """The server answered with an HTTP status and no readable SOAP message.

    ``body_excerpt`` (the start of the body, for a support ticket) has secrets masked.
    """

    def __init__(
        self, message: str, *, status_code: int, body_excerpt: str = "", **context: Unpack[_ServerContext]
    ) -> None:
        super().__init__(message, **context)
        self.status_code = status_code
        self.body_excerpt = redact(body_excerpt)


class RetryableHttpError(HttpStatusError):
    """429 Too Many Requests or 503 Service Unavailable; ``retry_after`` in seconds if sent."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        retry_after: float | None,
        body_excerpt: str = "",
        **context: Unpack[_ServerContext],
    ) -> None:
        super().__init__(message, status_code=status_code, body_excerpt=body_excerpt, **context)
        self.retry_after = retry_after


class ProtocolError(BiproError):
    """The peer sent something that is not valid SOAP/BiPRO: the server's fault."""


class MalformedXmlError(ProtocolError):
    """The reply is not well-formed XML (or empty, or an HTML error page)."""


class UnsafeXmlError(ProtocolError):
    """The reply uses a DOCTYPE, entities or external references; BiPRO never needs them."""


class MimeError(ProtocolError):
    """A multipart (MTOM/XOP) reply is broken: missing boundary, truncated part, unknown cid."""


class ReplyTooLargeError(ProtocolError):
    """A reply (or part of one) exceeds a size limit; ``limit_name`` says which setting to raise."""

    def __init__(
        self, message: str, *, limit_name: str, limit: int, **context: Unpack[_ServerContext]
    ) -> None:
        super().__init__(message, **context)
        self.limit_name = limit_name
        self.limit = limit


class WrongShipmentError(ProtocolError):
    """getShipment answered with a Lieferung other than the one asked for."""


class AmbiguousDocumentError(ProtocolError):
    """Two documents of one reply would share one attachment (the same cid twice)."""


class ServiceError(BiproError):
    """The BiPRO service answered with ``StatusID`` NOK or a SOAP Fault.

    ``fault_code`` is the Fault's ``faultcode`` as sent; ``http_status`` the HTTP status
    the reply came with (a Fault usually comes with 500, a refused login sometimes 401).
    """

    def __init__(
        self,
        message: str,
        *,
        fault_code: str | None = None,
        http_status: int | None = None,
        **context: Unpack[_ServerContext],
    ) -> None:
        super().__init__(message, **context)
        self.fault_code = fault_code
        self.http_status = http_status


class SessionExpiredError(ServiceError):
    """00960 / 00962: the SecurityContextToken is not (or no longer) accepted."""


class AuthenticationError(ServiceError):
    """The STS rejected the credentials (00961, 00964, 00965, 00966 or HTTP 401/403).

    The client that raised it will not send the same password again: R+V locks the
    portal account after repeated failures. Create a new client with corrected
    credentials.
    """


class DocumentError(BiproError):
    """A delivered document cannot be stored safely."""


class ChecksumMismatchError(DocumentError):
    """The ``Pruefsumme`` sent with a document does not match its bytes."""


class UnsafeArchiveError(DocumentError):
    """A ZIP delivery exceeds the unpacking limits or nests archives."""


class WrongPasswordError(AuthenticationError):
    """00961 (or HTTP 401/403 at the STS): user id or password wrong."""


class AccountLockedError(AuthenticationError):
    """00964 / 00965: the account is locked (too many attempts); unlock it in the Maklerportal."""


class PasswordExpiredError(AuthenticationError):
    """00966: the password has expired; set a new one in the Maklerportal."""


class PasswordRejectedEarlierError(AuthenticationError):
    """Not sent: the STS rejected this very password for this account before (maybe in
    another process). ``rejected_at`` is when; change the password in the Maklerportal,
    then update it here."""

    def __init__(
        self,
        message: str,
        *,
        rejected_at: datetime,
        reason: str,
        code: str | None = None,
        record_path: Path | None = None,
        **context: Unpack[_ServerContext],
    ) -> None:
        super().__init__(message, **context)
        #: When the STS rejected the password (UTC).
        self.rejected_at = rejected_at
        #: Why: ``wrong_password``, ``account_locked``, ``password_expired``, ``not_authenticated``.
        self.reason = reason
        #: The STS code (``00961``...) or ``HTTP 401``/``HTTP 403``, if known.
        self.code = code
        #: The file that records the rejection (delete it only if you know the password is right).
        self.record_path = record_path


class WrongOtpError(AuthenticationError):
    """The TGIC token service refused the mTAN. Never answered again automatically; it
    counts for the guard against account locks like a refused password."""


class OtpExpiredError(AuthenticationError):
    """The mTAN reached the TGIC token service after its challenge had expired."""


class TicketRejectedError(AuthenticationError):
    """The STS refused the VDG ticket (invalid, expired, another user): get a new one."""


class CertificateError(AuthenticationError):
    """The organisation certificate (PKCS#12) cannot be used: the file or its password is
    wrong, it is expired or not yet valid (``not_before``/``not_after`` say when it is
    valid), or the server refused it in the TLS handshake (issued by another CA)."""

    def __init__(
        self,
        message: str,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        **context: Unpack[_ServerContext],
    ) -> None:
        super().__init__(message, **context)
        self.not_before = not_before
        self.not_after = not_after


class OtpRequiredError(ConfigurationError):
    """A TGIC person login needs an mTAN, and there is no one to ask: no ``otp_provider``
    was given, or the command line has no terminal. Log in where someone can answer, or
    use the organisation certificate for unattended runs."""


class StorageError(BiproError):
    """A folder or file on our side cannot be used: the inbox, a target folder, a local file.

    ``path`` is the folder or file concerned; the message says in one sentence what is
    wrong with it, and the ``OSError`` behind it is the ``__cause__``.
    """

    def __init__(
        self, message: str, *, path: str | os.PathLike[str], **context: Unpack[_ServerContext]
    ) -> None:
        super().__init__(message, **context)
        self.path = Path(path)


class JournalError(StorageError):
    """The fetch journal (``<inbox>/.bipro-ruv/journal.sqlite3``) cannot be opened, read or
    written: not an SQLite database, written by a newer bipro-ruv, locked, read-only, full."""


class DataPackageError(BiproError):
    """A downloaded data package (portal list, CSV) cannot be read at all."""


class CsvFormatError(DataPackageError):
    """A CSV data package cannot be read: no known header, a wrong delimiter, an unknown or
    missing required column, a broken number or date. ``line`` (1-based, of the file) and
    ``column`` (its header name) say where, when there is a where."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        **context: Unpack[_ServerContext],
    ) -> None:
        super().__init__(message, **context)
        self.line = line
        self.column = column


class GdvFormatError(BiproError):
    """A GDV file (VU-Vermittler Datensatz) cannot be read at all: it is not a GDV file, or
    the encoding asked for is unknown.

    Damage inside a readable file (a truncated record, junk in a numeric field, a missing
    Nachsatz) is no exception but a :class:`bipro_ruv.gdv.GdvWarning` on the result, so
    one bad record never costs the rest of a delivery. ``line`` is the 1-based record
    number the error is about, or ``None``.
    """

    def __init__(self, message: str, *, line: int | None = None, **context: Unpack[_ServerContext]) -> None:
        super().__init__(message, **context)
        self.line = line


_VSNR_EXCERPT = 40


class InvalidVsnr(ValueError, BiproError):
    """A string that is not an R+V Versicherungsscheinnummer; ``reason`` says why.

    Also a :class:`ValueError`, the error Python code expects from a failed parse.
    """

    def __init__(self, value: str, reason: str, **context: Unpack[_ServerContext]) -> None:
        shown = value if len(value) <= _VSNR_EXCERPT else value[:_VSNR_EXCERPT] + "..."
        BiproError.__init__(self, f"{shown!r} is not a valid VSNR: {reason}", **context)
        self.value = value
        self.reason = reason


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM turned into it) stopped a long operation once the work in progress
    was finished; ``partial`` is what was done. A :class:`KeyboardInterrupt`, deliberately not
    a :class:`BiproError`: code that does not look for it stops as before."""

    def __init__(self, partial: Any) -> None:
        super().__init__()
        self.partial = partial


class FetchInterrupted(Interrupted):
    """A fetch stopped by Ctrl-C or SIGTERM: the shipments in progress were finished, and
    :attr:`report` (a :class:`~bipro_ruv.transfer.models.FetchReport` with ``interrupted``
    True) says what was done; everything else stays in the mailbox for the next run."""

    @property
    def report(self) -> Any:
        return self.partial
