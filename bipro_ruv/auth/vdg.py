"""VDG ticket login ("easy Login"): a ticket of the Vermittler-Daten-Gateway -> SecurityContextToken.

A broker portal that logged the user in (with whatever method) issues a VDG ticket; the
STS's port ``VDGTicketLogin`` (``profile.sts_ticket``) exchanges it for a token. Wire form
(BiPRO Norm 410): the ticket, base64, in ``wsse:Security/wsse:BinarySecurityToken`` with
``ValueType="bipro:VDGTicket"`` and the Base64Binary encoding, in place of the
UsernameToken; the body is the usual RequestSecurityToken.

A ticket is a bearer credential: it is registered as a secret (masked in every log record
and error text) and, once the STS refused it (00942-00949 VDG errors, 00961), never sent
again by this client: :class:`~bipro_ruv.errors.TicketRejectedError`. A ticket lives
minutes to hours; when the token it gave expires, the same ticket is sent once more, and
an expired ticket then gives that error: get a new one from the portal.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from bipro_ruv._redact import register_secret
from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.policy import RetryPolicy
from bipro_ruv._wire.soap import SoapEndpoint
from bipro_ruv._wire.xml import NS, parse_xml
from bipro_ruv.auth.base import SecurityToken, TokenProvider, security_element
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.sts import _login_refusal, issue_sct
from bipro_ruv.errors import (
    AuthenticationError,
    ConfigurationError,
    HttpStatusError,
    ProtocolError,
    ServiceError,
    SessionExpiredError,
    TicketRejectedError,
)

__all__ = ["VDG_TICKET_VALUE_TYPE", "VdgTicket", "VdgTicketHeader", "VdgTicketLogin"]

log = logging.getLogger("bipro_ruv.auth")

VDG_TICKET_VALUE_TYPE = "bipro:VDGTicket"
BASE64_ENCODING = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

#: The STS's refusals of a ticket (Norm 320 ST_Meldung: 0092x/0094x VDG errors, 00961).
_TICKET_CODES = frozenset({"00920", *(f"0094{digit}" for digit in range(2, 10)), "00961", "00960"})


@dataclass(frozen=True, repr=False)
class VdgTicketHeader:
    """``wsse:Security/wsse:BinarySecurityToken`` with the ticket (zeep's plugin interface)."""

    ticket: str

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        security = security_element(envelope)
        token = etree.SubElement(security, f"{{{NS['wsse']}}}BinarySecurityToken")
        token.set("ValueType", VDG_TICKET_VALUE_TYPE)
        token.set("EncodingType", BASE64_ENCODING)
        token.text = self.ticket
        return envelope, headers

    def __repr__(self) -> str:
        return "VdgTicketHeader(ticket='***')"


def ticket_user(ticket: str) -> str | None:
    """The ``TargetUserId`` a ticket names, if it can be read (the XML inside the base64)."""
    try:
        document = parse_xml(base64.b64decode(ticket, validate=True), what="VDG ticket")
    except (binascii.Error, ValueError, ProtocolError):
        return None
    found = document.find(".//{*}TargetUserId")
    if found is None:
        found = document.find(".//TargetUserId")
    text = (found.text or "").strip() if found is not None else ""
    return text or None


class VdgTicketLogin:
    """Token provider: the STS's VDGTicketLogin port, one attempt per login."""

    def __init__(
        self,
        ticket: VdgTicket,
        endpoint: SoapEndpoint,
        *,
        default_lifetime_s: float,
        send_bipro_version: bool = False,
    ) -> None:
        self.ticket = ticket
        self.endpoint = endpoint
        self.default_lifetime_s = default_lifetime_s
        self.send_bipro_version = send_bipro_version
        self.requests_sent = 0

    def fetch(self) -> SecurityToken:
        value = self.ticket.reveal()
        self.requests_sent += 1
        log.debug("STS ticket login for %s at %s", self.ticket.username, self.endpoint.endpoint.url)
        try:
            token = issue_sct(
                self.endpoint,
                VdgTicketHeader(value),
                default_lifetime_s=self.default_lifetime_s,
                source="vdg",
                send_bipro_version=self.send_bipro_version,
            )
        except (ServiceError, HttpStatusError) as exc:
            refused = self._refusal(exc)
            if refused is None:
                raise
            self.ticket.reject(refused)
            raise refused from exc
        log.info(
            "STS ticket login for %s succeeded; token valid for %.0f s",
            self.ticket.username,
            token.lifetime_s,
        )
        return token

    def _refusal(self, error: ServiceError | HttpStatusError) -> TicketRejectedError | None:
        if isinstance(error, HttpStatusError):
            if error.status_code not in (401, 403):
                return None
            return TicketRejectedError(f"the STS refused the VDG ticket with HTTP {error.status_code}")
        codes = {message.code for message in error.messages if message.code}
        if (
            isinstance(error, (AuthenticationError, SessionExpiredError))
            or codes & _TICKET_CODES
            or (_login_refusal(error) is not None)
        ):
            return TicketRejectedError(
                f"the STS refused the VDG ticket ({error.message}); it will not be sent again: "
                "get a new ticket from the portal",
                status=error.status,
                fault_code=error.fault_code,
            )
        return None


@dataclass(frozen=True, repr=False)
class VdgTicket:
    """Login method: a VDG ticket (base64 text, as the portal hands it over).

    ``username`` names the account; by default the ticket's ``TargetUserId``.
    """

    ticket: str = field(repr=False)
    username: str = ""
    _state: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __init__(self, ticket: str | bytes, *, username: str | None = None) -> None:
        text = ticket.decode("ascii", "replace") if isinstance(ticket, bytes) else ticket
        text = "".join(text.split())
        if not text:
            raise ConfigurationError("the VDG ticket is empty")
        try:
            base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(
                "the VDG ticket is not base64 text (copy it whole from the portal)"
            ) from exc
        register_secret(text)
        user = username or ticket_user(text)
        if not user:
            raise ConfigurationError("the VDG ticket names no TargetUserId; give the username")
        object.__setattr__(self, "ticket", text)
        object.__setattr__(self, "username", user)
        object.__setattr__(self, "_state", {"lock": threading.Lock(), "rejection": None})

    def reveal(self) -> str:
        """The ticket, for the request; raises the earlier refusal once the STS refused it."""
        with self._state["lock"]:
            rejection = self._state["rejection"]
            if rejection is not None:
                raise rejection
            return self.ticket

    def reject(self, error: AuthenticationError) -> None:
        with self._state["lock"]:
            if self._state["rejection"] is None:
                self._state["rejection"] = error

    def token_provider(
        self, connection: Connection, *, state_dir: str | Path | None, system: str | None
    ) -> TokenProvider:
        profile = connection.profile
        if profile.sts_ticket is None:
            raise ConfigurationError(f"profile {profile.key!r} has no STS port for VDG tickets")
        endpoint = SoapEndpoint(
            ServiceKind.STS,
            profile.sts_ticket,
            connection.transport,
            soap_action_style=profile.soap_action_style,
            retry=RetryPolicy(attempts=1),
        )
        return VdgTicketLogin(
            self,
            endpoint,
            default_lifetime_s=profile.default_token_lifetime_s,
            send_bipro_version=profile.sts_sends_bipro_version,
        )

    def __repr__(self) -> str:
        return f"VdgTicket(username={self.username!r}, ticket='***')"
