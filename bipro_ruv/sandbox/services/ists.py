"""The TGIC person login: the GDV's ISTS (WS-Trust 1.3 Issue with a WS-Trust 1.4 mTAN challenge).

Two steps, each a SOAP request whose SOAPAction is its ``wsa:Action``:

1. :func:`issue` - a ``wst13:RequestSecurityToken`` for a SAML 2.0 token that ``wsp:AppliesTo`` the insurer's
   TGIC service id, with the TGIC user's ``wsse:UsernameToken``. The right password opens a challenge
   (:meth:`SandboxState.open_challenge <bipro_ruv.sandbox.state.SandboxState.open_challenge>`: the mTAN is
   the simulated SMS) and is answered with a ``wst14:InteractiveChallenge``; wrong passwords count towards
   the lock like the STS's.
2. :func:`answer` - a ``wst13:RequestSecurityTokenResponse`` whose ``wsa:RelatesTo`` names the challenge and
   whose ``wst14:TextChallengeResponse`` holds the mTAN. A challenge takes one answer, within
   ``mtan_lifetime_s``; the right mTAN gets a ``saml2:EncryptedAssertion`` that the other services accept
   in ``wsse:Security`` as ``config.username``'s session for ``saml_lifetime_s``
   (:func:`~bipro_ruv.sandbox.services.sts.require_session`).

Refusals are WS-Trust Faults (:class:`~.soap.TrustFault`): ``wst13:FailedAuthentication``,
``wst13:InvalidRequest``, ``wst13:ExpiredData``.
"""

from __future__ import annotations

import hmac
import uuid
from typing import TYPE_CHECKING

from bipro_ruv.sandbox.services.soap import (
    WST13_ISSUE_ACTION,
    WST13_ISSUE_REPLY_ACTION,
    Reply,
    SoapRequest,
    TrustFault,
    envelope,
    find_text,
    format_time,
    namespaces,
    q,
    serialize,
    sub,
)
from bipro_ruv.sandbox.state import LoginOutcome

if TYPE_CHECKING:
    from lxml import etree

    from bipro_ruv.sandbox.state import SandboxState

__all__ = [
    "AES256_CBC",
    "CHALLENGE_TITLE",
    "ENCRYPTED_ELEMENT",
    "OTP_CHALLENGE",
    "SAML2_TOKEN_TYPE",
    "WST13_ISSUE",
    "WST13_ISSUE_FINAL_ACTION",
    "answer",
    "issue",
    "serve",
]

SAML2_TOKEN_TYPE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"  # noqa: S105
WST13_ISSUE = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
WST13_ISSUE_FINAL_ACTION = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal"
OTP_CHALLENGE = "http://docs.oasis-open.org/ws-sx/ws-trust/200802/challenge/OTP"
ENCRYPTED_ELEMENT = "http://www.w3.org/2001/04/xmlenc#Element"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
CHALLENGE_TITLE = "Bitte geben Sie die mTAN ein, die per SMS an +49 171 ***4711 gesendet wurde."

_ISTS_NS = namespaces("wsa", "wsu", "wst13", "wst14", "saml2", "xenc")
_WRONG_CREDENTIALS = "Benutzerkennung oder Passwort falsch"
_LOCKED = "Benutzerkonto gesperrt"


def serve(state: SandboxState, request: SoapRequest) -> Reply:
    """One ISTS request: step 1 (:func:`issue`) or step 2 (:func:`answer`)."""
    if request.operation == "IstsIssue":
        return issue(state, request)
    return answer(state, request)


def issue(state: SandboxState, request: SoapRequest) -> Reply:
    """Step 1: check the RST and the TGIC password, open an mTAN challenge."""
    if request.addressing("Action") != WST13_ISSUE_ACTION:
        raise TrustFault("InvalidRequest", "wsa:Action ungültig")
    rst = request.element
    if find_text(rst, q("wst13", "TokenType")) != SAML2_TOKEN_TYPE:
        raise TrustFault("InvalidRequest", "TokenType ungültig")
    if find_text(rst, q("wst13", "RequestType")) != WST13_ISSUE:
        raise TrustFault("InvalidRequest", "RequestType ungültig")
    applies_to = _applies_to(rst)
    if applies_to != state.config.tgic_applies_to:
        raise TrustFault("InvalidRequest", f"AppliesTo {applies_to!r} ist kein bekannter Dienst")
    credentials = request.username_token()
    if credentials is None:
        raise TrustFault("InvalidRequest", "Kein UsernameToken im Security-Header")
    outcome = state.check_tgic_login(*credentials)
    if outcome is LoginOutcome.LOCKED:
        raise TrustFault("FailedAuthentication", _LOCKED)
    if outcome is not LoginOutcome.OK:
        raise TrustFault("FailedAuthentication", _WRONG_CREDENTIALS)
    context = rst.get("Context")
    challenge_id, _ = state.open_challenge(credentials[0], context)
    env, body = envelope(_ISTS_NS)
    _addressing(env, WST13_ISSUE_REPLY_ACTION, f"urn:uuid:{challenge_id}", request.addressing("MessageID"))
    rstr = sub(body, q("wst13", "RequestSecurityTokenResponse"))
    if context is not None:
        rstr.set("Context", context)
    challenge = sub(rstr, q("wst14", "InteractiveChallenge"))
    sub(challenge, q("wst14", "Title"), CHALLENGE_TITLE)
    text_challenge = sub(challenge, q("wst14", "TextChallenge"))
    for name, value in (("RefId", OTP_CHALLENGE), ("Label", "mTAN"), ("MaxLen", "6"), ("HideText", "true")):
        text_challenge.set(name, value)
    return Reply(200, serialize(env))


