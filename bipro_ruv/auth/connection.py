"""A logged-in connection to one insurer, shared by every service of a client.

It holds the HTTP transport, the insurer profile, the retry policy and the token
manager, and offers the services (Norm 430 transfer, Norm 440 extranet, GDV and data
packages to come) what they need: the SOAP endpoint of a service kind, and calls made
with a valid token. After 00960/00962 ("session invalid") a call logs in again once
and is repeated once (Norm 410 §"Verwendung des Tokens").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree

from bipro_ruv._wire.endpoints import ServiceEndpoint, ServiceKind
from bipro_ruv._wire.policy import RetryPolicy
from bipro_ruv._wire.soap import SoapEndpoint
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv.auth.base import SecurityToken, TokenManager
from bipro_ruv.errors import ConfigurationError, SessionExpiredError
from bipro_ruv.profiles import InsurerProfile

__all__ = ["Connection"]

log = logging.getLogger("bipro_ruv.client")

T = TypeVar("T")


class Connection:
    """Transport, profile and login of one account at one insurer (see the module docstring).

    The token manager is set once the login method is known (:meth:`log_in_with`): the
    STS login itself needs this connection's STS endpoint.
    """

    def __init__(self, profile: InsurerProfile, transport: HttpTransport, retry: RetryPolicy) -> None:
        self.profile = profile
        self.transport = transport
        self.retry = retry
        self._endpoints: dict[ServiceKind, SoapEndpoint] = {}
        self._tokens: TokenManager | None = None
        self.closed = False

    def log_in_with(self, tokens: TokenManager) -> None:
        self._tokens = tokens

    @property
    def tokens(self) -> TokenManager:
        if self._tokens is None:
            raise ConfigurationError("this connection has no login method")
        return self._tokens

    def endpoint(self, kind: ServiceKind) -> SoapEndpoint:
        """The SOAP endpoint of ``kind`` at this insurer (from the profile), made once."""
        endpoint = self._endpoints.get(kind)
        if endpoint is None:
            config: ServiceEndpoint | None = getattr(self.profile, kind.value, None)
            if config is None:
                raise ConfigurationError(f"profile {self.profile.key!r} has no {kind.value} service")
            endpoint = SoapEndpoint(
                kind,
                config,
                self.transport,
                soap_action_style=self.profile.soap_action_style,
                retry=self.retry,
            )
            self._endpoints[kind] = endpoint
        return endpoint

    def with_token(self, call: Callable[[SecurityToken], T]) -> T:
        """Run ``call`` with a valid token; after 00960/00962 log in again once and repeat once."""
        self.check_open()
        tokens = self.tokens
        token = tokens.get()
        try:
            return call(token)
        except SessionExpiredError:
            log.info("session reported invalid; logging in again and repeating the call once")
            tokens.invalidate(token)
            return call(tokens.get())

    def call(
        self, kind: ServiceKind, operation: str, *, idempotent: bool = False, **body: Any
    ) -> etree._Element:
        """``operation`` of service ``kind`` with a valid token: the payload of the reply."""
        endpoint = self.endpoint(kind)
        return self.with_token(
            lambda token: endpoint.call(operation, token.header, idempotent=idempotent, **body)
        )

    def check_open(self) -> None:
        if self.closed:
            raise ConfigurationError("this Client is closed")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self._tokens is not None:
                self._tokens.clear()
            self.transport.close()
