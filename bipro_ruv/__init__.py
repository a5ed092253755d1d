"""bipro-ruv: BiPRO client for the R+V insurance group.

Log in (Norm 410), fetch documents (Norm 430), jump to contracts (Norm 440), and get
clean, contract-keyed Python objects. Start with :class:`Client`; the built-in
sandbox is :class:`bipro_ruv.sandbox.Sandbox`.
"""

import logging

from bipro_ruv._redact import install_redaction as _install_redaction
from bipro_ruv._version import __version__
from bipro_ruv._wire.endpoints import ServiceEndpoint, SoapActionStyle
from bipro_ruv._wire.policy import ReplyLimits, RetryPolicy, Timeouts
from bipro_ruv.arbeitsgebiete import ARBEITSGEBIETE, Arbeitsgebiet, get_arbeitsgebiet
from bipro_ruv.auth import (
    Credentials,
    MtanChallenge,
    OrganisationCertificate,
    Password,
    TgicPerson,
    UsernamePassword,
    VdgTicket,
)
from bipro_ruv.client import Client, LoginInfo
from bipro_ruv.contracts import ContractEntry, ContractIndex
from bipro_ruv.datapackages.condor import (
    CondorMigration,
    MigrationList,
    MigrationRowError,
    parse_migration_list,
    read_migration_list,
)
from bipro_ruv.deeplink import DEFAULT_PORTAL_LINKS, DeepLink, DeepLinkKind, PortalLinks, deep_link
from bipro_ruv.errors import (
    AccountLockedError,
    AmbiguousDocumentError,
    AuthenticationError,
    BiproError,
    CertificateError,
    ChecksumMismatchError,
    ConfigurationError,
    CsvFormatError,
    DataPackageError,
    DocumentError,
    FetchInterrupted,
    GdvFormatError,
    HttpStatusError,
    InsecureTransportError,
    Interrupted,
    InvalidVsnr,
    JournalError,
    MalformedXmlError,
    MimeError,
    NetworkError,
    OtpExpiredError,
    OtpRequiredError,
    PasswordExpiredError,
    PasswordRejectedEarlierError,
    ProtocolError,
    RedirectRefusedError,
    ReplyDeadlineExceeded,
    ReplyTooLargeError,
    RequestTimeout,
    RetryableHttpError,
    ServiceError,
    SessionExpiredError,
    StorageError,
    TicketRejectedError,
    TransportError,
    UnsafeArchiveError,
    UnsafeXmlError,
    WrongOtpError,
    WrongPasswordError,
    WrongShipmentError,
)
from bipro_ruv.extranet import DeepLinkSource, ExtranetService, Link, PartnerQuery, ResolvedDeepLink
from bipro_ruv.migration import VsnrMatch, VsnrTranslator
from bipro_ruv.models import Message, MessageKind, Status
from bipro_ruv.profiles import PROFILES, InsurerProfile, get_profile
from bipro_ruv.settings import Settings
from bipro_ruv.store import Account, DocumentStore, SqliteStore
from bipro_ruv.transfer.handoff import Handoff
from bipro_ruv.transfer.models import (
    Document,
    FetchEvent,
    FetchEventKind,
    FetchReport,
    Outcome,
    Shipment,
    ShipmentResult,
)
from bipro_ruv.transfer.service import TransferService
from bipro_ruv.vsnr import Vsnr, VsnrKind

__all__ = [
    "ARBEITSGEBIETE",
    "Account",
    "AccountLockedError",
    "AmbiguousDocumentError",
    "Arbeitsgebiet",
    "AuthenticationError",
    "BiproError",
    "CertificateError",
    "ChecksumMismatchError",
    "Client",
    "CondorMigration",
    "ConfigurationError",
    "ContractEntry",
    "ContractIndex",
    "Credentials",
    "CsvFormatError",
    "DEFAULT_PORTAL_LINKS",
    "DataPackageError",
    "DeepLink",
    "DeepLinkKind",
    "DeepLinkSource",
    "Document",
    "DocumentError",
    "DocumentStore",
    "ExtranetService",
    "FetchEvent",
    "FetchEventKind",
    "FetchInterrupted",
    "FetchReport",
    "GdvFormatError",
    "Handoff",
    "HttpStatusError",
    "InsecureTransportError",
    "InsurerProfile",
    "Interrupted",
    "InvalidVsnr",
    "JournalError",
    "Link",
    "LoginInfo",
    "MalformedXmlError",
    "Message",
    "MessageKind",
    "MigrationList",
    "MigrationRowError",
    "MimeError",
    "MtanChallenge",
    "NetworkError",
    "OrganisationCertificate",
    "OtpExpiredError",
    "OtpRequiredError",
    "Outcome",
    "PROFILES",
    "PartnerQuery",
    "Password",
    "PasswordExpiredError",
    "PasswordRejectedEarlierError",
    "PortalLinks",
    "ProtocolError",
    "RedirectRefusedError",
    "ReplyDeadlineExceeded",
    "ReplyLimits",
    "ReplyTooLargeError",
    "RequestTimeout",
    "ResolvedDeepLink",
    "RetryPolicy",
    "RetryableHttpError",
    "ServiceEndpoint",
    "ServiceError",
    "SessionExpiredError",
    "Settings",
    "Shipment",
    "ShipmentResult",
    "SoapActionStyle",
    "SqliteStore",
    "Status",
    "StorageError",
    "TgicPerson",
    "TicketRejectedError",
    "Timeouts",
    "TransferService",
    "TransportError",
    "UnsafeArchiveError",
    "UnsafeXmlError",
    "UsernamePassword",
    "VdgTicket",
    "Vsnr",
    "VsnrKind",
    "VsnrMatch",
    "VsnrTranslator",
    "WrongOtpError",
    "WrongPasswordError",
    "WrongShipmentError",
    "__version__",
    "deep_link",
    "get_arbeitsgebiet",
    "get_profile",
    "parse_migration_list",
    "read_migration_list",
]

# A library never configures logging; this only silences "no handler" fallbacks.
logging.getLogger("bipro_ruv").addHandler(logging.NullHandler())
# Every record of bipro_ruv.*, zeep, urllib3 and requests is masked from here on.
_install_redaction()
