"""The public sandbox object: a real BiPRO server (Norm 410 STS, Norm 430 Transfer, Norm 440 Extranet).

:class:`Sandbox` seeds the mailbox from :mod:`bipro_ruv.sandbox.content`, binds the HTTP server
(:mod:`.http`) on 127.0.0.1, optionally with TLS (:mod:`.tls`; with client certificates too), serves it in a
background thread and offers what a test needs: planning faults, expiring tokens, adding shipments, reading
what the server saw, and the credentials of the other logins (organisation certificates, VDG tickets, the
mTAN of the TGIC login).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bipro_ruv.sandbox.config import FaultKind, FaultRule, SandboxConfig
from bipro_ruv.sandbox.content import hostile, mailbox
from bipro_ruv.sandbox.content.contracts import SANDBOX_CONTRACTS
from bipro_ruv.sandbox.server.http import SandboxHTTPServer
from bipro_ruv.sandbox.server.tls import ClientAuthority, create_certificate, create_client_ca
from bipro_ruv.sandbox.services import tickets
from bipro_ruv.sandbox.services.dispatch import Services
from bipro_ruv.sandbox.state import SandboxState

if TYPE_CHECKING:
    from bipro_ruv.sandbox.content.shipments import SeedShipment
    from bipro_ruv.sandbox.state import SandboxStats

__all__ = ["Sandbox"]


def _seed(config: SandboxConfig) -> list[SeedShipment]:
    """The configured mailbox: default content plus bulk, hostile and large shipments."""
    shipments: list[SeedShipment] = []
    if config.mailbox == "default":
        shipments += mailbox.default_mailbox(config.today)
    if config.bulk_shipments:
        shipments += mailbox.bulk_shipments(config.bulk_shipments, today=config.today)
    if config.hostile:
        shipments += hostile.hostile_shipments(config.today)
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

    The other logins: with ``tls=True, client_certificates=True`` the listener requires a
    certificate of the sandbox's client CA (``client_ca_file``), which
    :meth:`issue_client_certificate` writes as PKCS#12; :meth:`issue_vdg_ticket` makes a
    ticket for the VDGTicketLogin port; :attr:`last_mtan` is the SMS of the TGIC login.
    """

    def __init__(self, config: SandboxConfig | None = None, /, **overrides: object) -> None:
        if config is None:
            config = SandboxConfig.model_validate(overrides)
        elif overrides:
            config = SandboxConfig.model_validate({**config.model_dump(), **overrides})
        self.config = config
        self._state = SandboxState(config)
        # The portal knows the seeded book whatever the mailbox holds, and every delivered contract.
        self._vsnrs = frozenset(contract.vsnr for contract in SANDBOX_CONTRACTS)
        self._services = Services(self._state, lambda: self._vsnrs, SANDBOX_CONTRACTS)
        self.add_shipments(_seed(config))
        self.base_url = ""
        self.ca_file: Path | None = None
        self.client_ca_file: Path | None = None
        self._client_ca: ClientAuthority | None = None
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
            if self.config.client_certificates:
                self._client_ca = create_client_ca(Path(self._tmp.name))
                self.client_ca_file = self._client_ca.ca_file
            ssl_context = certificate.server_context(self.client_ca_file)
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

    # the other logins --------------------------------------------------------------------------

    def issue_client_certificate(
        self,
        path: str | Path,
        password: str | bytes,
        *,
        organisation: str = "Mustermakler GmbH",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> Path:
        """Write an organisation certificate of the client CA as PKCS#12 (key, certificate, CA chain).

        Encrypted with ``password``; valid from ``not_before`` (default: one day ago) to
        ``not_after`` (default: 365 days later); naive datetimes are UTC. Needs a started
        sandbox with ``tls=True, client_certificates=True``.
        """
        if self._client_ca is None:
            raise RuntimeError("start a sandbox with tls=True, client_certificates=True first")
        return self._client_ca.issue(
            Path(path), password, organisation=organisation, not_before=not_before, not_after=not_after
        )

    def issue_vdg_ticket(self, *, user: str | None = None, valid_for_s: float = 3600.0) -> str:
        """A signed VDG ticket (base64) for ``user`` (default: the sandbox user), for the ticket port.

        A negative ``valid_for_s`` gives one that has already expired.
        """
        target = user if user is not None else self.config.username
        return tickets.make_ticket(self._state.ticket_secret, target, valid_for_s)

    @property
    def last_mtan(self) -> str | None:
        """The mTAN of the latest TGIC challenge (the simulated SMS); None before the first."""
        return self._state.last_mtan

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
