"""MIME parts of an MTOM/XOP reply (RFC 2045-2047, RFC 2387, RFC 2392): their models,
headers, transfer encodings and where their decoded bytes go.

:class:`SpooledPart` and :class:`MultipartReply` are what :mod:`.mime` returns;
:func:`parse_header_value` reads a ``Content-Type``; :class:`Base64Decoder` and
:class:`FileSink` decode and spool a part (an inline base64 document too, in
:mod:`bipro_ruv.transfer._inline`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol
from urllib.parse import unquote

from bipro_ruv._wire.policy import reply_too_large
from bipro_ruv._wire.spool import MultiHasher
from bipro_ruv.errors import MimeError
from bipro_ruv.models import FrozenModel

__all__ = [
    "Base64Decoder",
    "FileSink",
    "MultipartReply",
    "Part",
    "RootSink",
    "SpooledPart",
    "bare_content_id",
    "decoder_for",
    "get_boundary",
    "is_multipart",
    "parse_header_value",
    "parse_headers",
    "resolve_cid",
]

_QP_MAX_LINE = 64 * 1024
_FIELD_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # an RFC 7230 token
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_QUOTED_PAIR = re.compile(r"\\(.)")


class SpooledPart(FrozenModel):
    """One attachment, written to ``path`` in the spool directory, already decoded.

    ``size`` and the digests are of the decoded bytes; ``digests`` holds what was
    computed while spooling (sha256, in hex), for :func:`~._files.verify_checksum`'s
    ``known``. ``warnings`` says what was odd about the reply where it concerns this part
    (e.g. it was the last part of a body without closing delimiter).
    """

    content_id: str
    content_type: str | None
    path: Path
    size: int
    sha256: str
    digests: Mapping[str, str]
    transfer_encoding: str | None
    headers: Mapping[str, str]
    warnings: tuple[str, ...] = ()


class MultipartReply(FrozenModel):
    """A split multipart reply: the root part's bytes and the spooled attachments by Content-ID.

    ``warnings`` lists the quirks accepted (see the module docstring), empty for a sound reply.
    """

    root: bytes
    root_content_type: str
    root_charset: str | None
    attachments: Mapping[str, SpooledPart]
    warnings: tuple[str, ...] = ()

    def delete_spool_files(self) -> None:
        """Remove the attachment files that are still in the spool directory."""
        for part in self.attachments.values():
            part.path.unlink(missing_ok=True)


@functools.lru_cache(maxsize=256)
def parse_header_value(value: str) -> tuple[str, Mapping[str, str]]:
    """``'multipart/related; boundary="x"'`` -> ``("multipart/related", {"boundary": "x"})``.

    Parameter names are lower-cased; quoted values are unquoted; unquoted values are
    taken up to the next ``;`` (servers send ``boundary=----=_Part_0_1.2`` unquoted).
    The parameters are read-only: results are cached, since every reply's Content-Type
    is asked for its type, boundary and start, and part headers repeat.
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
            if "\\" in raw:
                raw = _QUOTED_PAIR.sub(r"\1", raw)
        params.setdefault(match.group(1).lower(), raw)
    return main.strip().lower(), MappingProxyType(params)


def is_multipart(content_type: str | None) -> bool:
    """True for any ``multipart/*`` Content-Type (the MTOM reply is ``multipart/related``)."""
    return bool(content_type) and parse_header_value(content_type or "")[0].startswith("multipart/")


def get_boundary(content_type: str) -> str:
    """The ``boundary`` parameter of a multipart Content-Type; MimeError if it is missing."""
    media_type, params = parse_header_value(content_type)
    if not media_type.startswith("multipart/"):
        raise MimeError(f"not a multipart reply: Content-Type {content_type!r}")
    boundary = params.get("boundary", "")
    if not boundary:
        raise MimeError(f"multipart Content-Type without boundary parameter: {content_type!r}")
    if len(boundary) > 200 or not (boundary.isascii() and boundary.isprintable()):
        raise MimeError(f"unusable multipart boundary {boundary!r}")
    return boundary


def bare_content_id(value: str) -> str:
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value


def resolve_cid(href: str, attachments: Mapping[str, SpooledPart]) -> SpooledPart:
    """The attachment an ``xop:Include href="cid:..."`` points to.

    RFC 2392 URL-encodes the Content-ID in the href (``%40`` for ``@``); servers that do
    not encode it are matched as sent.
    """
    ref = href.strip()
    if ref[:4].lower() != "cid:":
        raise MimeError(f"xop:Include href is not a cid: URL: {href!r}")
    ref = ref[4:]
    for candidate in (bare_content_id(unquote(ref)), bare_content_id(ref)):
        if candidate in attachments:
            return attachments[candidate]
    known = ", ".join(sorted(attachments)[:5]) or "none"
    raise MimeError(f"xop:Include href {href!r} names no attachment (Content-IDs: {known})")


