"""Streaming multipart/related parser for MTOM/XOP replies (BiPRO Norm 430 getShipment).

A getShipment reply may carry its documents as XOP attachments: the SOAP envelope is
the root part (``application/xop+xml; type="text/xml"``) and each ``allg:Daten`` holds
``<xop:Include href="cid:..."/>`` pointing at a part with that ``Content-ID``
(RFC 2387 multipart/related, W3C XOP, RFC 2392 cid URLs). This module splits such a
body as it arrives, in constant memory: the root part is kept in memory (bounded),
every other part goes straight to a spool file, hashed and counted on the way.

RFC 2046 §5.1.1 is the rule for the delimiter, and the reason for this module::

    The boundary delimiter MUST occur at the beginning of a line, i.e., following
    a CRLF, and the initial CRLF is considered to be attached to the boundary
    delimiter line rather than part of the preceding part.

So a binary part that ends in ``\\r\\n`` keeps it: only the CRLF directly before
``--boundary`` is dropped (zeep's decoder drops one byte too many). A bare LF is
accepted in place of CRLF, as some servers send it.

Every violation raises :class:`MimeError` (the peer's fault), after the spool files
written so far have been deleted.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict

from bipro_ruv.errors import MimeError
from bipro_ruv.transfer._files import MultiHasher

__all__ = [
    "MultipartReply",
    "SpooledPart",
    "get_boundary",
    "is_multipart",
    "parse_header_value",
    "parse_multipart",
    "resolve_cid",
]

_MAX_HEADER_BYTES = 64 * 1024
_MAX_PADDING = 256  # RFC 2046 transport padding (spaces after the boundary) we wait for
_QP_MAX_LINE = 64 * 1024
_FIELD_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # an RFC 7230 token
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_QUOTED_PAIR = re.compile(r"\\(.)")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpooledPart(_Frozen):
    """One attachment, written to ``path`` in the spool directory, already decoded.

    ``size`` and the digests are of the decoded bytes; ``digests`` holds md5, sha1 and
    sha256 in hex so any ``Pruefsumme`` can be checked without reading the file again.
    """

    content_id: str
    content_type: str | None
    path: Path
    size: int
    sha256: str
    digests: Mapping[str, str]
    transfer_encoding: str | None
    headers: Mapping[str, str]


class MultipartReply(_Frozen):
    """A split multipart reply: the root part's bytes and the spooled attachments by Content-ID."""

    root: bytes
    root_content_type: str
    root_charset: str | None
    attachments: Mapping[str, SpooledPart]

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


def _content_id(value: str) -> str:
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
    for candidate in (_content_id(unquote(ref)), _content_id(ref)):
        if candidate in attachments:
            return attachments[candidate]
    known = ", ".join(sorted(attachments)[:5]) or "none"
    raise MimeError(f"xop:Include href {href!r} names no attachment (Content-IDs: {known})")


def _parse_headers(block: bytes, part_no: int) -> dict[str, str]:
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


