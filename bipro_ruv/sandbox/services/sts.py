"""The sandbox's security token service (BiPRO Norm 410 STS): issue, cancel and check tokens.

Three ports issue the same ``wsc:SecurityContextToken`` (WS-Trust 2005/02 Issue, token type ``sct``) with a
``wst:Lifetime`` written in the configured style, and differ only in how the caller proves who it is:

* the password STS (:func:`request_security_token`): a ``wsse:UsernameToken``; wrong passwords count
  towards R+V's lockout (ST_Meldung 00961, 00964 locked, 00966 expired), kept in
  :class:`~bipro_ruv.sandbox.state.SandboxState`;
* the certificate port X509Login (:func:`certificate_login`): the verified client certificate of the TLS
  connection (the organisation certificate), 00960 without one;
* the ticket port VDGTicketLogin (:func:`ticket_login`): a VDG ticket (:mod:`.tickets`; 00908 none,
  00942 invalid, 00943 expired, 00961 for another user).

``Cancel`` ends a token on each port. :func:`require_session` is the check every other service runs on the
``wsse:Security`` header: a live SCT, or a live SAML assertion of the TGIC ISTS (:mod:`.ists`);
00917 neither, 00962 invalid or expired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bipro_ruv.sandbox.services import tickets
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
    format_time,
    q,
    serialize,
    sub,
)
from bipro_ruv.sandbox.state import LoginOutcome

if TYPE_CHECKING:
    from lxml import etree

    from bipro_ruv.sandbox.state import SandboxState

__all__ = ["certificate_login", "request_security_token", "require_session", "ticket_login"]


def request_security_token(state: SandboxState, version: str, request: SoapRequest) -> Reply:
    """Issue (``wst:Issue`` with a UsernameToken) or cancel (``wst:Cancel`` with the token) a token."""
    rst = _checked_rst(request, version)
    if find_text(rst, q("wst", "RequestType")) == RST_CANCEL:
        return _cancel(state, request)
    credentials = request.username_token()
    if credentials is None:
        raise RequestError("00908", "Kein UsernameToken im Security-Header")
    _check_issue(rst)
    outcome = state.check_login(*credentials)
    if outcome is LoginOutcome.LOCKED:
        raise RequestError("00964", "Benutzerkonto gesperrt")
    if outcome is LoginOutcome.BAD_CREDENTIALS:
        raise RequestError("00961", "Benutzerkennung oder Passwort falsch")
    if outcome is LoginOutcome.EXPIRED:
        raise RequestError("00966", "Passwort abgelaufen")
    return _issue(state, credentials[0])


def certificate_login(state: SandboxState, version: str, request: SoapRequest) -> Reply:
    """The X509Login port: the TLS connection's verified client certificate is the login.

    Any certificate of the sandbox's client CA stands for ``config.username``; the handshake
    has refused every other one already. A UsernameToken, if sent, is ignored.
    """
    if not request.peer_certificate:
        raise RequestError("00960", "Nicht authentifiziert: kein Client-Zertifikat")
    rst = _checked_rst(request, version)
    if find_text(rst, q("wst", "RequestType")) == RST_CANCEL:
        return _cancel(state, request)
    _check_issue(rst)
    user = state.config.username
    state.record_login("sts_certificate", user)
    return _issue(state, user)


def ticket_login(state: SandboxState, version: str, request: SoapRequest) -> Reply:
    """The VDGTicketLogin port: a rightly signed, unexpired VDG ticket for ``config.username``."""
    rst = _checked_rst(request, version)
    if find_text(rst, q("wst", "RequestType")) == RST_CANCEL:
        return _cancel(state, request)
    text = tickets.ticket_of(request)
    _check_issue(rst)
    ticket = tickets.verify_ticket(state.ticket_secret, text)
    if ticket.target_user_id != state.config.username:
        raise RequestError("00961", "Benutzerkennung oder Passwort falsch")
    state.record_login("sts_ticket", ticket.target_user_id)
    return _issue(state, ticket.target_user_id)


def require_session(state: SandboxState, request: SoapRequest) -> None:
    """The header must carry a token the STS issued (SCT) or an assertion of the ISTS, still valid."""
    identifier = request.sct_identifier()
    assertion = request.assertion_cipher_value()
    if identifier is None and assertion is None:
        raise RequestError("00917", "Kein SecurityContextToken im Header")
    if identifier is not None and state.token_valid(identifier):
        return
    if assertion is not None and state.assertion_valid(assertion):
        return
    raise RequestError("00962", "Session ungültig")


# -- what the ports share -------------------------------------------------------------------------


def _checked_rst(request: SoapRequest, version: str) -> etree._Element:
    """The RST, once its optional BiPROVersion is the port's (else 00931)."""
    rst = request.element
    sent_version = find_text(rst, q("nac", "BiPROVersion"))
    if sent_version and sent_version != version:
        raise RequestError("00931", f"BiPROVersion {sent_version} ungültig, erwartet {version}")
    return rst


def _check_issue(rst: etree._Element) -> None:
    if find_text(rst, q("wst", "TokenType")) != SCT_TOKEN_TYPE:
        raise RequestError("00910", "TokenType ungültig")
    if find_text(rst, q("wst", "RequestType")) != RST_ISSUE:
        raise RequestError("00911", "RequestType ungültig")


def _cancel(state: SandboxState, request: SoapRequest) -> Reply:
    identifier = request.sct_identifier()
    if identifier is None:
        raise RequestError("00917", "Kein SecurityContextToken im Header")
    if not state.cancel_token(identifier):
        raise RequestError("00962", "Session ungültig")
    env, body = envelope(STS_NS)
    sub(sub(body, q("wst", "RequestSecurityTokenResponse")), q("wst", "RequestedTokenCancelled"))
    return Reply(200, serialize(env))


def _issue(state: SandboxState, user: str) -> Reply:
    """The RSTR with a new SCT for ``user`` and its Lifetime in the configured style."""
    identifier, created, expires = state.issue_token(user)
    env, body = envelope(STS_NS)
    rstr = sub(body, q("wst", "RequestSecurityTokenResponse"))
    sub(rstr, q("wst", "TokenType"), SCT_TOKEN_TYPE)
    sct = sub(sub(rstr, q("wst", "RequestedSecurityToken")), q("wsc", "SecurityContextToken"))
    sub(sct, q("wsc", "Identifier"), identifier)
    style = state.config.lifetime_style
    if style != "absent":
        lifetime = sub(rstr, q("wst", "Lifetime"))
        sub(lifetime, q("wsu", "Created"), format_time(created, style))
        sub(lifetime, q("wsu", "Expires"), format_time(expires, style))
    return Reply(200, serialize(env))
