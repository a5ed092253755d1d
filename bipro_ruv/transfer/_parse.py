"""Pure functions reading Norm 430 replies (no network): ``Lieferung`` elements to models.

Providers differ in prefixes and leave optional fields out, so every field is looked
up by local name and may be missing; unreadable values are kept raw, not fatal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from lxml import etree

from bipro_ruv._wire import timestamps
from bipro_ruv._wire.soap import check_status
from bipro_ruv._wire.xml import child, child_texts, children
from bipro_ruv.errors import ProtocolError
from bipro_ruv.models import Status
from bipro_ruv.transfer.models import Shipment, einstellzeitpunkt

__all__ = ["parse_datetime", "parse_list_reply", "parse_shipment"]


def parse_datetime(value: str | None) -> datetime | None:
    """``Einstellzeitpunkt``: :func:`~bipro_ruv.transfer.models.einstellzeitpunkt` (one reading
    for a listed shipment and a stored document)."""
    return einstellzeitpunkt(value)


def parse_date(value: str | None) -> date | None:
    """``VerfuegbarBis`` (``xs:date``; a full timestamp gives its date as written), or
    ``dd.mm.yyyy`` as some providers send it; None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return timestamps.parse_date(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text[:10], "%d.%m.%Y").date()
    except ValueError:
        return None


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_shipment(element: etree._Element, label: Callable[[str], str | None] | None = None) -> Shipment:
    """A ``tran:Lieferung`` element as :class:`Shipment`."""
    fields = child_texts(element)
    shipment_id = fields.get("ID")
    if not shipment_id:
        raise ProtocolError("Lieferung without ID")
    category = fields.get("Kategorie")
    created_raw = fields.get("Einstellzeitpunkt")
    return Shipment(
        id=shipment_id,
        category=category,
        category_label=label(category) if (label and category) else None,
        created_at=parse_datetime(created_raw),
        created_at_raw=created_raw,
        available_until=parse_date(fields.get("VerfuegbarBis")),
        delivery_type=fields.get("ArtDerLieferung"),
        data_only=_bool(fields.get("EnthaeltNurDaten")),
        periodic=_bool(fields.get("PeriodischeLieferung")),
        line_of_business=fields.get("Sparte"),
        transfer_count=_int(fields.get("AnzahlTransfers")),
    )


def response_element(payload: etree._Element, operation: str) -> etree._Element:
    response = child(payload, "Response")
    if response is None:
        raise ProtocolError(f"{operation}: reply without Response element")
    return response


def parse_list_reply(
    payload: etree._Element, label: Callable[[str], str | None] | None = None
) -> tuple[list[Shipment], Status]:
    """``listShipmentsResponse`` -> shipments and status (04001 "no shipments" is OK)."""
    response = response_element(payload, "listShipments")
    status = check_status(response, "listShipments")
    return [parse_shipment(item, label) for item in children(response, "Lieferung")], status
