"""Login to BiPRO services (Norm 410 STS; TGIC/SAML per Norm 411 to follow).

The login method is a value (:mod:`.credentials`: :class:`UsernamePassword` today).
A *token provider* turns credentials into a :class:`SecurityToken` (the
``wsse:Security`` content for later calls); :class:`TokenManager` caches it, renews
it before it expires and makes sure concurrent callers share one login.
"""

from bipro_ruv.auth._password import Password
from bipro_ruv.auth.base import SecurityContextTokenHeader, SecurityToken, TokenManager, TokenProvider
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.credentials import Credentials, UsernamePassword
from bipro_ruv.auth.sts import UsernamePasswordLogin, token_expiry

__all__ = [
    "Connection",
    "Credentials",
    "Password",
    "SecurityContextTokenHeader",
    "SecurityToken",
    "TokenManager",
    "TokenProvider",
    "UsernamePassword",
    "UsernamePasswordLogin",
    "token_expiry",
]
