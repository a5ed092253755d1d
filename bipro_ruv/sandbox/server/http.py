"""The sandbox's HTTP/1.1 server: routing to the BiPRO services, injected faults and streamed replies.

A ``ThreadingHTTPServer`` on 127.0.0.1 with keep-alive. SOAP requests are POSTed to the service paths of the
insurer profiles (Norm 410 STS with its certificate and VDG ticket ports, the TGIC ISTS, Norm 430
TransferService, Norm 440 ExtranetService); GET serves the Maklerportal pages. On a TLS listener that
requires client certificates the verified peer certificate goes with each request
(``SoapRequest.peer_certificate``). Every reply carries a Content-Length; getShipment replies are computed
from the part sizes and streamed (:mod:`.streaming`) so no large document is ever held in memory. The server
tracks its connections so :meth:`Sandbox.stop <bipro_ruv.sandbox.Sandbox.stop>` can close them and join
every thread (no socket outlives the sandbox, which tests check as ResourceWarning).
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from bipro_ruv.profiles import PROFILES
from bipro_ruv.sandbox.config import FaultKind, FaultRule
from bipro_ruv.sandbox.server.faults import (
    FAULTS_ON_THE_REAL_REPLY,
    SHIPMENT_FAULTS,
    fault_reply,
    quote_secrets_fault,
)
from bipro_ruv.sandbox.server.streaming import Delivery, Segment, literal, shipment_body, status_multipart
from bipro_ruv.sandbox.services.soap import (
    Reply,
    RequestError,
    SoapRequest,
    TrustFault,
    check_soap_action,
    fault,
    nok_reply,
    parse_request,
    trust_fault,
)
from bipro_ruv.sandbox.services.transfer import Closing, ShipmentReply
from bipro_ruv.sandbox.state import Headers

if TYPE_CHECKING:
    from bipro_ruv.sandbox.services.dispatch import Services
    from bipro_ruv.sandbox.state import SandboxState

__all__ = ["MAX_REQUEST_BYTES", "ROUTES", "SandboxHTTPServer"]

MAX_REQUEST_BYTES = 10 * 1024 * 1024


def _routes() -> dict[str, tuple[str, str]]:
    """URL path -> (service, version), from the insurer profiles (R+V, KRAVAG, Condor).

    The services are the keys of :data:`~bipro_ruv.sandbox.services.soap.SERVICE_OPERATIONS`; the
    ISTS (not a BiPRO service) goes with the STS's version, used only should a BiPRO Fault name one.
    """
    routes: dict[str, tuple[str, str]] = {}
    for profile in PROFILES.values():
        endpoints = {
            "sts": profile.sts,
            "sts_certificate": profile.sts_certificate,
            "sts_ticket": profile.sts_ticket,
            "transfer": profile.transfer,
            "extranet": profile.extranet,
        }
        for service, endpoint in endpoints.items():
            if endpoint is not None:
                routes[urlsplit(endpoint.url).path.rstrip("/")] = (service, endpoint.bipro_version)
        if profile.tgic is not None:
            routes[urlsplit(profile.tgic.ists_url).path.rstrip("/")] = ("ists", profile.sts.bipro_version)
    return routes


ROUTES = _routes()


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
        request = self._accept(body, service, version)
        if request is None:
            return
        rule = self.server.state.take_fault(request.operation)
        if self._answered_by_fault(rule, request, version):
            return
        reply = self._serve(service, version, request, rule)
        kind = rule.kind if rule is not None else None
        delivery = Delivery(
            drip=rule.delay if rule is not None and kind is FaultKind.SLOW_DRIP else None,
            cut=kind is FaultKind.TRUNCATED_BODY,
        )
        if isinstance(reply, ShipmentReply):
            self._stream(reply, delivery)
        else:
            self._send(reply, delivery=delivery)

    def _accept(self, body: bytes, service: str, version: str) -> SoapRequest | None:
        """The parsed request, counted and shown to ``on_request``; None once refused (415, Fault)."""
        headers = Headers(self.headers.items())
        stats = self.server.state.stats
        if not self.headers.get("Content-Type", "").lower().startswith("text/xml"):
            stats.record_request("invalid", headers, service)
            self._send(Reply(415, b"SOAP 1.1 expects text/xml\n", "text/plain; charset=utf-8"))
            return None
        try:
            request = parse_request(body)
        except RequestError as exc:
            stats.record_request("invalid", headers, service)
            if service == "ists":
                self._send(trust_fault("InvalidRequest", exc.text))
            else:
                self._send(fault(version, "unbekannt", exc.meldung_id, exc.text))
            return None
        request = dataclasses.replace(request, peer_certificate=self._peer_certificate())
        stats.record_request(request.operation, headers, service)
        observer = self.server.services.on_request
        if observer is not None:
            observer(request.operation)
        return request

    def _peer_certificate(self) -> dict[str, object] | None:
        """The connection's verified client certificate; None on plain http or when none was asked for."""
        getpeercert = getattr(self.connection, "getpeercert", None)
        if getpeercert is None:
            return None
        certificate: dict[str, object] | None = getpeercert()
        return certificate or None  # {}: the listener asked for none, so none was verified

    def _answered_by_fault(self, rule: FaultRule | None, request: SoapRequest, version: str) -> bool:
        """Apply a fault that delays or replaces the real reply; True if the request is done with."""
        if rule is None:
            return False
        kind = rule.kind
        if kind is FaultKind.SLOW:
            if self.server.stopping.wait(rule.delay):
                self.close_connection = True
                return True
            return False
        if kind is FaultKind.CONNECTION_RESET:
            self._reset()
            return True
        if kind is FaultKind.QUOTE_SECRETS:
            self._send(quote_secrets_fault(request, version, self.server.state.config.password))
            return True
        if kind not in FAULTS_ON_THE_REAL_REPLY:
            self._send(fault_reply(rule, request.operation, version))
            return True
        return False

    def _serve(
        self, service: str, version: str, request: SoapRequest, rule: FaultRule | None
    ) -> Reply | ShipmentReply:
        """The real reply, changed by the faults that act on it (cut multipart, closing, shipment faults)."""
        operation = request.operation
        kind = rule.kind if rule is not None else None
        truncate = kind is FaultKind.TRUNCATED_MULTIPART
        closing: Closing = "standard"
        if rule is not None and kind is FaultKind.MISSING_CLOSING_DELIMITER:
            closing = "other_boundary" if rule.variant == "other_boundary" else "missing"
        try:
            check_soap_action(self.headers.get("SOAPAction"), operation)
            if truncate and operation != "getShipment":
                # The real operation is not carried out: a fault reply has no side effects.
                placeholder = nok_reply(operation, version, "00930", "Antwort abgebrochen")
                reply: Reply | ShipmentReply = status_multipart(placeholder, operation)
            else:
                reply = self.server.services.handle(
                    service,
                    version,
                    request,
                    truncate=truncate,
                    shipment_fault=kind if kind in SHIPMENT_FAULTS else None,
                    closing=closing,
                )
        except RequestError as exc:
            reply = fault(version, operation, exc.meldung_id, exc.text, server_side=exc.server_side)
        except TrustFault as exc:
            reply = trust_fault(exc.code, exc.text)
        except ValueError as exc:  # content lxml cannot write (e.g. a control character in a name)
            reply = fault(version, operation, "99999", f"Antwort nicht erzeugbar: {exc}", server_side=True)
        if truncate and isinstance(reply, Reply):
            reply = status_multipart(reply, operation)
        return reply

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

    def _send(self, reply: Reply, *, close: bool = False, delivery: Delivery | None = None) -> None:
        segments = [literal(reply.body)]
        self._deliver(reply.status, reply.content_type, reply.headers, segments, close, delivery)

    def _stream(self, reply: ShipmentReply, delivery: Delivery | None = None) -> None:
        content_type, segments = shipment_body(reply)
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
        delivery: Delivery | None,
        missing: int = 0,
    ) -> None:
        """Headers, then the segments: whole, dripping (SLOW_DRIP) or cut half-way (TRUNCATED_BODY)."""
        delivery = delivery or Delivery()
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


