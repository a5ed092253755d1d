"""What real servers get wrong in MTOM replies, accepted as JavaMail and Python's :mod:`email`
accept it, but only when the HTTP body arrived complete (see :mod:`.mime`'s docstring): a body
without its closing delimiter, and a body that uses another boundary than its Content-Type
declares. A mixin of the parser in :mod:`.mime`, which owns the buffer and the states.
"""

from __future__ import annotations

import re
from pathlib import Path

from bipro_ruv._wire.mime_parts import Part

__all__ = [
    "BODY",
    "CLOSE",
    "DONE",
    "HEADERS",
    "MORE",
    "NOT_DELIMITER",
    "OPEN",
    "PREAMBLE",
    "WINDOW",
    "Quirks",
    "Watch",
]

# The parser's states, and what follows a "--boundary" (see .mime._Parser._delimiter_end).
PREAMBLE, HEADERS, BODY, DONE = range(4)
MORE, NOT_DELIMITER, OPEN, CLOSE = range(4)

# RFC 2046 bchars: what a boundary consists of (a space, but not at its end).
_BCHARS = rb"0-9A-Za-z'()+_,\-./:=?"
_TOKEN = rb"[" + _BCHARS + rb" ]{0,199}[" + _BCHARS + rb"]"
# The last line of a complete body, when it is a delimiter line: "--token--" of any
# boundary, or "--boundary" without its dashes; trailing white space allowed.
_FINAL_LINE = re.compile(
    rb"(?:\r?\n|\A)--([" + _BCHARS + rb" ]{0,199}?[" + _BCHARS + rb"])(--)?[ \t\r\n]{0,256}\Z"
)
# A "--token" line followed by a MIME header: where a body with another boundary starts.
_OTHER_BOUNDARY = re.compile(rb"\n--(" + _TOKEN + rb")[ \t]*\r?\n(?i:content-)[A-Za-z0-9-]*[ \t]*:")
WINDOW = 1024  # bytes of the preamble kept while looking for such a line


class Watch:
    """Watches the rest of a body parsed with an adopted boundary for the declared one."""

    def __init__(self, delimiter: bytes, seen: bytes) -> None:
        self._delimiter = delimiter
        self._tail = seen[-len(delimiter) :]  # a delimiter may straddle two chunks

    def find(self, data: bytes) -> bytes | None:
        """The body from the first declared delimiter line on (from ``data`` and the bytes
        before it), or None. A line that only begins with the boundary is none (RFC 2046)."""
        window = self._tail + data
        start = 0
        while (index := window.find(self._delimiter, start)) >= 0:
            after = window[index + len(self._delimiter) : index + len(self._delimiter) + 1]
            if not after:
                break  # the next chunk decides
            if after in b" \t\r\n-":
                return window[index:]
            start = index + 1
        self._tail = window[-len(self._delimiter) :]
        return None


class Quirks:
    """The parser's acceptance of two quirks; :class:`.mime._Parser` provides the state."""

    _buf: bytearray
    _scan: int
    _state: int
    _delimiter: bytes
    _boundary: str
    _declared: str
    _watch: Watch | None
    _may_adopt: bool
    _adopted: str | None
    _part: Part | None
    _part_no: int
    warnings: list[str]
    created: list[Path]

    def _close_part(self, body_end: int, kind: int, end: int, warning: str | None = None) -> None:
        raise NotImplementedError

    def _adopt_other_boundary(self) -> bool:
        """Parse with the boundary of the first ``--token`` line followed by a MIME header,
        since the declared one has not occurred. Whether that stands is known at the end:
        the declared boundary must not occur later (:class:`Watch`), and the body must
        have arrived complete."""
        match = _OTHER_BOUNDARY.search(self._buf)
        if match is None:
            return False
        token = match.group(1).decode("ascii")
        self._watch = Watch(self._delimiter, bytes(self._buf))
        self._may_adopt = False
        self._delimiter = b"\n--" + match.group(1)
        self._boundary = token
        self._adopted = (
            f"multipart body does not use the boundary {self._declared!r} of its Content-Type; "
            f"its parts were split at {token!r}, the boundary it uses"
        )
        self.warnings.append(self._adopted)
        self._scan = match.start()
        return True

    def _end_at_eof(self) -> None:
        """A complete body that ends before its closing delimiter (see the module docstring)."""
        closing = f"--{self._boundary}--"
        if self._state == HEADERS:
            self.warnings.append(
                f"multipart body ends with the opening delimiter --{self._boundary} instead of its "
                f"closing delimiter {closing}"
            )
            self._state = DONE
            return
        part = self._part
        assert part is not None
        buf = self._buf
        body_end = self._final_line(part)
        if body_end < len(buf):
            line = bytes(buf[body_end:]).strip().decode("latin-1")
            warning = (
                f"multipart body ends with {line!r} instead of its closing delimiter {closing}: "
                f"part {self._part_no} was taken to end before that line"
            )
        else:
            warning = (
                f"multipart body ends without its closing delimiter {closing}: part {self._part_no} was "
                "taken to run to the end of the body"
            )
        self.warnings.append(warning)
        self._close_part(body_end, CLOSE, len(buf), warning)

    def _final_line(self, part: Part) -> int:
        """Where the part ends in the buffer at the end of a complete body: before a last line
        that is a closing delimiter (of any boundary), or this boundary's delimiter line
        with one dash or none."""
        buf = self._buf
        match = _FINAL_LINE.search(buf)
        if match is None:
            return len(buf)
        # At the start of the buffer, it is a line of its own only if the part is empty so far.
        own_line = match.group(0)[:1] in (b"\r", b"\n") or part.raw_size == 0
        boundary = self._boundary.encode("ascii")
        closing = match.group(2) is not None or match.group(1) in (boundary, boundary + b"-")
        return match.start() if own_line and closing else len(buf)