def parse_headers(block: bytes, part_no: int) -> dict[str, str]:
    """Header block -> {lower-case name: value}; folded lines are joined (RFC 5322 §2.2.3)."""
    lines: list[str] = []
    for line in block.decode("latin-1").splitlines():
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line)
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name.strip()):
            raise MimeError(
                f"part {part_no}: malformed header line {line[:60]!r} "
                "(missing blank line between headers and body?)"
            )
        headers.setdefault(name.strip().lower(), value.strip())
    return headers


_Bytes = bytes | bytearray | memoryview


class _Decoder(Protocol):
    def feed(self, data: _Bytes) -> _Bytes: ...

    def flush(self) -> bytes: ...


class _Identity:
    def feed(self, data: _Bytes) -> _Bytes:
        return data

    def flush(self) -> bytes:
        return b""


class Base64Decoder:
    """Decodes as the data arrives: whole 4-character groups out, the remainder kept."""

    def __init__(self, part_no: int) -> None:
        self._pending = bytearray()
        self._part_no = part_no

    def _decode(self, data: bytes) -> bytes:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MimeError(f"part {self._part_no}: invalid base64 body ({exc})") from exc

    def feed(self, data: _Bytes) -> bytes:
        self._pending += bytes(data).translate(None, b" \t\r\n")
        usable = len(self._pending) // 4 * 4
        if not usable:
            return b""
        out = self._decode(bytes(self._pending[:usable]))
        del self._pending[:usable]
        return out

    def flush(self) -> bytes:
        if self._pending:
            raise MimeError(f"part {self._part_no}: base64 body ends with an incomplete group")
        return b""


class _QuotedPrintable:
    """Decodes line by line, so a soft line break (``=`` at the end of a line) is never split."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: _Bytes) -> bytes:
        self._pending += data
        cut = self._pending.rfind(b"\n") + 1
        if not cut and len(self._pending) > _QP_MAX_LINE:
            # A line longer than RFC 2045 allows: cut anywhere but inside an "=XX" escape.
            cut = len(self._pending)
            escape = self._pending.find(b"=", cut - 2)
            if escape >= 0:
                cut = escape
        out = binascii.a2b_qp(bytes(self._pending[:cut]))
        del self._pending[:cut]
        return out

    def flush(self) -> bytes:
        out = binascii.a2b_qp(bytes(self._pending))
        self._pending.clear()
        return out


def decoder_for(encoding: str | None, part_no: int) -> _Decoder:
    if encoding in (None, "binary", "8bit", "7bit"):
        return _Identity()
    if encoding == "base64":
        return Base64Decoder(part_no)
    if encoding == "quoted-printable":
        return _QuotedPrintable()
    raise MimeError(f"part {part_no}: unsupported Content-Transfer-Encoding {encoding!r}")


class RootSink:
    def __init__(self, limit: int) -> None:
        self.data = bytearray()
        self._limit = limit

    def write(self, data: _Bytes) -> None:
        if len(self.data) + len(data) > self._limit:
            # Callers pass ReplyLimits.xml_bytes: the XML of a reply is what it bounds.
            raise reply_too_large(
                f"multipart root part larger than {self._limit} bytes", "ReplyLimits.xml_bytes", self._limit
            )
        self.data += data


class FileSink:
    """An attachment on its way to a spool file: written unbuffered (the parser hands
    over chunks of the reply, not small pieces), hashed on the way (SHA-256 only: any
    other ``Pruefsumme`` is checked from the file), fsync'ed at the end."""

    def __init__(self, spool_dir: Path, created: list[Path]) -> None:
        fd, name = tempfile.mkstemp(dir=spool_dir, prefix="part-", suffix=".bin")
        self.fd, self.path = fd, Path(name)
        created.append(self.path)
        self.hasher = MultiHasher()
        self.closed = False

    def write(self, data: _Bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.hasher.update(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                os.fsync(self.fd)
            finally:
                os.close(self.fd)

    def discard(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)


class Part:
    """The part being read: its headers, decoder and where the decoded bytes go."""

    def __init__(self, headers: dict[str, str], decoder: _Decoder, sink: RootSink | FileSink) -> None:
        self.headers = headers
        self.decoder = decoder
        self.sink = sink
        self.raw_size = 0  # bytes of the body read so far, before decoding

    def write(self, raw: _Bytes) -> None:
        if raw:
            self.raw_size += len(raw)
            self.sink.write(self.decoder.feed(raw))
