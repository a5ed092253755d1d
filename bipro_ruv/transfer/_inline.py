"""getShipment replies with inline documents (Norm 430, ``allg:Daten`` as base64 text), read as they arrive.

Servers that do not use MTOM put every document into the XML as base64 text, tens of
megabytes in one text node. Joining such a body in memory and parsing it as a whole
would hold it twice (and libxml2 refuses text nodes over 10 MB without ``huge_tree``).
So the body is fed chunk by chunk to an lxml parser whose *target* builds the reply's
tree as :func:`bipro_ruv._wire.xml.parse_xml` would, except for the text of each ``Daten``
element: that is decoded as it arrives into a spool file, exactly like an MTOM
attachment, and the element is marked with a reference to it (:data:`SPOOLED_ATTRIBUTE`).
Memory stays bounded by the XML around the documents (``ReplyLimits.xml_bytes``).

The safety rules of :mod:`bipro_ruv._wire.xml` hold here too: no DOCTYPE, no entities, no
network, HTML pages and empty bodies refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from lxml import etree

from bipro_ruv._wire.mime_parts import Base64Decoder, FileSink, SpooledPart
from bipro_ruv._wire.policy import reply_too_large
from bipro_ruv._wire.xml import parse_xml
from bipro_ruv.errors import MalformedXmlError, ProtocolError, UnsafeXmlError

__all__ = ["SPOOLED_ATTRIBUTE", "InlineReply", "parse_inline_reply"]

#: Set on a ``Daten`` element whose base64 text was spooled; the value is the key of its
#: :class:`SpooledPart` in :attr:`InlineReply.attachments`.
SPOOLED_ATTRIBUTE = "{urn:bipro-ruv:spool}part"

_HTML_STARTS = (b"<!doctype html", b"<html")
# lxml's TreeBuilder takes time quadratic in the attributes of one element and in the
# namespace declarations in scope (4 MB of them: minutes in a single feed(), which no
# deadline interrupts). BiPRO messages have a few dozen of either.
_MAX_ATTRIBUTES = 1000
_MAX_NAMESPACES = 1000
#: As deep as :func:`bipro_ruv._wire.xml.parse_xml` reads (libxml2 without huge_tree); a reply is ~12 deep.
_MAX_DEPTH = 256
#: Inline documents in one reply, as many as MTOM parts (``parse_multipart``'s max_parts).
_MAX_DOCUMENTS = 10_000


class InlineReply:
    """The reply's root element (documents replaced by references) and the spooled documents."""

    def __init__(self, root: etree._Element, attachments: dict[str, SpooledPart]) -> None:
        self.root = root
        self.attachments = attachments


