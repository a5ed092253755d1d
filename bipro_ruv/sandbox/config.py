"""What a sandbox is told: its configuration and the faults a test plans.

:class:`SandboxConfig` sets the account, the token lifetime, the mailbox, MTOM or inline, TLS (optionally
requiring a client certificate: the organisation certificate login), the TGIC person login (user, password,
mTAN and SAML lifetimes) and the port.
:class:`FaultKind` imitates broken and hostile BiPRO servers: the Norm 410/430/440 services answering with
HTTP errors, SOAP Faults with a ``BiproException`` (Norm 250), NOK statuses, malformed or hostile XML, broken
MTOM/XOP framing, cut or dripping bodies; :class:`FaultRule` plans one for some requests, and
:mod:`bipro_ruv.sandbox.server.faults` writes its reply. Nothing in this module touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bipro_ruv.models import FrozenModel
from bipro_ruv.profiles import PROFILES

__all__ = ["OPERATIONS", "SANDBOX_HOST", "FaultKind", "FaultRule", "SandboxConfig"]

SANDBOX_HOST = "127.0.0.1"

#: The SOAP operations a FaultRule can name: Norm 410/430/440 by their element names, and the two steps
#: of the TGIC ISTS (WS-Trust 1.3 RequestSecurityToken, WS-Trust 1.4 challenge answer).
OPERATIONS = (
    "RequestSecurityToken",
    "listShipments",
    "getShipment",
    "acknowledgeShipment",
    "getLinks",
    "IstsIssue",
    "IstsChallengeResponse",
)


class FaultKind(str, Enum):
    """What an injected fault makes the sandbox answer instead of the real reply."""

    HTTP_429 = "http_429"
    HTTP_503 = "http_503"
    SOAP_FAULT = "soap_fault"
    NOK = "nok"
    INVALID_SESSION = "invalid_session"
    MALFORMED_XML = "malformed_xml"
    XXE = "xxe"
    ENTITY_BOMB = "entity_bomb"
    HTML_ERROR = "html_error"
    EMPTY_BODY = "empty_body"
    TRUNCATED_MULTIPART = "truncated_multipart"
    SLOW = "slow"
    # Hostile and broken servers (issue 9)
    REDIRECT = "redirect"  # 307 to FaultRule.location (default: plain http on another host)
    SLOW_DRIP = "slow_drip"  # the real reply, one byte every FaultRule.delay seconds
    GZIP_BOMB = "gzip_bomb"  # Content-Encoding: gzip, a tiny body that inflates to gigabytes
    WRONG_SHIPMENT_ID = "wrong_shipment_id"  # getShipment answers with another Lieferung ID
    SHARED_CID = "shared_cid"  # two Datei point at one MTOM attachment
    MISSING_CLOSING_DELIMITER = "missing_closing_delimiter"  # complete body, no "--boundary--"
    TRUNCATED_BODY = "truncated_body"  # Content-Length announced, connection closed half-way
    CONNECTION_RESET = "connection_reset"  # the connection is closed without any reply
    QUOTE_SECRETS = "quote_secrets"  # a SOAP Fault whose texts quote the token and password


#: The ``FaultRule.variant`` values a fault kind knows.
_VARIANTS: dict[FaultKind, tuple[str, ...]] = {FaultKind.MISSING_CLOSING_DELIMITER: ("other_boundary",)}


@dataclass
class FaultRule:
    """One planned fault.

    ``operation`` None matches every SOAP operation; ``times`` is how many matching
    requests get the fault. ``retry_after`` (seconds) fills the Retry-After header of
    HTTP_429/HTTP_503 (omitted when None; fractional values are sent as written, which
    is non-standard but keeps tests fast). ``delay`` is the wait of SLOW.
    ``http_status`` picks the HTML_ERROR variant: 502 (default) or 200 with text/html,
    and the REDIRECT status (307 by default). ``location`` is the REDIRECT target.
    ``variant`` picks how MISSING_CLOSING_DELIMITER ends its getShipment reply (made
    MTOM; other operations answer as usual): None, the body just ends after the last
    part; ``"other_boundary"``, it ends with the closing delimiter of another boundary.
    """

    kind: FaultKind
    operation: str | None = None
    times: int = 1
    retry_after: float | None = None
    delay: float = 0
    http_status: int | None = None
    location: str | None = None
    variant: str | None = None

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)
        if self.operation is not None and self.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {self.operation!r}; known: {', '.join(OPERATIONS)}")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("delay and retry_after must not be negative")
        if self.variant is not None and self.variant not in _VARIANTS.get(self.kind, ()):
            known = ", ".join(_VARIANTS.get(self.kind, ())) or "none"
            raise ValueError(f"{self.kind.value} has no variant {self.variant!r}; known: {known}")


class SandboxConfig(FrozenModel):
    """How a :class:`~bipro_ruv.sandbox.Sandbox` behaves.

    The credentials are fixed, public sandbox-only values: they open nothing but this
    local test server.
    """

    username: str = Field("rom4711", min_length=1, description="Sandbox-only user id (R+V style 'rom...')")
    password: str = Field("Sandbox-Passwort-1", min_length=1, repr=False, description="Sandbox-only password")
    token_lifetime_s: float = Field(600.0, ge=0, description="Lifetime of an issued SecurityContextToken")
    lifetime_style: Literal["utc", "naive", "offset", "dotnet", "absent"] = Field(
        "utc",
        description="How wst:Lifetime is written: Z, no zone (meaning UTC), +01:00,"
        " Z after 7 fractional digits (.NET), or left out",
    )
    mtom: bool = Field(True, description="getShipment as MTOM/XOP multipart; False = inline base64")
    lockout_after: int = Field(3, ge=1, description="Wrong passwords after which the user is locked (00964)")
    password_expired: bool = Field(False, description="The right password is refused as expired (00966)")
    tls: bool = Field(False, description="Serve https with a self-signed certificate (see Sandbox.ca_file)")
    client_certificates: bool = Field(
        False,
        description="With tls: require a client certificate of the sandbox's client CA (organisation"
        " certificate login; see Sandbox.issue_client_certificate)",
    )
    tgic_username: str = Field("TGIC-4711-0815", min_length=1, description="Sandbox-only TGIC user (ISTS)")
    tgic_password: str | None = Field(
        None, min_length=1, repr=False, description="Sandbox-only TGIC password; None: the sandbox password"
    )
    tgic_service_id: str | None = Field(
        None, min_length=1, description="The wsp:AppliesTo the ISTS accepts; None: the R+V profile's"
    )
    mtan_lifetime_s: float = Field(300.0, ge=0, description="How long an ISTS mTAN challenge can be answered")
    saml_lifetime_s: float = Field(3600.0, ge=0, description="Lifetime of an issued SAML assertion")
    mailbox: Literal["default", "empty"] = Field("default", description="Seed the realistic default mailbox")
    bulk_shipments: int = Field(0, ge=0, description="Additional small one-PDF shipments (benchmarks)")
    today: date | None = Field(
        None, description="Date the mailbox is seeded for (default: today); pins it in tests"
    )
    hostile: bool = Field(False, description="Add the hostile shipments (traversal names, zip bombs, ...)")
    large_document_bytes: int | None = Field(
        None, ge=1, description="Add one shipment with a document this big"
    )
    port: int = Field(0, ge=0, le=65535, description="TCP port; 0 picks a free one")
    host: str = Field(SANDBOX_HOST, description="Always 127.0.0.1: the sandbox never listens elsewhere")
    verbose: bool = Field(
        False, description="Log request lines to stderr (never bodies, passwords or tokens)"
    )

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value != SANDBOX_HOST:
            raise ValueError(f"the sandbox only listens on {SANDBOX_HOST}, not {value!r}")
        return value

    @model_validator(mode="after")
    def _client_certificates_need_tls(self) -> SandboxConfig:
        if self.client_certificates and not self.tls:
            raise ValueError("client_certificates=True needs tls=True (a client certificate is a TLS matter)")
        return self

    @property
    def tgic_secret(self) -> str:
        """The TGIC password the ISTS accepts: ``tgic_password``, else the sandbox password."""
        return self.tgic_password if self.tgic_password is not None else self.password

    @property
    def tgic_applies_to(self) -> str:
        """The TGIC service id the ISTS issues tokens for: ``tgic_service_id``, else the R+V profile's."""
        if self.tgic_service_id is not None:
            return self.tgic_service_id
        tgic = PROFILES["ruv"].tgic
        assert tgic is not None  # the R+V profile names its TGIC service
        return tgic.service_id
