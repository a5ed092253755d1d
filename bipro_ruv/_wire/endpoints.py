"""Endpoint plumbing: which BiPRO service, at which URL, in which version, with which SOAPAction.

The data of an insurer profile that the wire needs (:class:`ServiceEndpoint`,
:class:`SoapActionStyle`) and the kinds of service bipro-ruv speaks with the WSDL
binding of each. The profiles themselves (:mod:`bipro_ruv.profiles`, with deep-link
templates) sit above.
"""

from __future__ import annotations

from enum import Enum
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from bipro_ruv.errors import ConfigurationError
from bipro_ruv.models import FrozenModel

__all__ = ["WSDL_BINDINGS", "ServiceEndpoint", "ServiceKind", "SoapActionStyle"]

_VERSION_PATTERN = r"^\d{1,3}(\.\d{1,3}){3,4}$"


class SoapActionStyle(str, Enum):
    """How the HTTP ``SOAPAction`` header is filled.

    BiPRO WSDLs use ``urn:<operation>``; some providers only accept an empty value.
    """

    URN = "urn"
    EMPTY = "empty"

    def header_value(self, operation: str) -> str:
        return f'"urn:{operation}"' if self is SoapActionStyle.URN else '""'


class ServiceEndpoint(FrozenModel):
    """One BiPRO service of an insurer."""

    url: str = Field(..., description="Endpoint URL (https)")
    bipro_version: str = Field(..., pattern=_VERSION_PATTERN, description="BiPROVersion (ST_Version)")

    def rebased(self, base_url: str) -> ServiceEndpoint:
        """The same service path on another host (sandbox, test system)."""
        return self.model_copy(update={"url": rebase_url(self.url, base_url)})


def rebase_url(url: str, base_url: str) -> str:
    """``url``'s path (and query) on the host of ``base_url``, under its path."""
    base = urlsplit(base_url)
    if not base.scheme or not base.netloc:
        raise ConfigurationError(f"base_url must be an absolute URL, got {base_url!r}")
    own = urlsplit(url)
    path = base.path.rstrip("/") + own.path
    return urlunsplit((base.scheme, base.netloc, path, own.query, ""))


class ServiceKind(str, Enum):
    """The BiPRO services bipro-ruv speaks: Norm 410 STS, Norm 430 Transfer, Norm 440 Extranet."""

    STS = "sts"
    TRANSFER = "transfer"
    EXTRANET = "extranet"


#: The bundled WSDL (in ``wsdl/``) and the binding of each service kind. A new service adds
#: its kind and its line here.
WSDL_BINDINGS: dict[ServiceKind, tuple[str, str]] = {
    ServiceKind.STS: ("sts.wsdl", "{urn:bipro-ruv:wsdl:sts}SecurityTokenServiceBinding"),
    ServiceKind.TRANSFER: ("transfer.wsdl", "{urn:bipro-ruv:wsdl:transfer}TransferServiceBinding"),
    ServiceKind.EXTRANET: ("extranet.wsdl", "{urn:bipro-ruv:wsdl:extranet}ExtranetServiceBinding"),
}