def _drain(connection: socket.socket, *, timeout: float, limit: int) -> None:
    """Read and drop the raw bytes still coming on ``connection`` until EOF, ``timeout`` or ``limit``."""
    deadline = time.monotonic() + timeout
    received = 0
    with contextlib.suppress(OSError):
        while received < limit and (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            data = socket.socket.recv(connection, 65536)  # the bytes on the wire, not TLS records
            if not data:
                break
            received += len(data)


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
                connection = self._ssl_context.wrap_socket(
                    sock, server_side=True, do_handshake_on_connect=False
                )
            with self._lock:
                if self.stopping.is_set():
                    return
                self._connections.add(connection)
            if isinstance(connection, ssl.SSLSocket) and not self._handshake(connection):
                return
            self.finish_request(connection, client_address)
        except OSError as exc:
            if self.verbose:
                sys.stderr.write(f"sandbox connection error: {type(exc).__name__}: {exc}\n")
        finally:
            with self._lock:
                self._connections.discard(connection)
                self._workers.discard(threading.current_thread())
            self.shutdown_request(connection)

    def _handshake(self, connection: ssl.SSLSocket) -> bool:
        """The TLS handshake; False (after a refusal the client can read) if it fails.

        A listener that requires client certificates refuses a missing, foreign or expired one
        with an alert. With TLS 1.3 the client has sent its request by then: closing at once
        with that request unread would reset the connection, and the reset can overtake the
        alert. So the refused connection is read to its end (briefly) before it is closed.
        """
        try:
            connection.do_handshake()
        except ssl.SSLError as exc:
            if self.verbose:
                sys.stderr.write(f"sandbox TLS handshake refused: {exc}\n")
            if self._ssl_context is not None and self._ssl_context.verify_mode == ssl.CERT_REQUIRED:
                _drain(connection, timeout=1.0, limit=1 << 20)
            return False
        return True

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
