"""BiPRO Norm 440 ExtranetService (release 1.0.1.0): ``getLinks``, the online deep link.

Release-1 style, everything in the root namespace ``http://www.bipro.net/namespace``,
the version as an attribute::

    getLinks/Request[@Version="1.0.1.0"]/Extranetsuche/
        ( Vertragsuche/Versicherungsscheinnummer
        | Partnersuche/{PartnernummerVu, Name, Vorname, Strasse, Postleitzahl, Ort} )

    getLinksResponse/Response[@Version]/{Status{StatusID 00000, Meldung{MeldungID 03000, Text}},
                                         Links/Link*{URL, ZielID, Beschreibung}}

The StatusID is numeric (release 1): ``00000`` is success (:attr:`Status.ok`); anything
else raises through :func:`bipro_ruv._wire.soap.error_for_status`.

How a URL carries the broker's session (one-time token, signed parameters) is the
insurer's secret, so a URL from ``getLinks`` is treated as a credential: it is never
logged, and reprs show it with query and fragment masked (``.url`` stays intact, to be
opened in the broker's browser). Norm 440 publishes no code list for ``ZielID``; it is
kept as sent.

This module holds the models, the request builders and the pure reply parser; the call
itself is :meth:`bipro_ruv.Client.get_links`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from enum import Enum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lxml import etree
from pydantic import ConfigDict, Field, field_validator, model_validator

from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.soap import check_status
from bipro_ruv._wire.xml import child, child_text, children
from bipro_ruv.auth.connection import Connection
from bipro_ruv.deeplink import DeepLink
from bipro_ruv.deeplink import deep_link as offline_deep_link
from bipro_ruv.errors import ProtocolError
from bipro_ruv.models import FrozenModel, Status
from bipro_ruv.vsnr import Vsnr

__all__ = [
    "DeepLinkSource",
    "ExtranetService",
    "Link",
    "PartnerQuery",
    "ResolvedDeepLink",
    "contract_search",
    "links_request",
    "mask_url",
    "parse_links_reply",
    "partner_search",
]

log = logging.getLogger("bipro_ruv.extranet")

_SCHEMES = frozenset({"https", "http"})
_MASK = "***"


def mask_url(url: str) -> str:
    """``url`` with user info, query and fragment replaced by ``***`` (for reprs and messages)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{_MASK}@{host}" if "@" in parts.netloc else host
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            _MASK if parts.query else "",
            _MASK if parts.fragment else "",
        )
    )


def _check_url(url: str) -> str:
    # The URL is opened in a browser: only absolute web URLs, never javascript:, file: or data:.
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {mask_url(url)!r}")
    return url


class Link(FrozenModel):
    """One ``Link`` of a ``getLinks`` answer."""

    # A rejected URL may still carry a token: keep it out of validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(..., description="URL: open it in the broker's browser; may carry a session token")
    target: str | None = Field(None, description="ZielID (provider-specific, no public code list)")
    description: str | None = Field(None, description="Beschreibung")

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        return _check_url(value)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name == "url" else value


class PartnerQuery(FrozenModel):
    """A ``Partnersuche``: at least one criterion; the insurer decides how they match."""

    partner_number: str | None = Field(None, description="PartnernummerVu: the insurer's customer number")
    last_name: str | None = Field(None, description="Name (surname or company name)")
    first_name: str | None = Field(None, description="Vorname")
    street: str | None = Field(None, description="Strasse")
    postcode: str | None = Field(None, description="Postleitzahl")
    city: str | None = Field(None, description="Ort")

    @field_validator("*")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @model_validator(mode="after")
    def _at_least_one(self) -> PartnerQuery:
        if not any(self.model_dump().values()):
            raise ValueError("a partner search needs at least one criterion")
        return self


# Our field -> the Norm 440 element; zeep orders them as the schema does.
_PARTNER_ELEMENTS = {
    "partner_number": "PartnernummerVu",
    "last_name": "Name",
    "first_name": "Vorname",
    "street": "Strasse",
    "postcode": "Postleitzahl",
    "city": "Ort",
}


def contract_search(vsnr: str | Vsnr) -> dict[str, Any]:
    """``Extranetsuche/Vertragsuche`` for ``vsnr``, sent in its canonical form.

    The Filialdirektion is left out (R+V's service reads the number without it; the
    Arbeitsgebiet and number name the contract). A number without Arbeitsgebiet is sent
    as it is: R+V's deep link service answers it with the portal's search mask.
    """
    return {"Vertragsuche": {"Versicherungsscheinnummer": str(Vsnr(vsnr))}}


def partner_search(query: PartnerQuery) -> dict[str, Any]:
    """``Extranetsuche/Partnersuche`` with the criteria that are set."""
    values = query.model_dump()
    criteria = {element: values[field] for field, element in _PARTNER_ELEMENTS.items() if values[field]}
    return {"Partnersuche": criteria}


def links_request(version: str, search: dict[str, Any]) -> dict[str, Any]:
    """The ``Request`` of ``getLinks``: release 1 puts the version into an attribute."""
    return {"Version": version, "Extranetsuche": search}


