"""TGIC person login: the GDV's token service (ISTS) issues a SAML 2.0 token after an mTAN.

R+V accepts the TGIC-ID of the GDV beside its portal login. The ISTS speaks WS-Trust 1.3
(not the 2005/02 dialect of the BiPRO STS) with WS-Addressing 2005/08 (bipro-protocol.md §1.6):

1. **Issue**: a ``wst:RequestSecurityToken`` for a SAML 2.0 token (``TokenType ...#SAMLV2.0``)
   that applies to the insurer's TGIC service id (``wsp:AppliesTo``, the profile's
   ``tgic.service_id``), with the user's ``wsse:UsernameToken``, the claims PartnerId,
   PartnerRolle and EMail, and a requested lifetime of five minutes.
2. The ISTS answers with a **WS-Trust 1.4 interactive challenge** (the mTAN, sent by SMS):
   its ``wst14:Title`` is shown to whoever answers through ``otp_provider``.
3. **Answer**: a ``wst:RequestSecurityTokenResponse`` with ``wsa:RelatesTo`` = the
   challenge's ``wsa:MessageID`` and the mTAN in ``wst14:TextChallengeResponse``.
4. The reply holds a ``saml2:EncryptedAssertion``: it goes **verbatim** into
   ``wsse:Security`` of every later BiPRO call, in place of the SecurityContextToken, and is
   used until its ``wst:Lifetime`` ends.

A wrong password or a wrong mTAN is an :class:`~bipro_ruv.errors.AuthenticationError`
(:class:`~bipro_ruv.errors.WrongPasswordError`, :class:`~bipro_ruv.errors.WrongOtpError`),
never retried automatically, and recorded like a refused portal password
(:mod:`._rejections`, under ``tgic``: one TGIC-ID is one account for every insurer): the next run does not
send that password again. An mTAN that came too late is an
:class:`~bipro_ruv.errors.OtpExpiredError` (not recorded). Without an ``otp_provider``
nothing is sent: :class:`~bipro_ruv.errors.OtpRequiredError`. Each step is sent once.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree
from pydantic import SecretStr

from bipro_ruv._redact import register_secret
from bipro_ruv._wire.soap import read_envelope
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv._wire.xml import NS, child, child_text, descendant
from bipro_ruv.auth._password import Password
from bipro_ruv.auth._rejections import RejectionStore, guarded_login
from bipro_ruv.auth.base import SecurityToken, TokenProvider, security_element, utc_now
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.sts import token_expiry
from bipro_ruv.errors import (
    AccountLockedError,
    AuthenticationError,
    BiproError,
    ConfigurationError,
    HttpStatusError,
    OtpExpiredError,
    OtpRequiredError,
    ProtocolError,
    ServiceError,
    WrongOtpError,
    WrongPasswordError,
)
from bipro_ruv.profiles import TgicService

__all__ = ["MtanChallenge", "OtpProvider", "SamlAssertionHeader", "TgicLogin", "TgicPerson"]

log = logging.getLogger("bipro_ruv.auth")

WST13 = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WST14 = "http://docs.oasis-open.org/ws-sx/ws-trust/200802"
WSA = "http://www.w3.org/2005/08/addressing"
WSP = "http://www.w3.org/ns/ws-policy"
SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
ACTION_ISSUE = f"{WST13}/RST/Issue"
ACTION_ANSWER = f"{WST13}/RSTR/Issue"
REQUEST_TYPE = f"{WST13}/Issue"
TOKEN_TYPE_SAML2 = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"  # noqa: S105
OTP_CHALLENGE = f"{WST14}/challenge/OTP"
CLAIMS_DIALECT = "urn:oasis:names:tc:SAML:2.0:assertion:AttributeStatementType"
CLAIMS = ("PartnerId", "PartnerRolle", "EMail")
#: How long the requested token should live (the ISTS decides; the third-party client asks 5 min).
REQUESTED_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class MtanChallenge:
    """What the ISTS asks: ``title`` is its text for the person ("Bitte geben Sie die mTAN
    ein ..."), ``label`` the field's name, ``max_length`` its length (None: not given)."""

    title: str
    label: str = "mTAN"
    max_length: int | None = None
    hide_text: bool = True


OtpProvider = Callable[[MtanChallenge], str | None]
"""Asked for the mTAN once per login; returns it (or None: nobody can answer)."""


@dataclass(frozen=True, repr=False)
class SamlAssertionHeader:
    """``wsse:Security`` holding the ISTS's EncryptedAssertion, as it came (zeep's plugin interface)."""

    assertion: bytes

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        security_element(envelope).append(etree.fromstring(self.assertion))
        return envelope, headers

    @property
    def template_key(self) -> tuple[str, str]:
        """Envelopes with this header may come from a template: the assertion is the same
        bytes in every call, and the template is kept in memory only."""
        return ("saml", hashlib.sha256(self.assertion).hexdigest())

    def __repr__(self) -> str:
        return "SamlAssertionHeader(assertion='***')"


def _qn(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _sub(parent: etree._Element, namespace: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _qn(namespace, name))
    if text is not None:
        element.text = text
    return element


def _envelope(to: str, action: str, message_id: str) -> tuple[etree._Element, etree._Element, etree._Element]:
    """SOAP 1.1 envelope with the WS-Addressing headers; (envelope, header, body)."""
    envelope = etree.Element(_qn(NS["soap"], "Envelope"), nsmap={"soap11": NS["soap"]})
    header = etree.SubElement(envelope, _qn(NS["soap"], "Header"), nsmap={"wsa": WSA})
    _sub(header, WSA, "To", to)
    _sub(header, WSA, "Action", action)
    _sub(header, WSA, "MessageID", message_id)
    body = etree.SubElement(envelope, _qn(NS["soap"], "Body"))
    return envelope, header, body


def issue_request(
    url: str, username: str, password: str, service_id: str, *, message_id: str, now: datetime
) -> bytes:
    """Step 1: the RequestSecurityToken for a SAML 2.0 token (see the module docstring)."""
    envelope, header, body = _envelope(url, ACTION_ISSUE, message_id)
    security = etree.SubElement(header, _qn(NS["wsse"], "Security"), nsmap={"wsse": NS["wsse"]})
    token = etree.SubElement(security, _qn(NS["wsse"], "UsernameToken"), nsmap={"wsu": NS["wsu"]})
    token.set(_qn(NS["wsu"], "Id"), "PartnerId")
    _sub(token, NS["wsse"], "Username", username)
    _sub(token, NS["wsse"], "Password", password)
    rst = etree.SubElement(
        body,
        _qn(WST13, "RequestSecurityToken"),
        nsmap={"wsp": WSP, "wst": WST13, "wsu": NS["wsu"]},
    )
    rst.set("Context", message_id)
    _sub(rst, WST13, "TokenType", TOKEN_TYPE_SAML2)
    _sub(rst, WST13, "RequestType", REQUEST_TYPE)
    _sub(_sub(rst, WSP, "AppliesTo"), WSP, "URI", service_id)
    claims = _sub(rst, WST13, "Claims")
    claims.set("Dialect", CLAIMS_DIALECT)
    statement = etree.SubElement(claims, _qn(SAML2, "AttributeStatement"), nsmap={"saml2": SAML2})
    for name in CLAIMS:
        attribute = _sub(statement, SAML2, "Attribute")
        attribute.set("Name", f"urn:tgic:names:ISTS:1.0:user:{name}")
        attribute.set("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
    lifetime = _sub(rst, WST13, "Lifetime")
    _sub(lifetime, NS["wsu"], "Created", now.isoformat(timespec="seconds"))
    _sub(lifetime, NS["wsu"], "Expires", (now + REQUESTED_LIFETIME).isoformat(timespec="seconds"))
    return bytes(etree.tostring(envelope, encoding="utf-8", xml_declaration=True))


def answer_request(url: str, mtan: str, *, challenge_id: str, context: str | None, message_id: str) -> bytes:
    """Step 3: the RequestSecurityTokenResponse carrying the mTAN."""
    envelope, header, body = _envelope(url, ACTION_ANSWER, message_id)
    _sub(header, WSA, "RelatesTo", challenge_id)
    rstr = etree.SubElement(
        body, _qn(WST13, "RequestSecurityTokenResponse"), nsmap={"wst": WST13, "wst14": WST14}
    )
    if context:
        rstr.set("Context", context)
    response = _sub(_sub(rstr, WST14, "InteractiveChallengeResponse"), WST14, "TextChallengeResponse", mtan)
    response.set("RefId", OTP_CHALLENGE)
    return bytes(etree.tostring(envelope, encoding="utf-8", xml_declaration=True))


class TgicLogin:
    """Token provider: the ISTS's two steps, each sent once (see the module docstring)."""

    def __init__(
        self,
        username: str,
        password: Password,
        service: TgicService,
        transport: HttpTransport,
        *,
        otp_provider: OtpProvider | None,
        rejections: RejectionStore | None,
        default_lifetime_s: float,
    ) -> None:
        self.username = username
        self.password = password
        self.service = service
        self.transport = transport
        self.otp_provider = otp_provider
        self.rejections = rejections
        self.default_lifetime_s = default_lifetime_s
        self.requests_sent = 0

    def fetch(self) -> SecurityToken:
        self.password.reveal()  # a refusal of this process is raised before the mTAN question
        if self.otp_provider is None:
            raise OtpRequiredError(
                f"the TGIC login of {self.username} needs an mTAN, and no one can be asked (no otp_provider; "
                "on the command line: no terminal). Log in on a terminal, or use the organisation "
                "certificate for unattended runs"
            )
        return guarded_login(self.password, self.rejections, self._login, not_counted=(OtpExpiredError,))

    def _login(self, secret: str) -> SecurityToken:
        url = self.service.ists_url
        message_id = f"urn:uuid:{uuid.uuid4()}"
        log.debug("TGIC login for %s at %s (service %s)", self.username, url, self.service.service_id)
        issue = issue_request(
            url, self.username, secret, self.service.service_id, message_id=message_id, now=utc_now()
        )
        try:
            payload = self._post(url, issue, ACTION_ISSUE)
        except (ServiceError, HttpStatusError) as exc:
            refusal = self._refused(exc, step="password")
            if refusal is exc:
                raise
            raise refusal from exc
        if descendant(payload, "EncryptedAssertion") is None and descendant(payload, "Assertion") is None:
            payload = self._answer_challenge(url, payload, context=message_id)
        return self._token(payload)

    def _answer_challenge(self, url: str, payload: etree._Element, *, context: str) -> etree._Element:
        challenge = descendant(payload, "InteractiveChallenge")
        if challenge is None:
            raise ProtocolError("the TGIC token service sent neither an assertion nor an mTAN challenge")
        text = descendant(challenge, "TextChallenge")
        max_length = text.get("MaxLen") if text is not None else None
        question = MtanChallenge(
            title=child_text(challenge, "Title") or "mTAN",
            label=(text.get("Label") if text is not None else None) or "mTAN",
            max_length=int(max_length) if max_length and max_length.isdigit() else None,
        )
        header = child(payload.getparent().getparent(), "Header")  # type: ignore[union-attr]
        challenge_id = child_text(header, "MessageID") if header is not None else None
        if not challenge_id:
            raise ProtocolError("the TGIC token service's mTAN challenge has no wsa:MessageID to answer")
        assert self.otp_provider is not None
        answer = (self.otp_provider(question) or "").strip()
        if not answer:
            raise OtpRequiredError(
                f"no mTAN was given for the TGIC login of {self.username}; nothing was sent"
            )
        rstr_context = payload.get("Context") or context
        request = answer_request(
            url,
            answer,
            challenge_id=challenge_id,
            context=rstr_context,
            message_id=f"urn:uuid:{uuid.uuid4()}",
        )
        try:
            return self._post(url, request, ACTION_ANSWER)
        except (ServiceError, HttpStatusError) as exc:
            refusal = self._refused(exc, step="mtan")
            if refusal is exc:
                raise
            raise refusal from exc

    def _post(self, url: str, message: bytes, action: str) -> etree._Element:
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{action}"',
            "Accept": "text/xml",
        }
        self.requests_sent += 1
        with self.transport.send(url, message, headers) as exchange:
            data = exchange.read(what="TGIC token service")
            return read_envelope(
                data, http_status=exchange.status_code, reason=exchange.reason, what="TGIC token service"
            )

    def _refused(self, error: ServiceError | HttpStatusError, *, step: str) -> BiproError:
        """The exception for a Fault or an HTTP refusal of the ISTS: a refusal of password or
        mTAN (also a bare HTTP 401/403), or ``error`` itself."""
        http_status: int | None
        if isinstance(error, HttpStatusError):
            if error.status_code not in (401, 403):
                return error
            code, fault_code, http_status = "", None, error.status_code
        else:
            code = (error.fault_code or "").rpartition(":")[2]
            fault_code, http_status = error.fault_code, error.http_status
        text = error.message
        if code == "ExpiredData":
            return OtpExpiredError(
                f"the mTAN for {self.username} came too late ({text}); log in again for a new one",
                fault_code=fault_code,
                http_status=http_status,
            )
        if code == "InvalidRequest" and step == "password":
            return ServiceError(
                f"the TGIC token service refused the request ({text}); is "
                f"{self.service.service_id!r} R+V's TGIC service id? Set BIPRO_RUV_TGIC_SERVICE_ID "
                "(TgicPerson(service_id=...)) to the one R+V names",
                fault_code=fault_code,
                http_status=http_status,
            )
        refusals = ("FailedAuthentication", "InvalidSecurityToken")
        if code not in refusals and http_status not in (401, 403):
            return error
        refusal: AuthenticationError
        if "gesperrt" in text.lower() or "locked" in text.lower():
            refusal = AccountLockedError(
                f"TGIC locked the account {self.username} ({text}); have it unlocked at TGIC",
                fault_code=fault_code,
                http_status=http_status,
            )
        elif step == "mtan":
            refusal = WrongOtpError(
                f"TGIC refused the mTAN for {self.username} ({text}); it is not retried, and this password "
                "is not sent again until the record of refusals is cleared (see the message of the next try)",
                fault_code=fault_code,
                http_status=http_status,
            )
        else:
            refusal = WrongPasswordError(
                f"TGIC refused user {self.username} ({text}); the password will not be sent again",
                fault_code=fault_code,
                http_status=http_status,
            )
        self.password.reject(refusal)
        return refusal

    def _token(self, payload: etree._Element) -> SecurityToken:
        assertion = descendant(payload, "EncryptedAssertion")
        if assertion is None:
            assertion = descendant(payload, "Assertion")
        if assertion is None:
            raise ProtocolError("the TGIC token service's answer holds no SAML assertion")
        for value in assertion.iter(_qn("http://www.w3.org/2001/04/xmlenc#", "CipherValue")):
            if value.text and len(value.text.strip()) <= 1024:
                register_secret(value.text.strip())
        lifetime_element = descendant(payload, "Lifetime")
        created = child_text(lifetime_element, "Created") if lifetime_element is not None else None
        expires = child_text(lifetime_element, "Expires") if lifetime_element is not None else None
        sent_wall = utc_now()
        sent_monotonic = time.monotonic()
        lifetime = token_expiry(created, expires, now=sent_wall, default_s=self.default_lifetime_s)
        kept = copy.deepcopy(assertion)
        log.info("TGIC login for %s succeeded; SAML token valid for %.0f s", self.username, lifetime)
        return SecurityToken(
            header=SamlAssertionHeader(etree.tostring(kept)),
            expires_at=sent_monotonic + lifetime,
            expires_at_utc=sent_wall + timedelta(seconds=lifetime),
            lifetime_s=lifetime,
            source="tgic",
        )


@dataclass(frozen=True, repr=False)
class TgicPerson:
    """Login method: a person's TGIC-ID and password, confirmed by an mTAN.

    ``otp_provider`` is asked for the mTAN (it gets the :class:`MtanChallenge`); without it
    the login refuses to start (:class:`~bipro_ruv.errors.OtpRequiredError`). ``service_id``
    overrides the profile's TGIC service id of the insurer.
    """

    username: str
    password: Password = field(repr=False)
    otp_provider: OtpProvider | None = field(default=None, repr=False)
    service_id: str | None = None

    def __init__(
        self,
        username: str,
        password: str | SecretStr | Password,
        *,
        otp_provider: OtpProvider | None = None,
        service_id: str | None = None,
    ) -> None:
        if not username:
            raise ValueError("username must not be empty")
        object.__setattr__(self, "username", username)
        secret = password if isinstance(password, Password) else Password(password)
        object.__setattr__(self, "password", secret)
        object.__setattr__(self, "otp_provider", otp_provider)
        object.__setattr__(self, "service_id", service_id)

    def token_provider(
        self, connection: Connection, *, state_dir: str | Path | None, system: str | None
    ) -> TokenProvider:
        profile = connection.profile
        if profile.tgic is None:
            raise ConfigurationError(f"profile {profile.key!r} names no TGIC token service")
        service = profile.tgic
        if self.service_id:
            service = service.model_copy(update={"service_id": self.service_id})
        return TgicLogin(
            self.username,
            self.password,
            service,
            connection.transport,
            otp_provider=self.otp_provider,
            # One TGIC-ID is one account at the GDV, whichever insurer it logs in to.
            rejections=RejectionStore(state_dir, "tgic", self.username, system),
            default_lifetime_s=profile.default_token_lifetime_s,
        )

    def __repr__(self) -> str:
        return f"TgicPerson(username={self.username!r}, password='***')"
