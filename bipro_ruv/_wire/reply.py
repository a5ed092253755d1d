"""Reading a reply: within the deadline and the size limits, compression undone piecewise,
every failure of requests or urllib3 mapped to one of our :class:`~bipro_ruv.errors.TransportError`
subclasses in one place (:func:`network_error`).
"""

from __future__ import annotations

import socket
import zlib
from collections.abc import Iterator
from typing import Any

import requests
import urllib3

from bipro_ruv._redact import excerpt
from bipro_ruv._wire.deadline import Alarm
from bipro_ruv._wire.policy import MiB, ReplyLimits, Timeouts, reply_too_large
from bipro_ruv.errors import (
    BiproError,
    NetworkError,
    ProtocolError,
    ReplyDeadlineExceeded,
    RequestTimeout,
    TransportError,
)

__all__ = ["Exchange", "network_error"]


class _Inflater:
    """Undoes a gzip or deflate Content-Encoding in pieces of at most ``piece`` bytes."""

    def __init__(self, encoding: str, piece: int) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._piece = piece
        self._zlib_header: bool | None = True if self._gzip else None
        self._inflater = self._new()

    def _new(self) -> Any:
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2); some servers send it raw.
        return zlib.decompressobj(zlib.MAX_WBITS if self._zlib_header is not False else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._inflater.decompress(data, self._piece)
            except zlib.error as exc:
                if self._zlib_header is None:  # first bytes of a deflate body: try it raw
                    self._zlib_header = False
                    self._inflater = self._new()
                    continue
                raise ProtocolError(
                    f"reply body is not valid {'gzip' if self._gzip else 'deflate'}: {exc}"
                ) from exc
            if self._zlib_header is None:
                self._zlib_header = True
            if out:
                yield out
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                rest = self._inflater.unused_data
                if rest and self._gzip:  # a further gzip member (RFC 1952 §2.2)
                    self._inflater = self._new()
                    data = rest

    def finish(self) -> None:
        if not self._inflater.eof:
            raise ProtocolError("compressed reply body ends before its end marker")


def network_error(
    exc: BaseException, host: str, *, alarm: Alarm | None, timeouts: Timeouts
) -> TransportError:
    """One of our errors for anything requests or urllib3 raise while sending or reading."""
    if alarm is not None and alarm.fired:
        return ReplyDeadlineExceeded(
            f"the reply from {host} took longer than {timeouts.reply:g} s (Timeouts.reply); "
            "the connection was closed"
        )
    if isinstance(exc, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)):
        return NetworkError(f"no connection to {host} within {timeouts.connect:g} s", request_sent=False)
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)):
        return RequestTimeout(f"no answer from {host} within the read timeout of {timeouts.read:g} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(f"TLS handshake with {host} failed: {_reason(exc)}")
    never_sent = _never_sent(exc)
    what = "could not connect to" if never_sent else "connection to"
    detail = "" if never_sent else " failed mid-exchange"
    return NetworkError(f"{what} {host}{detail}: {_reason(exc)}", request_sent=not never_sent)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack += [arg for arg in item.args if isinstance(arg, BaseException)]
        for attr in ("reason", "__cause__", "__context__"):
            linked = getattr(item, attr, None)
            if isinstance(linked, BaseException):
                stack.append(linked)


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was never established (refused, DNS), so nothing was sent."""
    return any(
        isinstance(
            item,
            (
                urllib3.exceptions.NewConnectionError,
                urllib3.exceptions.ConnectTimeoutError,
                requests.exceptions.ProxyError,
            ),
        )
        for item in _causes(exc)
    )


def _reason(exc: BaseException) -> str:
    """The innermost message, without urllib3's pool and URL boilerplate."""
    innermost = exc
    for item in _causes(exc):
        innermost = item
    text = str(innermost) or type(innermost).__name__
    return text if len(text) <= 200 else text[:200] + "..."


class Exchange:
    """A reply whose headers have arrived; its body is read through :meth:`chunks` or
    :meth:`read`, within the deadline and the limits, with every failure mapped."""

    def __init__(
        self, response: requests.Response, host: str, alarm: Alarm, timeouts: Timeouts, limits: ReplyLimits
    ) -> None:
        self.response = response
        self.host = host
        self.limits = limits
        self._alarm = alarm
        self._timeouts = timeouts
        #: True once the body was read to its end and its end was announced (Content-Length
        #: reached, or the chunked stream terminated): the body arrived complete.
        self.complete = False

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def reason(self) -> str:
        return self.response.reason or ""

    @property
    def headers(self) -> Any:
        return self.response.headers

    def chunks(
        self, size: int = 1 << 16, *, limit: int | None = None, what: str = "reply"
    ) -> Iterator[bytes]:
        """The body as it arrives, decoded, in pieces of about ``size`` bytes, at most ``limit``
        (default ``ReplyLimits.body_bytes``; a smaller one is ``ReplyLimits.xml_bytes``)."""
        # Named by the caller's intent, not by value: the two limits may be set equal.
        name = "ReplyLimits.body_bytes" if limit is None else "ReplyLimits.xml_bytes"
        limit = self.limits.body_bytes if limit is None else limit
        encoding = self.headers.get("Content-Encoding", "").strip().lower()
        inflater: _Inflater | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater(encoding, size)
        elif encoding not in ("", "identity"):
            raise ProtocolError(
                f"{what} from {self.host} uses Content-Encoding {encoding!r}, which bipro-ruv does not read"
            )
        raw = self.response.raw
        total = 0
        try:
            for data in raw.stream(size, decode_content=False):
                for piece in inflater.feed(data) if inflater is not None else (data,):
                    total += len(piece)
                    if total > limit:
                        raise reply_too_large(
                            f"{what} from {self.host} is larger than {_size(limit)}", name, limit
                        )
                    yield piece
            if inflater is not None:
                inflater.finish()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            error = network_error(exc, self.host, alarm=self._alarm, timeouts=self._timeouts)
            error.during_reply = True  # the server answered, and its reply broke off
            raise error from exc
        if self._alarm.fired:
            error = network_error(TimeoutError(), self.host, alarm=self._alarm, timeouts=self._timeouts)
            error.during_reply = True
            raise error
        # Read to its end: urllib3 has put the connection back into the pool, where another
        # exchange (another worker's) may take it while this one is still being processed.
        self._alarm.disarm()
        headers = self.headers
        self.complete = (
            "content-length" in headers or "chunked" in headers.get("Transfer-Encoding", "").lower()
        )

    def read(self, *, limit: int | None = None, what: str = "reply") -> bytes:
        """The whole body, at most ``limit`` bytes (default ``ReplyLimits.xml_bytes``)."""
        limit = self.limits.xml_bytes if limit is None else limit
        return b"".join(self.chunks(1 << 16, limit=limit, what=what))

    def excerpt(self, size: int = 300) -> str:
        """The start of the body as one line of text, secrets masked (for error messages)."""
        data = b""
        try:
            for piece in self.chunks(size * 16, limit=size * 64):
                data += piece
                if len(data) >= size * 16:
                    break
        except BiproError:
            pass
        return excerpt(data, size)

    def close(self) -> None:
        self._alarm.disarm()
        self.response.close()

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(count: int) -> str:
    return f"{count / MiB:g} MiB" if count >= MiB else f"{count} bytes"
