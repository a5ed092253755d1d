"""A local BiPRO server for tests, the demo and benchmarks: ``with Sandbox() as sb: ...``.

It speaks the R+V profile's services over real HTTP on 127.0.0.1 (Norm 410 STS,
Norm 430 TransferService, Norm 440 ExtranetService plus the Maklerportal pages the
deep links open), with a realistic mailbox, R+V-like lockout after wrong passwords,
and injectable faults (:class:`FaultKind`). Besides the password it takes the other
logins: the organisation certificate (``tls=True, client_certificates=True``, mTLS;
:meth:`Sandbox.issue_client_certificate`), a VDG ticket (:meth:`Sandbox.issue_vdg_ticket`)
and the TGIC person login at its ISTS (WS-Trust with an mTAN, :attr:`Sandbox.last_mtan`).
The wire contract it implements is ``docs/sandbox-contract.md``; it shares no protocol code
with the library's client.

The default credentials (``rom4711`` / ``Sandbox-Passwort-1``) are sandbox-only.
Standalone: ``python -m bipro_ruv.sandbox --port 8080`` prints ``READY <base_url>``.

Layout, bottom up: :mod:`.content` (the mailbox: shipments, letters, hostile cases, GDV/CSV/PDF
writers; :class:`~.content.shipments.SeedShipment` is what :meth:`Sandbox.add_shipments` takes),
:mod:`.config` and :mod:`.state` (what a sandbox is told and what it keeps), :mod:`.services` (one
module per BiPRO norm, no sockets) and :mod:`.server` (HTTP, faults, streaming, TLS, :class:`Sandbox`).
"""

from bipro_ruv.sandbox.config import FaultKind, FaultRule, SandboxConfig
from bipro_ruv.sandbox.server.app import Sandbox
from bipro_ruv.sandbox.state import SandboxStats, StatsSnapshot

__all__ = ["FaultKind", "FaultRule", "Sandbox", "SandboxConfig", "SandboxStats", "StatsSnapshot"]
