"""bipro-ruv: BiPRO client for the R+V insurance group.

Log in (Norm 410), fetch documents (Norm 430), jump to contracts (Norm 440), and get
clean, contract-keyed Python objects. Start with :class:`Client`; the built-in
sandbox is :class:`bipro_ruv.sandbox.Sandbox`.
"""

from bipro_ruv._transport import RetryPolicy, Timeouts
from bipro_ruv._version import __version__
from bipro_ruv.auth import Password
from bipro_ruv.client import Client, LoginInfo
from bipro_ruv.errors import (
    AuthenticationError,
    BiproError,
    ChecksumMismatchError,
    ConfigurationError,
    DocumentError,
    HttpStatusError,
    InsecureTransportError,
    MalformedXmlError,
    MimeError,
    ProtocolError,
    RequestTimeout,
    RetryableHttpError,
    ServiceError,
    SessionExpiredError,
    TransportError,
    UnsafeArchiveError,
    UnsafeXmlError,
)
from bipro_ruv.models import Meldung, MeldungArt, Status
from bipro_ruv.profiles import PROFILES, InsurerProfile, ServiceEndpoint, SoapActionStyle, get_profile
from bipro_ruv.settings import Settings
from bipro_ruv.transfer.models import Shipment

__all__ = [
    "AuthenticationError",
    "BiproError",
    "ChecksumMismatchError",
    "Client",
    "ConfigurationError",
    "DocumentError",
    "HttpStatusError",
    "InsecureTransportError",
    "InsurerProfile",
    "LoginInfo",
    "MalformedXmlError",
    "Meldung",
    "MeldungArt",
    "MimeError",
    "PROFILES",
    "Password",
    "ProtocolError",
    "RequestTimeout",
    "RetryPolicy",
    "RetryableHttpError",
    "ServiceEndpoint",
    "ServiceError",
    "SessionExpiredError",
    "Settings",
    "Shipment",
    "SoapActionStyle",
    "Status",
    "Timeouts",
    "TransportError",
    "UnsafeArchiveError",
    "UnsafeXmlError",
    "__version__",
    "get_profile",
]
