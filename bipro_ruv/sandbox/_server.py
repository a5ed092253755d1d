"""The sandbox's HTTP/1.1 server: routing, fault injection and streamed replies.

A ``ThreadingHTTPServer`` on 127.0.0.1 with keep-alive. Every reply carries a
Content-Length; getShipment replies are computed from the part sizes and streamed
from the documents' ``produce()`` so no large document is ever held in memory.
The server tracks its connections so :meth:`Sandbox.stop` can close them and join
every thread (no socket outlives the sandbox, which tests check as ResourceWarning).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import socket
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from bipro_ruv.profiles import PROFILES
from bipro_ruv.sandbox import mailbox
from bipro_ruv.sandbox._protocol import (
    NS,
    XML_CONTENT_TYPE,
    Closing,
    Reply,
    RequestError,
    Services,
    ShipmentReply,
    check_soap_action,
    fault,
    hostile_reply,
    mtom_style,
    nok_reply,
    parse_request,
    quote_secrets_fault,
)
from bipro_ruv.sandbox._state import FaultKind, FaultRule, Headers, SandboxConfig, SandboxState, SandboxStats
from bipro_ruv.sandbox._tls import create_certificate

if TYPE_CHECKING:
    import ssl

    from bipro_ruv.sandbox.mailbox import SeedDocument, SeedShipment

__all__ = ["ROUTES", "Sandbox", "SandboxHTTPServer"]

MAX_REQUEST_BYTES = 10 * 1024 * 1024
_ROOT_CID = "root.message@sandbox.ruv.invalid"
# What a reply of FaultRule(MISSING_CLOSING_DELIMITER, variant="other_boundary") ends with.
_OTHER_BOUNDARY = b"MIMEBoundary_0815_Ende"


def _routes() -> dict[str, tuple[str, str]]:
    """URL path -> (service, version), from the insurer profiles (R+V, KRAVAG, Condor)."""
    routes: dict[str, tuple[str, str]] = {}
    for profile in PROFILES.values():
        endpoints = {"sts": profile.sts, "transfer": profile.transfer, "extranet": profile.extranet}
        for service, endpoint in endpoints.items():
            if endpoint is not None:
                routes[urlsplit(endpoint.url).path.rstrip("/")] = (service, endpoint.bipro_version)
    return routes


ROUTES = _routes()


# -- streamed bodies -------------------------------------------------------------------------

Segment = tuple[int, Callable[[], Iterator[bytes]]]


def _literal(data: bytes) -> Segment:
    return len(data), lambda: iter((data,))


def _checked(document: SeedDocument) -> Iterator[bytes]:
    sent = 0
    for chunk in document.produce():
        sent += len(chunk)
        yield chunk
    if sent != document.size:
        raise RuntimeError(f"document produced {sent} bytes, announced {document.size}")


def _raw(document: SeedDocument) -> Segment:
    return document.size, lambda: _checked(document)


def _base64(document: SeedDocument) -> Segment:
    def chunks() -> Iterator[bytes]:
        carry = b""
        for chunk in _checked(document):
            data = carry + chunk
            cut = len(data) - len(data) % 3
            if cut:
                yield base64.b64encode(data[:cut])
            carry = data[cut:]
        if carry:
            yield base64.b64encode(carry)

    return 4 * ((document.size + 2) // 3), chunks


def _shipment_body(reply: ShipmentReply) -> tuple[str, list[Segment]]:
    """Content-Type and segments of a getShipment reply (inline XML or MTOM/XOP multipart)."""
    if reply.style is None:
        segments = [_literal(p) if isinstance(p, bytes) else _base64(p) for p in reply.pieces]
        if reply.truncate and len(segments) > 1:
            # Inline mode has no multipart to cut: the XML ends in the middle of the last document.
            size, produce = segments[-2]
            segments = [*segments[:-2], (size // 2, produce)]
        return XML_CONTENT_TYPE, segments
    style = reply.style
    boundary = style.boundary.encode()
    shown = f'"{style.boundary}"' if style.quote_boundary else style.boundary
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary={shown}; '
        f'start="<{_ROOT_CID}>"; start-info="text/xml"'
    )
    head = b"This is a multi-part message in MIME format.\r\n" if style.preamble else b""
    head += (
        b"--" + boundary + b"\r\n"
        b"Content-Type: application/xop+xml; charset="
        + style.root_charset.encode()
        + b'; type="text/xml"\r\n'
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-ID: <" + _ROOT_CID.encode() + b">\r\n\r\n"
    )
    segments = [_literal(head)]
    segments += [_literal(p) for p in reply.pieces if isinstance(p, bytes)]
    for cid, document in reply.attachments:
        part_head = (
            b"\r\n--" + boundary + b"\r\n"
            b"Content-Type: " + document.content_type.encode() + b"\r\n"
            b"Content-Transfer-Encoding: binary\r\n"
            b"Content-ID: <" + cid.encode() + b">\r\n\r\n"
        )
        segments += [_literal(part_head), _raw(document)]
    if reply.truncate:
        if reply.attachments:
            size, produce = segments[-1]
            return content_type, [*segments[:-1], (size // 2, produce)]
        return content_type, segments
    if reply.closing == "missing":
        return content_type, segments
    closing_boundary = _OTHER_BOUNDARY if reply.closing == "other_boundary" else boundary
    return content_type, [*segments, _literal(b"\r\n--" + closing_boundary + b"--\r\n")]


def _status_multipart(reply: Reply, style_source: str) -> ShipmentReply:
    """A small XML reply wrapped as a lone MTOM root part, cut before the closing delimiter."""
    return ShipmentReply((reply.body,), (), mtom_style(style_source), truncate=True)


# -- fault injection ---------------------------------------------------------------------------

_MALFORMED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
    b'envelope/"><soapenv:Body><tran:listShipmentsResponse xmlns:tran="http://www.bipro.net/namespace/transfer">'
    b'<tran:Response><nac:Status xmlns:nac="http://www.bipro.net/namespace/nachrichten"><nac:Stat\x00\xff\xfe'
)
_HTML_502 = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    b"<p>The proxy server received an invalid response from an upstream server.</p></body></html>\n"
)
_HTML_503 = (
    b"<!DOCTYPE html>\n<html><head><title>Wartungsarbeiten</title></head><body><h1>Service nicht verf"
    b"\xc3\xbcgbar</h1><p>Bitte versuchen Sie es sp\xc3\xa4ter erneut.</p></body></html>\n"
)


#: Faults that change how the real reply is written or what it holds (the rest replace it).
_SHIPMENT_FAULTS = frozenset({FaultKind.WRONG_SHIPMENT_ID, FaultKind.SHARED_CID})
_FAULTS_ON_THE_REAL_REPLY = _SHIPMENT_FAULTS | {
    FaultKind.TRUNCATED_MULTIPART,
    FaultKind.MISSING_CLOSING_DELIMITER,
    FaultKind.SLOW_DRIP,
    FaultKind.TRUNCATED_BODY,
}
#: Where REDIRECT sends the client unless the rule names a location: plain http, another host.
DEFAULT_REDIRECT = "http://collector.attacker.invalid:8080/bipro?session=stolen"


@dataclass(frozen=True)
class _Delivery:
    drip: float | None = None  # seconds per byte
    cut: bool = False  # close the connection after half the announced body


@functools.lru_cache(maxsize=1)
def gzip_bomb(inflated: int = 1 << 30) -> bytes:
    """A gzip body of an XML start and ``inflated`` bytes of spaces: about 1 MB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    envelope = NS["soapenv"].encode()
    head = b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="%s"><soapenv:Body>' % envelope
    out = [packer.compress(head)]
    block = b" " * (1 << 20)
    for _ in range(inflated // len(block)):
        out.append(packer.compress(block))
    out.append(packer.flush())
    return b"".join(out)


def _retry_after(rule: FaultRule) -> tuple[tuple[str, str], ...]:
    return () if rule.retry_after is None else (("Retry-After", f"{rule.retry_after:g}"),)


def fault_reply(rule: FaultRule, operation: str, version: str) -> Reply:
    """The reply an injected fault gives instead of the real one (TRUNCATED_MULTIPART aside)."""
    kind = rule.kind
    if kind is FaultKind.HTTP_429:
        return Reply(429, b"Too Many Requests\n", "text/plain; charset=utf-8", _retry_after(rule))
    if kind is FaultKind.HTTP_503:
        return Reply(503, _HTML_503, "text/html; charset=utf-8", _retry_after(rule))
    if kind is FaultKind.SOAP_FAULT:
        return fault(version, operation, "99999", "Interner Fehler im Service", server_side=True)
    if kind is FaultKind.NOK:
        return nok_reply(operation, version, "00930", "Service zurzeit nicht aufrufbar")
    if kind is FaultKind.INVALID_SESSION:
        return fault(version, operation, "00962", "Session ungültig")
    if kind is FaultKind.MALFORMED_XML:
        return Reply(200, _MALFORMED)
    if kind in (FaultKind.XXE, FaultKind.ENTITY_BOMB):
        return Reply(200, hostile_reply(operation, version, "xxe" if kind is FaultKind.XXE else "bomb"))
    if kind is FaultKind.HTML_ERROR:
        return Reply(rule.http_status or 502, _HTML_502, "text/html; charset=utf-8")
    if kind is FaultKind.EMPTY_BODY:
        return Reply(200, b"")
    if kind is FaultKind.REDIRECT:
        location = rule.location or DEFAULT_REDIRECT
        return Reply(rule.http_status or 307, b"", "text/plain; charset=utf-8", (("Location", location),))
    if kind is FaultKind.GZIP_BOMB:
        return Reply(200, gzip_bomb(), XML_CONTENT_TYPE, (("Content-Encoding", "gzip"),))
    raise ValueError(f"{kind} has no fixed reply")


# -- HTTP ------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bipro-ruv-sandbox"
    sys_version = ""
    wbufsize = 64 * 1024  # headers and a small body leave in one send; flushed after each request
    timeout = 60  # idle keep-alive connections are closed after this long
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        # Only request lines and status codes: bodies (passwords, tokens) are never logged.
        if self.server.verbose:
            sys.stderr.write(f"sandbox {self.address_string()} - {format % args}\n")

    # GET: the Maklerportal pages -------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        if path in ROUTES:
            self._send(Reply(405, b"Method Not Allowed\n", "text/plain; charset=utf-8", (("Allow", "POST"),)))
            return
        self.server.state.stats.record_request("portal", Headers(self.headers.items()))
        self._send(self.server.services.portal_page(path, parse_qs(url.query)))

    # POST: the SOAP services ----------------------------------------------------------------

    def do_POST(self) -> None:
        route = ROUTES.get(urlsplit(self.path).path.rstrip("/"))
        body = self._read_body()
        if body is None:
            return
        if route is None:
            self._send(Reply(404, b"Not Found\n", "text/plain; charset=utf-8"))
            return
        service, version = route
        headers = Headers(self.headers.items())
        stats = self.server.state.stats
        if not self.headers.get("Content-Type", "").lower().startswith("text/xml"):
            stats.record_request("invalid", headers)
            self._send(Reply(415, b"SOAP 1.1 expects text/xml\n", "text/plain; charset=utf-8"))
            return
        try:
            request = parse_request(body)
        except RequestError as exc:
            stats.record_request("invalid", headers)
            self._send(fault(version, "unbekannt", exc.meldung_id, exc.text))
            return
        operation = request.operation
        stats.record_request(operation, headers)
        observer = self.server.services.on_request
        if observer is not None:
            observer(operation)
        rule = self.server.state.take_fault(operation)
        kind = rule.kind if rule is not None else None
        truncate = kind is FaultKind.TRUNCATED_MULTIPART
        closing: Closing = "standard"
        if rule is not None and kind is FaultKind.MISSING_CLOSING_DELIMITER:
            closing = "other_boundary" if rule.variant == "other_boundary" else "missing"
        if rule is not None and kind is FaultKind.SLOW:
            if self.server.stopping.wait(rule.delay):
                self.close_connection = True
                return
        elif kind is FaultKind.CONNECTION_RESET:
            self._reset()
            return
        elif kind is FaultKind.QUOTE_SECRETS:
            self._send(quote_secrets_fault(request, version, self.server.state.config.password))
            return
        elif rule is not None and kind not in _FAULTS_ON_THE_REAL_REPLY:
            self._send(fault_reply(rule, operation, version))
            return
        try:
            check_soap_action(self.headers.get("SOAPAction"), operation)
            if truncate and operation != "getShipment":
                # The real operation is not carried out: a fault reply has no side effects.
                placeholder = nok_reply(operation, version, "00930", "Antwort abgebrochen")
                reply: Reply | ShipmentReply = _status_multipart(placeholder, operation)
            else:
                reply = self.server.services.handle(
                    service,
                    version,
                    request,
                    truncate=truncate,
                    shipment_fault=kind if kind in _SHIPMENT_FAULTS else None,
                    closing=closing,
                )
        except RequestError as exc:
            reply = fault(version, operation, exc.meldung_id, exc.text, server_side=exc.server_side)
        except ValueError as exc:  # content lxml cannot write (e.g. a control character in a name)
            reply = fault(version, operation, "99999", f"Antwort nicht erzeugbar: {exc}", server_side=True)
        if truncate and isinstance(reply, Reply):
            reply = _status_multipart(reply, operation)
        delivery = _Delivery(
            drip=rule.delay if rule is not None and kind is FaultKind.SLOW_DRIP else None,
            cut=kind is FaultKind.TRUNCATED_BODY,
        )
        if isinstance(reply, ShipmentReply):
            self._stream(reply, delivery)
        else:
            self._send(reply, delivery=delivery)

    def _reset(self) -> None:
        """Close the connection with a TCP reset, without a byte of reply."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _read_body(self) -> bytes | None:
        raw_length = self.headers.get("Content-Length")
        if raw_length is None or not raw_length.strip().isdigit():
            self.close_connection = True
            self._send(Reply(411, b"Content-Length required\n", "text/plain; charset=utf-8"), close=True)
            return None
        length = int(raw_length)
        if length > MAX_REQUEST_BYTES:
            self._send(Reply(413, b"Request too large\n", "text/plain; charset=utf-8"), close=True)
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _head(
        self, status: int, content_type: str, length: int, extra: tuple[tuple[str, str], ...], close: bool
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in extra:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def _send(self, reply: Reply, *, close: bool = False, delivery: _Delivery | None = None) -> None:
        segments = [_literal(reply.body)]
        self._deliver(reply.status, reply.content_type, reply.headers, segments, close, delivery)

    def _stream(self, reply: ShipmentReply, delivery: _Delivery | None = None) -> None:
        content_type, segments = _shipment_body(reply)
        # A truncated multipart is cut on the wire: more bytes are announced than come.
        missing = 4096 if reply.truncate else 0
        self._deliver(200, content_type, (), segments, reply.truncate, delivery, missing=missing)

    def _deliver(
        self,
        status: int,
        content_type: str,
        extra: tuple[tuple[str, str], ...],
        segments: list[Segment],
        close: bool,
        delivery: _Delivery | None,
        missing: int = 0,
    ) -> None:
        """Headers, then the segments: whole, dripping (SLOW_DRIP) or cut half-way (TRUNCATED_BODY)."""
        delivery = delivery or _Delivery()
        total = sum(size for size, _ in segments)
        budget = total // 2 if delivery.cut else total
        self._head(status, content_type, total + missing, extra, close or delivery.cut or missing > 0)
        try:
            for size, produce in segments:
                remaining = min(size, budget)
                for chunk in produce():
                    if remaining <= 0:
                        break
                    piece = chunk[:remaining] if len(chunk) > remaining else chunk
                    if delivery.drip is None:
                        self.wfile.write(piece)
                    elif not self._drip(piece, delivery.drip):
                        return
                    remaining -= len(piece)
                    budget -= len(piece)
                if budget <= 0:
                    break
        except (OSError, RuntimeError):
            # Client went away, or a document broke its announced size: the length is now wrong.
            self.close_connection = True

    def _drip(self, data: bytes, delay: float) -> bool:
        """One byte every ``delay`` seconds; False once the sandbox stops (the rest never comes)."""
        for index in range(len(data)):
            self.wfile.write(data[index : index + 1])
            self.wfile.flush()
            if self.server.stopping.wait(delay):
                self.close_connection = True
                return False
        return True


class SandboxHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its connections and threads, so stop() can end them all."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        state: SandboxState,
        services: Services,
        *,
        ssl_context: ssl.SSLContext | None,
        verbose: bool,
    ) -> None:
        self.state = state
        self.services = services
        self.verbose = verbose
        self.stopping = threading.Event()
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        super().server_bind()
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        assert isinstance(request, socket.socket)
        worker = threading.Thread(target=self._serve_connection, args=(request, client_address), daemon=True)
        with self._lock:
            self._workers.add(worker)
        worker.start()

    def _serve_connection(self, sock: socket.socket, client_address: object) -> None:
        connection = sock
        try:
            if self._ssl_context is not None:
                sock.settimeout(_Handler.timeout)
                connection = self._ssl_context.wrap_socket(sock, server_side=True)
            with self._lock:
                if self.stopping.is_set():
                    return
                self._connections.add(connection)
            self.finish_request(connection, client_address)
        except OSError as exc:
            if self.verbose:
                sys.stderr.write(f"sandbox connection error: {type(exc).__name__}: {exc}\n")
        finally:
            with self._lock:
                self._connections.discard(connection)
                self._workers.discard(threading.current_thread())
            self.shutdown_request(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        if self.verbose:
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close_all(self, timeout: float) -> None:
        """Wake every waiting handler, close every connection and join every worker thread."""
        self.stopping.set()
        with self._lock:
            connections = list(self._connections)
            workers = list(self._workers)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
        for worker in workers:
            if worker is not threading.current_thread():  # stop() called from a hook in a handler
                worker.join(timeout)


# -- the public object -------------------------------------------------------------------------


def _seed(config: SandboxConfig) -> list[SeedShipment]:
    """The configured mailbox: default content plus bulk, hostile and large shipments."""
    shipments: list[SeedShipment] = []
    if config.mailbox == "default":
        shipments += mailbox.default_mailbox(config.today)
    if config.bulk_shipments:
        shipments += mailbox.bulk_shipments(config.bulk_shipments, today=config.today)
    if config.hostile:
        shipments += mailbox.hostile_shipments(config.today)
    if config.large_document_bytes:
        shipments.append(mailbox.large_document_shipment(config.large_document_bytes, today=config.today))
    return shipments


class Sandbox:
    """A real BiPRO server (STS 410, Transfer 430, Extranet 440) on 127.0.0.1, for tests and demos.

    ::

        with Sandbox() as sb:                       # or Sandbox(config), Sandbox(mtom=False, ...)
            sb.inject(FaultKind.HTTP_503, operation="getShipment", retry_after=0)
            with Client(sb.username, sb.password, base_url=sb.base_url) as client:
                ...

    ``stats`` is a live, thread-safe view of the counters; ``before_acknowledge`` is
    called in the server thread with the shipment id before an ack is recorded (if it
    raises, the client gets Fault 99999 and the ack is not recorded).
    """

    def __init__(self, config: SandboxConfig | None = None, /, **overrides: object) -> None:
        if config is None:
            config = SandboxConfig.model_validate(overrides)
        elif overrides:
            config = SandboxConfig.model_validate({**config.model_dump(), **overrides})
        self.config = config
        self._state = SandboxState(config)
        # The portal knows the seeded book whatever the mailbox holds, and every delivered contract.
        self._vsnrs = frozenset(contract.vsnr for contract in mailbox.SANDBOX_CONTRACTS)
        self._services = Services(self._state, lambda: self._vsnrs, mailbox.SANDBOX_CONTRACTS)
        self.add_shipments(_seed(config))
        self.base_url = ""
        self.ca_file: Path | None = None
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self.base_url!r}, username={self.username!r})"

    @property
    def username(self) -> str:
        return self.config.username

    @property
    def password(self) -> str:
        """The fixed sandbox-only password (it opens nothing but this local server)."""
        return self.config.password

    @property
    def stats(self) -> SandboxStats:
        return self._state.stats

    @property
    def on_request(self) -> Callable[[str], None] | None:
        """Called in the server thread with each SOAP request's operation, before any fault."""
        return self._services.on_request

    @on_request.setter
    def on_request(self, observer: Callable[[str], None] | None) -> None:
        self._services.on_request = observer

    @property
    def before_acknowledge(self) -> Callable[[str], None] | None:
        return self._services.before_acknowledge

    @before_acknowledge.setter
    def before_acknowledge(self, hook: Callable[[str], None] | None) -> None:
        self._services.before_acknowledge = hook

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind the port and serve in a background thread; returns self."""
        if self._server is not None or self._stopped:
            raise RuntimeError("a sandbox starts once; create a new one")
        ssl_context = None
        if self.config.tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="bipro-ruv-sandbox-")
            certificate = create_certificate(Path(self._tmp.name), self.config.host)
            ssl_context = certificate.server_context()
            self.ca_file = certificate.ca_file
        server = SandboxHTTPServer(
            (self.config.host, self.config.port),
            self._state,
            self._services,
            ssl_context=ssl_context,
            verbose=self.config.verbose,
        )
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://{self.config.host}:{server.server_address[1]}"
        self._services.base_url = self.base_url
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="bipro-ruv-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread; safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread, self._stopped = None, None, True
        if server is not None and thread is not None:
            server.stopping.set()
            server.shutdown()
            thread.join()
            server.close_all(timeout=10)
            server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def serve_forever(self) -> None:
        """Serve until KeyboardInterrupt (Ctrl-C; SIGTERM too where the caller maps it), then stop."""
        if self._server is None:
            self.start()
        server = self._server
        try:
            while server is not None and not server.stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # faults and tokens ------------------------------------------------------------------------

    def inject(self, rule: FaultRule | FaultKind | str, **options: Any) -> None:
        """Plan a fault: ``inject(FaultKind.HTTP_429, operation="listShipments", retry_after=0)``."""
        if isinstance(rule, FaultRule):
            if options:
                raise TypeError("options go into the FaultRule itself")
            self._state.inject(rule)
        else:
            self._state.inject(FaultRule(FaultKind(rule), **options))

    def clear_faults(self) -> None:
        self._state.clear_faults()

    def expire_tokens(self) -> None:
        """Invalidate every issued token now (the next transfer call gets 00962)."""
        self._state.expire_tokens()

    def set_token_lifetime(self, seconds: float) -> None:
        """Lifetime of tokens issued from now on."""
        self._state.set_token_lifetime(seconds)

    # mailbox -------------------------------------------------------------------------------------

    def add_shipments(self, shipments: Iterable[SeedShipment]) -> None:
        new = list(shipments)
        self._state.add_shipments(new)
        numbers = {d.vsnr for s in new for d in s.documents if d.vsnr is not None}
        self._vsnrs = self._vsnrs | numbers

    def shipments(self) -> list[SeedShipment]:
        """Every shipment, acknowledged ones included, in mailbox order."""
        return self._state.shipments()

    def open_shipment_ids(self) -> list[str]:
        return [s.id for s in self._state.listed(include_acknowledged=False)]

    def is_acknowledged(self, shipment_id: str) -> bool:
        return self._state.is_acknowledged(shipment_id)

    def portal_url(self, vsnr: str) -> str:
        """The deep link getLinks returns for ``vsnr`` (contract page or search mask)."""
        if not self.base_url:
            raise RuntimeError("start the sandbox first: the portal URL contains its port")
        return self._services.portal_url(vsnr)
