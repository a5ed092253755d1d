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
written so far have been deleted. Two quirks of real servers are accepted instead, as
JavaMail and Python's :mod:`email` accept them, but only when the caller confirms the
HTTP body itself arrived complete (``body_complete``), since a body cut off on the wire
looks just the same: a body without its closing delimiter (the last part runs to the
end of the body, less a last line that is the closing delimiter of another boundary),
and a body that never uses the boundary its Content-Type declares but another one
(adopted from its first ``--token`` line that is followed by MIME headers). Both are
recorded as warnings on the reply and on the parts they concern; a ``Pruefsumme``
still decides whether a document is sound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from bipro_ruv._wire.mime_parts import (
    FileSink,
    MultipartReply,
    Part,
    RootSink,
    SpooledPart,
    bare_content_id,
    decoder_for,
    get_boundary,
    parse_header_value,
    parse_headers,
)
from bipro_ruv._wire.mime_quirks import (
    BODY,
    CLOSE,
    DONE,
    HEADERS,
    MORE,
    NOT_DELIMITER,
    OPEN,
    PREAMBLE,
    WINDOW,
    Quirks,
    Watch,
)
from bipro_ruv._wire.policy import ReplyLimits
from bipro_ruv.errors import MimeError

__all__ = ["parse_multipart"]

_MAX_HEADER_BYTES = 64 * 1024
_MAX_PADDING = 256  # RFC 2046 transport padding (spaces after the boundary) we wait for
# Raw bytes of a body held back until more arrives: a delimiter split between chunks,
# or a final line _FINAL_LINE may have to cut off (2 + 2 + 200 + 2 + 256 bytes at most).
_HOLD = 512


