"""The sandbox's BiPRO services behind one object: which service serves a request, with what it needs.

:class:`Services` routes a parsed request to Norm 410 (:mod:`.sts`: the password STS, the certificate port
and the VDG ticket port), the TGIC ISTS (:mod:`.ists`), Norm 430 (:mod:`.transfer`) or Norm 440
(:mod:`.extranet`), after checking that the operation belongs to the service of the URL and, outside the
login services, that the request carries a valid token (an SCT or an ISTS assertion). It holds what the
services share beyond the :class:`~bipro_ruv.sandbox.state.SandboxState`: the base URL of the deep links,
the known contract numbers and the test hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bipro_ruv.sandbox.services import extranet, ists, portal, sts, transfer
from bipro_ruv.sandbox.services.soap import SERVICE_OPERATIONS, Reply, RequestError, SoapRequest, TrustFault

if TYPE_CHECKING:
    from bipro_ruv.sandbox.config import FaultKind
    from bipro_ruv.sandbox.content.contracts import SandboxContract
    from bipro_ruv.sandbox.services.transfer import Closing, ShipmentReply
    from bipro_ruv.sandbox.state import SandboxState

__all__ = ["LOGIN_SERVICES", "Services"]

#: The services that log in, each on its own URL (port); the rest want a session.
LOGIN_SERVICES = {
    "sts": sts.request_security_token,
    "sts_certificate": sts.certificate_login,
    "sts_ticket": sts.ticket_login,
}


class Services:
    """The BiPRO services of the sandbox, on top of its :class:`SandboxState`.

    ``base_url`` (set once the server is bound) makes the deep links absolute;
    ``before_acknowledge`` is called with the shipment id before an ack is recorded;
    ``on_request`` with the operation name of every SOAP request, before any fault.
    """

    def __init__(
        self,
        state: SandboxState,
        known_vsnrs: Callable[[], frozenset[str]],
        contracts: Sequence[SandboxContract],
    ) -> None:
        self.state = state
        self.base_url = ""
        self.before_acknowledge: Callable[[str], None] | None = None
        self.on_request: Callable[[str], None] | None = None
        self._known_vsnrs = known_vsnrs
        self._contracts = contracts

    def handle(
        self,
        service: str,
        version: str,
        request: SoapRequest,
        *,
        truncate: bool = False,
        shipment_fault: FaultKind | None = None,
        closing: Closing = "standard",
    ) -> Reply | ShipmentReply:
        """Serve one request; ``truncate`` makes a getShipment reply a multipart cut short;
        ``shipment_fault`` (WRONG_SHIPMENT_ID, SHARED_CID) changes what getShipment answers."""
        if request.operation not in SERVICE_OPERATIONS[service]:
            if service == "ists":
                raise TrustFault("InvalidRequest", "Anfrage wird vom ISTS nicht angeboten")
            raise RequestError("00930", f"Operation {request.operation} gehört nicht zu diesem Service")
        if service == "ists":
            return ists.serve(self.state, request)
        login = LOGIN_SERVICES.get(service)
        if login is not None:
            return login(self.state, version, request)
        sts.require_session(self.state, request)
        if service == "extranet":
            return extranet.get_links(
                version,
                request,
                base_url=self.base_url,
                known_vsnrs=self._known_vsnrs,
                contracts=self._contracts,
            )
        return transfer.serve(
            self.state,
            version,
            request,
            truncate=truncate,
            shipment_fault=shipment_fault,
            closing=closing,
            before_acknowledge=self.before_acknowledge,
        )

    def portal_url(self, vsnr: str) -> str:
        """The deep link getLinks returns for a contract number: its page, or the search mask."""
        return extranet.portal_url(self.base_url, self._known_vsnrs, vsnr)

    def portal_page(self, path: str, query: dict[str, list[str]]) -> Reply:
        """The small HTML pages the deep links open: a contract page and the search mask."""
        return portal.portal_page(path, query, known_vsnrs=self._known_vsnrs, state=self.state)
