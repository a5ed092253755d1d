"""Request envelopes from templates: zeep builds each request shape once, later calls fill in values.

Building an envelope with zeep (schema walk, lxml tree, WS-Security header,
serialization) costs about as much CPU as the HTTP exchange that sends it. A fetch
sends the same two requests thousands of times, differing only in the shipment ID.
So for every *shape* of request (operation, security token, which fields are set,
non-text values) zeep builds the envelope once with a marker in place of each text
value; the serialized bytes are cut at the markers, and later calls join the pieces
with the XML-escaped values. The bytes are the same as zeep's (a test compares them),
and anything the template cannot reproduce exactly goes through zeep as before: lists,
dates and other non-text values, characters XML forbids (zeep raises for them), and
security headers that carry secrets (the STS password is never kept in a template).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EnvelopeTemplates", "escape_text"]

# Private-use characters: valid in XML, passed through by zeep and lxml unchanged.
_MARK = "\ue000{}\ue001"
_MAX_TEMPLATES = 64
# Characters XML 1.0 does not allow (lxml refuses them): such a value goes through zeep.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape_text(value: str) -> str:
    """Escape ``value`` as lxml does in element text (``&``, ``<``, ``>``, CR)."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


@dataclass(frozen=True)
class _Template:
    pieces: tuple[bytes, ...]  # one more than there are values

    def fill(self, values: list[str]) -> bytes:
        out = [self.pieces[0]]
        for value, piece in zip(values, self.pieces[1:], strict=True):
            out.append(escape_text(value).encode("utf-8"))
            out.append(piece)
        return b"".join(out)


def _shape(body: Mapping[str, Any], values: list[str]) -> tuple[Any, ...] | None:
    """The request's structure with its text values taken out into ``values``; None if not templatable."""
    shape: list[Any] = []
    for name, value in body.items():
        if isinstance(value, str):
            shape.append((name, "text"))
            values.append(value)
        elif isinstance(value, Mapping):
            inner = _shape(value, values)
            if inner is None:
                return None
            shape.append((name, inner))
        elif value is None or isinstance(value, (bool, int)):
            shape.append((name, "const", type(value).__name__, value))
        else:
            return None  # lists, dates, zeep objects: zeep every time
    return tuple(shape)


def _with_marks(body: Mapping[str, Any], counter: list[int]) -> dict[str, Any]:
    marked: dict[str, Any] = {}
    for name, value in body.items():
        if isinstance(value, str):
            marked[name] = _MARK.format(counter[0])
            counter[0] += 1
        elif isinstance(value, Mapping):
            marked[name] = _with_marks(value, counter)
        else:
            marked[name] = value
    return marked


def _cut(envelope: bytes, count: int) -> _Template | None:
    pieces: list[bytes] = []
    rest = envelope
    for index in range(count):
        mark = _MARK.format(index).encode("utf-8")
        if envelope.count(mark) != 1:
            return None  # zeep dropped, repeated or transformed the value: no template
        before, _, rest = rest.partition(mark)
        pieces.append(before)
    pieces.append(rest)
    if any(b"\xee\x80\x80" in piece for piece in pieces):  # a mark left over (U+E000)
        return None
    return _Template(tuple(pieces))


class EnvelopeTemplates:
    """Per-endpoint cache of envelope templates (thread-safe)."""

    def __init__(self) -> None:
        self._templates: dict[Any, _Template | None] = {}
        self._lock = threading.Lock()

    def build(
        self,
        operation: str,
        security: object | None,
        body: Mapping[str, Any],
        build: Callable[[str, Any, Mapping[str, Any]], bytes],
    ) -> bytes:
        """The envelope for ``operation``: from a template when possible, else ``build(...)``.

        ``build`` is the zeep path (operation, security, body) -> bytes. ``security``
        takes part only if it offers a ``template_key`` (a header without secrets).
        """
        security_key = None
        if security is not None:
            security_key = getattr(security, "template_key", None)
            if security_key is None:
                return build(operation, security, body)
        values: list[str] = []
        shape = _shape(body, values)
        if shape is None or any(_NOT_XML.search(value) for value in values):
            return build(operation, security, body)
        key = (operation, security_key, shape)
        with self._lock:
            known = key in self._templates
            template = self._templates.get(key)
        if not known:
            template = _cut(build(operation, security, _with_marks(body, [0])), len(values))
            with self._lock:
                if len(self._templates) >= _MAX_TEMPLATES:
                    self._templates.clear()  # e.g. many renewed tokens: start over
                self._templates[key] = template
        if template is None:
            return build(operation, security, body)
        return template.fill(values)
