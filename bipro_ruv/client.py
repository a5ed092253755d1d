"""The one object an MVP talks to: :class:`Client`.

``with Client(username, password) as client:`` logs in lazily on the first call,
reuses the SecurityContextToken across calls, renews it before it expires, and
repeats a call once after a fresh login when the service reports the session invalid
(00960/00962). The client holds the connection (transport, profile, login) and one
object per BiPRO service (:attr:`Client.transfer`, :attr:`Client.extranet`); a new
service is a new package and one ``cached_property`` here. Everything is configured
explicitly; nothing is read from the environment (see :meth:`Settings.from_env` for
that, called by you).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from pydantic import SecretStr

from bipro_ruv._redact import install_redaction
from bipro_ruv._wire.policy import ReplyLimits, RetryPolicy, Timeouts
from bipro_ruv._wire.transport import HttpTransport
from bipro_ruv.auth import Password, SecurityToken, TokenManager, TokenProvider
from bipro_ruv.auth._rejections import system_of
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.credentials import Credentials, UsernamePassword
from bipro_ruv.datapackages.service import DataPackageService
from bipro_ruv.deeplink import PortalLinks
from bipro_ruv.extranet import ExtranetService, Link, PartnerQuery, ResolvedDeepLink
from bipro_ruv.gdv.service import GdvService
from bipro_ruv.models import Status
from bipro_ruv.profiles import InsurerProfile, get_profile
from bipro_ruv.settings import Settings
from bipro_ruv.store import DEFAULT_CONSUMER, Account, DocumentStore
from bipro_ruv.transfer._download import DownloadedShipment
from bipro_ruv.transfer.fetch import QUARANTINE_AFTER
from bipro_ruv.transfer.handoff import Handoff
from bipro_ruv.transfer.models import Document, FetchEvent, FetchReport, Shipment
from bipro_ruv.transfer.service import TransferService
from bipro_ruv.vsnr import Vsnr

__all__ = ["Client", "LoginInfo"]


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
    """BiPRO client for one account (user) at one insurer of the R+V group.

    One attribute per BiPRO service: :attr:`transfer` (Norm 430) and :attr:`extranet`
    (Norm 440); the methods an MVP calls most (:meth:`fetch_open_documents`,
    :meth:`list_shipments`, :meth:`deep_link`, ...) are short delegates to them.

    :param username: Maklerportal user id (R+V: ``rom...``/``rmp...``); with ``password``
        the short form of ``credentials=UsernamePassword(username, password)``.
    :param password: the portal password; once the STS rejects it, it is never sent
        again (R+V locks accounts after repeated failures).
    :param credentials: the login method as a value, instead of ``username`` and
        ``password``: :class:`UsernamePassword`, :class:`TgicPerson` (TGIC-ID with mTAN),
        :class:`OrganisationCertificate` (mTLS), :class:`VdgTicket`.
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
    :param token_provider: a token provider of your own, replacing the one of the
        credentials (advanced; the credentials still name the user).
    :param portal_links: URL templates for offline deep links, replacing the profile's
        (``profile.portal``; R+V's portal URL scheme is not public, the default is assumed).
    :param state_dir: folder for the durable record of rejected passwords, shared by every
        process of this user (default: the user's data folder, e.g. ``~/.local/share/bipro-ruv``).
        A password the STS rejected is then not sent again by any later run either, until a
        different password logs in successfully.
    """

    def __init__(
        self,
        username: str | None = None,
        password: str | SecretStr | Password | None = None,
        *,
        credentials: Credentials | None = None,
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
        credentials = _credentials(username, password, credentials)
        resolved = get_profile(profile)
        if base_url:
            resolved = resolved.with_base_url(base_url)
        if portal_links is not None:
            resolved = resolved.model_copy(update={"portal": portal_links})
        self.profile: InsurerProfile = resolved
        self.credentials = credentials
        self.username = credentials.username
        transport = HttpTransport(
            session,
            timeouts=timeouts,
            verify=verify,
            allow_insecure_http=allow_insecure_http,
            trust_env=trust_env,
            limits=limits,
        )
        self._connection = Connection(resolved, transport, retry)
        provider = token_provider or credentials.token_provider(
            self._connection, state_dir=state_dir, system=system_of(base_url)
        )
        self._connection.log_in_with(TokenManager(provider))

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Client:
        """A client configured from :class:`Settings` (e.g. ``Settings.from_env()``);
        ``overrides`` replace its keyword arguments (``credentials=`` too, e.g. the settings'
        own with an ``otp_provider``: ``settings.credentials(otp_provider=ask)``)."""
        credentials = overrides.pop("credentials", None) or settings.credentials()
        return cls(credentials=credentials, **{**settings.client_kwargs(), **overrides})

    # -- the services: one line each ------------------------------------------------

    @cached_property
    def transfer(self) -> TransferService:
        """Norm 430: list, get, acknowledge, fetch (:class:`~bipro_ruv.transfer.TransferService`)."""
        return TransferService(self._connection, Account(self.profile.key, self.username))

    @cached_property
    def extranet(self) -> ExtranetService:
        """Norm 440: portal links and deep links (:class:`~bipro_ruv.extranet.ExtranetService`)."""
        return ExtranetService(self._connection)

    @cached_property
    def gdv(self) -> GdvService:
        """GDV Bestand and Inkasso files from the mailbox, parsed
        (:class:`~bipro_ruv.gdv.service.GdvService`)."""
        return GdvService(self.transfer)

    @cached_property
    def datapackages(self) -> DataPackageService:
        """R+V's CSV data packages from the mailbox, read
        (:class:`~bipro_ruv.datapackages.service.DataPackageService`)."""
        return DataPackageService(self.transfer)

    # -- login ------------------------------------------------------------------

    def login(self) -> LoginInfo:
        """Log in now (or reuse a valid token) and say until when the token is valid."""
        self._connection.check_open()
        return LoginInfo(self._connection.tokens.get())

    @property
    def logins(self) -> int:
        """How many times this client logged in at the STS (for monitoring)."""
        return self._connection.tokens.logins

    # -- delegates an MVP calls today -------------------------------------------------

    @property
    def profile_key(self) -> str:
        return self.profile.key

    @property
    def vu_number(self) -> str:
        return self.profile.vu_number

    def list_shipments(
        self, *, categories: Sequence[str] | None = None, include_acknowledged: bool = False
    ) -> list[Shipment]:
        """Delegates to :meth:`.TransferService.list_shipments`."""
        return self.transfer.list_shipments(categories=categories, include_acknowledged=include_acknowledged)

    def download_to_spool(
        self, shipment_id: str, spool_dir: Path, on_bytes: Callable[[int], None] | None = None
    ) -> DownloadedShipment:
        """Delegates to :meth:`.TransferService.download_to_spool`."""
        return self.transfer.download_to_spool(shipment_id, spool_dir, on_bytes)

    def get_shipment(self, shipment_id: str, directory: str | Path) -> tuple[Shipment, list[Document]]:
        """Delegates to :meth:`.TransferService.get_shipment`."""
        return self.transfer.get_shipment(shipment_id, directory)

    def acknowledge_shipment(self, shipment_id: str) -> Status:
        """Delegates to :meth:`.TransferService.acknowledge_shipment`."""
        return self.transfer.acknowledge_shipment(shipment_id)

    def fetch_open_documents(
        self,
        inbox: str | Path,
        *,
        acknowledge: bool = True,
        categories: Sequence[str] | None = None,
        workers: int = 3,
        progress: Callable[[FetchEvent], None] | None = None,
        store: DocumentStore | None = None,
        on_document: Callable[[Document], object] | None = None,
        consumer: str = DEFAULT_CONSUMER,
        quarantine_after: int = QUARANTINE_AFTER,
    ) -> FetchReport:
        """Every open shipment stored durably in ``inbox``, then acknowledged; safe to rerun after
        any crash. Delegates to :meth:`.TransferService.fetch_open_documents`."""
        return self.transfer.fetch_open_documents(
            inbox,
            acknowledge=acknowledge,
            categories=categories,
            workers=workers,
            progress=progress,
            store=store,
            on_document=on_document,
            consumer=consumer,
            quarantine_after=quarantine_after,
        )

    def handoff(
        self, inbox: str | Path, *, consumer: str = DEFAULT_CONSUMER, store: DocumentStore | None = None
    ) -> Handoff:
        """The stored documents ``consumer`` (the MVP) has not taken yet: exactly-once import.
        Delegates to :meth:`.TransferService.handoff`."""
        return self.transfer.handoff(inbox, consumer=consumer, store=store)

    def get_links(self, *, vsnr: str | Vsnr | None = None, partner: PartnerQuery | None = None) -> list[Link]:
        """Delegates to :meth:`.ExtranetService.get_links`."""
        return self.extranet.get_links(vsnr=vsnr, partner=partner)

    def deep_link(self, vsnr: str | Vsnr, *, online: bool = False) -> ResolvedDeepLink:
        """Delegates to :meth:`.ExtranetService.deep_link`."""
        return self.extranet.deep_link(vsnr, online=online)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Forget the token and close the HTTP session (if the client created it)."""
        self._connection.close()

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


def _credentials(
    username: str | None, password: str | SecretStr | Password | None, credentials: Credentials | None
) -> Credentials:
    if credentials is not None:
        if username is not None or password is not None:
            raise TypeError("Client() takes either username and password, or credentials=, not both")
        return credentials
    if username is None or password is None:
        raise TypeError("Client() needs a username and a password, or credentials=")
    return UsernamePassword(username, password)
