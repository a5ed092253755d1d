"""Safe XML parsing and namespace-tolerant lookups for every XML bipro-ruv reads.

BiPRO never needs a DOCTYPE, entities or external references, so any reply that uses
them is refused (XXE, entity-expansion bombs). Providers differ in prefixes (``tran:``,
``t:``, ``xf:``) and sometimes in the namespace of shared elements (release-1 Norm 440
puts ``Status`` in the root namespace), so lookups match on the local name of children.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from lxml import etree

from bipro_ruv._redact import excerpt
from bipro_ruv.errors import MalformedXmlError, UnsafeXmlError

__all__ = [
    "NS",
    "child",
    "child_text",
    "child_texts",
    "children",
    "descendant",
    "local_name",
    "parse_xml",
]

NS = {
    "soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "soap12": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wst": "http://schemas.xmlsoap.org/ws/2005/02/trust",
    "wsc": "http://schemas.xmlsoap.org/ws/2005/02/sc",
    "nac": "http://www.bipro.net/namespace/nachrichten",
    "tran": "http://www.bipro.net/namespace/transfer",
    "allg": "http://www.bipro.net/namespace/allgemein",
    "gevo": "http://www.bipro.net/namespace/gevo",
    "bipro": "http://www.bipro.net/namespace",
    "xmime": "http://www.w3.org/2005/05/xmlmime",
    "xop": "http://www.w3.org/2004/08/xop/include",
}


_local = threading.local()


def _parser() -> etree.XMLParser:
    # One parser per thread: lxml parsers may be reused, but not shared between threads,
    # and making one costs as much as parsing a small reply.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
    return parser


def parse_xml(data: bytes, *, what: str = "reply") -> etree._Element:
    """Parse ``data`` safely and return the root element.

    Raises :class:`MalformedXmlError` for empty or not well-formed input and
    :class:`UnsafeXmlError` for any DOCTYPE (internal subsets carry entity bombs and
    external entities; a SOAP message must not contain one, SOAP 1.1 §3).
    """
    if not data or not data.strip():
        raise MalformedXmlError(f"empty {what}: no XML received")
    head = data[:4096].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise MalformedXmlError(f"{what} is an HTML page, not a SOAP message: {excerpt(data, 200)}")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in data[:65536] or b"<!ENTITY" in data[:65536]:
            raise UnsafeXmlError(f"{what} declares a DOCTYPE/entities; refused") from exc
        raise MalformedXmlError(f"{what} is not well-formed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise UnsafeXmlError(f"{what} declares a DOCTYPE; BiPRO messages never do, refused")
    return root


def local_name(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Child elements with local name ``name``, in any namespace (or none)."""
    return element.iterchildren(f"{{*}}{name}")


def child(element: etree._Element | None, *path: str) -> etree._Element | None:
    """Follow ``path`` of local names through first-matching children."""
    current = element
    for name in path:
        if current is None:
            return None
        current = next(children(current, name), None)
    return current


def child_text(element: etree._Element | None, *path: str) -> str | None:
    """Stripped text of the element at ``path``; None when absent or empty."""
    found = child(element, *path)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def child_texts(element: etree._Element) -> dict[str, str | None]:
    """:func:`child_text` of every child at once, by local name (the first child of a name wins).

    For reading a record of several fields: one pass over the children instead of one
    lookup per field.
    """
    found: dict[str, str | None] = {}
    for item in element.iterchildren(etree.Element):
        name = local_name(item)
        if name not in found:
            text = item.text.strip() if item.text is not None else ""
            found[name] = text or None
    return found


def descendant(element: etree._Element, name: str) -> etree._Element | None:
    """First descendant with local name ``name`` (document order; ``element`` itself included)."""
    return next(element.iter(f"{{*}}{name}"), None)
