"""Login to BiPRO services: each login method is one credentials value.

* :class:`UsernamePassword`: the Maklerportal user id and password (Norm 410 STS);
* :class:`TgicPerson`: the GDV's TGIC-ID and password, confirmed by an mTAN (the ISTS's SAML
  2.0 token, :mod:`.tgic`);
* :class:`OrganisationCertificate`: the firm's TGIC X.509 certificate over mTLS (:mod:`.certificate`);
* :class:`VdgTicket`: a VDG ticket to the STS's VDGTicketLogin port (:mod:`.vdg`).

A *token provider* turns credentials into a :class:`SecurityToken` (the ``wsse:Security``
content for later calls: a SecurityContextToken or the SAML assertion); :class:`TokenManager`
caches it, renews it before it expires and makes sure concurrent callers share one login.
The services do not care which method gave the token.
"""

from bipro_ruv.auth._password import Password
from bipro_ruv.auth.base import SecurityContextTokenHeader, SecurityToken, TokenManager, TokenProvider
from bipro_ruv.auth.certificate import ClientCertificate, OrganisationCertificate, load_certificate
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.credentials import Credentials, UsernamePassword
from bipro_ruv.auth.sts import UsernamePasswordLogin, token_expiry
from bipro_ruv.auth.tgic import MtanChallenge, OtpProvider, TgicPerson
from bipro_ruv.auth.vdg import VdgTicket

__all__ = [
    "ClientCertificate",
    "Connection",
    "Credentials",
    "MtanChallenge",
    "OrganisationCertificate",
    "OtpProvider",
    "Password",
    "SecurityContextTokenHeader",
    "SecurityToken",
    "TgicPerson",
    "TokenManager",
    "TokenProvider",
    "UsernamePassword",
    "UsernamePasswordLogin",
    "VdgTicket",
    "load_certificate",
    "token_expiry",
]
