"""Insurer profiles: everything that differs between BiPRO providers, as data.

A profile names each service's endpoint and ``BiPROVersion`` and the small protocol
choices that providers disagree on (SOAPAction style, optional request elements).
There are no per-insurer ``if`` branches in the service code: it reads the profile.

The R+V group endpoints are the public registry values (Smart InsurTech's
``companies.json`` as copied by third parties); R+V has not confirmed them. They are
marked ``verified=False`` until a live connection confirms them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import Field, field_validator

from bipro_ruv._wire.endpoints import ServiceEndpoint, SoapActionStyle, rebase_url
from bipro_ruv.deeplink import DEFAULT_PORTAL_LINKS, PortalLinks
from bipro_ruv.errors import ConfigurationError
from bipro_ruv.models import FrozenModel

__all__ = [
    "PROFILES",
    "InsurerProfile",
    "ServiceEndpoint",
    "SoapActionStyle",
    "TgicService",
    "get_profile",
]


class TgicService(FrozenModel):
    """The GDV's TGIC token service (ISTS) as an insurer uses it: where it is, and the
    insurer's TGIC service id that a SAML token is requested for (``wsp:AppliesTo``)."""

    ists_url: str = Field(..., description="The ISTS's WS-Trust 1.3 Issue endpoint")
    service_id: str = Field(
        ..., description="The insurer's TGIC service id, http://www.tgic.de/<VU>/prod/<service>/<version>"
    )

    def rebased(self, base_url: str) -> TgicService:
        return self.model_copy(update={"ists_url": rebase_url(self.ists_url, base_url)})


class InsurerProfile(FrozenModel):
    """Declarative description of one insurer's BiPRO services."""

    key: str = Field(..., description="Short name used by Client(profile=...)")
    name: str = Field(..., description="Legal name of the risk carrier")
    vu_number: str = Field(..., pattern=r"^\d{4,5}$", description="VU-Nummer (BaFin/GDV number)")
    sts: ServiceEndpoint = Field(..., description="Norm 410 Security Token Service")
    transfer: ServiceEndpoint = Field(..., description="Norm 430 TransferService")
    extranet: ServiceEndpoint | None = Field(None, description="Norm 440 ExtranetService (deep links)")
    sts_certificate: ServiceEndpoint | None = Field(
        None, description="Norm 410 STS port for the organisation certificate (mTLS, no UsernameToken)"
    )
    sts_ticket: ServiceEndpoint | None = Field(
        None, description="Norm 410 STS port VDGTicketLogin (wsse:BinarySecurityToken bipro:VDGTicket)"
    )
    tgic: TgicService | None = Field(None, description="The TGIC token service (SAML with mTAN)")
    soap_action_style: SoapActionStyle = SoapActionStyle.URN
    send_bestaetige_lieferungen: bool = Field(
        False,
        description="Send tran:BestaetigeLieferungen=false in listShipments (some providers require it, "
        "others reject it)",
    )
    consumer_id: str | None = Field(None, description="nachrichten:ConsumerID, if the provider wants one")
    sts_sends_bipro_version: bool = Field(False, description="Put BiPROVersion into the STS RST (optional)")
    default_token_lifetime_s: float = Field(
        600.0, gt=0, description="Assumed token lifetime when the STS sends no Lifetime/Expires"
    )
    portal: PortalLinks = Field(
        DEFAULT_PORTAL_LINKS,
        description="Offline deep-link templates (R+V's portal URL scheme is not public: an assumption)",
    )
    verified: bool = Field(False, description="Endpoints confirmed on a live connection")

    @field_validator("key")
    @classmethod
    def _lower_key(cls, value: str) -> str:
        return value.lower()

    def with_base_url(self, base_url: str) -> InsurerProfile:
        """Point every service of this profile at ``base_url``, keeping the paths."""
        update: dict[str, object] = {
            "sts": self.sts.rebased(base_url),
            "transfer": self.transfer.rebased(base_url),
        }
        for name in ("extranet", "sts_certificate", "sts_ticket", "tgic"):
            service = getattr(self, name)
            if service is not None:
                update[name] = service.rebased(base_url)
        return self.model_copy(update=update)


_RUV_HOST = "https://webservice.ruv.de/bipro"
_STS = ServiceEndpoint(url=f"{_RUV_HOST}/sts/2.4.0.1.0", bipro_version="2.4.0.1.0")
_EXTRANET = ServiceEndpoint(url=f"{_RUV_HOST}/ExtranetService/1.0.1.0", bipro_version="1.0.1.0")
# R+V names its certificate and VDG ticket STS ports nowhere in public; the paths are assumed from
# the port names other insurers use (X509Login, VDGTicketLogin) until a live connection shows them.
_STS_CERTIFICATE = ServiceEndpoint(url=f"{_RUV_HOST}/sts/X509Login/2.4.0.1.0", bipro_version="2.4.0.1.0")
_STS_TICKET = ServiceEndpoint(url=f"{_RUV_HOST}/sts/VDGTicketLogin/2.4.0.1.0", bipro_version="2.4.0.1.0")
# The ISTS is the GDV's (ists-v2.tgic.de); R+V's TGIC service id is not public: assumed in the
# form of the registry's ids (http://www.tgic.de/<VU>/prod/<service>/<version>); set
# BIPRO_RUV_TGIC_SERVICE_ID to the one R+V gives.
_TGIC = TgicService(
    ists_url="https://ists-v2.tgic.de/RST/Issue", service_id="http://www.tgic.de/RuV/prod/bipro/1.0"
)

PROFILES: Mapping[str, InsurerProfile] = MappingProxyType(
    {
        "ruv": InsurerProfile(
            key="ruv",
            name="R+V Allgemeine Versicherung AG",
            vu_number="5438",
            sts=_STS,
            transfer=ServiceEndpoint(url=f"{_RUV_HOST}/TransferService/2.6.2.1.0", bipro_version="2.6.2.1.0"),
            extranet=_EXTRANET,
            sts_certificate=_STS_CERTIFICATE,
            sts_ticket=_STS_TICKET,
            tgic=_TGIC,
        ),
        "kravag": InsurerProfile(
            key="kravag",
            name="KRAVAG-ALLGEMEINE Versicherungs-AG",
            vu_number="5058",
            sts=_STS,
            transfer=ServiceEndpoint(url=f"{_RUV_HOST}/TransferService/2.4.4.1.1", bipro_version="2.4.4.1.1"),
            extranet=_EXTRANET,
            sts_certificate=_STS_CERTIFICATE,
            sts_ticket=_STS_TICKET,
            tgic=_TGIC,
        ),
        "condor": InsurerProfile(
            key="condor",
            name="Condor Allgemeine Versicherungs-AG (merged into R+V Allgemeine, 2024)",
            vu_number="5339",
            sts=_STS,
            transfer=ServiceEndpoint(url=f"{_RUV_HOST}/TransferService/2.4.4.1.1", bipro_version="2.4.4.1.1"),
            extranet=_EXTRANET,
            sts_certificate=_STS_CERTIFICATE,
            sts_ticket=_STS_TICKET,
            tgic=_TGIC,
        ),
    }
)


def get_profile(profile: str | InsurerProfile) -> InsurerProfile:
    """Look a profile up by key (``ruv``, ``kravag``, ``condor``) or pass one through."""
    if isinstance(profile, InsurerProfile):
        return profile
    try:
        return PROFILES[profile.lower()]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ConfigurationError(f"unknown insurer profile {profile!r}; known: {known}") from None
