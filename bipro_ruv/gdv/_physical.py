"""Bytes -> 256-byte GDV records (the physical rules of the VU-Vermittler format).

gdv-format.md §1.1: a record is 256 **bytes**, usually followed by LF or CRLF, sometimes by
nothing; short lines (trailing blanks cut) are padded; blank lines, a lone CR and the DOS
end-of-file mark (Ctrl-Z) are no records; a UTF-8 byte-order mark is skipped. The encoding
is not declared in the file: for one-byte encodings a character is a byte, so a whole chunk
is decoded at once; for UTF-8 each record is cut in bytes first (its text fields are
decoded apart by the reader).
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

from bipro_ruv.errors import GdvFormatError

__all__ = ["CHUNK", "RECORD", "RecordStream", "Source"]

RECORD: Final = 256
CHUNK: Final = 1 << 20

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]
"""A path, the file's bytes, or a binary file object."""

Warn = Callable[[str, str, int | None], None]

# What may trail the last record of a line and still be nothing: blanks, a CR, the DOS
# end-of-file mark (Ctrl-Z). Anything else after a full record is data and is kept.
_PADDING: Final = " \r\x1a"
_PADDING_BYTES: Final = b" \r\x1a"


def one_byte_encoding(encoding: str) -> bool:
    """Whether ``encoding`` maps every byte to one character; refuses codecs that are no
    ASCII-compatible text encoding (``hex``, ``rot13``, ``utf-16``: GDV records are ASCII
    in their key fields, whatever the encoding of the texts)."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise GdvFormatError(f"unknown encoding {encoding!r}; use e.g. iso-8859-15, cp850 or utf-8") from None
    probe = b"0001 5438 VSNR-09"
    try:
        ascii_compatible = (
            getattr(info, "_is_text_encoding", True)
            and probe.decode(info.name) == probe.decode("ascii")
            and b"\\x41\\u0041".decode(info.name) == "\\x41\\u0041"  # no escape codecs
            and bool(b"\xc3\xa4\xff".decode(info.name, "replace"))  # any byte decodes, if only to U+FFFD
        )
    except (UnicodeError, LookupError, TypeError, ValueError):
        ascii_compatible = False
    if not ascii_compatible:
        raise GdvFormatError(
            f"{encoding!r} is no ASCII-compatible text encoding; use e.g. iso-8859-15, cp850 or utf-8"
        )
    try:
        return len(bytes(range(256)).decode(info.name)) == 256
    except (UnicodeError, LookupError, TypeError, ValueError):
        return False


class RecordStream:
    """The records of one source, a list of 256-character texts per chunk read."""

    def __init__(self, source: Source, encoding: str) -> None:
        self._source = source
        self.encoding = encoding
        self.one_byte = one_byte_encoding(encoding)
        """Every byte one character: the texts are decoded; else byte columns (latin-1)."""

    def _open(self) -> tuple[IO[bytes], bool]:
        source = self._source
        if isinstance(source, bytes | bytearray | memoryview):
            return io.BytesIO(bytes(source)), True
        if isinstance(source, str | os.PathLike):
            try:
                return Path(source).open("rb"), True
            except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                raise GdvFormatError(f"cannot read {os.fspath(source)!r}: {reason}") from exc
        return source, False

    def chunks(self, warn: Warn) -> Iterator[list[str]]:
        """The records, a list of 256-character texts per chunk read (see the module doc).

        A chunk is split before its records are read: ``warn`` gets each warning with the
        number of its record, and the reader files it when that record is read.
        """
        stream, owned = self._open()
        try:
            yield from self._split(stream, warn)
        finally:
            if owned:
                stream.close()

    def _split(self, stream: IO[bytes], warn: Warn) -> Iterator[list[str]]:
        one_byte = self.one_byte
        encoding = self.encoding
        rest = b""
        number = 0
        utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
        bom_checked = False
        while True:
            try:
                chunk = stream.read(CHUNK)
            except OSError as exc:
                raise GdvFormatError(f"cannot read the GDV file: {exc.strerror or exc}") from exc
            if not isinstance(chunk, bytes | bytearray):
                raise GdvFormatError("the GDV file must be read as bytes: open it in binary mode ('rb')")
            data = rest + chunk if rest else chunk
            if number == 0 and not bom_checked and len(data) >= len(codecs.BOM_UTF8):
                bom_checked = True
                if data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8) :]  # a byte-order mark is no part of record 1
                    if not utf8:
                        warn(
                            "encoding",
                            f"the file begins with a UTF-8 byte-order mark but is read as {encoding}: "
                            "if umlauts look wrong, read it with encoding utf-8",
                            None,
                        )
            if not chunk:
                if not data:
                    return
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if not cut:  # no separators at all: whole records only
                    cut = len(data) - len(data) % RECORD
                    if not cut:
                        rest = data
                        continue
            body, rest = data[:cut], data[cut:]
            pieces: list[Any] = body.decode(encoding).split("\n") if one_byte else body.split(b"\n")
            if body.endswith(b"\n"):
                pieces.pop()
            if one_byte and all(len(piece) == RECORD for piece in pieces):
                number += len(pieces)
                yield pieces
            else:
                records: list[str] = []
                for piece in pieces:
                    if len(piece) % RECORD != 0 and piece[-1:] in ("\r", b"\r"):
                        piece = piece[:-1]  # CRLF; a CR at col 256 of a full record is data
                    for record in self._odd(piece, number, warn):
                        number += 1
                        records.append(record if one_byte else self._decode(record))
                yield records
            if not chunk:
                return

    @staticmethod
    def _odd(piece: Any, number: int, warn: Warn) -> Iterator[Any]:
        """A line that is not exactly 256 long: short (padded), several records, or damaged."""
        length = len(piece)
        if length == RECORD:
            yield piece
            return
        if length == 0:
            return
        if not piece.strip(_PADDING if isinstance(piece, str) else _PADDING_BYTES):
            return  # a blank line, a lone CR or the DOS end-of-file mark (Ctrl-Z): no record
        blank = " " if isinstance(piece, str) else b" "
        if length < RECORD:  # trailing blanks cut (gdv-format.md §1.1): normal, no warning
            yield piece + blank * (RECORD - length)
            return
        whole, extra = divmod(length, RECORD)
        for i in range(whole):
            yield piece[i * RECORD : (i + 1) * RECORD]
        if extra:
            tail = piece[whole * RECORD :]
            if tail.strip(_PADDING if isinstance(tail, str) else _PADDING_BYTES):
                warn(
                    "short-record",
                    f"the line ends with {extra} bytes after its last full record; read as a padded record",
                    number + whole + 1,
                )
                yield tail + blank * (RECORD - extra)

    @staticmethod
    def _decode(record: bytes) -> str:
        """UTF-8 and other multi-byte encodings: keep byte columns, decode the text later."""
        if len(record) != RECORD:
            record = record[:RECORD].ljust(RECORD, b" ")
        return record.decode("latin-1")

    # -- records ---------------------------------------------------------------------
