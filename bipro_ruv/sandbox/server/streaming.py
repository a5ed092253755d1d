"""Streamed reply bodies: a getShipment reply (BiPRO Norm 430) as inline XML or an MTOM/XOP multipart.

A body is a list of segments (announced size, producer of chunks), so the Content-Length is known before the
first byte and no large document is ever held in memory: documents are written from their ``produce()``, raw
in an MTOM part or as base64 in inline XML. The framing of the multipart (boundary, preamble, root charset)
comes from the reply's :class:`~bipro_ruv.sandbox.services.transfer.MtomStyle`; the faults that cut or end a
multipart unusually are applied here too (``truncate``, ``closing``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bipro_ruv.sandbox.services.soap import XML_CONTENT_TYPE, Reply
from bipro_ruv.sandbox.services.transfer import ShipmentReply, mtom_style

if TYPE_CHECKING:
    from bipro_ruv.sandbox.content.shipments import SeedDocument

__all__ = ["Delivery", "Segment", "literal", "shipment_body", "status_multipart"]

_ROOT_CID = "root.message@sandbox.ruv.invalid"
# What a reply of FaultRule(MISSING_CLOSING_DELIMITER, variant="other_boundary") ends with.
_OTHER_BOUNDARY = b"MIMEBoundary_0815_Ende"

Segment = tuple[int, Callable[[], Iterator[bytes]]]


def literal(data: bytes) -> Segment:
    return len(data), lambda: iter((data,))


def _checked(document: SeedDocument) -> Iterator[bytes]:
    sent = 0
    for chunk in document.produce():
        sent += len(chunk)
        yield chunk
    if sent != document.size:
        raise RuntimeError(f"document produced {sent} bytes, announced {document.size}")


def _raw(document: SeedDocument) -> Segment:
    return document.size, lambda: _checked(document)


def _base64(document: SeedDocument) -> Segment:
    def chunks() -> Iterator[bytes]:
        carry = b""
        for chunk in _checked(document):
            data = carry + chunk
            cut = len(data) - len(data) % 3
            if cut:
                yield base64.b64encode(data[:cut])
            carry = data[cut:]
        if carry:
            yield base64.b64encode(carry)

    return 4 * ((document.size + 2) // 3), chunks


def shipment_body(reply: ShipmentReply) -> tuple[str, list[Segment]]:
    """Content-Type and segments of a getShipment reply (inline XML or MTOM/XOP multipart)."""
    if reply.style is None:
        segments = [literal(p) if isinstance(p, bytes) else _base64(p) for p in reply.pieces]
        if reply.truncate and len(segments) > 1:
            # Inline mode has no multipart to cut: the XML ends in the middle of the last document.
            size, produce = segments[-2]
            segments = [*segments[:-2], (size // 2, produce)]
        return XML_CONTENT_TYPE, segments
    style = reply.style
    boundary = style.boundary.encode()
    shown = f'"{style.boundary}"' if style.quote_boundary else style.boundary
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary={shown}; '
        f'start="<{_ROOT_CID}>"; start-info="text/xml"'
    )
    head = b"This is a multi-part message in MIME format.\r\n" if style.preamble else b""
    head += (
        b"--" + boundary + b"\r\n"
        b"Content-Type: application/xop+xml; charset="
        + style.root_charset.encode()
        + b'; type="text/xml"\r\n'
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-ID: <" + _ROOT_CID.encode() + b">\r\n\r\n"
    )
    segments = [literal(head)]
    segments += [literal(p) for p in reply.pieces if isinstance(p, bytes)]
    for cid, document in reply.attachments:
        part_head = (
            b"\r\n--" + boundary + b"\r\n"
            b"Content-Type: " + document.content_type.encode() + b"\r\n"
            b"Content-Transfer-Encoding: binary\r\n"
            b"Content-ID: <" + cid.encode() + b">\r\n\r\n"
        )
        segments += [literal(part_head), _raw(document)]
    if reply.truncate:
        if reply.attachments:
            size, produce = segments[-1]
            return content_type, [*segments[:-1], (size // 2, produce)]
        return content_type, segments
    if reply.closing == "missing":
        return content_type, segments
    closing_boundary = _OTHER_BOUNDARY if reply.closing == "other_boundary" else boundary
    return content_type, [*segments, literal(b"\r\n--" + closing_boundary + b"--\r\n")]


def status_multipart(reply: Reply, style_source: str) -> ShipmentReply:
    """A small XML reply wrapped as a lone MTOM root part, cut before the closing delimiter."""
    return ShipmentReply((reply.body,), (), mtom_style(style_source), truncate=True)


@dataclass(frozen=True)
class Delivery:
    """How a reply's bytes leave: at once, dripping (SLOW_DRIP) or cut half-way (TRUNCATED_BODY)."""

    drip: float | None = None  # seconds per byte
    cut: bool = False  # close the connection after half the announced body
