"""The sandbox's ExtranetService (BiPRO Norm 440, release 1): getLinks, the deep links into the Maklerportal.

A ``Vertragsuche`` by Versicherungsscheinnummer gets the link to the contract's page when the number is a
known 11-digit one (separators and a 3-digit Filialdirektion prefix allowed), else to the search mask. A
``Partnersuche`` (customer number, name, address; wildcards ``*`` and ``?``) gets the search mask plus one
link per contract of every matching customer of the seeded book. The pages themselves are
:mod:`~bipro_ruv.sandbox.services.portal`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from bipro_ruv.sandbox.services.soap import (
    Reply,
    RequestError,
    SoapRequest,
    find_text,
    links_response,
    q,
    serialize,
    sub,
)

if TYPE_CHECKING:
    from bipro_ruv.sandbox.content.contracts import SandboxContract

__all__ = ["PARTNER_FIELDS", "contract_digits", "get_links", "portal_url"]

PARTNER_FIELDS = ("PartnernummerVu", "Name", "Vorname", "Strasse", "Postleitzahl", "Ort")


def contract_digits(value: str) -> str | None:
    """The digits of a contract number with separators (space . / -) removed; None if anything else."""
    cleaned = "".join(ch for ch in value if ch not in " ./-")
    return cleaned if cleaned.isdigit() and cleaned.isascii() else None


def portal_url(base_url: str, known_vsnrs: Callable[[], frozenset[str]], vsnr: str) -> str:
    """The deep link getLinks returns for a contract number: its page, or the search mask."""
    digits = contract_digits(vsnr) or ""
    if len(digits) == 14:
        digits = digits[3:]  # 3-digit Filialdirektion before AG + VSNR
    if len(digits) == 11 and digits in known_vsnrs():
        return f"{base_url}/portal/vertrag?{urlencode({'vsnr': digits})}"
    return f"{base_url}/portal/suche?{urlencode({'vsnr': vsnr})}"


def _partner_contracts(contracts: Sequence[SandboxContract], criteria: dict[str, str]) -> list[str]:
    """Contracts of the customers matching every criterion (wildcards * and ?, as in the portal)."""
    found: list[str] = []
    for contract in contracts:
        customer = contract.customer
        values = {
            "PartnernummerVu": customer.customer_number,
            "Name": customer.last_name,
            "Vorname": customer.first_name,
            "Strasse": customer.street,
            "Postleitzahl": customer.postcode,
            "Ort": customer.city,
        }
        if contract.vsnr not in found and all(
            fnmatch.fnmatchcase(values[name].casefold(), pattern.casefold())
            for name, pattern in criteria.items()
        ):
            found.append(contract.vsnr)
    return found


def get_links(
    version: str,
    request: SoapRequest,
    *,
    base_url: str,
    known_vsnrs: Callable[[], frozenset[str]],
    contracts: Sequence[SandboxContract],
) -> Reply:
    """The links for one ``Extranetsuche``: a Vertragsuche or a Partnersuche, not both."""
    payload = request.element.find(q("nam", "Request"))
    if payload is None:
        raise RequestError("00931", "Request fehlt")
    sent = payload.get("Version", "")
    if sent != version:
        raise RequestError("00931", f"Version {sent or '(fehlt)'} ungültig, erwartet {version}")
    search = payload.find(q("nam", "Extranetsuche"))
    contract = search.find(q("nam", "Vertragsuche")) if search is not None else None
    partner = search.find(q("nam", "Partnersuche")) if search is not None else None
    links: list[tuple[str, str, str]] = []
    if contract is not None and partner is None:
        vsnr = find_text(contract, q("nam", "Versicherungsscheinnummer"))
        if vsnr and contract_digits(vsnr) is not None:
            url = portal_url(base_url, known_vsnrs, vsnr)
            target = "Vertrag" if "/portal/vertrag" in url else "Suche"
            links.append((url, target, f"Vertrag {vsnr} im Maklerportal"))
    elif partner is not None and contract is None:
        criteria = {
            name: find_text(partner, q("nam", name))
            for name in PARTNER_FIELDS
            if find_text(partner, q("nam", name))
        }
        if criteria:
            url = f"{base_url}/portal/suche?{urlencode(criteria)}"
            links.append((url, "Suche", "Kundensuche im Maklerportal"))
            for vsnr in _partner_contracts(contracts, criteria):
                url = portal_url(base_url, known_vsnrs, vsnr)
                links.append((url, "Vertrag", f"Vertrag {vsnr} im Maklerportal"))
    if not links:
        env, _ = links_response("00001", ("Fehler", "00001", "Suchkriterien unvollständig oder ungültig"))
        return Reply(200, serialize(env))
    env, response = links_response("00000", (None, "03000", "Links bereitgestellt"))
    container = sub(response, q("nam", "Links"))
    for url, target, description in links:
        link = sub(container, q("nam", "Link"))
        sub(link, q("nam", "URL"), url)
        sub(link, q("nam", "ZielID"), target)
        sub(link, q("nam", "Beschreibung"), description)
    return Reply(200, serialize(env))
