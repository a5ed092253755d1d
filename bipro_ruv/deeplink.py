"""Offline deep links into R+V's Maklerportal ("Direktsprung in unser Maklerportal").

R+V's rules for its Deep Link-Service ("Erfassung der Versicherungsscheinnummer"):

* Arbeitsgebiet + nine-digit VSNR: straight to the contract.
* "Haben Sie das Arbeitsgebiet weggelassen, werden Sie ... zunächst auf unsere Suchmaske
  im Portal geleitet": without Arbeitsgebiet, the portal's search mask, where the broker
  can also search by other criteria such as the Kfz-Kennzeichen.
* With the three-digit Filialdirektion in front (with or without separators) the service
  "interpretiert dies ... richtig": still the contract page. Arbeitsgebiet and number
  already name the contract, so the default templates drop the branch; a template may
  use ``{branch}`` (empty when absent).

Old Condor numbers (``70/850632``) were replaced on migration and have no Arbeitsgebiet,
so they lead to the search mask too.

R+V's real deep link runs through BiPRO Norm 440 ``getLinks`` and its portal URL scheme is
not public. This module is the offline variant: pure functions over URL templates
(:class:`PortalLinks`), with no network code. The Norm 440 call lives elsewhere.
"""

from __future__ import annotations

import string
from enum import Enum
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator

from bipro_ruv.models import FrozenModel
from bipro_ruv.vsnr import Vsnr

__all__ = ["DEFAULT_PORTAL_LINKS", "DeepLink", "DeepLinkKind", "PortalLinks", "deep_link"]

_PLACEHOLDERS = frozenset({"vsnr", "business_area", "number", "branch"})
# Placeholders renamed in 0.x, named in the error so an old profile is fixed in one step.
_RENAMED = {"line_of_business": "business_area"}
_IDENTIFYING = frozenset({"vsnr", "number"})
_SCHEMES = frozenset({"https", "http"})


def _render(template: str, values: dict[str, str]) -> str:
    return template.format_map({name: quote(value, safe="") for name, value in values.items()})


class DeepLinkKind(str, Enum):
    """Where a deep link leads."""

    CONTRACT = "contract"
    SEARCH = "search"


class PortalLinks(FrozenModel):
    """URL templates for the portal's contract page and search mask.

    Placeholders: ``{vsnr}`` (canonical number: ``32123456789``, ``123456789`` or
    ``70/850632``), ``{business_area}`` (the Arbeitsgebiet), ``{number}`` (nine digits;
    six for an old Condor number) and ``{branch}`` (the Filialdirektion); absent parts are
    empty. Every value is URL-quoted, ``/`` included. Templates are checked on creation:
    only these placeholders, no format specs, an absolute http(s) URL, and at least
    ``{vsnr}`` or ``{number}``. (``{line_of_business}`` of earlier releases is refused with a
    hint: the name now means the GDV Sparte.)
    """

    contract_url: str = Field(..., description="Template for a complete number (Arbeitsgebiet + number)")
    search_url: str = Field(..., description="Template for the search mask, number prefilled")

    @field_validator("contract_url", "search_url")
    @classmethod
    def _check_template(cls, template: str) -> str:
        fields: set[str] = set()
        for _literal, name, spec, conversion in string.Formatter().parse(template):
            if name is None:
                continue
            if name in _RENAMED:
                new = _RENAMED[name]
                raise ValueError(f"placeholder {{{name}}} is now called {{{new}}} (the Arbeitsgebiet)")
            if name not in _PLACEHOLDERS:
                names = ", ".join(f"{{{known}}}" for known in sorted(_PLACEHOLDERS))
                raise ValueError(f"unknown placeholder {{{name}}}; known are {names}")
            if spec or conversion:
                raise ValueError(f"placeholder {{{name}}} must not carry a format spec or conversion")
            fields.add(name)
        if not fields & _IDENTIFYING:
            raise ValueError("the template must contain {vsnr} or {number}")
        url = urlsplit(_render(template, dict.fromkeys(fields, "x")))
        if url.scheme not in _SCHEMES or not url.netloc:
            raise ValueError(f"the template must be an absolute http or https URL, got {template!r}")
        return template


DEFAULT_PORTAL_LINKS = PortalLinks(
    contract_url="https://online.ruv.de/makler/vertrag?vsnr={vsnr}",
    search_url="https://online.ruv.de/makler/suche?vsnr={vsnr}",
)
"""ASSUMED templates: the host ``online.ruv.de/makler`` is R+V's portal, but the paths and
the ``vsnr`` parameter are our guess; R+V has not published its URL scheme. Replace them
with the URLs a Norm 440 ``getLinks`` answer shows. The search template uses ``{vsnr}``,
not ``{number}``, so an old Condor number is searched as a whole (``70/850632``)."""


class DeepLink(FrozenModel):
    """A portal URL for one VSNR."""

    url: str
    kind: DeepLinkKind
    vsnr: Vsnr


def deep_link(vsnr: str | Vsnr, links: PortalLinks = DEFAULT_PORTAL_LINKS) -> DeepLink:
    """The portal link for ``vsnr`` following R+V's rules (module docstring).

    Raises :class:`bipro_ruv.vsnr.InvalidVsnr` when ``vsnr`` is not a VSNR.
    """
    number = Vsnr(vsnr)
    kind = DeepLinkKind.CONTRACT if number.is_complete else DeepLinkKind.SEARCH
    template = links.contract_url if kind is DeepLinkKind.CONTRACT else links.search_url
    values = {
        "vsnr": str(number),
        "business_area": number.business_area or "",
        "number": number.number,
        "branch": number.branch or "",
    }
    return DeepLink(url=_render(template, values), kind=kind, vsnr=number)
