"""getShipment (Norm 430.x): stream the reply, spool every document, check it.

Every reply shape is read in chunks straight into files, so a 200 MB document never
sits in memory: MTOM/XOP attachments by :mod:`bipro_ruv._wire.mime`, inline base64 documents
by :mod:`._inline` (decoded while the XML is parsed). Each ``allg:Datei`` becomes one
:class:`SpooledDocument` with a spool file of its own; a ``Pruefsumme`` is verified;
``Komprimierungstyp`` ZIP is unpacked with limits. The reply must be for the shipment
asked for. Nothing here writes outside the given spool directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bipro_ruv._wire.mime import parse_multipart
from bipro_ruv._wire.mime_parts import (
    Base64Decoder,
    FileSink,
    MultipartReply,
    SpooledPart,
    is_multipart,
    resolve_cid,
)
from bipro_ruv._wire.reply import Exchange
from bipro_ruv._wire.soap import (
    SecurityHeader,
    SoapEndpoint,
    check_status,
    envelope_payload,
    multipart_root_xml,
    read_envelope,
)
from bipro_ruv._wire.spool import verify_checksum
from bipro_ruv._wire.xml import NS, child, child_text, children, descendant
from bipro_ruv.errors import AmbiguousDocumentError, ProtocolError, TransportError, WrongShipmentError
from bipro_ruv.models import Status
from bipro_ruv.store.protocol import Account, DocumentRecord
from bipro_ruv.transfer._archive import DEFAULT_LIMITS, ArchiveLimits, unpack_zip
from bipro_ruv.transfer._files import safe_filename
from bipro_ruv.transfer._inline import SPOOLED_ATTRIBUTE, parse_inline_reply
from bipro_ruv.transfer._parse import parse_shipment
from bipro_ruv.transfer.categories import category_label
from bipro_ruv.transfer.models import Shipment

__all__ = [
    "DownloadedShipment",
    "SpooledDocument",
    "download_shipment",
    "multipart_payload",
    "read_shipment_reply",
]

log = logging.getLogger("bipro_ruv.transfer")

#: A multipart root part this small cannot hold a text node over libxml2's 10 MB limit:
#: it is parsed whole. A larger one goes through the streaming parser of :mod:`._inline`.
_SMALL_ROOT = 8 << 20
#: Read size for getShipment bodies: large enough that a 200 MB document is few reads.
_CHUNK = 1 << 18
_XMIME_CONTENT_TYPE = f"{{{NS['xmime']}}}contentType"


@dataclass(frozen=True)
class SpooledDocument:
    """A delivered document, decoded and verified, in the spool directory."""

    seq: int
    original_name: str | None
    content_type: str | None
    document_type: str | None
    description: str | None
    vsnr: str | None
    vu_number: str | None
    path: Path
    size: int
    sha256: str
    checksum_verified: bool | None
    archive_name: str | None = None
    #: What was not as it should be but did not cost the document (e.g. a multipart
    #: reply without its closing delimiter); logged, not kept in the journal.
    warnings: tuple[str, ...] = ()

    def safe_name(self) -> str:
        """The file name to store it under: the delivered name made safe, or its Dokumentart."""
        return safe_filename(
            self.original_name, content_type=self.content_type, fallback_stem=self.document_type or "dokument"
        )

    def record(self, account: Account, shipment_id: str, path: str, vu_number: str) -> DocumentRecord:
        """The store's record of this document stored at ``path`` (relative to the inbox);
        ``vu_number`` if none was delivered. Its :attr:`warnings` are not part of it: pass them
        to :meth:`.Document.from_record`."""
        return DocumentRecord(
            account=account,
            shipment_id=shipment_id,
            seq=self.seq,
            path=path,
            original_name=self.original_name,
            content_type=self.content_type,
            document_type=self.document_type,
            vsnr=self.vsnr,
            vu_number=self.vu_number or vu_number,
            description=self.description,
            size=self.size,
            sha256=self.sha256,
            checksum_verified=self.checksum_verified,
            archive_name=self.archive_name,
        )


@dataclass(frozen=True)
class DownloadedShipment:
    shipment: Shipment
    status: Status
    documents: tuple[SpooledDocument, ...]


def _datei_elements(transfer: etree._Element) -> Iterator[etree._Element]:
    for element in transfer.iter("{*}Datei"):
        if child(element, "Daten") is not None:
            yield element


def _spool_datei(
    datei: etree._Element,
    attachments: Mapping[str, SpooledPart],
    inline: Mapping[str, SpooledPart],
    spool_dir: Path,
) -> tuple[Path, int, Mapping[str, str], str | None]:
    daten = child(datei, "Daten")
    assert daten is not None
    content_type = daten.get(_XMIME_CONTENT_TYPE)
    spooled = daten.get(SPOOLED_ATTRIBUTE)
    if spooled is not None:  # inline base64, decoded to a spool file while parsing
        spooled_part = inline.get(spooled)
        if spooled_part is None:  # the mark came from the server (an MTOM root part keeps it)
            raise ProtocolError(f"getShipment reply uses bipro-ruv's own attribute {SPOOLED_ATTRIBUTE}")
        return spooled_part.path, spooled_part.size, spooled_part.digests, content_type
    include = descendant(daten, "Include")
    if include is not None:
        href = include.get("href")
        if not href:
            raise ProtocolError("xop:Include without href")
        part = resolve_cid(href, attachments)
        return part.path, part.size, part.digests, content_type or part.content_type
    if not daten.text or not daten.text.strip():
        raise ProtocolError("Datei without Daten (neither inline base64 nor xop:Include)")
    path, size, digests = _decode_parsed_daten(daten, spool_dir)
    return path, size, digests, content_type


def _decode_parsed_daten(daten: etree._Element, spool_dir: Path) -> tuple[Path, int, Mapping[str, str]]:
    """Inline base64 ``Daten`` of a root part parsed whole (held in memory, bounded), decoded
    to a spool file with the sink and decoder :mod:`._inline` uses, and its rules."""
    try:
        raw = (daten.text or "").encode("ascii")
    except UnicodeEncodeError as exc:
        raise ProtocolError("inline Daten is not valid base64: non-ASCII characters") from exc
    sink = FileSink(spool_dir, [])
    try:
        decoder = Base64Decoder(1)
        sink.write(decoder.feed(raw))
        if len(daten):
            raise ProtocolError("Daten holds both base64 text and an element")
        sink.write(decoder.flush())
        sink.close()
    except BaseException:
        sink.discard()
        sink.path.unlink(missing_ok=True)
        raise
    return sink.path, sink.hasher.size, sink.hasher.hexdigests()


def _documents(
    lieferung: etree._Element,
    attachments: Mapping[str, SpooledPart],
    inline: Mapping[str, SpooledPart],
    spool_dir: Path,
    limits: ArchiveLimits,
) -> list[SpooledDocument]:
    documents: list[SpooledDocument] = []
    used: set[Path] = set()
    # Warnings belong to the spooled part a Datei refers to (few parts have any).
    part_warnings = {part.path: part.warnings for part in attachments.values() if part.warnings}
    for transfer in children(lieferung, "Transfer"):
        vsnr = child_text(descendant(transfer, "Versicherungsscheinnummer"))
        vu_number = child_text(descendant(transfer, "VUNummer"))
        for datei in _datei_elements(transfer):
            path, size, digests, content_type = _spool_datei(datei, attachments, inline, spool_dir)
            if path in used:
                # Storing both would move one file twice: one document would be lost, or
                # stored under two names. Which one the server meant, nobody can tell.
                raise AmbiguousDocumentError(
                    f"two documents of this shipment refer to the same attachment ({path.name}); "
                    "the reply is ambiguous, nothing is stored"
                )
            used.add(path)
            verified = _checksum_verified(datei, path, digests)
            name = child_text(datei, "Dateiname")
            warnings = part_warnings.get(path, ())
            if warnings:
                log.warning("document %r kept despite a faulty reply: %s", name, "; ".join(warnings))
            common: dict[str, Any] = {
                "document_type": child_text(datei, "DokumentartID"),
                "description": child_text(datei, "Kurzbeschreibung") or child_text(datei, "Bezeichnung"),
                "vsnr": vsnr,
                "vu_number": vu_number,
                "checksum_verified": verified,
                "warnings": warnings,
            }
            if (child_text(datei, "Komprimierungstyp") or "").upper() == "ZIP":
                documents += _unpacked(path, name, spool_dir, len(documents), limits, common)
                continue
            documents.append(
                SpooledDocument(
                    seq=len(documents),
                    original_name=name,
                    content_type=content_type,
                    path=path,
                    size=size,
                    sha256=digests["sha256"],
                    **common,
                )
            )
    return documents


def _checksum_verified(datei: etree._Element, path: Path, digests: Mapping[str, str]) -> bool | None:
    """The ``Pruefsumme`` check of one Datei: None without one; a mismatch raises."""
    checksum = child(datei, "Pruefsumme")
    if checksum is None:
        return None
    typ, value = child_text(checksum, "Typ") or "", child_text(checksum, "Wert") or ""
    return verify_checksum(path, typ, value, known=digests).verified


def _unpacked(
    path: Path,
    name: str | None,
    spool_dir: Path,
    first_seq: int,
    limits: ArchiveLimits,
    common: dict[str, Any],
) -> list[SpooledDocument]:
    """The members of a ``Komprimierungstyp`` ZIP delivery, each a document of its own."""
    target = Path(tempfile.mkdtemp(dir=spool_dir, prefix=f"zip-{first_seq}-"))
    members = [
        SpooledDocument(
            seq=first_seq + number,
            original_name=member.original_name,
            content_type=None,
            path=member.path,
            size=member.size,
            sha256=member.sha256,
            archive_name=name,
            **common,
        )
        for number, member in enumerate(unpack_zip(path, target, limits=limits))
    ]
    path.unlink(missing_ok=True)
    return members


def _pieces(data: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


def multipart_payload(
    reply: MultipartReply, spool_dir: Path, *, http_status: int = 200, reason: str = "", xml_limit: int
) -> tuple[etree._Element, Mapping[str, SpooledPart]]:
    """The Body payload of an MTOM reply's root part, and the inline documents it held.

    A root part this small is parsed whole; a larger one may hold inline documents
    beyond libxml2's 10 MB text limit, so it goes through :mod:`._inline` like an
    inline reply, and its documents are decoded to ``spool_dir``.
    """
    root = multipart_root_xml(reply)
    if len(root) < _SMALL_ROOT:
        return read_envelope(root, http_status=http_status, reason=reason, what="getShipment"), {}
    parsed = parse_inline_reply(_pieces(root), spool_dir, xml_limit=xml_limit)
    return envelope_payload(parsed.root, http_status=http_status, what="getShipment"), parsed.attachments


def download_shipment(
    endpoint: SoapEndpoint,
    security: SecurityHeader,
    request: dict[str, Any],
    spool_dir: Path,
    *,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    on_bytes: Callable[[int], None] | None = None,
) -> DownloadedShipment:
    """Call getShipment and spool its documents into ``spool_dir`` (which must exist).

    Raises a :class:`~bipro_ruv.errors.BiproError` subclass on any defect; the caller
    owns ``spool_dir`` and removes it either way. A network failure is repeated as the
    endpoint's retry policy allows (getShipment may safely run twice), from the start.
    """
    message = endpoint.build("getShipment", security, Request=request)
    expected = str(request.get("ID") or "") or None

    def consume(exchange: Exchange, operation: str) -> DownloadedShipment:
        content_type = exchange.headers.get("Content-Type", "")

        def chunks() -> Iterator[bytes]:
            for chunk in exchange.chunks(_CHUNK, what=operation):
                if on_bytes is not None:
                    on_bytes(len(chunk))
                yield chunk

        attachments: Mapping[str, SpooledPart] = {}
        inline: Mapping[str, SpooledPart] = {}
        if exchange.status_code >= 400 and not is_multipart(content_type):
            data = exchange.read(what=operation)  # an error reply: small, or the limit says so
            payload = read_envelope(
                data, http_status=exchange.status_code, reason=exchange.reason, what=operation
            )
        elif is_multipart(content_type):
            reply = parse_multipart(
                content_type,
                chunks(),
                spool_dir,
                max_root_bytes=exchange.limits.xml_bytes,
                body_complete=lambda: exchange.complete,
            )
            attachments = reply.attachments
            payload, inline = multipart_payload(
                reply,
                spool_dir,
                http_status=exchange.status_code,
                reason=exchange.reason,
                xml_limit=exchange.limits.xml_bytes,
            )
        else:
            parsed = parse_inline_reply(chunks(), spool_dir, xml_limit=exchange.limits.xml_bytes)
            inline = parsed.attachments
            payload = envelope_payload(parsed.root, http_status=exchange.status_code, what=operation)
        return read_shipment_reply(
            payload, attachments, spool_dir, inline=inline, limits=limits, expected_id=expected
        )

    return endpoint.exchange("getShipment", message, consume, idempotent=True)


def read_shipment_reply(
    payload: etree._Element,
    attachments: Mapping[str, SpooledPart],
    spool_dir: Path,
    *,
    inline: Mapping[str, SpooledPart] | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    expected_id: str | None = None,
) -> DownloadedShipment:
    """Pure part of getShipment: the ``getShipmentResponse`` payload to spooled documents.

    ``attachments`` are the MTOM parts by Content-ID, ``inline`` the inline documents
    :mod:`._inline` spooled while parsing (kept apart: a server names the former).

    ``expected_id`` is the ID asked for: a reply for another Lieferung is refused
    (:class:`WrongShipmentError`), so it is neither stored under that ID nor acknowledged.
    """
    response_element = child(payload, "Response")
    if response_element is None:
        raise ProtocolError("getShipment: reply without Response element")
    status = check_status(response_element, "getShipment")
    lieferung = child(response_element, "Lieferung")
    if lieferung is None:
        raise ProtocolError("getShipment: reply without Lieferung")
    shipment = parse_shipment(lieferung, category_label)
    if expected_id is not None and shipment.id != expected_id:
        raise WrongShipmentError(
            f"getShipment for shipment {expected_id} answered with shipment {shipment.id}; "
            "nothing of it is stored or acknowledged"
        )
    documents = _documents(lieferung, attachments, inline or {}, spool_dir, limits)
    if not documents:
        # A shipment of pure data (a GeVo without Datei): keep the Lieferung itself,
        # so that acknowledging it loses nothing.
        documents = [_lieferung_as_document(lieferung, shipment.id, spool_dir)]
    return DownloadedShipment(shipment=shipment, status=status, documents=tuple(documents))


def _lieferung_as_document(lieferung: etree._Element, shipment_id: str, spool_dir: Path) -> SpooledDocument:
    data = etree.tostring(lieferung, encoding="utf-8", xml_declaration=True)
    path = spool_dir / "lieferung.xml"
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return SpooledDocument(
        seq=0,
        original_name=f"Lieferung_{shipment_id}.xml",
        content_type="application/xml",
        document_type=None,
        description="Lieferung ohne Datei (XML)",
        vsnr=child_text(descendant(lieferung, "Versicherungsscheinnummer")),
        vu_number=None,
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        checksum_verified=None,
    )


def download_raw(
    endpoint: SoapEndpoint,
    security: SecurityHeader,
    request: dict[str, Any],
    target: Path,
) -> dict[str, Any]:
    """getShipment once more, its reply body written to ``target`` as it arrives, unparsed.

    For the quarantine: what a broken shipment sent is kept for a person (or a support
    request) to look at. Bounded like every reply (the transport's size limit and
    deadlines); a reply cut off by them is kept as far as it came. Returns the reply's
    HTTP status, headers, bytes written and how it ended; never raises for the reply's
    content, only for the network (the caller decides what to do without the copy).
    """
    message = endpoint.build("getShipment", security, Request=request)

    def consume(exchange: Exchange, operation: str) -> dict[str, Any]:
        written = 0
        ended = "complete"
        with open(target, "wb") as out:
            try:
                for chunk in exchange.chunks(_CHUNK, what=operation):
                    out.write(chunk)
                    written += len(chunk)
            except (ProtocolError, TransportError) as exc:  # a size limit, a cut body: what came is kept
                ended = f"cut off: {type(exc).__name__}: {exc}"
            out.flush()
            os.fsync(out.fileno())
        return {
            "http_status": exchange.status_code,
            "http_reason": exchange.reason,
            "headers": dict(exchange.headers),
            "bytes": written,
            "ended": ended,
        }

    return endpoint.exchange("getShipment", message, consume, idempotent=True)