class _Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Identity:
    def feed(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Base64:
    """Decodes as the data arrives: whole 4-character groups out, the remainder kept."""

    def __init__(self, part_no: int) -> None:
        self._pending = bytearray()
        self._part_no = part_no

    def _decode(self, data: bytes) -> bytes:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MimeError(f"part {self._part_no}: invalid base64 body ({exc})") from exc

    def feed(self, data: bytes) -> bytes:
        self._pending += data.translate(None, b" \t\r\n")
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

    def feed(self, data: bytes) -> bytes:
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


def _decoder(encoding: str | None, part_no: int) -> _Decoder:
    if encoding in (None, "binary", "8bit", "7bit"):
        return _Identity()
    if encoding == "base64":
        return _Base64(part_no)
    if encoding == "quoted-printable":
        return _QuotedPrintable()
    raise MimeError(f"part {part_no}: unsupported Content-Transfer-Encoding {encoding!r}")


class _RootSink:
    def __init__(self, limit: int) -> None:
        self.data = bytearray()
        self._limit = limit

    def write(self, data: bytes) -> None:
        if len(self.data) + len(data) > self._limit:
            raise MimeError(f"root part larger than {self._limit} bytes")
        self.data += data


class _FileSink:
    """An attachment on its way to a spool file: written unbuffered (the parser hands
    over chunks of the reply, not small pieces), hashed on the way, fsync'ed at the end."""

    def __init__(self, spool_dir: Path, created: list[Path]) -> None:
        fd, name = tempfile.mkstemp(dir=spool_dir, prefix="part-", suffix=".bin")
        self.fd, self.path = fd, Path(name)
        created.append(self.path)
        self.hasher = MultiHasher()
        self.closed = False

    def write(self, data: bytes) -> None:
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


class _Part:
    """The part being read: its headers, decoder and where the decoded bytes go."""

    def __init__(self, headers: dict[str, str], decoder: _Decoder, sink: _RootSink | _FileSink) -> None:
        self.headers = headers
        self.decoder = decoder
        self.sink = sink

    def write(self, raw: bytes) -> None:
        if raw:
            self.sink.write(self.decoder.feed(raw))


_PREAMBLE, _HEADERS, _BODY, _DONE = range(4)
_MORE, _NOT_DELIMITER, _OPEN, _CLOSE = range(4)


class _Parser:
    """Push parser: ``feed`` chunks of any size, then ``finish``.

    The buffer holds at most one header block, or the tail of a body that may be the
    start of a delimiter, plus the last chunk fed.
    """

    def __init__(
        self, boundary: str, start: str | None, spool_dir: Path, max_root_bytes: int, max_parts: int
    ) -> None:
        self._delimiter = b"\n--" + boundary.encode("ascii")
        self._start = start
        self._spool_dir = spool_dir
        self._max_root_bytes = max_root_bytes
        self._max_parts = max_parts
        # A virtual line break lets the first delimiter match at the very start of the body.
        self._buf = bytearray(b"\n")
        self._scan = 0
        self._state = _PREAMBLE
        self._crlf = True
        self._part: _Part | None = None
        self._at_body_start = False
        self._content_ids: set[str] = set()
        self._part_no = 0
        self.created: list[Path] = []
        self.root: tuple[dict[str, str], bytes] | None = None
        self.attachments: dict[str, SpooledPart] = {}

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> None:
        self._buf += data
        self._run(eof=False)

    def finish(self) -> None:
        self._run(eof=True)
        if self._state == _PREAMBLE:
            raise MimeError("no opening multipart delimiter found in the body")
        if self._state != _DONE:
            raise MimeError(
                f"multipart body truncated in part {self._part_no}: the stream ended before the "
                "closing delimiter"
            )

    def abort(self) -> None:
        if self._part is not None and isinstance(self._part.sink, _FileSink):
            self._part.sink.discard()
        for path in self.created:
            path.unlink(missing_ok=True)

    def _run(self, *, eof: bool) -> None:
        steps = {_PREAMBLE: self._preamble, _HEADERS: self._headers, _BODY: self._body}
        while self._state in steps and steps[self._state](eof):
            pass

    def _delimiter_end(self, pos: int, eof: bool) -> tuple[int, int]:
        """Classify what follows ``--boundary`` at ``pos``: (kind, index after the delimiter line)."""
        buf = self._buf
        if buf[pos : pos + 2] == b"--":
            return _CLOSE, pos + 2
        if len(buf) - pos < 2 and bytes(buf[pos : pos + 1]) in (b"", b"-"):
            return (_NOT_DELIMITER if eof else _MORE), pos
        i = pos
        while i < len(buf) and buf[i] in b" \t" and i - pos < _MAX_PADDING:
            i += 1
        if i >= len(buf) or (buf[i] == 0x0D and i + 1 >= len(buf)):
            return (_NOT_DELIMITER if eof else _MORE), pos
        if buf[i] == 0x0A:
            return _OPEN, i + 1
        if buf[i : i + 2] == b"\r\n":
            return _OPEN, i + 2
        # "--boundaryX...": the boundary is only a prefix of this line, so it is content.
        return _NOT_DELIMITER, pos

    def _preamble(self, eof: bool) -> bool:
        buf = self._buf
        index = buf.find(self._delimiter, self._scan)
        if index < 0:
            keep = len(self._delimiter) - 1
            if len(buf) > keep:
                del buf[: len(buf) - keep]
            self._scan = 0
            return False
        kind, end = self._delimiter_end(index + len(self._delimiter), eof)
        if kind == _MORE:
            del buf[:index]
            self._scan = 0
            return False
        if kind == _NOT_DELIMITER:
            self._scan = index + 1
            return True
        if kind == _CLOSE:
            raise MimeError("multipart body has no parts: the first delimiter is the closing one")
        self._crlf = buf[end - 2 : end] == b"\r\n"
        del buf[:end]
        self._scan = 0
        self._state = _HEADERS
        return True

    def _headers(self, eof: bool) -> bool:
        buf = self._buf
        if buf[:1] == b"\n" or buf[:2] == b"\r\n":
            block_end, body_start = 0, buf.index(b"\n") + 1
        else:
            ends = [(i, i + 2) for i in (buf.find(b"\n\n", self._scan),) if i >= 0]
            ends += [(i, i + 3) for i in (buf.find(b"\n\r\n", self._scan),) if i >= 0]
            if not ends:
                self._check_header_block(eof)
                self._scan = max(0, len(buf) - 3)
                return False
            block_end, body_start = min(ends)
        block = bytes(buf[:block_end])
        if block.startswith(self._delimiter[1:]) or self._delimiter in block:
            self._no_separator()
        del buf[:body_start]
        self._scan = 0
        self._begin_part(_parse_headers(block, self._part_no + 1))
        self._state = _BODY
        self._at_body_start = True
        return True

    def _check_header_block(self, eof: bool) -> None:
        buf = self._buf
        since = max(0, self._scan - len(self._delimiter))
        if buf.startswith(self._delimiter[1:]) or buf.find(self._delimiter, since) >= 0:
            self._no_separator()
        if len(buf) > _MAX_HEADER_BYTES:
            raise MimeError(
                f"part {self._part_no + 1}: no blank line within {_MAX_HEADER_BYTES} bytes of headers"
            )
        if eof:
            raise MimeError(f"multipart body truncated in the headers of part {self._part_no + 1}")

    def _no_separator(self) -> None:
        raise MimeError(f"part {self._part_no + 1} has no blank line between its headers and its body")

    def _begin_part(self, headers: dict[str, str]) -> None:
        self._part_no += 1
        if self._part_no > self._max_parts:
            raise MimeError(f"multipart body has more than {self._max_parts} parts")
        content_id = _content_id(headers.get("content-id", ""))
        is_root = self.root is None and (content_id == self._start if self._start else self._part_no == 1)
        if not content_id and not is_root:
            raise MimeError(f"part {self._part_no} has no Content-ID, so nothing can refer to it")
        if content_id in self._content_ids:
            raise MimeError(f"duplicate Content-ID <{content_id}> in part {self._part_no}")
        if content_id:
            self._content_ids.add(content_id)
        encoding = headers.get("content-transfer-encoding", "").lower() or None
        decoder = _decoder(encoding, self._part_no)
        sink: _RootSink | _FileSink
        sink = _RootSink(self._max_root_bytes) if is_root else _FileSink(self._spool_dir, self.created)
        self._part = _Part(headers, decoder, sink)

    def _body(self, eof: bool) -> bool:
        buf = self._buf
        if self._at_body_start:
            # "headers CRLF CRLF --boundary": the blank line was the delimiter's own CRLF,
            # so this part has no body at all (RFC 2046: body-part := headers [CRLF *OCTET]).
            dash = self._delimiter[1:]
            if not eof and len(buf) < len(dash) and dash.startswith(buf):
                return False
            if buf.startswith(dash):
                kind, end = self._delimiter_end(len(dash), eof)
                if kind == _MORE:
                    return False
                if kind != _NOT_DELIMITER:
                    self._close_part(0, kind, end)
                    return True
            self._at_body_start = False
        index = buf.find(self._delimiter, self._scan)
        if index < 0:
            # Hold back what may be the start of a delimiter, and the CR before it.
            self._scan = max(self._scan, len(buf) - len(self._delimiter) + 1)
            self._emit(len(buf) - len(self._delimiter))
            return False
        kind, end = self._delimiter_end(index + len(self._delimiter), eof)
        if kind == _MORE:
            self._emit(index - 1)
            return False
        if kind == _NOT_DELIMITER:
            self._scan = index + 1
            return True
        body_end = index - 1 if self._crlf and index > 0 and buf[index - 1] == 0x0D else index
        self._close_part(body_end, kind, end)
        return True

    def _close_part(self, body_end: int, kind: int, end: int) -> None:
        part = self._part
        assert part is not None
        part.write(bytes(self._buf[:body_end]))
        del self._buf[:end]
        self._scan = 0
        self._end_part(part)
        self._state = _HEADERS if kind == _OPEN else _DONE

    def _emit(self, count: int) -> None:
        if count <= 0:
            return
        assert self._part is not None
        self._part.write(bytes(self._buf[:count]))
        del self._buf[:count]
        self._scan = max(0, self._scan - count)

    def _end_part(self, part: _Part) -> None:
        part.sink.write(part.decoder.flush())
        self._part = None
        if isinstance(part.sink, _RootSink):
            self.root = (part.headers, bytes(part.sink.data))
            return
        part.sink.close()
        content_id = _content_id(part.headers["content-id"])
        digests = part.sink.hasher.hexdigests()
        content_type = part.headers.get("content-type")
        self.attachments[content_id] = SpooledPart(
            content_id=content_id,
            content_type=parse_header_value(content_type)[0] if content_type else None,
            path=part.sink.path,
            size=part.sink.hasher.size,
            sha256=digests["sha256"],
            digests=digests,
            transfer_encoding=part.headers.get("content-transfer-encoding", "").lower() or None,
            headers=part.headers,
        )


def parse_multipart(
    content_type: str,
    chunks: Iterable[bytes],
    spool_dir: Path,
    *,
    max_root_bytes: int = 64 * 2**20,
    max_parts: int = 10_000,
) -> MultipartReply:
    """Split a multipart/related body read from ``chunks`` (any sizes) into root and attachments.

    ``content_type`` is the HTTP Content-Type header. The root part is the one named
    by its ``start`` parameter, else the first part. Attachments are written decoded
    (binary/8bit as is, base64 and quoted-printable decoded) to new files in
    ``spool_dir``, fsync'ed before this returns; the caller moves or deletes them.
    Reading stops at the closing delimiter; the epilogue is ignored.
    """
    boundary = get_boundary(content_type)
    start = _content_id(parse_header_value(content_type)[1].get("start", "")) or None
    parser = _Parser(boundary, start, spool_dir, max_root_bytes, max_parts)
    try:
        for chunk in chunks:
            parser.feed(chunk)
            if parser.done:
                break
        parser.finish()
        if parser.root is None:
            raise MimeError(f"root part <{start}> named by the start parameter is missing")
    except BaseException:
        parser.abort()
        raise
    root_headers, root = parser.root
    root_type, root_params = parse_header_value(root_headers.get("content-type", "text/xml"))
    charset = root_params.get("charset")
    return MultipartReply(
        root=root,
        root_content_type=root_type,
        root_charset=charset.lower() if charset else None,
        attachments=parser.attachments,
    )