class _Parser(Quirks):
    """Push parser: ``feed`` chunks of any size, then ``finish``.

    The buffer holds at most one header block, or the tail of a body that may be the
    start of a delimiter (:data:`_HOLD` bytes), plus the last chunk fed. Inside a large
    part, a chunk without any delimiter bypasses the buffer: it goes to the sink as a
    view, less the bytes held back.
    """

    def __init__(
        self,
        boundary: str,
        start: str | None,
        spool_dir: Path,
        max_root_bytes: int,
        max_parts: int,
        *,
        may_adopt: bool,
    ) -> None:
        self._declared = boundary
        self._start = start
        self._spool_dir = spool_dir
        self._max_root_bytes = max_root_bytes
        self._max_parts = max_parts
        self._may_adopt = may_adopt
        self._watch: Watch | None = None
        self._complete = False
        self.created: list[Path] = []
        self._reset(boundary)

    def _reset(self, boundary: str) -> None:
        self._boundary = boundary
        self._delimiter = b"\n--" + boundary.encode("ascii")
        # A virtual line break lets the first delimiter match at the very start of the body.
        self._buf = bytearray(b"\n")
        self._scan = 0
        self._state = PREAMBLE
        self._crlf = True
        self._part: Part | None = None
        self._at_body_start = False
        self._content_ids: set[str] = set()
        self._part_no = 0
        self._adopted: str | None = None  # the warning, once another boundary is adopted
        self.root: tuple[dict[str, str], bytes] | None = None
        self.attachments: dict[str, SpooledPart] = {}
        self.warnings: list[str] = []

    @property
    def done(self) -> bool:
        return self._state == DONE

    @property
    def adopted(self) -> bool:
        """True while the body is parsed with a boundary other than the declared one."""
        return self._adopted is not None

    @property
    def boundary(self) -> str:
        """The boundary the body is split at."""
        return self._boundary

    def feed(self, data: bytes) -> None:
        if self._watch is not None:
            rest = self._watch.find(data)
            if rest is not None:
                self._restart(rest)
                return
        if self._state == DONE:
            return  # the epilogue, read on only to watch for the declared boundary
        if self._state == BODY and not self._at_body_start and len(data) > _HOLD and self._pass(data):
            return
        self._buf += data
        self._run(eof=False)

    def _pass(self, data: bytes) -> bool:
        """Hand ``data`` to the part without buffering it, if no delimiter can begin in it."""
        delimiter = self._delimiter
        if data.find(delimiter) >= 0:
            return False
        buf = self._buf
        if (buf[self._scan :] + data[: len(delimiter) - 1]).find(delimiter) >= 0:
            return False  # a delimiter across the two
        part = self._part
        assert part is not None
        part.write(buf)
        part.write(memoryview(data)[: len(data) - _HOLD])
        self._buf = bytearray(data[len(data) - _HOLD :])
        # Only a delimiter that is not complete yet can begin in what is held back.
        self._scan = _HOLD - len(delimiter) + 1
        return True

    def finish(self, complete: bool) -> None:
        """The body has ended; ``complete``: it arrived whole (Content-Length, chunked end)."""
        if self._adopted is not None and not complete:
            raise MimeError("the body may not have arrived complete")
        self._complete = complete
        self._run(eof=True)
        if self._state == PREAMBLE:
            raise MimeError("no opening multipart delimiter found in the body")
        if self._state != DONE and complete:
            self._end_at_eof()
        if self._state != DONE:
            raise MimeError(
                f"multipart body truncated in part {self._part_no}: the stream ended before the "
                "closing delimiter"
            )

    def abort(self) -> None:
        if self._part is not None and isinstance(self._part.sink, FileSink):
            self._part.sink.discard()
        for path in self.created:
            path.unlink(missing_ok=True)
        self.created.clear()

    def _restart(self, rest: bytes) -> None:
        """The declared boundary occurs after all: all before it was preamble (RFC 2046)."""
        self.abort()
        self._watch = None
        self._may_adopt = False
        self._reset(self._declared)
        self._buf = bytearray(rest)
        self._run(eof=False)

    def _run(self, *, eof: bool) -> None:
        steps = {PREAMBLE: self._preamble, HEADERS: self._headers, BODY: self._body}
        while self._state in steps and steps[self._state](eof):
            pass

    def _delimiter_end(self, pos: int, eof: bool) -> tuple[int, int]:
        """Classify what follows ``--boundary`` at ``pos``: (kind, index after the delimiter line)."""
        buf = self._buf
        if buf[pos : pos + 2] == b"--":
            return CLOSE, pos + 2
        if len(buf) - pos < 2 and bytes(buf[pos : pos + 1]) in (b"", b"-"):
            return (NOT_DELIMITER if eof else MORE), pos
        i = pos
        while i < len(buf) and buf[i] in b" \t" and i - pos < _MAX_PADDING:
            i += 1
        if i >= len(buf) or (buf[i] == 0x0D and i + 1 >= len(buf)):
            return (NOT_DELIMITER if eof else MORE), pos
        if buf[i] == 0x0A:
            return OPEN, i + 1
        if buf[i : i + 2] == b"\r\n":
            return OPEN, i + 2
        # "--boundaryX...": the boundary is only a prefix of this line, so it is content.
        return NOT_DELIMITER, pos

    def _preamble(self, eof: bool) -> bool:
        buf = self._buf
        index = buf.find(self._delimiter, self._scan)
        if index < 0:
            if self._may_adopt and self._adopt_other_boundary():
                return True
            keep = max(len(self._delimiter) - 1, WINDOW if self._may_adopt else 0)
            if len(buf) > keep:
                del buf[: len(buf) - keep]
            self._scan = 0
            return False
        kind, end = self._delimiter_end(index + len(self._delimiter), eof)
        if kind == MORE:
            del buf[:index]
            self._scan = 0
            return False
        if kind == NOT_DELIMITER:
            self._scan = index + 1
            return True
        if kind == CLOSE:
            raise MimeError("multipart body has no parts: the first delimiter is the closing one")
        self._crlf = buf[end - 2 : end] == b"\r\n"
        del buf[:end]
        self._scan = 0
        self._state = HEADERS
        return True

    def _headers(self, eof: bool) -> bool:
        buf = self._buf
        if eof and self._complete and not buf.strip(b" \t\r\n"):
            return False  # the body ends with an opening delimiter: see _end_at_eof
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
        self._begin_part(parse_headers(block, self._part_no + 1))
        self._state = BODY
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
        content_id = bare_content_id(headers.get("content-id", ""))
        is_root = self.root is None and (content_id == self._start if self._start else self._part_no == 1)
        if not content_id and not is_root:
            raise MimeError(f"part {self._part_no} has no Content-ID, so nothing can refer to it")
        if content_id in self._content_ids:
            raise MimeError(f"duplicate Content-ID <{content_id}> in part {self._part_no}")
        if content_id:
            self._content_ids.add(content_id)
        encoding = headers.get("content-transfer-encoding", "").lower() or None
        decoder = decoder_for(encoding, self._part_no)
        sink: RootSink | FileSink
        sink = RootSink(self._max_root_bytes) if is_root else FileSink(self._spool_dir, self.created)
        self._part = Part(headers, decoder, sink)

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
                if kind == MORE:
                    return False
                if kind != NOT_DELIMITER:
                    self._close_part(0, kind, end)
                    return True
            self._at_body_start = False
        index = buf.find(self._delimiter, self._scan)
        if index < 0:
            # Hold back what may be the start of a delimiter, the CR before it, and what
            # _end_at_eof may have to cut off.
            self._scan = max(self._scan, len(buf) - len(self._delimiter) + 1)
            self._emit(len(buf) - _HOLD)
            return False
        kind, end = self._delimiter_end(index + len(self._delimiter), eof)
        if kind == MORE:
            self._emit(index - 1)
            return False
        if kind == NOT_DELIMITER:
            self._scan = index + 1
            return True
        body_end = index - 1 if self._crlf and index > 0 and buf[index - 1] == 0x0D else index
        self._close_part(body_end, kind, end)
        return True

    def _close_part(self, body_end: int, kind: int, end: int, warning: str | None = None) -> None:
        part = self._part
        assert part is not None
        part.write(bytes(self._buf[:body_end]))
        del self._buf[:end]
        self._scan = 0
        self._end_part(part, warning)
        self._state = HEADERS if kind == OPEN else DONE

    def _emit(self, count: int) -> None:
        if count <= 0:
            return
        assert self._part is not None
        with memoryview(self._buf) as view:
            self._part.write(view[:count])
        del self._buf[:count]
        self._scan = max(0, self._scan - count)

    def _end_part(self, part: Part, warning: str | None) -> None:
        part.sink.write(part.decoder.flush())
        self._part = None
        if isinstance(part.sink, RootSink):
            self.root = (part.headers, bytes(part.sink.data))
            return
        part.sink.close()
        content_id = bare_content_id(part.headers["content-id"])
        digests = part.sink.hasher.hexdigests()
        content_type = part.headers.get("content-type")
        warnings = [text for text in (self._adopted, warning) if text is not None]
        self.attachments[content_id] = SpooledPart(
            content_id=content_id,
            content_type=parse_header_value(content_type)[0] if content_type else None,
            path=part.sink.path,
            size=part.sink.hasher.size,
            sha256=digests["sha256"],
            digests=digests,
            transfer_encoding=part.headers.get("content-transfer-encoding", "").lower() or None,
            headers=part.headers,
            warnings=tuple(warnings),
        )


