"""BiPRO Norm 410 Security Token Service: username/password -> SecurityContextToken.

Wire form (WS-Trust 2005/02, WS-SecureConversation 2005/02; not WS-Trust 1.3):
the request carries ``wsse:UsernameToken`` (PasswordText) in ``wsse:Security`` and a
``wst:RequestSecurityToken`` with TokenType ``.../2005/02/sc/sct`` and RequestType
``.../2005/02/trust/Issue``; the reply's ``wst:RequestSecurityTokenResponse`` holds
``wsc:SecurityContextToken/wsc:Identifier`` and an optional ``wst:Lifetime``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree
from zeep.wsse import UsernameToken

from bipro_ruv._redact import register_secret
from bipro_ruv._wire.soap import SoapEndpoint
from bipro_ruv._wire.timestamps import parse_datetime
from bipro_ruv._wire.xml import child_text, descendant
from bipro_ruv.auth._password import Password
from bipro_ruv.auth._rejections import RejectionStore, guarded_login
from bipro_ruv.auth.base import SecurityContextTokenHeader, SecurityToken, utc_now
from bipro_ruv.errors import (
    AuthenticationError,
    HttpStatusError,
    ProtocolError,
    ServiceError,
    SessionExpiredError,
    WrongPasswordError,
)

__all__ = [
    "REQUEST_TYPE_ISSUE",
    "TOKEN_TYPE_SCT",
    "UsernamePasswordLogin",
    "issue_sct",
    "parse_rstr",
    "token_expiry",
]

log = logging.getLogger("bipro_ruv.auth")

TOKEN_TYPE_SCT = "http://schemas.xmlsoap.org/ws/2005/02/sc/sct"  # noqa: S105 (a URI, not a secret)
REQUEST_TYPE_ISSUE = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"

#: No token is used longer than this, whatever the STS claims.
MAX_LIFETIME_S = 24 * 3600.0


def parse_rstr(payload: etree._Element) -> tuple[str, str | None, str | None]:
    """(Identifier, Created, Expires) from a RequestSecurityTokenResponse (or a collection of them)."""
    sct = descendant(payload, "SecurityContextToken")
    identifier = child_text(sct, "Identifier") if sct is not None else None
    if not identifier:
        raise ProtocolError("STS reply holds no SecurityContextToken Identifier")
    lifetime = descendant(payload, "Lifetime")
    created = child_text(lifetime, "Created") if lifetime is not None else None
    expires = child_text(lifetime, "Expires") if lifetime is not None else None
    return identifier, created, expires


def _parse_time(value: str) -> datetime:
    """``wsu:Created``/``wsu:Expires`` (``xs:dateTime``: 7 fractional digits from .NET, ...)."""
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise ProtocolError(f"STS sent an unreadable Lifetime timestamp {value!r}") from exc


def token_expiry(
    created: str | None,
    expires: str | None,
    *,
    now: datetime,
    default_s: float,
) -> float:
    """Seconds the token may be used, counted from ``now`` (when the request was sent).

    * no ``Expires``: ``default_s`` (R+V does not publish its lifetime; 10 min is the
      shortest lifetime seen at BiPRO providers);
    * ``Created`` and ``Expires`` in the same style (both with or both without zone):
      their difference, measured from our own clock (immune to clock skew and to the
      unknown zone of naive timestamps);
    * ``Expires`` with a zone only: the time left until then;
    * ``Expires`` without a zone and no usable ``Created``: the server's zone is unknown
      (UTC, CET or CEST), so the earliest instant still in the future is taken, and never
      more than ``default_s``.
    """
    if expires is None:
        return default_s
    expires_at = _parse_time(expires)
    created_at = _parse_time(created) if created else None
    if created_at is not None and (created_at.tzinfo is None) == (expires_at.tzinfo is None):
        duration = (expires_at - created_at).total_seconds()
        if duration <= 0:
            raise ProtocolError(f"STS token expires ({expires}) before it was created ({created})")
        return min(duration, MAX_LIFETIME_S)
    if expires_at.tzinfo is not None:
        remaining = (expires_at - now).total_seconds()
        if remaining <= 0:
            raise ProtocolError(f"STS issued a token that expired at {expires}; check the system clock")
        return min(remaining, MAX_LIFETIME_S)
    candidates = [
        (expires_at.replace(tzinfo=timezone(timedelta(hours=offset))) - now).total_seconds()
        for offset in (0, 1, 2)
    ]
    future = [value for value in candidates if value > 0]
    if not future:
        raise ProtocolError(f"STS issued a token that expired at {expires} (no time zone); check the clock")
    return min(min(future), default_s)


#: WS-Security 1.0 fault codes (SOAP Message Security §12) that refuse the credentials.
_WSSE_REFUSALS = frozenset({"FailedAuthentication", "InvalidSecurityToken"})


def _login_refusal(error: ServiceError) -> str | None:
    """Why ``error`` from the STS refuses the login, or None if it says nothing about it."""
    if error.http_status in (401, 403):
        return f"HTTP {error.http_status}"
    code = (error.fault_code or "").rpartition(":")[2]
    if code in _WSSE_REFUSALS:
        return f"SOAP Fault {code}"
    return None


class UsernamePasswordLogin:
    """Token provider for the "weak" Norm 410 login with the Maklerportal credentials.

    ``rejections`` is the account's durable record of rejected passwords (see
    :mod:`bipro_ruv.auth._rejections`); :class:`~bipro_ruv.Client` always passes one.
    With it, the account's file lock is held around check -> send -> record, so two
    processes started together cannot both send the same wrong password. Without it,
    only this process's :class:`Password` remembers a rejection.
    """

    def __init__(
        self,
        username: str,
        password: Password,
        endpoint: SoapEndpoint,
        *,
        send_bipro_version: bool = False,
        default_lifetime_s: float = 600.0,
        rejections: RejectionStore | None = None,
    ) -> None:
        if not username:
            raise ValueError("username must not be empty")
        self.username = username
        self.password = password
        self.endpoint = endpoint
        self.send_bipro_version = send_bipro_version
        self.default_lifetime_s = default_lifetime_s
        self.rejections = rejections
        self.requests_sent = 0

    def fetch(self) -> SecurityToken:
        return guarded_login(self.password, self.rejections, self._send)

    def _send(self, secret: str) -> SecurityToken:
        """One RequestSecurityToken; every refusal becomes an AuthenticationError and spends
        the password in memory."""
        self.requests_sent += 1
        log.debug("STS login for user %s at %s", self.username, self.endpoint.endpoint.url)
        try:
            token = issue_sct(
                self.endpoint,
                UsernameToken(self.username, secret),
                default_lifetime_s=self.default_lifetime_s,
                source="sts",
                send_bipro_version=self.send_bipro_version,
            )
        except AuthenticationError as exc:
            self.password.reject(exc)
            raise
        except SessionExpiredError as exc:
            # 00960/00962 from the STS itself means the login was not accepted; neither code
            # says whether the password or the account is at fault, hence the base class.
            error = AuthenticationError(
                f"STS did not authenticate user {self.username}", status=exc.status, fault_code=exc.fault_code
            )
            self.password.reject(error)
            raise error from exc
        except HttpStatusError as exc:
            if exc.status_code in (401, 403):
                wrong = WrongPasswordError(
                    f"STS refused user {self.username} with HTTP {exc.status_code}; "
                    "the password will not be sent again"
                )
                self.password.reject(wrong)
                raise wrong from exc
            raise
        except ServiceError as exc:
            # A refusal in WS-Security's words (a Fault without BiPRO codes) or with HTTP
            # 401/403 and a SOAP body is a refusal too: sending the password again would
            # count towards the lockout all the same.
            why = _login_refusal(exc)
            if why is None:
                raise
            wrong = WrongPasswordError(
                f"STS refused user {self.username} ({why}); the password will not be sent again",
                status=exc.status,
                fault_code=exc.fault_code,
            )
            self.password.reject(wrong)
            raise wrong from exc
        log.info("STS login for user %s succeeded; token valid for %.0f s", self.username, token.lifetime_s)
        return token


def issue_sct(
    endpoint: SoapEndpoint,
    security: Any,
    *,
    default_lifetime_s: float,
    source: str,
    send_bipro_version: bool = False,
) -> SecurityToken:
    """One RequestSecurityToken (Issue, token type SCT) with ``security`` in the header (a
    UsernameToken, a VDG ticket, or None for the certificate port): the token it gives.
    Faults and NOK raise as the SOAP layer maps them; the caller decides what a refusal is."""
    body: dict[str, Any] = {"TokenType": TOKEN_TYPE_SCT, "RequestType": REQUEST_TYPE_ISSUE}
    if send_bipro_version:
        body["BiPROVersion"] = endpoint.endpoint.bipro_version
    sent_monotonic = time.monotonic()
    sent_wall = utc_now()
    payload = endpoint.call("RequestSecurityToken", security, **body)
    identifier, created, expires = parse_rstr(payload)
    register_secret(identifier)
    lifetime = token_expiry(created, expires, now=sent_wall, default_s=default_lifetime_s)
    return SecurityToken(
        header=SecurityContextTokenHeader(identifier),
        expires_at=sent_monotonic + lifetime,
        expires_at_utc=sent_wall + timedelta(seconds=lifetime),
        lifetime_s=lifetime,
        source=source,
    )
