"""Security tokens and their lifecycle (BiPRO Norm 410 §"Verwendung des Tokens").

A BiPRO call carries only the token in ``wsse:Security``: no signature, no timestamp.
:class:`TokenManager` keeps one token per client, renews it shortly before it expires
(single-flight: concurrent threads wait for one login instead of starting several),
and drops it when a service reports the session invalid (00960/00962).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from lxml import etree

from bipro_ruv._wire.soap import SecurityHeader
from bipro_ruv._wire.xml import NS

__all__ = [
    "SecurityContextTokenHeader",
    "SecurityToken",
    "TokenManager",
    "TokenProvider",
    "security_element",
]

_WSSE = NS["wsse"]
_WSC = NS["wsc"]


def security_element(envelope: etree._Element) -> etree._Element:
    """The envelope's ``wsse:Security`` header element, made (with the Header) if missing."""
    soap_ns = etree.QName(envelope).namespace
    header = envelope.find(f"{{{soap_ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header")
        envelope.insert(0, header)
    security = header.find(f"{{{_WSSE}}}Security")
    if security is None:
        security = etree.SubElement(header, f"{{{_WSSE}}}Security", nsmap={"wsse": _WSSE})
    return security


@dataclass(frozen=True, repr=False)
class SecurityContextTokenHeader:
    """``wsse:Security/wsc:SecurityContextToken/wsc:Identifier`` (WS-SecureConversation 2005/02)."""

    identifier: str

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        security = security_element(envelope)
        sct = etree.SubElement(security, f"{{{_WSC}}}SecurityContextToken", nsmap={"wsc": _WSC})
        etree.SubElement(sct, f"{{{_WSC}}}Identifier").text = self.identifier
        return envelope, headers

    @property
    def template_key(self) -> tuple[str, str]:
        """Envelopes with this header may be built from a template (the token is no password)."""
        return ("sct", self.identifier)

    def __repr__(self) -> str:
        return "SecurityContextTokenHeader(identifier='***')"


@dataclass(frozen=True)
class SecurityToken:
    """A token usable until ``expires_at`` (``time.monotonic()`` seconds).

    ``expires_at_utc`` is the same instant on the wall clock, for display.
    """

    header: SecurityHeader = field(repr=False)
    expires_at: float
    expires_at_utc: datetime
    lifetime_s: float
    source: str = "sts"

    def remaining(self, now: float | None = None) -> float:
        return self.expires_at - (time.monotonic() if now is None else now)


class TokenProvider(Protocol):
    """Obtains a fresh token (a network login). Implementations: Norm 410 STS, TGIC."""

    def fetch(self) -> SecurityToken: ...


class TokenManager:
    """Caches a provider's token and renews it ``margin`` seconds before expiry.

    ``margin`` is capped at a quarter of the token's lifetime, so short-lived tokens
    (seconds, as in tests) are still used rather than renewed on every call.
    """

    def __init__(self, provider: TokenProvider, *, margin_s: float = 60.0) -> None:
        self._provider = provider
        self._margin = margin_s
        self._token: SecurityToken | None = None
        self._lock = threading.Lock()
        self.logins = 0

    def _usable(self, token: SecurityToken | None) -> bool:
        if token is None:
            return False
        margin = min(self._margin, token.lifetime_s / 4)
        return token.remaining() > margin

    def get(self) -> SecurityToken:
        """A valid token; logs in (once, for all waiting threads) when needed."""
        token = self._token
        if self._usable(token):
            assert token is not None
            return token
        with self._lock:
            # Another thread may have logged in while this one waited for the lock.
            if self._usable(self._token):
                assert self._token is not None
                return self._token
            self._token = self._provider.fetch()
            self.logins += 1
            return self._token

    def invalidate(self, token: SecurityToken) -> None:
        """Forget ``token`` (the service said the session is invalid); a newer one stays."""
        with self._lock:
            if self._token is token:
                self._token = None

    @property
    def current(self) -> SecurityToken | None:
        return self._token

    def clear(self) -> None:
        with self._lock:
            self._token = None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