class _Target:
    """lxml parser target: a TreeBuilder, with ``Daten`` text diverted to spool files."""

    def __init__(self, spool_dir: Path, xml_limit: int) -> None:
        self._builder: Any = etree.TreeBuilder()  # lxml-stubs lack its nsmap argument
        self._spool_dir = spool_dir
        self._xml_limit = xml_limit
        self._xml_bytes = 0
        self._sink: FileSink | None = None
        self._decoder: Base64Decoder | None = None
        self._seen_text = False
        self.created: list[Path] = []
        self.attachments: dict[str, SpooledPart] = {}
        self.unsafe = False
        self.error: BaseException | None = None
        self._declared: list[int] = []  # namespace declarations of each open element
        self._open: list[str] = []  # local names of the open elements
        self._in_scope = 0

    # lxml swallows exceptions raised in a target's callbacks when the parse fails
    # anyway, so each callback records its error, and the caller raises it.
    def _count(self, size: int) -> None:
        self._xml_bytes += size
        if self._xml_bytes > self._xml_limit:
            raise reply_too_large(
                f"getShipment reply holds more than {self._xml_limit} bytes of XML besides its documents",
                "ReplyLimits.xml_bytes",
                self._xml_limit,
            )

    def start(self, tag: str, attrib: dict[str, str], nsmap: dict[str | None, str] | None = None) -> Any:
        if self.error is not None:
            return None
        try:
            if self._sink is not None:
                self._end_daten(None)  # an element inside Daten (xop:Include): not inline base64
            if SPOOLED_ATTRIBUTE in attrib:
                # Only this parser may mark a Daten as spooled: a server-made mark would point
                # _download at a spool file of its choosing, or at none.
                raise ProtocolError(f"getShipment reply uses bipro-ruv's own attribute {SPOOLED_ATTRIBUTE}")
            namespaces = {key or None: value for key, value in (nsmap or {}).items()}
            self._declared.append(len(namespaces))
            self._in_scope += len(namespaces)
            if len(attrib) > _MAX_ATTRIBUTES or self._in_scope > _MAX_NAMESPACES:
                raise ProtocolError(
                    f"getShipment reply has an element with {len(attrib)} attributes and "
                    f"{self._in_scope} namespace declarations in scope (at most {_MAX_ATTRIBUTES} "
                    f"and {_MAX_NAMESPACES} are read)"
                )
            self._count(
                len(tag)
                + sum(len(k) + len(v) for k, v in attrib.items())
                + sum(len(k or "") + len(v) for k, v in namespaces.items())
            )
            element = self._builder.start(tag, attrib, namespaces)
            name = tag.rpartition("}")[2]
            # The document of an allg:Datei (CT_Daten); an element of that name elsewhere
            # (in a GeVo's data, say) is data of the Lieferung and stays in the tree.
            is_document = name == "Daten" and bool(self._open) and self._open[-1] == "Datei"
            self._open.append(name)
            if len(self._open) > _MAX_DEPTH:
                raise ProtocolError(f"getShipment reply nests elements deeper than {_MAX_DEPTH}")
            if is_document and len(self.attachments) >= _MAX_DOCUMENTS:
                raise ProtocolError(f"getShipment reply holds more than {_MAX_DOCUMENTS} inline documents")
            if is_document:
                self._begin_daten()
            return element
        except BaseException as exc:  # noqa: BLE001 - re-raised by parse_inline_reply
            self.error = exc
            return None

    def data(self, text: str) -> None:
        if self.error is not None:
            return
        try:
            if self._sink is not None and self._decoder is not None:
                if not self._seen_text and not text.strip():
                    return  # whitespace before a possible xop:Include
                self._seen_text = True
                try:
                    raw = text.encode("ascii")
                except UnicodeEncodeError as exc:
                    raise ProtocolError("inline Daten is not valid base64: non-ASCII characters") from exc
                self._sink.write(self._decoder.feed(raw))
                return
            self._count(len(text))
            self._builder.data(text)
        except BaseException as exc:  # noqa: BLE001 - re-raised by parse_inline_reply
            self.error = exc

    def end(self, tag: str) -> Any:
        if self.error is not None:
            return None
        try:
            element = self._builder.end(tag)
            self._in_scope -= self._declared.pop()
            self._open.pop()
            if self._sink is not None:
                self._end_daten(element)
            return element
        except BaseException as exc:  # noqa: BLE001 - re-raised by parse_inline_reply
            self.error = exc
            return None

    def doctype(self, *args: object) -> None:
        self.unsafe = True

    def comment(self, text: str) -> None:
        """Comments are dropped, as :func:`bipro_ruv._wire.xml.parse_xml` drops them."""

    def pi(self, target: str, data: str | None = None) -> None:
        """Processing instructions are dropped too."""

    def close(self) -> Any:
        return self._builder.close()

    def _begin_daten(self) -> None:
        self._sink = FileSink(self._spool_dir, self.created)
        self._decoder = Base64Decoder(len(self.attachments) + 1)
        self._seen_text = False

    def _end_daten(self, element: etree._Element | None) -> None:
        sink, decoder = self._sink, self._decoder
        assert sink is not None
        assert decoder is not None
        self._sink = self._decoder = None
        if not self._seen_text:
            sink.discard()
            sink.path.unlink(missing_ok=True)
            self.created.remove(sink.path)
            return
        try:
            if element is None:
                raise ProtocolError("Daten holds both base64 text and an element")
            sink.write(decoder.flush())
            sink.close()
        except BaseException:
            sink.discard()  # abort() no longer sees this sink: close its descriptor here
            raise
        key = f"inline-{len(self.attachments) + 1}"
        digests = sink.hasher.hexdigests()
        self.attachments[key] = SpooledPart(
            content_id=key,
            content_type=None,
            path=sink.path,
            size=sink.hasher.size,
            sha256=digests["sha256"],
            digests=digests,
            transfer_encoding="base64",
            headers={},
        )
        element.set(SPOOLED_ATTRIBUTE, key)

    def abort(self) -> None:
        if self._sink is not None:
            self._sink.discard()
        for path in self.created:
            path.unlink(missing_ok=True)


def parse_inline_reply(chunks: Iterable[bytes], spool_dir: Path, *, xml_limit: int) -> InlineReply:
    """Parse a getShipment XML reply from ``chunks``, spooling inline documents to ``spool_dir``.

    Raises :class:`MalformedXmlError` / :class:`UnsafeXmlError` as :func:`parse_xml` does;
    every spool file is deleted again when anything fails.
    """
    target = _Target(spool_dir, xml_limit)
    parser = etree.XMLParser(
        target=cast(Any, target), resolve_entities=False, no_network=True, load_dtd=False
    )
    head = b""
    try:
        for chunk in chunks:
            if len(head) < 64:
                head += chunk[:64]
                start = head.lstrip().lower()
                if start.startswith(_HTML_STARTS):
                    # The same message the whole-body parser gives (it sees more of the page).
                    parse_xml(head + chunk[64:4096], what="getShipment")
            if not chunk:
                continue
            try:
                parser.feed(chunk)
            except etree.XMLSyntaxError as exc:
                _raise_stored(target)
                raise MalformedXmlError(f"getShipment is not well-formed XML: {exc}") from exc
            _raise_stored(target)
        if not head.strip():
            raise MalformedXmlError("empty getShipment: no XML received")
        try:
            root = parser.close()
        except etree.XMLSyntaxError as exc:
            _raise_stored(target)
            raise MalformedXmlError(f"getShipment is not well-formed XML: {exc}") from exc
        _raise_stored(target)
    except BaseException:
        target.abort()
        raise
    return InlineReply(root, target.attachments)


def _raise_stored(target: _Target) -> None:
    if target.unsafe:
        raise UnsafeXmlError("getShipment declares a DOCTYPE; BiPRO messages never do, refused")
    if target.error is not None:
        raise target.error