def answer(state: SandboxState, request: SoapRequest) -> Reply:
    """Step 2: the mTAN for the challenge ``wsa:RelatesTo`` names; the right one gets the assertion."""
    if request.addressing("Action") != WST13_ISSUE_REPLY_ACTION:
        raise TrustFault("InvalidRequest", "wsa:Action ungültig")
    # RelatesTo carries the challenge's MessageID ("urn:uuid:<id>"); the bare id is taken as well.
    relates_to = request.addressing("RelatesTo").lower().removeprefix("urn:uuid:")
    challenge = state.answer_challenge(relates_to) if relates_to else None
    if challenge is None:
        raise TrustFault("InvalidRequest", "Challenge unbekannt oder bereits beantwortet")
    context = request.element.get("Context")
    if context is not None and context != challenge.context:
        raise TrustFault("InvalidRequest", "Context passt nicht zur Challenge")
    if challenge.expired:
        raise TrustFault("ExpiredData", "mTAN abgelaufen")
    if state.is_locked(challenge.user):
        raise TrustFault("FailedAuthentication", _LOCKED)
    mtan = _mtan_of(request.element)
    if mtan is None:
        raise TrustFault("InvalidRequest", "Keine Antwort auf die Challenge (TextChallengeResponse)")
    if not hmac.compare_digest(mtan.encode(), challenge.mtan.encode()):
        state.record_failure(challenge.user)
        raise TrustFault("FailedAuthentication", "mTAN falsch")
    state.record_login("ists", challenge.user)
    cipher_value, created, expires = state.issue_assertion(state.config.username)
    env, body = envelope(_ISTS_NS)
    _addressing(env, WST13_ISSUE_FINAL_ACTION, f"urn:uuid:{uuid.uuid4()}", request.addressing("MessageID"))
    rstr = sub(
        sub(body, q("wst13", "RequestSecurityTokenResponseCollection")),
        q("wst13", "RequestSecurityTokenResponse"),
    )
    if challenge.context is not None:
        rstr.set("Context", challenge.context)
    sub(rstr, q("wst13", "TokenType"), SAML2_TOKEN_TYPE)
    assertion = sub(sub(rstr, q("wst13", "RequestedSecurityToken")), q("saml2", "EncryptedAssertion"))
    data = sub(assertion, q("xenc", "EncryptedData"))
    data.set("Type", ENCRYPTED_ELEMENT)
    sub(data, q("xenc", "EncryptionMethod")).set("Algorithm", AES256_CBC)
    sub(sub(data, q("xenc", "CipherData")), q("xenc", "CipherValue"), cipher_value)
    lifetime = sub(rstr, q("wst13", "Lifetime"))
    sub(lifetime, q("wsu", "Created"), format_time(created, "utc"))
    sub(lifetime, q("wsu", "Expires"), format_time(expires, "utc"))
    return Reply(200, serialize(env))


def _applies_to(rst: etree._Element) -> str:
    """``wsp:AppliesTo/wsp:URI``, or the ``wsa:EndpointReference/wsa:Address`` most WS-Trust clients send."""
    applies_to = rst.find(q("wsp", "AppliesTo"))
    if applies_to is None:
        return ""
    uri = find_text(applies_to, q("wsp", "URI"))
    return uri or find_text(applies_to, f"{q('wsa', 'EndpointReference')}/{q('wsa', 'Address')}")


def _mtan_of(rstr: etree._Element) -> str | None:
    """The text of the OTP ``wst14:TextChallengeResponse`` (a missing RefId is taken as OTP)."""
    response = rstr.find(q("wst14", "InteractiveChallengeResponse"))
    if response is None:
        return None
    for text_response in response.iter(q("wst14", "TextChallengeResponse")):
        if text_response.get("RefId", OTP_CHALLENGE) == OTP_CHALLENGE:
            return (text_response.text or "").strip()
    return None


def _addressing(env: etree._Element, action: str, message_id: str, relates_to: str) -> None:
    header = env[0]
    sub(header, q("wsa", "Action"), action)
    sub(header, q("wsa", "MessageID"), message_id)
    if relates_to:
        sub(header, q("wsa", "RelatesTo"), relates_to)
