"""getShipment (Norm 430.x): stream the reply, spool every document, check it.

The reply is read in chunks straight into files (MTOM/XOP attachments by
:mod:`._mtom`, inline base64 decoded chunk-wise), so a 200 MB document never sits in
memory. Each ``allg:Datei`` becomes one :class:`SpooledDocument`; a ``Pruefsumme``
is verified from the digests computed while spooling; ``Komprimierungstyp`` ZIP is
unpacked with limits. Nothing here writes outside the given spool directory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bipro_ruv._soap import SecurityHeader, SoapEndpoint, check_status, multipart_root_xml, read_envelope
from bipro_ruv._xml import NS, child, child_text, children, descendant
from bipro_ruv.errors import ProtocolError
from bipro_ruv.models import Status
from bipro_ruv.transfer._archive import DEFAULT_LIMITS, ArchiveLimits, unpack_zip
from bipro_ruv.transfer._files import MultiHasher, safe_filename, verify_checksum
from bipro_ruv.transfer._mtom import SpooledPart, is_multipart, parse_multipart, resolve_cid
from bipro_ruv.transfer._parse import parse_shipment
from bipro_ruv.transfer.categories import category_label
from bipro_ruv.transfer.journal import JournalDocument
from bipro_ruv.transfer.models import Shipment

__all__ = ["DownloadedShipment", "SpooledDocument", "download_shipment", "read_shipment_reply"]

_CHUNK = 1 << 16
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

    def safe_name(self) -> str:
        """The file name to store it under: the delivered name made safe, or its Dokumentart."""
        return safe_filename(
            self.original_name, content_type=self.content_type, fallback_stem=self.document_type or "dokument"
        )

    def journal_row(self, profile: str, shipment_id: str, path: str, vu_number: str) -> JournalDocument:
        """The journal record of this document stored at ``path``; ``vu_number`` if none was delivered."""
        return JournalDocument(
            profile=profile,
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


def _decode_inline(text: str, spool_dir: Path) -> tuple[Path, int, dict[str, str]]:
    """Decode inline base64 ``Daten`` to a spool file, in slices, hashing on the way."""
    compact = "".join(text.split())
    hasher = MultiHasher()
    fd, name = tempfile.mkstemp(dir=spool_dir, prefix="inline-", suffix=".part")
    path = Path(name)
    size = 0
    slice_len = 4 * (1 << 18)  # a multiple of 4: base64 quanta never split
    try:
        with os.fdopen(fd, "wb") as out:
            for start in range(0, len(compact), slice_len):
                piece = base64.b64decode(compact[start : start + slice_len], validate=True)
                out.write(piece)
                hasher.update(piece)
                size += len(piece)
            out.flush()
            os.fsync(out.fileno())
    except (binascii.Error, ValueError) as exc:
        path.unlink(missing_ok=True)
        raise ProtocolError(f"inline Daten is not valid base64: {exc}") from exc
    return path, size, hasher.hexdigests()


def _datei_elements(transfer: etree._Element) -> Iterator[etree._Element]:
    for element in transfer.iter("{*}Datei"):
        if child(element, "Daten") is not None:
            yield element


def _spool_datei(
    datei: etree._Element,
    attachments: Mapping[str, SpooledPart],
    spool_dir: Path,
) -> tuple[Path, int, Mapping[str, str], str | None]:
    daten = child(datei, "Daten")
    assert daten is not None
    content_type = daten.get(_XMIME_CONTENT_TYPE)
    include = descendant(daten, "Include")
    if include is not None:
        href = include.get("href")
        if not href:
            raise ProtocolError("xop:Include without href")
        part = resolve_cid(href, attachments)
        return part.path, part.size, part.digests, content_type or part.content_type
    if not daten.text or not daten.text.strip():
        raise ProtocolError("Datei without Daten (neither inline base64 nor xop:Include)")
    path, size, digests = _decode_inline(daten.text, spool_dir)
    return path, size, digests, content_type


def _documents(
    lieferung: etree._Element,
    attachments: Mapping[str, SpooledPart],
    spool_dir: Path,
    limits: ArchiveLimits,
) -> list[SpooledDocument]:
    documents: list[SpooledDocument] = []
    for transfer in children(lieferung, "Transfer"):
        vsnr = child_text(descendant(transfer, "Versicherungsscheinnummer"))
        vu_number = child_text(descendant(transfer, "VUNummer"))
        for datei in _datei_elements(transfer):
            path, size, digests, content_type = _spool_datei(datei, attachments, spool_dir)
            verified: bool | None = None
            checksum = child(datei, "Pruefsumme")
            if checksum is not None:
                result = verify_checksum(
                    dict(digests), child_text(checksum, "Typ") or "", child_text(checksum, "Wert") or ""
                )
                verified = result.verified
            common: dict[str, Any] = {
                "document_type": child_text(datei, "DokumentartID"),
                "description": child_text(datei, "Kurzbeschreibung") or child_text(datei, "Bezeichnung"),
                "vsnr": vsnr,
                "vu_number": vu_number,
                "checksum_verified": verified,
            }
            name = child_text(datei, "Dateiname")
            if (child_text(datei, "Komprimierungstyp") or "").upper() == "ZIP":
                target = spool_dir / f"zip-{len(documents)}"
                target.mkdir()
                for member in unpack_zip(path, target, limits=limits):
                    documents.append(
                        SpooledDocument(
                            seq=len(documents),
                            original_name=member.original_name,
                            content_type=None,
                            path=member.path,
                            size=member.size,
                            sha256=member.sha256,
                            archive_name=name,
                            **common,
                        )
                    )
                path.unlink(missing_ok=True)
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
    owns ``spool_dir`` and removes it either way.
    """
    message = endpoint.build("getShipment", security, Request=request)
    response = endpoint.send_with_retry("getShipment", message, stream=True)
    with response:
        content_type = response.headers.get("Content-Type", "")

        def chunks() -> Iterator[bytes]:
            for chunk in response.iter_content(_CHUNK):
                if on_bytes is not None:
                    on_bytes(len(chunk))
                yield chunk

        attachments: Mapping[str, SpooledPart] = {}
        if is_multipart(content_type):
            reply = parse_multipart(content_type, chunks(), spool_dir)
            root = multipart_root_xml(reply)
            attachments = reply.attachments
        else:
            root = b"".join(chunks())
        payload = read_envelope(root, http_status=response.status_code, response=response, what="getShipment")
    return read_shipment_reply(payload, attachments, spool_dir, limits=limits)


def read_shipment_reply(
    payload: etree._Element,
    attachments: Mapping[str, SpooledPart],
    spool_dir: Path,
    *,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> DownloadedShipment:
    """Pure part of getShipment: the ``getShipmentResponse`` payload to spooled documents."""
    response_element = child(payload, "Response")
    if response_element is None:
        raise ProtocolError("getShipment: reply without Response element")
    status = check_status(response_element, "getShipment")
    lieferung = child(response_element, "Lieferung")
    if lieferung is None:
        raise ProtocolError("getShipment: reply without Lieferung")
    shipment = parse_shipment(lieferung, category_label)
    documents = _documents(lieferung, attachments, spool_dir, limits)
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
