"""Login methods as values: what a :class:`~bipro_ruv.Client` is given to log in with.

A credentials value knows its user id (the account is the insurer profile plus that id)
and makes the token provider of its login method for a :class:`.Connection`:
:class:`UsernamePassword` (BiPRO Norm 410 STS with the Maklerportal password) here; the
GDV's TGIC logins as further values of the same :class:`Credentials` interface, in modules
of their own: :class:`~bipro_ruv.auth.tgic.TgicPerson` (ISTS SAML with mTAN),
:class:`~bipro_ruv.auth.certificate.OrganisationCertificate` (X.509 over mTLS) and
:class:`~bipro_ruv.auth.vdg.VdgTicket`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from bipro_ruv._wire.endpoints import ServiceKind
from bipro_ruv.auth._password import Password
from bipro_ruv.auth._rejections import RejectionStore
from bipro_ruv.auth.base import TokenProvider
from bipro_ruv.auth.connection import Connection
from bipro_ruv.auth.sts import UsernamePasswordLogin

__all__ = ["Credentials", "UsernamePassword"]


class Credentials(Protocol):
    """A login method: the user id, and the token provider it gives a connection."""

    @property
    def username(self) -> str: ...

    def token_provider(
        self, connection: Connection, *, state_dir: str | Path | None, system: str | None
    ) -> TokenProvider:
        """``state_dir``: where rejected passwords are remembered; ``system``: the STS host
        when it is not the profile's own (a test system), kept apart in that record."""
        ...


@dataclass(frozen=True)
class UsernamePassword:
    """Norm 410 "weak" login: Maklerportal user id (R+V: ``rom...``) and password.

    The password is held in a :class:`Password`: it prints ``***`` and, once the STS
    rejected it, is never sent again, by this process or (through the record in
    ``state_dir``) by any later one.
    """

    username: str
    password: Password = field(repr=False)

    def __init__(self, username: str, password: str | SecretStr | Password) -> None:
        if not username:
            raise ValueError("username must not be empty")
        object.__setattr__(self, "username", username)
        secret = password if isinstance(password, Password) else Password(password)
        object.__setattr__(self, "password", secret)

    def token_provider(
        self, connection: Connection, *, state_dir: str | Path | None, system: str | None
    ) -> TokenProvider:
        profile = connection.profile
        return UsernamePasswordLogin(
            self.username,
            self.password,
            connection.endpoint(ServiceKind.STS),
            send_bipro_version=profile.sts_sends_bipro_version,
            default_lifetime_s=profile.default_token_lifetime_s,
            rejections=RejectionStore(state_dir, profile.key, self.username, system),
        )
