"""The Maklerportal pages behind the sandbox's deep links (BiPRO Norm 440 ``getLinks`` targets).

Two small HTML pages on plain GET: ``/portal/vertrag?vsnr=...`` (a contract of the seeded book or of a
delivered document, with the number of its documents in the mailbox; 404 for any other number) and
``/portal/suche`` (the search mask, filled from the query). Every value is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from bipro_ruv.sandbox.services.extranet import PARTNER_FIELDS, contract_digits
from bipro_ruv.sandbox.services.soap import Reply

if TYPE_CHECKING:
    from bipro_ruv.sandbox.state import SandboxState

__all__ = ["portal_page"]


def portal_page(
    path: str,
    query: dict[str, list[str]],
    *,
    known_vsnrs: Callable[[], frozenset[str]],
    state: SandboxState,
) -> Reply:
    """The small HTML pages the deep links open: a contract page and the search mask."""
    values = {key: items[0] for key, items in query.items() if items}
    if path == "/portal/vertrag":
        vsnr = contract_digits(values.get("vsnr", "")) or ""
        if len(vsnr) != 11 or vsnr not in known_vsnrs():
            return _html(404, "Vertrag nicht gefunden", "<p>Zu dieser Nummer gibt es keinen Vertrag.</p>")
        documents = sum(1 for s in state.shipments() for d in s.documents if d.vsnr == vsnr)
        return _html(
            200,
            f"Vertrag {vsnr[:2]} {vsnr[2:]}",
            f'<dl><dt>Arbeitsgebiet</dt><dd id="ag">{vsnr[:2]}</dd>'
            f'<dt>Versicherungsscheinnummer</dt><dd id="vsnr">{vsnr}</dd>'
            f'<dt>Dokumente im Postfach</dt><dd id="dokumente">{documents}</dd></dl>',
        )
    if path == "/portal/suche":
        fields = "".join(
            f'<label>{name} <input name="{name}" value="{html.escape(values.get(name, ""))}"></label>'
            for name in ("vsnr", *PARTNER_FIELDS)
        )
        return _html(200, "Kundensuche", f'<form method="get" action="/portal/suche">{fields}</form>')
    return _html(404, "Seite nicht gefunden", "<p>Diese Seite gibt es im Maklerportal nicht.</p>")


def _html(status: int, title: str, body: str) -> Reply:
    page = (
        f'<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)} - '
        f"Maklerportal (Sandbox)</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )
    return Reply(status, page.encode(), "text/html; charset=utf-8")
