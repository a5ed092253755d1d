"""Specification of the offline deep link (R+V's rules from "Erfassung der Versicherungsscheinnummer")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

import bipro_ruv.deeplink
from bipro_ruv.deeplink import DEFAULT_PORTAL_LINKS, DeepLinkKind, PortalLinks, deep_link
from bipro_ruv.vsnr import InvalidVsnr, Vsnr

LINKS = PortalLinks(
    contract_url="https://portal.example/vertrag/{business_area}/{number}?fd={branch}",
    search_url="https://portal.example/suche?q={vsnr}",
)


# --- R+V's rules ------------------------------------------------------------------------------


def test_arbeitsgebiet_and_number_lead_to_the_contract() -> None:
    link = deep_link("32123456789", LINKS)
    assert (link.kind, link.url) == (DeepLinkKind.CONTRACT, "https://portal.example/vertrag/32/123456789?fd=")


@pytest.mark.parametrize("written", ["123456789", "123 456 789", "        123456789"])
def test_without_arbeitsgebiet_the_search_mask_opens_with_the_number(written: str) -> None:
    link = deep_link(written, LINKS)
    assert (link.kind, link.url) == (DeepLinkKind.SEARCH, "https://portal.example/suche?q=123456789")


@pytest.mark.parametrize(
    "written", ["123/32/123456789", "12332123456789", "123-32123456789", "123 32 123456789"]
)
def test_filialdirektion_in_front_still_leads_to_the_contract(written: str) -> None:
    link = deep_link(written, LINKS)
    assert (link.kind, link.url) == (
        DeepLinkKind.CONTRACT,
        "https://portal.example/vertrag/32/123456789?fd=123",
    )


def test_default_links_drop_the_filialdirektion() -> None:
    assert deep_link("123/32/123456789").url == deep_link("32123456789").url


def test_an_old_condor_number_opens_the_search_mask_with_the_whole_number() -> None:
    link = deep_link("70/850632", LINKS)
    assert (link.kind, link.url) == (DeepLinkKind.SEARCH, "https://portal.example/suche?q=70%2F850632")


def test_an_invalid_number_raises_invalid_vsnr() -> None:
    with pytest.raises(InvalidVsnr):
        deep_link("Kfz-Kennzeichen B-XY 123", LINKS)


# --- the result ------------------------------------------------------------------------------


def test_the_link_carries_the_parsed_vsnr_with_its_branch() -> None:
    link = deep_link(Vsnr("123/32/123456789"), LINKS)
    assert (link.vsnr, link.vsnr.branch) == ("32123456789", "123")


@pytest.mark.parametrize(
    ("written", "kind", "url"),
    [
        ("32123456789", DeepLinkKind.CONTRACT, "https://online.ruv.de/makler/vertrag?vsnr=32123456789"),
        ("123456789", DeepLinkKind.SEARCH, "https://online.ruv.de/makler/suche?vsnr=123456789"),
        ("70/850632", DeepLinkKind.SEARCH, "https://online.ruv.de/makler/suche?vsnr=70%2F850632"),
    ],
)
def test_default_links(written: str, kind: DeepLinkKind, url: str) -> None:
    link = deep_link(written)
    assert (link.kind, link.url) == (kind, url)


def test_deep_link_is_frozen() -> None:
    link = deep_link("32123456789")
    with pytest.raises(ValidationError):
        link.url = "https://elsewhere.example/"  # type: ignore[misc]


# --- PortalLinks templates -------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "https://portal.example/v?vsnr={vsnr}",
        "http://127.0.0.1:8080/v/{business_area}-{number}",
        "https://portal.example/v/{number}?fd={branch}",
    ],
)
def test_portal_links_accept_templates(template: str) -> None:
    assert PortalLinks(contract_url=template, search_url=template).contract_url == template


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param(
            "https://portal.example/{kennzeichen}", "unknown placeholder {kennzeichen}", id="unknown"
        ),
        pytest.param("https://portal.example/{}", "unknown placeholder {}", id="positional"),
        pytest.param(
            "https://portal.example/{line_of_business}/{number}",
            r"\{line_of_business\} is now called \{business_area\}",
            id="renamed",
        ),
        pytest.param("https://portal.example/{vsnr.__class__}", "unknown placeholder", id="attribute"),
        pytest.param("https://portal.example/{vsnr!r}", "format spec or conversion", id="conversion"),
        pytest.param("https://portal.example/{vsnr:>20}", "format spec or conversion", id="format-spec"),
        pytest.param("https://portal.example/{vsnr", "expected '}'", id="unbalanced"),
        pytest.param("https://portal.example/{branch}", "{vsnr} or {number}", id="no-number"),
        pytest.param("ftp://portal.example/{vsnr}", "http or https", id="ftp"),
        pytest.param("javascript:alert({vsnr})", "http or https", id="javascript"),
        pytest.param("/makler/vertrag?vsnr={vsnr}", "http or https", id="relative"),
    ],
)
def test_portal_links_reject_bad_templates(template: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PortalLinks(contract_url=template, search_url="https://portal.example/{vsnr}")


def test_portal_links_forbid_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        PortalLinks(
            contract_url="https://p.example/{vsnr}",
            search_url="https://p.example/{vsnr}",
            customer_url="https://p.example/{vsnr}",  # type: ignore[call-arg]
        )


def test_default_portal_links_are_valid_templates() -> None:
    assert PortalLinks.model_validate(DEFAULT_PORTAL_LINKS.model_dump()) == DEFAULT_PORTAL_LINKS


def test_deeplink_module_stays_offline_and_independent_of_profiles() -> None:
    tree = ast.parse(Path(bipro_ruv.deeplink.__file__).read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        )
    }
    kernel = {"bipro_ruv.models"}  # FrozenModel: the base of every model, imports nothing of ours
    assert imported <= {"__future__", "string", "enum", "urllib.parse", "pydantic", "bipro_ruv.vsnr", *kernel}
