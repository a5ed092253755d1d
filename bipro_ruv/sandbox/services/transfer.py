"""The sandbox's TransferService (BiPRO Norm 430.4/430.5): listShipments, getShipment, acknowledgeShipment.

A ``listShipments`` reply lists the open ``tran:Lieferung`` of the mailbox (or all, with
``BestaetigeLieferungen``), filtered by ``KategorieDerLieferung`` (3, 6 or 9 digits). A ``getShipment`` reply
holds one ``tran:Transfer`` with one ``gevo:Datei`` per document, as MTOM/XOP (the documents are attachments)
or inline base64; it is a :class:`ShipmentReply` the server streams, never one string. Its framing varies per
shipment like real servers differ (:func:`mtom_style`). ``acknowledgeShipment`` marks a shipment as fetched.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from lxml import etree

from bipro_ruv.sandbox.config import FaultKind
from bipro_ruv.sandbox.services.soap import (
    NS,
    PLACEHOLDER,
    Reply,
    RequestError,
    SoapRequest,
    find_text,
    namespaces,
    nok_reply,
    q,
    serialize,
    sub,
    transfer_response,
)

if TYPE_CHECKING:
    from bipro_ruv.sandbox.content.shipments import SeedDocument, SeedShipment
    from bipro_ruv.sandbox.state import SandboxState

__all__ = [
    "Closing",
    "MtomStyle",
    "ShipmentReply",
    "acknowledge_shipment",
    "get_shipment",
    "list_shipments",
    "mtom_style",
    "serve",
    "shipment_reply",
]

# Prefixes differ between providers (JAXB numbers them); getShipment replies alternate.
_JAXB_PREFIXES = {"S": NS["soapenv"], "ns2": NS["tran"], "ns3": NS["nac"], "ns4": NS["gevo"],
                  "ns5": NS["allg"], "ns6": NS["xmime"], "ns7": NS["xop"]}  # fmt: skip
_SHIPMENT_NS = namespaces("nac", "tran", "gevo", "allg", "xmime", "xop")


@dataclass(frozen=True)
class MtomStyle:
    """How one getShipment reply is framed; varied per shipment like real servers differ."""

    boundary: str
    quote_boundary: bool
    preamble: bool
    root_charset: str
    encode_cid: bool
    jaxb_prefixes: bool


Closing = Literal["standard", "missing", "other_boundary"]


@dataclass(frozen=True)
class ShipmentReply:
    """A getShipment reply that may be large: written out by the server as a stream.

    ``pieces`` is the root XML, split where inline documents go (as base64) in inline
    mode; ``attachments`` are (Content-ID, document) MTOM parts. ``style`` is None for
    an inline ``text/xml`` reply. ``truncate`` cuts the reply in the middle of its last
    document (so a multipart also lacks its closing delimiter). ``closing`` is how a
    complete multipart ends: with its closing delimiter (``"standard"``), right after the
    last part (``"missing"``), or with the closing delimiter of another boundary
    (``"other_boundary"``), as some servers send it.
    """

    pieces: tuple[bytes | SeedDocument, ...]
    attachments: tuple[tuple[str, SeedDocument], ...]
    style: MtomStyle | None
    truncate: bool = False
    closing: Closing = "standard"


# -- the operations ------------------------------------------------------------------------


def serve(
    state: SandboxState,
    version: str,
    request: SoapRequest,
    *,
    truncate: bool,
    shipment_fault: FaultKind | None,
    closing: Closing,
    before_acknowledge: Callable[[str], None] | None,
) -> Reply | ShipmentReply:
    """One TransferService request, its ``tran:Request`` checked (BiPROVersion, the shipment ``tran:ID``)."""
    payload = request.element.find(q("tran", "Request"))
    if payload is None:
        raise RequestError("00931", "tran:Request fehlt")
    sent = find_text(payload, q("nac", "BiPROVersion"))
    if sent != version:
        raise RequestError("00931", f"BiPROVersion {sent or '(fehlt)'} ungültig, erwartet {version}")
    if request.operation == "listShipments":
        return list_shipments(state, version, payload)
    shipment_id = find_text(payload, q("tran", "ID"))
    if not shipment_id:
        raise RequestError("00931", "tran:ID fehlt")
    if request.operation == "getShipment":
        return get_shipment(state, version, shipment_id, truncate, shipment_fault, closing)
    return acknowledge_shipment(state, version, shipment_id, before_acknowledge)


def list_shipments(state: SandboxState, version: str, payload: etree._Element) -> Reply:
    include_acknowledged = find_text(payload, q("tran", "BestaetigeLieferungen")).lower() in ("true", "1")
    category = find_text(payload, q("tran", "KategorieDerLieferung"))
    if category and (not category.isdigit() or len(category) not in (3, 6, 9)):
        return nok_reply(
            "listShipments", version, "04005", f"Granularität der Kategorie {category} nicht unterstützt"
        )
    prefix = "" if category in ("", "999999999") else category
    shipments = [s for s in state.listed(include_acknowledged) if s.kategorie.startswith(prefix)]
    if shipments:
        meldung = ("Hinweis", "04000", "Transferprozess erfolgreich")
    else:
        meldung = ("Hinweis", "04001", "Keine Lieferungen für die angefragte Kategorie vorhanden")
    env, response = transfer_response("listShipments", version, True, [meldung])
    for shipment in shipments:
        _lieferung(response, shipment)
    return Reply(200, serialize(env))


def get_shipment(
    state: SandboxState,
    version: str,
    shipment_id: str,
    truncate: bool,
    fault: FaultKind | None = None,
    closing: Closing = "standard",
) -> Reply | ShipmentReply:
    shipment = state.shipment(shipment_id)
    if shipment is None or state.is_acknowledged(shipment_id):
        return nok_reply("getShipment", version, "04003", f"Lieferung {shipment_id} unbekannt")
    if fault is FaultKind.WRONG_SHIPMENT_ID:
        # A mix-up on the server: another open shipment's reply, or this one under another ID.
        others = [s for s in state.listed(include_acknowledged=False) if s.id != shipment_id]
        shipment = others[0] if others else replace(shipment, id=f"{shipment_id[:20]}-X")
    mtom = state.config.mtom or truncate or fault is FaultKind.SHARED_CID or closing != "standard"
    reply = shipment_reply(shipment, version, mtom, shared_cid=fault is FaultKind.SHARED_CID)
    return replace(reply, truncate=reply.truncate or truncate, closing=closing)


def acknowledge_shipment(
    state: SandboxState, version: str, shipment_id: str, hook: Callable[[str], None] | None
) -> Reply:
    """Record the ack; ``hook`` (``Sandbox.before_acknowledge``) runs first and may veto it by raising."""
    if state.shipment(shipment_id) is None:
        return nok_reply("acknowledgeShipment", version, "04003", f"Lieferung {shipment_id} unbekannt")
    if hook is not None:
        try:
            hook(shipment_id)
        except Exception as exc:
            raise RequestError(
                "99999", f"Quittierung fehlgeschlagen: {type(exc).__name__}", server_side=True
            ) from exc
    state.acknowledge(shipment_id)
    meldung = ("Hinweis", "04000", "Transferprozess erfolgreich")
    env, _ = transfer_response("acknowledgeShipment", version, True, [meldung])
    return Reply(200, serialize(env))


# -- Lieferung, Datei and the getShipment reply --------------------------------------------


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _lieferung(parent: etree._Element, shipment: SeedShipment) -> etree._Element:
    element = sub(parent, q("tran", "Lieferung"))
    sub(element, q("tran", "ID"), shipment.id)
    sub(element, q("tran", "Einstellzeitpunkt"), shipment.einstellzeitpunkt.isoformat(timespec="seconds"))
    sub(element, q("tran", "Kategorie"), shipment.kategorie)
    sub(element, q("tran", "VerfuegbarBis"), shipment.verfuegbar_bis.isoformat())
    sub(element, q("tran", "ArtDerLieferung"), shipment.art_der_lieferung)
    sub(element, q("tran", "EnthaeltNurDaten"), _flag(shipment.enthaelt_nur_daten))
    sub(element, q("tran", "PeriodischeLieferung"), _flag(shipment.periodische_lieferung))
    if shipment.sparte is not None:
        sub(element, q("tran", "Sparte"), shipment.sparte)
    sub(element, q("tran", "AnzahlTransfers"), str(len(shipment.documents)))
    return element


def mtom_style(shipment_id: str) -> MtomStyle:
    """Deterministic per-shipment framing variant (boundary style, preamble, charset, cid form)."""
    digest = hashlib.sha256(shipment_id.encode()).digest()
    kind = digest[0] % 3
    if kind == 0:
        boundary, quoted = f"uuid:{uuid.UUID(bytes=digest[:16])}", True
    elif kind == 1:
        boundary, quoted = f"MIMEBoundary_{digest[:12].hex()}", False
    else:
        boundary, quoted = (
            f"----=_Part_{digest[1]}_{digest[2] * 7}.{int.from_bytes(digest[3:7], 'big')}",
            True,
        )
    return MtomStyle(
        boundary=boundary,
        quote_boundary=quoted,
        preamble=digest[4] % 4 == 0,
        root_charset="iso-8859-1" if digest[5] % 4 == 0 else "UTF-8",
        encode_cid=digest[6] % 3 != 0,
        jaxb_prefixes=digest[7] % 2 == 0,
    )


def _datei(
    transfer: etree._Element, shipment: SeedShipment, index: int, document: SeedDocument
) -> etree._Element:
    """Append a ``gevo:Datei`` (CT_Datei element order) and return its empty ``allg:Daten``."""
    datei = sub(transfer, q("gevo", "Datei"))
    sub(datei, q("allg", "DateiID"), f"{shipment.id}-{index + 1}")
    sub(datei, q("allg", "Dateiname"), document.file_name)
    sub(datei, q("allg", "Dateityp"), "Nettodaten" if shipment.enthaelt_nur_daten else "Dokument")
    data = sub(datei, q("allg", "Daten"))
    data.set(q("xmime", "contentType"), document.content_type)
    sub(datei, q("allg", "Komprimierungstyp"), document.compression)
    sub(datei, q("allg", "Erstelldatum"), shipment.einstellzeitpunkt.date().isoformat())
    if document.dokumentart is not None:
        sub(datei, q("allg", "DokumentartID"), document.dokumentart)
    if document.kurzbeschreibung is not None:
        sub(datei, q("allg", "Kurzbeschreibung"), document.kurzbeschreibung)
    if document.checksum is not None:
        checksum = sub(datei, q("allg", "Pruefsumme"))
        sub(checksum, q("allg", "Typ"), document.checksum[0])
        sub(checksum, q("allg", "Wert"), document.checksum[1])
    return data


def shipment_reply(
    shipment: SeedShipment, version: str, mtom: bool, *, shared_cid: bool = False
) -> ShipmentReply:
    """The getShipment reply: one ``tran:Transfer`` with one ``gevo:Datei`` per document.

    ``shared_cid`` (a hostile server): every ``Datei`` points at the first document's
    attachment, which alone is sent (a one-document shipment gets its Datei twice).
    """
    if shared_cid and len(shipment.documents) < 2:
        shipment = replace(shipment, documents=shipment.documents * 2)
    style = mtom_style(shipment.id)
    env, response = transfer_response(
        "getShipment",
        version,
        True,
        [("Hinweis", "04000", "Transferprozess erfolgreich")],
        _JAXB_PREFIXES if style.jaxb_prefixes else _SHIPMENT_NS,
    )
    lieferung = _lieferung(response, shipment)
    attachments: list[tuple[str, SeedDocument]] = []
    markers: list[tuple[str, SeedDocument]] = []
    cid_stem = hashlib.sha256(shipment.id.encode()).hexdigest()[:16]  # ids may hold any character
    for index, document in enumerate(shipment.documents):
        transfer = sub(lieferung, q("tran", "Transfer"))
        sub(transfer, q("gevo", "Erstelldatum"), shipment.einstellzeitpunkt.date().isoformat())
        if document.vsnr is not None:
            contract = sub(transfer, q("gevo", "Vertrag"))
            if document.vu_number is not None:
                sub(contract, q("gevo", "VUNummer"), document.vu_number)
            sub(contract, q("gevo", "Versicherungsscheinnummer"), document.vsnr)
        data = _datei(transfer, shipment, index, document)
        if mtom:
            cid = f"{cid_stem}-{1 if shared_cid else index + 1}@sandbox.ruv.invalid"
            if not (shared_cid and attachments):
                attachments.append((cid, document))
            href = "cid:" + (quote(cid, safe="") if style.encode_cid else cid)
            sub(data, q("xop", "Include")).set("href", href)
        else:
            # Replaced by the streamed base64 of the document when the reply is written out.
            data.text = f"{PLACEHOLDER}-{index}"
            markers.append((data.text, document))
    encoding = style.root_charset if mtom else "UTF-8"
    xml = serialize(env, encoding)
    pieces: list[bytes | SeedDocument] = []
    for marker, document in markers:
        head, xml = xml.split(marker.encode(), 1)
        pieces += [head, document]
    pieces.append(xml)
    return ShipmentReply(
        tuple(pieces),
        tuple(attachments),
        style if mtom else None,
        truncate=shipment.defect == "broken_multipart",
    )
