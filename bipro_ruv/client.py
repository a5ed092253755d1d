"""The one object an MVP talks to: :class:`Client`.

``with Client(username, password) as client:`` logs in lazily on the first call,
reuses the SecurityContextToken across calls, renews it before it expires, and
repeats a call once after a fresh login when the service reports the session invalid
(00960/00962). Everything is configured explicitly; nothing is read from the
environment (see :meth:`Settings.from_env` for that, called by you).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from lxml import etree
from pydantic import SecretStr

from bipro_ruv._redact import install_redaction
from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv._wire.fs import make_folder, resolve_folder, storage_error
from bipro_ruv._wire.policy import ReplyLimits, RetryPolicy, Timeouts
from bipro_ruv._wire.soap import SoapEndpoint, check_status
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv.auth import Password, SecurityToken, TokenManager, TokenProvider, UsernamePasswordLogin
from bipro_ruv.auth._rejections import RejectionStore
from bipro_ruv.deeplink import PortalLinks
from bipro_ruv.deeplink import deep_link as offline_deep_link
from bipro_ruv.errors import ConfigurationError, SessionExpiredError
from bipro_ruv.extranet import (
    DeepLinkSource,
    Link,
    PartnerQuery,
    ResolvedDeepLink,
    contract_search,
    links_request,
    parse_links_reply,
    partner_search,
)
from bipro_ruv.models import Status
from bipro_ruv.profiles import InsurerProfile, get_profile
from bipro_ruv.settings import Settings
from bipro_ruv.transfer._download import DownloadedShipment, download_shipment
from bipro_ruv.transfer._files import move_unique
from bipro_ruv.transfer._parse import parse_list_reply, response_element
from bipro_ruv.transfer.categories import category_label, matches_category, validate_category_filter
from bipro_ruv.transfer.fetch import Fetcher
from bipro_ruv.transfer.models import Document, FetchEvent, FetchReport, Shipment
from bipro_ruv.vsnr import Vsnr

__all__ = ["Client", "LoginInfo"]

log = logging.getLogger("bipro_ruv.client")

T = TypeVar("T")


def _system(base_url: str | None) -> str | None:
    """``host[:port]`` of a ``base_url`` (another system than the profile's), else None."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")


class LoginInfo:
    """What a successful login tells (never the token itself)."""

    __slots__ = ("expires_at_utc", "lifetime_s")

    def __init__(self, token: SecurityToken) -> None:
        self.expires_at_utc: datetime = token.expires_at_utc
        self.lifetime_s: float = token.lifetime_s

    def __repr__(self) -> str:
        return (
            f"LoginInfo(expires_at_utc={self.expires_at_utc.isoformat()}, lifetime_s={self.lifetime_s:.0f})"
        )


class Client:
    """BiPRO client for one user at one insurer of the R+V group.

    :param username: Maklerportal user id (R+V: ``rom...``/``rmp...``).
    :param password: the portal password; once the STS rejects it, this client never
        sends it again (R+V locks accounts after repeated failures).
    :param profile: ``"ruv"`` (default), ``"kravag"``, ``"condor"`` or an
        :class:`InsurerProfile`.
    :param base_url: send every service to this host instead (sandbox, test system).
    :param timeouts: connect, read and whole-reply timeouts; always set.
    :param verify: TLS verification: ``True`` or the path of a CA bundle.
    :param allow_insecure_http: permit plain http to non-loopback hosts (test systems only).
    :param trust_env: read ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` and (with
        ``verify=True``) ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` from the environment;
        off by default, so nothing in the environment changes where requests go.
    :param limits: the largest replies accepted (:class:`ReplyLimits`).
    :param retry: when failed exchanges are repeated (:class:`RetryPolicy`).
    :param session: a ``requests.Session`` to use (proxies, adapters); closed by you.
    :param token_provider: another login method (e.g. TGIC); default is the Norm 410
        username/password login.
    :param portal_links: URL templates for offline deep links, replacing the profile's
        (``profile.portal``; R+V's portal URL scheme is not public, the default is assumed).
    :param state_dir: folder for the durable record of rejected passwords, shared by every
        process of this user (default: the user's data folder, e.g. ``~/.local/share/bipro-ruv``).
        A password the STS rejected is then not sent again by any later run either, until a
        different password logs in successfully.
    """

    def __init__(
        self,
        username: str,
        password: str | SecretStr | Password,
        *,
        profile: str | InsurerProfile = "ruv",
        base_url: str | None = None,
        timeouts: Timeouts = Timeouts(),
        verify: bool | str | Path = True,
        allow_insecure_http: bool = False,
        session: requests.Session | None = None,
        trust_env: bool = False,
        limits: ReplyLimits = ReplyLimits(),
        retry: RetryPolicy = RetryPolicy(),
        token_provider: TokenProvider | None = None,
        portal_links: PortalLinks | None = None,
        state_dir: str | Path | None = None,
    ) -> None:
        install_redaction()
        resolved = get_profile(profile)
        if base_url:
            resolved = resolved.with_base_url(base_url)
        if portal_links is not None:
            resolved = resolved.model_copy(update={"portal": portal_links})
        self.profile: InsurerProfile = resolved
        self.username = username
        self._password = password if isinstance(password, Password) else Password(password)
        self._transport = HttpTransport(
            session,
            timeouts=timeouts,
            verify=verify,
            allow_insecure_http=allow_insecure_http,
            trust_env=trust_env,
            limits=limits,
        )
        self._retry = retry
        self._endpoints: dict[ServiceKind, SoapEndpoint] = {}
        provider = token_provider or UsernamePasswordLogin(
            username,
            self._password,
            self._endpoint(ServiceKind.STS),
            send_bipro_version=self.profile.sts_sends_bipro_version,
            default_lifetime_s=self.profile.default_token_lifetime_s,
            rejections=RejectionStore(state_dir, self.profile.key, username, _system(base_url)),
        )
        self._tokens = TokenManager(provider)
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Client:
        """A client configured from :class:`Settings` (e.g. ``Settings.from_env()``)."""
        return cls(settings.username, settings.password, **{**settings.client_kwargs(), **overrides})

    # -- plumbing ---------------------------------------------------------------

    def _endpoint(self, kind: ServiceKind) -> SoapEndpoint:
        endpoint = self._endpoints.get(kind)
        if endpoint is None:
            config = {
                ServiceKind.STS: self.profile.sts,
                ServiceKind.TRANSFER: self.profile.transfer,
                ServiceKind.EXTRANET: self.profile.extranet,
            }[kind]
            if config is None:
                raise ConfigurationError(f"profile {self.profile.key!r} has no {kind.value} service")
            endpoint = SoapEndpoint(
                kind,
                config,
                self._transport,
                soap_action_style=self.profile.soap_action_style,
                retry=self._retry,
            )
            self._endpoints[kind] = endpoint
        return endpoint

    def _with_session(self, call: Callable[[SecurityToken], T]) -> T:
        """Run ``call`` with a valid token; after 00960/00962 log in again once and repeat once."""
        self._check_open()
        token = self._tokens.get()
        try:
            return call(token)
        except SessionExpiredError:
            log.info("session reported invalid; logging in again and repeating the call once")
            self._tokens.invalidate(token)
            return call(self._tokens.get())

    def _call(
        self, kind: ServiceKind, operation: str, *, idempotent: bool = False, **body: Any
    ) -> etree._Element:
        endpoint = self._endpoint(kind)
        return self._with_session(
            lambda token: endpoint.call(operation, token.header, idempotent=idempotent, **body)
        )

    def _transfer_request(self, **fields: Any) -> dict[str, Any]:
        request: dict[str, Any] = {"BiPROVersion": self.profile.transfer.bipro_version}
        if self.profile.consumer_id:
            request["ConsumerID"] = self.profile.consumer_id
        request.update(fields)
        return request

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError("this Client is closed")

    # -- login ------------------------------------------------------------------

    def login(self) -> LoginInfo:
        """Log in now (or reuse a valid token) and say until when the token is valid."""
        self._check_open()
        return LoginInfo(self._tokens.get())

    @property
    def logins(self) -> int:
        """How many times this client logged in at the STS (for monitoring)."""
        return self._tokens.logins

    # -- Norm 430 TransferService --------------------------------------------------

    @property
    def profile_key(self) -> str:
        return self.profile.key

    @property
    def vu_number(self) -> str:
        return self.profile.vu_number

    def list_shipments(
        self, *, categories: Sequence[str] | None = None, include_acknowledged: bool = False
    ) -> list[Shipment]:
        """The shipments (``Lieferungen``) waiting in the mailbox (``listShipments``).

        ``categories``: 3-, 6- or 9-digit GeVo prefixes, filtered on our side (providers
        differ in which ``KategorieDerLieferung`` granularity they accept).
        """
        wanted = validate_category_filter(categories or ())
        fields: dict[str, Any] = {}
        if include_acknowledged or self.profile.send_bestaetige_lieferungen:
            fields["BestaetigeLieferungen"] = include_acknowledged
        payload = self._call(
            ServiceKind.TRANSFER, "listShipments", idempotent=True, Request=self._transfer_request(**fields)
        )
        shipments, _status = parse_list_reply(payload, category_label)
        return [item for item in shipments if matches_category(item.category, wanted)]

    def download_to_spool(
        self, shipment_id: str, spool_dir: Path, on_bytes: Callable[[int], None] | None = None
    ) -> DownloadedShipment:
        """getShipment, with every document decoded and checked into ``spool_dir`` (streamed)."""
        endpoint = self._endpoint(ServiceKind.TRANSFER)
        request = self._transfer_request(ID=shipment_id)
        return self._with_session(
            lambda token: download_shipment(endpoint, token.header, request, spool_dir, on_bytes=on_bytes)
        )

    def get_shipment(self, shipment_id: str, directory: str | Path) -> tuple[Shipment, list[Document]]:
        """Download one shipment (``getShipment``) and store its documents in ``directory``.

        Attachments are streamed to disk (constant memory), checked against their
        ``Pruefsumme``, ZIPs unpacked with limits, and stored under safe, unique names.
        It does *not* acknowledge; see :meth:`fetch_open_documents` for the safe loop.
        ``directory`` is created if it is missing (its parent folder is not); a folder
        that cannot be written into raises :class:`~bipro_ruv.errors.StorageError`.
        """
        target = resolve_folder(Path(directory), "the target folder")
        make_folder(target, "the target folder")
        try:
            with tempfile.TemporaryDirectory(dir=target, prefix=".bipro-spool-") as spool:
                downloaded = self.download_to_spool(shipment_id, Path(spool))
                documents = []
                taken: list[str] = []
                for doc in downloaded.documents:
                    final = move_unique(doc.path, target, doc.safe_name(), taken)
                    taken.append(final.name)
                    row = doc.journal_row(self.profile.key, shipment_id, final.name, self.vu_number)
                    documents.append(row.to_document(target))
        except OSError as exc:
            # The network's OSErrors are TransportErrors by now: this is the disk.
            raise storage_error(exc, target, f"store shipment {shipment_id!r} in") from exc
        return downloaded.shipment, documents

    def acknowledge_shipment(self, shipment_id: str) -> Status:
        """Confirm receipt (``acknowledgeShipment``): the shipment leaves the mailbox for good."""
        payload = self._call(
            ServiceKind.TRANSFER, "acknowledgeShipment", Request=self._transfer_request(ID=shipment_id)
        )
        return check_status(response_element(payload, "acknowledgeShipment"), "acknowledgeShipment")

    def fetch_open_documents(
        self,
        inbox: str | Path,
        *,
        acknowledge: bool = True,
        categories: Sequence[str] | None = None,
        workers: int = 3,
        progress: Callable[[FetchEvent], None] | None = None,
    ) -> FetchReport:
        """Fetch every open shipment into ``inbox``, store it durably, then acknowledge it.

        Safe to rerun after any crash: nothing is acknowledged before it is on disk
        (fsync'ed, recorded in the SQLite journal ``inbox/.bipro-ruv/journal.sqlite3``),
        nothing is stored twice, and stored-but-unacknowledged shipments are
        acknowledged without downloading them again. ``acknowledge=False`` is a dry
        run. One failing shipment is reported in the result and does not stop the
        others. ``progress`` is called (from worker threads, serialized) with
        :class:`FetchEvent` objects.
        """
        self._check_open()
        fetcher = Fetcher(
            self,
            Path(inbox),
            acknowledge=acknowledge,
            categories=validate_category_filter(categories or ()),
            workers=workers,
            progress=progress,
        )
        return fetcher.run()

    # -- Norm 440 ExtranetService and deep links -------------------------------------

    def get_links(self, *, vsnr: str | Vsnr | None = None, partner: PartnerQuery | None = None) -> list[Link]:
        """Portal links from ``getLinks``: for one contract (``vsnr``) or a partner search.

        Pass exactly one of ``vsnr`` and ``partner``. The URLs may carry a one-time
        session token: open them in the broker's browser, do not store or log them. A
        number that is no VSNR raises :class:`~bipro_ruv.vsnr.InvalidVsnr` before
        anything is sent; a non-ok status raises :class:`~bipro_ruv.errors.ServiceError`.
        """
        if vsnr is not None and partner is None:
            search = contract_search(vsnr)
        elif partner is not None and vsnr is None:
            search = partner_search(partner)
        else:
            raise TypeError("get_links() takes exactly one of vsnr= and partner=")
        version = self._endpoint(ServiceKind.EXTRANET).endpoint.bipro_version
        payload = self._call(
            ServiceKind.EXTRANET, "getLinks", idempotent=True, Request=links_request(version, search)
        )
        links, _status = parse_links_reply(payload)
        # Never the URLs themselves: they may be one-time credentials.
        log.debug("getLinks: %d link(s)", len(links))
        return links

    def deep_link(self, vsnr: str | Vsnr, *, online: bool = False) -> ResolvedDeepLink:
        """The portal link for ``vsnr`` following R+V's rules (see :mod:`bipro_ruv.deeplink`).

        ``kind`` is the rule: a complete number (with or without Filialdirektion) leads to
        the contract page, a number without Arbeitsgebiet to the search mask with the
        number prefilled. Offline (the default) the URL comes from the profile's templates
        and nothing is sent. ``online=True`` asks ``getLinks`` with the canonical number
        (the Arbeitsgebiet kept, the Filialdirektion dropped) and takes the first link of
        the answer; R+V's service itself opens the search mask for a number without
        Arbeitsgebiet. When ``getLinks`` answers OK but without a link, the offline
        template is used (``source`` says so, and a warning is logged); an error status
        raises. An invalid number raises :class:`~bipro_ruv.vsnr.InvalidVsnr` either way.
        """
        offline = offline_deep_link(vsnr, self.profile.portal)
        links = self.get_links(vsnr=offline.vsnr) if online else []
        if online and not links:
            log.warning("getLinks answered without a link; using the offline %s template", offline.kind.value)
        if not links:
            return ResolvedDeepLink(
                url=offline.url, kind=offline.kind, vsnr=offline.vsnr, source=DeepLinkSource.OFFLINE
            )
        first = links[0]
        return ResolvedDeepLink(
            url=first.url,
            kind=offline.kind,
            vsnr=offline.vsnr,
            source=DeepLinkSource.GET_LINKS,
            target=first.target,
            description=first.description,
        )

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Forget the token and close the HTTP session (if the client created it)."""
        if not self._closed:
            self._closed = True
            self._tokens.clear()
            self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(username={self.username!r}, profile={self.profile.key!r})"
