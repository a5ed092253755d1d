"""The sandbox's security token service (BiPRO Norm 410 STS): issue, cancel and check tokens.

``RequestSecurityToken`` with a ``wsse:UsernameToken`` issues a ``wsc:SecurityContextToken`` (WS-Trust
2005/02 Issue, token type ``sct``) with a ``wst:Lifetime`` written in the configured style; ``Cancel`` ends
one. Wrong passwords count towards R+V's lockout (ST_Meldung 00961, 00964 locked, 00966 expired), kept in
:class:`~bipro_ruv.sandbox.state.SandboxState`. :func:`require_session` is the check every other service runs
on the token in its ``wsse:Security`` header (00917 none, 00962 invalid or expired).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bipro_ruv.sandbox.services.soap import (
    RST_CANCEL,
    RST_ISSUE,
    SCT_TOKEN_TYPE,
    STS_NS,
    Reply,
    RequestError,
    SoapRequest,
    envelope,
    find_text,
    q,
    serialize,
    sub,
)
from bipro_ruv.sandbox.state import LoginOutcome

if TYPE_CHECKING:
    from bipro_ruv.sandbox.state import SandboxState

__all__ = ["request_security_token", "require_session"]


def request_security_token(state: SandboxState, version: str, request: SoapRequest) -> Reply:
    """Issue (``wst:Issue`` with a UsernameToken) or cancel (``wst:Cancel`` with the token) a token."""
    rst = request.element
    sent_version = find_text(rst, q("nac", "BiPROVersion"))
    if sent_version and sent_version != version:
        raise RequestError("00931", f"BiPROVersion {sent_version} ungültig, erwartet {version}")
    request_type = find_text(rst, q("wst", "RequestType"))
    if request_type == RST_CANCEL:
        identifier = request.sct_identifier()
        if identifier is None:
            raise RequestError("00917", "Kein SecurityContextToken im Header")
        if not state.cancel_token(identifier):
            raise RequestError("00962", "Session ungültig")
        env, body = envelope(STS_NS)
        sub(sub(body, q("wst", "RequestSecurityTokenResponse")), q("wst", "RequestedTokenCancelled"))
        return Reply(200, serialize(env))
    credentials = request.username_token()
    if credentials is None:
        raise RequestError("00908", "Kein UsernameToken im Security-Header")
    if find_text(rst, q("wst", "TokenType")) != SCT_TOKEN_TYPE:
        raise RequestError("00910", "TokenType ungültig")
    if request_type != RST_ISSUE:
        raise RequestError("00911", "RequestType ungültig")
    outcome = state.check_login(*credentials)
    if outcome is LoginOutcome.LOCKED:
        raise RequestError("00964", "Benutzerkonto gesperrt")
    if outcome is LoginOutcome.BAD_CREDENTIALS:
        raise RequestError("00961", "Benutzerkennung oder Passwort falsch")
    if outcome is LoginOutcome.EXPIRED:
        raise RequestError("00966", "Passwort abgelaufen")
    identifier, created, expires = state.issue_token(credentials[0])
    env, body = envelope(STS_NS)
    rstr = sub(body, q("wst", "RequestSecurityTokenResponse"))
    sub(rstr, q("wst", "TokenType"), SCT_TOKEN_TYPE)
    sct = sub(sub(rstr, q("wst", "RequestedSecurityToken")), q("wsc", "SecurityContextToken"))
    sub(sct, q("wsc", "Identifier"), identifier)
    style = state.config.lifetime_style
    if style != "absent":
        lifetime = sub(rstr, q("wst", "Lifetime"))
        sub(lifetime, q("wsu", "Created"), _format_time(created, style))
        sub(lifetime, q("wsu", "Expires"), _format_time(expires, style))
    return Reply(200, serialize(env))


def require_session(state: SandboxState, request: SoapRequest) -> None:
    """The token in the header must be one the STS issued and that is still valid."""
    identifier = request.sct_identifier()
    if identifier is None:
        raise RequestError("00917", "Kein SecurityContextToken im Header")
    if not state.token_valid(identifier):
        raise RequestError("00962", "Session ungültig")


def _format_time(epoch: float, style: str) -> str:
    if style == "offset":
        moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone(dt.timedelta(hours=1)))
        return moment.isoformat()
    moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    if style == "dotnet":
        # .NET's round-trip format "o": ticks of 100 ns, seven digits (fromisoformat of 3.10 refuses them)
        ticks = int((epoch - int(epoch)) * 10_000_000)
        return f"{moment.isoformat()}.{ticks:07d}Z"
    return moment.isoformat() + ("Z" if style == "utc" else "")