def parse_multipart(
    content_type: str,
    chunks: Iterable[bytes],
    spool_dir: Path,
    *,
    max_root_bytes: int = ReplyLimits.xml_bytes,
    max_parts: int = 10_000,
    body_complete: Callable[[], bool] | None = None,
) -> MultipartReply:
    """Split a multipart/related body read from ``chunks`` (any sizes) into root and attachments.

    ``content_type`` is the HTTP Content-Type header. The root part is the one named
    by its ``start`` parameter, else the first part. Attachments are written decoded
    (binary/8bit as is, base64 and quoted-printable decoded) to new files in
    ``spool_dir``, fsync'ed before this returns; the caller moves or deletes them.
    Reading stops at the closing delimiter; the epilogue is ignored.

    ``body_complete`` is asked, once ``chunks`` is exhausted without a closing delimiter
    (or with another boundary than the declared one), whether the HTTP body arrived
    whole: True allows the quirks of the module docstring, with ``warnings``; None or
    False (cannot tell, or cut off) leaves them errors.
    """
    boundary = get_boundary(content_type)
    start = bare_content_id(parse_header_value(content_type)[1].get("start", "")) or None
    parser = _Parser(
        boundary, start, spool_dir, max_root_bytes, max_parts, may_adopt=body_complete is not None
    )
    try:
        try:
            for chunk in chunks:
                parser.feed(chunk)
                if parser.done and not parser.adopted:
                    break
            complete = False
            if body_complete is not None and (parser.adopted or not parser.done):
                complete = body_complete()
            parser.finish(complete)
        except MimeError as exc:
            if not parser.adopted:
                raise
            # The declared boundary never came; the one the body seems to use did not do either.
            raise MimeError(
                f"no opening multipart delimiter --{boundary} found in the body; split at "
                f"--{parser.boundary} instead: {exc}"
            ) from exc
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
        warnings=tuple(parser.warnings),
    )
