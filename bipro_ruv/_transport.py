"""HTTP transport: one ``requests.Session`` injected into zeep's ``Transport``.

Policy that holds for every request bipro-ruv sends:

* connect and read timeouts are always set (zeep's default operation timeout is none),
  and so is a deadline for the whole reply (:attr:`Timeouts.reply`): a server that
  trickles one byte a second cannot hold a run for ever;
* every reply is read in bounded memory (:class:`ReplyLimits`); we ask for
  ``identity`` encoding, and a gzip/deflate body a server sends anyway is inflated
  with the same limits, so a gzip bomb is a typed error, not an exhausted machine;
* redirects are never followed: the request carries the password or the token, and a
  ``Location`` could name any host, even plain http (:class:`RedirectRefusedError`);
* TLS verification stays on (a custom CA bundle may be given, never ``verify=False``);
* plain ``http://`` is refused unless the host is a loopback address (the sandbox) or
  the caller opted in explicitly;
* the environment (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE``) is read only with ``trust_env=True``; ``~/.netrc`` never;
* every failure of the network or of a streamed body is one of our
  :class:`~bipro_ruv.errors.TransportError` subclasses, mapped here in one place;
* WSDL and XSD files are only ever loaded from the local package, never the network;
* request and reply bodies are never logged (zeep's ``Transport.post`` logs whole
  envelopes at DEBUG; this subclass replaces it).
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import logging
import math
import os
import random
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from zeep.transports import Transport

from bipro_ruv._logging import excerpt
from bipro_ruv._version import __version__
from bipro_ruv.errors import (
    BiproError,
    ConfigurationError,
    HttpStatusError,
    InsecureTransportError,
    NetworkError,
    ProtocolError,
    RedirectRefusedError,
    ReplyDeadlineExceeded,
    ReplyTooLargeError,
    RequestTimeout,
    RetryableHttpError,
    TransportError,
)

__all__ = [
    "Exchange",
    "HttpTransport",
    "ReplyLimits",
    "RetryPolicy",
    "Timeouts",
    "is_loopback_url",
    "parse_retry_after",
]

log = logging.getLogger("bipro_ruv.transport")

USER_AGENT = f"bipro-ruv/{__version__}"
_MAX_PREPARED = 64  # (URL, headers) pairs: a handful of operations per endpoint
_MiB = 1 << 20
#: Gateway errors: the request may or may not have reached the service behind the gateway.
GATEWAY_STATUSES = frozenset({502, 504})


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait: for the TCP connect, for each read from the socket, and for the
    whole exchange from sending the request to the last byte of the reply.

    ``reply`` (default 30 minutes) lets a 200 MB document arrive over a line of about
    1 Mbit/s; raise it for larger documents on slower lines.
    """

    connect: float = 10.0
    read: float = 60.0
    reply: float = 1800.0

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0 or self.reply <= 0:
            raise ConfigurationError("timeouts must be positive; bipro-ruv never waits forever")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class ReplyLimits:
    """How much of a reply bipro-ruv accepts, in bytes (after any Content-Encoding is undone).

    ``xml_bytes`` bounds what is held in memory: a whole XML reply, the root part of an
    MTOM reply, or the XML of an inline getShipment reply around its documents (the
    documents themselves are streamed to disk). ``body_bytes`` bounds one reply as a
    whole, documents included.
    """

    xml_bytes: int = 64 * _MiB
    body_bytes: int = 4096 * _MiB

    def __post_init__(self) -> None:
        if self.xml_bytes <= 0 or self.body_bytes <= 0:
            raise ConfigurationError("reply limits must be positive")


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often a failed exchange is repeated.

    Repeated for every operation: 429/503 (the server says it did not process the
    request; ``Retry-After`` is honoured up to ``max_delay``) and connections that
    could not be established (refused, DNS failure, connect timeout). Repeated only for
    ``idempotent`` operations (list, get, links): a connection reset or a body cut off
    after the request went out, a read timeout, 502/504 from a gateway. A login or an
    acknowledgement is never sent twice on a guess. Delays grow exponentially from
    ``base_delay`` with jitter (so many clients do not return at once), and the waits of
    one call add up to at most ``max_elapsed`` seconds.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 60.0
    max_elapsed: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("RetryPolicy.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise ConfigurationError("RetryPolicy delays must not be negative")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (0-based ``attempt`` just failed)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = float(min(self.base_delay * (2**attempt), self.max_delay))
        # "Equal jitter": at least half the exponential delay, the rest random.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - not cryptographic

    @staticmethod
    def retryable(error: BiproError, *, idempotent: bool) -> bool:
        """Whether ``error`` may be answered by sending the same request again."""
        if isinstance(error, RetryableHttpError):
            return True
        if isinstance(error, ReplyDeadlineExceeded):
            return False  # it already took Timeouts.reply; do not do that twice
        if isinstance(error, NetworkError):
            return idempotent or not error.request_sent
        if isinstance(error, RequestTimeout):
            return idempotent
        if isinstance(error, HttpStatusError):
            return idempotent and error.status_code in GATEWAY_STATUSES
        return False


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse anything but https, except plain http to loopback or with explicit opt-in."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https":
        return
    if scheme == "http":
        if allow_insecure_http or is_loopback_url(url):
            return
        raise InsecureTransportError(
            f"refusing plain http to {urlsplit(url).hostname}: credentials and documents would travel "
            "unencrypted (use https, or allow_insecure_http=True for a test system)"
        )
    raise ConfigurationError(f"unsupported URL scheme {scheme!r} in {url!r}")


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# -- the whole-reply deadline ---------------------------------------------------------------


class _Alarm:
    """The deadline of one exchange. When it fires, the socket is shut down, so a read
    blocked on a trickling server returns at once, whatever the per-read timeout."""

    __slots__ = ("_connection", "deadline", "done", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = False
        self.fired = False
        self._connection: Any = None

    def attach(self, connection: Any) -> None:
        with _ALARM_LOCK:
            if self.done:
                return
            self._connection = connection
            if self.fired:
                _shut(connection)

    def fire(self) -> None:
        with _ALARM_LOCK:
            self.fired = True
            if self._connection is not None and not self.done:
                _shut(self._connection)

    def disarm(self) -> None:
        """From now on the connection is not this exchange's any more (it may be back in the
        pool, serving another one): the alarm must never shut it down after this returns."""
        with _ALARM_LOCK:
            self.done = True
            self._connection = None


#: Orders fire() (the watchdog thread) against disarm() and attach() (the exchange's thread).
_ALARM_LOCK = threading.Lock()


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    # TLS to an https:// proxy and TLS inside it: urllib3's SSLTransport wraps the socket.
    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)
    if sock is not None:
        # The plain socket's shutdown (not SSLSocket's): it only wakes the reader.
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for all transports: fires each alarm at its deadline.

    Arming costs a heap push; a disarmed alarm is dropped from the heap lazily. The
    thread sleeps until the earliest deadline, so it costs nothing while replies come
    in time.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        #: The deadline the thread sleeps towards (infinity: no alarm armed).
        self._sleeping_until = math.inf

    def arm(self, seconds: float) -> _Alarm:
        alarm = _Alarm(time.monotonic() + seconds)
        with self._cond:
            heap = self._heap
            while heap and heap[0][2].done:
                heapq.heappop(heap)
            heapq.heappush(heap, (alarm.deadline, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bipro-ruv-deadline", daemon=True)
                self._thread.start()
            elif alarm.deadline < self._sleeping_until:
                # Only an alarm earlier than the one the thread sleeps towards wakes it: with
                # one reply timeout, deadlines come in order, so a request costs no thread switch.
                self._cond.notify()
        return alarm

    def _run(self) -> None:
        with self._cond:
            while True:
                heap = self._heap
                while heap and heap[0][2].done:
                    heapq.heappop(heap)
                if not heap:
                    self._sleeping_until = math.inf
                    self._cond.wait()
                    continue
                self._sleeping_until = heap[0][0]
                wait = self._sleeping_until - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                alarm = heapq.heappop(heap)[2]
                try:
                    alarm.fire()
                except Exception:  # this thread guards every deadline: it must live on
                    log.warning("could not end an exchange at its deadline", exc_info=True)


_WATCHDOG = _Watchdog()
_current = threading.local()


class _Guarded:
    """Mixin for urllib3 connections: hands itself to the deadline of the exchange being
    sent in this thread, before the first byte of the request."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        alarm: _Alarm | None = getattr(_current, "alarm", None)
        if alarm is not None:
            alarm.attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedTlsPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_GUARDED_POOLS = {"http": _GuardedPool, "https": _GuardedTlsPool}


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter with connections the deadline can reach, from the very first byte
    of the request (a session passed in by the caller is guarded from the reply's headers on)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _GUARDED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _GUARDED_POOLS
        return manager


# -- reading a reply --------------------------------------------------------------------------


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


def _network_error(
    exc: BaseException, host: str, *, alarm: _Alarm | None, timeouts: Timeouts
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
        self, response: requests.Response, host: str, alarm: _Alarm, timeouts: Timeouts, limits: ReplyLimits
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
                        raise self._too_large(what, limit, name)
                    yield piece
            if inflater is not None:
                inflater.finish()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _network_error(exc, self.host, alarm=self._alarm, timeouts=self._timeouts) from exc
        if self._alarm.fired:
            raise _network_error(TimeoutError(), self.host, alarm=self._alarm, timeouts=self._timeouts)
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

    def _too_large(self, what: str, limit: int, name: str) -> ReplyTooLargeError:
        return ReplyTooLargeError(
            f"{what} from {self.host} is larger than {_size(limit)} ({name}); "
            f"raise it with Client(limits=ReplyLimits(...)) if such replies are expected",
            limit_name=name,
            limit=limit,
        )

    def close(self) -> None:
        self._alarm.disarm()
        self.response.close()

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(count: int) -> str:
    return f"{count / _MiB:g} MiB" if count >= _MiB else f"{count} bytes"


class HttpTransport(Transport):
    """zeep ``Transport`` with our session, timeouts, limits, URL policy and quiet logging."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        verify: bool | str | Path = True,
        allow_insecure_http: bool = False,
        trust_env: bool = False,
        limits: ReplyLimits = ReplyLimits(),
    ) -> None:
        if verify is False:
            raise ConfigurationError(
                "TLS verification cannot be switched off; pass the CA bundle (path) of a test server instead"
            )
        own_session = session is None
        session = session or requests.Session()
        super().__init__(  # type: ignore[no-untyped-call]
            session=session, timeout=timeouts.connect, operation_timeout=timeouts.as_tuple()
        )
        self._close_session = own_session
        self.timeouts = timeouts
        self.limits = limits
        self.allow_insecure_http = allow_insecure_http
        self.trust_env = trust_env
        # requests would consult the environment (proxies, CA bundle, ~/.netrc) on every
        # request: a measurable cost per call, and ~/.netrc could add credentials we never
        # chose. With trust_env=True, proxies and the CA bundle are read here, once per
        # endpoint; netrc never. Without it, nothing from the environment is used.
        self.session.trust_env = False
        if verify is True and trust_env:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # Passed with every request, so nothing can replace the CA the caller chose.
        self.verify: bool | str = str(verify) if isinstance(verify, Path) else verify
        self.session.verify = self.verify
        #: Per endpoint URL, once it passed check_url(): the proxies to use (trust_env only).
        self._proxies: dict[str, dict[str, str]] = {}
        self._prepared: dict[tuple[str, tuple[tuple[str, str], ...]], requests.PreparedRequest] = {}
        if own_session:
            self.session.headers["User-Agent"] = USER_AGENT
            # Compression would only let a small reply inflate to gigabytes; BiPRO replies
            # are XML and documents that are compressed already.
            self.session.headers["Accept-Encoding"] = "identity"
            guarded = _GuardedAdapter()
            self.session.mount("https://", guarded)
            self.session.mount("http://", guarded)
        # zeep mounts a file:// adapter for local WSDLs; our WSDLs are read by path,
        # so nothing needs URL-based loading at all.
        self.session.adapters.pop("file://", None)

    # zeep calls load() for WSDL/XSD imports: local paths only, never the network.
    def load(self, url: str) -> bytes:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("", "file") and not (len(scheme) == 1 and scheme.isalpha()):
            raise ConfigurationError(f"refusing to load a schema from {url!r}: bipro-ruv works offline")
        path = Path(urlsplit(url).path if scheme == "file" else url)
        return path.read_bytes()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        """zeep's interface: the reply read whole (within the limits)."""
        with self.send(address, message, headers) as exchange:
            exchange.response._content = exchange.read()
        return exchange.response

    def send(self, address: str, message: bytes, headers: dict[str, str]) -> Exchange:
        """POST ``message`` and return the reply once its headers are in; its body is read
        through the :class:`Exchange`. Redirects, 429/503 and 502/504 raise here."""
        proxies = self._proxies.get(address)
        if proxies is None:
            check_url(address, allow_insecure_http=self.allow_insecure_http)
            found = requests.utils.get_environ_proxies(address) if self.trust_env else {}
            proxies = self._proxies[address] = found
        host = _host(address)
        started = time.monotonic()
        alarm = _WATCHDOG.arm(self.timeouts.reply)
        _current.alarm = alarm
        try:
            response = self.session.send(
                self._prepare(address, message, headers),
                timeout=self.timeouts.as_tuple(),
                stream=True,
                allow_redirects=False,
                verify=self.verify,
                proxies=proxies,
                cert=self.session.cert,
            )
        except requests.RequestException as exc:
            alarm.disarm()
            raise _network_error(exc, host, alarm=alarm, timeouts=self.timeouts) from exc
        except BaseException:
            alarm.disarm()
            raise
        finally:
            _current.alarm = None
        # A session of the caller has no guarded connections: from here on, the body is.
        alarm.attach(getattr(response.raw, "connection", None))
        exchange = Exchange(response, host, alarm, self.timeouts, self.limits)
        status = response.status_code
        log.debug(
            "POST %s -> HTTP %s (%s, %.0f ms)",
            address,
            status,
            response.headers.get("Content-Type", "no content type"),
            (time.monotonic() - started) * 1000,
        )
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            excerpt = exchange.excerpt()
            exchange.close()
            raise RetryableHttpError(
                f"{host} answered HTTP {status}"
                + (f", retry after {retry_after:.0f} s" if retry_after is not None else ""),
                status_code=status,
                retry_after=retry_after,
                body_excerpt=excerpt,
            )
        if status in GATEWAY_STATUSES:
            excerpt = exchange.excerpt()
            exchange.close()
            raise HttpStatusError(
                f"{host} answered HTTP {status} {response.reason or ''}: a gateway did not reach the "
                "service".replace("  ", " "),
                status_code=status,
                body_excerpt=excerpt,
            )
        return exchange

    def _prepare(self, address: str, message: bytes, headers: dict[str, str]) -> requests.PreparedRequest:
        """The POST of ``message``, with the session's headers, cookies, auth and hooks merged in.

        That merge costs as much CPU as the rest of a small BiPRO exchange. For the session
        this transport created (no auth, no hooks) it gives the same result every time, so
        it is done once per URL and header set and copied. A session passed in by the
        caller, or one the server has set a cookie on (a load balancer's sticky session),
        is merged on every request so nothing of it is lost.
        """
        if not self._close_session or self.session.cookies:
            merged = {"Accept-Encoding": "identity", **headers}
            return _refusing_redirects(
                self.session.prepare_request(requests.Request("POST", address, data=message, headers=merged))
            )
        key = (address, tuple(headers.items()))
        template = self._prepared.get(key)
        if template is None:
            template = _refusing_redirects(
                self.session.prepare_request(requests.Request("POST", address, headers=headers))
            )
            if len(self._prepared) < _MAX_PREPARED:
                self._prepared[key] = template
        prepared = template.copy()
        prepared.body = message
        prepared.headers["Content-Length"] = str(len(message))
        return prepared

    def close(self) -> None:
        if getattr(self, "_close_session", False):
            self.session.close()

    def __del__(self) -> None:
        # zeep's __del__ assumes a fully built object; ours may fail in __init__.
        self.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _refusing_redirects(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """``prepared`` with :func:`_refuse_redirect` as its first response hook."""
    prepared.hooks["response"].insert(0, _refuse_redirect)
    return prepared


def _refuse_redirect(response: requests.Response, **_: Any) -> None:
    """Raise for any 3xx reply, as soon as requests has it: a response hook runs before
    requests looks at a redirect itself, which it does even with ``allow_redirects=False``
    (for ``Response.next``): it would read the whole body into memory, past every
    ReplyLimits, and parse the ``Location``."""
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location")
        response.close()  # the body unread: the connection is closed, not pooled
        raise _redirect_error(_host(response.url or ""), response.status_code, location)


def _redirect_error(host: str, status: int, location: str | None) -> RedirectRefusedError:
    """Names the target host only: a Location's path and query may carry anything."""
    try:
        target = urlsplit(location or "")
    except ValueError:  # e.g. "http://[x": a server's header, not even a URL
        target = None
    target_host = target.hostname if target is not None else None
    if target is None:
        where = "an unreadable Location"
    elif target_host:
        where = f"{target_host} ({'plain http' if target.scheme.lower() == 'http' else target.scheme or '?'})"
    else:
        where = "another path on the same host" if location else "no Location"
    return RedirectRefusedError(
        f"{host} answered HTTP {status}, a redirect to {where}. bipro-ruv never follows redirects, "
        "because the request carries your password or token: check the service URL (profile or "
        "base_url) with your contact at the insurer",
        status_code=status,
        target_host=target_host,
    )


def _host(url: str) -> str:
    """``scheme://host[:port]`` for messages: never user info, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def raise_for_unreadable(status_code: int, reason: str, body: bytes) -> None:
    """An HTTP error status whose body is not SOAP: raise :class:`HttpStatusError`."""
    if status_code >= 400:
        raise HttpStatusError(
            f"HTTP {status_code} {reason} without a SOAP message".strip(),
            status_code=status_code,
            body_excerpt=excerpt(body),
        )