def parse_links_reply(payload: etree._Element) -> tuple[list[Link], Status]:
    """``getLinksResponse`` -> its links and status; raises for a non-ok status.

    A ``Link`` without a usable absolute http(s) URL is the peer's protocol error. Links
    are read from ``Links/Link`` and, tolerantly, from ``Link`` directly under
    ``Response``.
    """
    response = child(payload, "Response")
    if response is None:
        raise ProtocolError("getLinks: reply without Response element")
    status = check_status(response, "getLinks")
    container = child(response, "Links")
    elements = [*(children(container, "Link") if container is not None else ()), *children(response, "Link")]
    links = []
    for position, element in enumerate(elements, start=1):
        url = child_text(element, "URL")
        if url is None:
            raise ProtocolError(f"getLinks: Link {position} has no URL")
        try:
            _check_url(url)
        except ValueError as exc:
            raise ProtocolError(f"getLinks: Link {position}: {exc}") from exc
        target, description = child_text(element, "ZielID"), child_text(element, "Beschreibung")
        links.append(Link(url=url, target=target, description=description))
    return links, status


class DeepLinkSource(str, Enum):
    """Where :meth:`bipro_ruv.Client.deep_link` got its URL."""

    OFFLINE = "offline"
    """The profile's URL templates (R+V's scheme is not public: an assumption)."""
    GET_LINKS = "getLinks"
    """The insurer's Norm 440 ``getLinks`` answer."""


class ResolvedDeepLink(DeepLink):
    """A :class:`~bipro_ruv.deeplink.DeepLink` as the client resolved it, offline or online.

    ``kind`` is the R+V rule the number falls under (complete -> contract page, without
    Arbeitsgebiet -> search mask); online, the insurer decides where its URL leads, and
    ``target``/``description`` say what it answered. A ``getLinks`` URL is masked in reprs.
    """

    source: DeepLinkSource = Field(..., description="Offline templates or the getLinks answer")
    target: str | None = Field(None, description="ZielID of the getLinks link")
    description: str | None = Field(None, description="Beschreibung of the getLinks link")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        online = self.source is DeepLinkSource.GET_LINKS
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if online and name == "url" else value


class ExtranetService:
    """BiPRO Norm 440 (ExtranetService) and R+V's deep-link rules: ``client.extranet``."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_links(self, *, vsnr: str | Vsnr | None = None, partner: PartnerQuery | None = None) -> list[Link]:
        """Portal links from ``getLinks``: for one contract (``vsnr``) or a partner search.

        Pass exactly one of ``vsnr`` and ``partner``. The URLs may carry a one-time
        session token: open them in the broker's browser, do not store or log them. A
        number that is no VSNR raises :class:`~bipro_ruv.errors.InvalidVsnr` before
        anything is sent; a non-ok status raises :class:`~bipro_ruv.errors.ServiceError`.
        """
        if vsnr is not None and partner is None:
            search = contract_search(vsnr)
        elif partner is not None and vsnr is None:
            search = partner_search(partner)
        else:
            raise TypeError("get_links() takes exactly one of vsnr= and partner=")
        version = self._connection.endpoint(ServiceKind.EXTRANET).endpoint.bipro_version
        payload = self._connection.call(
            ServiceKind.EXTRANET, "getLinks", idempotent=True, Request=links_request(version, search)
        )
        links, _status = parse_links_reply(payload)
        # Never the URLs themselves: they may be one-time credentials.
        log.debug("getLinks: %d link(s)", len(links))
        return links

    def deep_link(self, vsnr: str | Vsnr, *, online: bool = False) -> ResolvedDeepLink:
        """The portal link for ``vsnr`` following R+V's rules (see :mod:`bipro_ruv.deeplink`).

        ``kind`` is the rule: a complete number (with or without Filialdirektion) leads to
        the contract page, a number without Arbeitsgebiet to the search mask with the
        number prefilled. Offline (the default) the URL comes from the profile's templates
        and nothing is sent. ``online=True`` asks ``getLinks`` with the canonical number
        (the Arbeitsgebiet kept, the Filialdirektion dropped) and takes the first link of
        the answer; R+V's service itself opens the search mask for a number without
        Arbeitsgebiet. When ``getLinks`` answers OK but without a link, the offline
        template is used (``source`` says so, and a warning is logged); an error status
        raises. An invalid number raises :class:`~bipro_ruv.errors.InvalidVsnr` either way.
        """
        offline = offline_deep_link(vsnr, self._connection.profile.portal)
        links = self.get_links(vsnr=offline.vsnr) if online else []
        if online and not links:
            log.warning("getLinks answered without a link; using the offline %s template", offline.kind.value)
        if not links:
            return ResolvedDeepLink(
                url=offline.url, kind=offline.kind, vsnr=offline.vsnr, source=DeepLinkSource.OFFLINE
            )
        first = links[0]
        return ResolvedDeepLink(
            url=first.url,
            kind=offline.kind,
            vsnr=offline.vsnr,
            source=DeepLinkSource.GET_LINKS,
            target=first.target,
            description=first.description,
        )
