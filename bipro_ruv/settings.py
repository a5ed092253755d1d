"""Explicit configuration: :class:`Settings`, optionally read from the environment.

Nothing in bipro-ruv reads the environment by itself: ``Settings(...)`` takes only what it
is given; :meth:`Settings.from_env` reads the ``BIPRO_RUV_*`` variables where your
application decides to (the ``bipro-ruv`` command does, with its options on top).

Built on pydantic-settings: every value is checked by its type, so a wrong one is an
error that names the variable, never a silent default (``BIPRO_RUV_TRUST_ENV=ture`` is
refused, not read as false).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from bipro_ruv._wire.policy import Timeouts
from bipro_ruv.auth.certificate import OrganisationCertificate
from bipro_ruv.auth.credentials import Credentials, UsernamePassword
from bipro_ruv.auth.stored import stored_password
from bipro_ruv.auth.tgic import OtpProvider, TgicPerson
from bipro_ruv.auth.vdg import VdgTicket
from bipro_ruv.errors import ConfigurationError
from bipro_ruv.profiles import PROFILES

__all__ = ["ENV_PREFIX", "Settings", "keyring_entry", "keyring_entry_of", "stored_secret"]

ENV_PREFIX = "BIPRO_RUV_"

#: Variables of the prefix that are not settings: the build and decoder switches of the GDV
#: parser (``hatch_build.py``, :data:`bipro_ruv.gdv.ACCELERATED`).
_KNOWN_ELSEWHERE = frozenset({"BIPRO_RUV_PURE_PYTHON", "BIPRO_RUV_REQUIRE_SPEEDUPS"})


class Settings(BaseSettings):
    """Connection settings for :class:`bipro_ruv.Client`, and the defaults of a fetch.

    Every field is also the environment variable ``BIPRO_RUV_<NAME>`` (:meth:`from_env`)."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    login: Literal["password", "tgic", "certificate", "vdg"] = Field(
        "password",
        description="Login method: 'password' (the Maklerportal's), 'tgic' (TGIC-ID, password and mTAN), "
        "'certificate' (the firm's TGIC X.509 certificate), 'vdg' (a VDG ticket)",
    )
    username: str | None = Field(
        None, min_length=1, description="Maklerportal user id, or the TGIC-ID (login 'tgic')"
    )
    password: SecretStr | None = Field(None, description="Maklerportal password, or the TGIC password")
    tgic_service_id: str | None = Field(
        None, description="R+V's TGIC service id (wsp:AppliesTo), if not the profile's assumed one"
    )
    certificate: Path | None = Field(
        None, description="The organisation certificate: PKCS#12 file (.p12/.pfx)"
    )
    certificate_password: SecretStr | None = Field(None, description="The password of the PKCS#12 file")
    vdg_ticket: SecretStr | None = Field(None, description="A VDG ticket (base64), for login 'vdg'")
    vdg_ticket_file: Path | None = Field(None, description="A file holding the VDG ticket, for login 'vdg'")
    profile: str = Field("ruv", description="Insurer profile: ruv, kravag, condor")
    base_url: str | None = Field(None, description="Override host of every service (sandbox, test system)")
    ca_bundle: Path | None = Field(None, description="CA bundle for TLS verification (test systems)")
    connect_timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for a connection")
    read_timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for the next bytes of a reply")
    reply_timeout_s: float = Field(1800.0, gt=0, description="Deadline for a whole reply (Timeouts.reply)")
    allow_insecure_http: bool = Field(False, description="Allow plain http:// to a host that is not loopback")
    trust_env: bool = Field(
        False, description="Use HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE from the environment"
    )
    state_dir: Path | None = Field(
        None, description="Folder for the record of rejected passwords (default: the user's data folder)"
    )
    inbox: Path | None = Field(None, description="Inbox of `bipro-ruv fetch` and `shipments` (--inbox)")
    workers: int = Field(3, ge=1, le=16, description="Shipments fetched at the same time")
    quarantine_after: int = Field(
        3, ge=1, description="Failures in a row for the same reason after which a shipment is quarantined"
    )

    @model_validator(mode="after")
    def _complete_for_the_login(self) -> Settings:
        missing = [name for name in _REQUIRED[self.login] if getattr(self, name) is None]
        if self.login == "vdg" and self.vdg_ticket is None and self.vdg_ticket_file is None:
            missing.append("vdg_ticket")
        if missing:
            raise ValueError(
                f"login {self.login!r} needs {', '.join(self.variable(name) for name in missing)}"
            )
        return self

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"no such insurer profile; known: {', '.join(PROFILES)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the caller passes: the environment is read by :meth:`from_env` alone."""
        return (init_settings,)

    @classmethod
    def variable(cls, name: str, prefix: str = ENV_PREFIX) -> str:
        """The environment variable of field ``name``: ``BIPRO_RUV_TRUST_ENV``."""
        return prefix + name.upper()

    @classmethod
    def environment(
        cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX
    ) -> dict[str, Any]:
        """The ``BIPRO_RUV_*`` variables that are set (and not empty), by field name, unchecked."""
        source = _Environment(cls, os.environ if environ is None else environ, prefix)
        return dict(source())

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        prefix: str = ENV_PREFIX,
        use_keyring: bool = True,
        **overrides: Any,
    ) -> Settings:
        """The settings of the ``BIPRO_RUV_*`` environment variables (``environ``: instead of
        ``os.environ``), with ``overrides`` (not None) on top.

        Variables: one per field, e.g. ``BIPRO_RUV_USERNAME``, ``BIPRO_RUV_PASSWORD``,
        ``BIPRO_RUV_PROFILE``, ``BIPRO_RUV_BASE_URL``, ``BIPRO_RUV_CA_BUNDLE``,
        ``BIPRO_RUV_CONNECT_TIMEOUT_S``, ``BIPRO_RUV_READ_TIMEOUT_S``, ``BIPRO_RUV_REPLY_TIMEOUT_S``,
        ``BIPRO_RUV_ALLOW_INSECURE_HTTP``, ``BIPRO_RUV_TRUST_ENV``, ``BIPRO_RUV_STATE_DIR``,
        ``BIPRO_RUV_INBOX``, ``BIPRO_RUV_WORKERS``, ``BIPRO_RUV_QUARANTINE_AFTER``.
        Without a password there, the one stored in the keyring for the account
        (:mod:`bipro_ruv.auth.stored`, ``bipro-ruv credentials set``) unless ``use_keyring`` is
        False. Raises :class:`~bipro_ruv.errors.ConfigurationError` naming every variable that
        is missing, unknown or has a wrong value.
        """
        environ = os.environ if environ is None else environ
        cls.check_environment(environ, prefix=prefix)
        from_environment = cls.environment(environ, prefix=prefix)
        given = {name: value for name, value in overrides.items() if value is not None}
        return cls._build(from_environment, given, prefix, use_keyring)

    @classmethod
    def check_environment(cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX) -> None:
        """Refuse ``BIPRO_RUV_*`` variables that are no setting (a misspelt name would be
        ignored, and its setting left at the default): one error naming each, with the
        setting it probably means."""
        environ = os.environ if environ is None else environ
        unknown = sorted(
            key
            for key in environ
            if key.upper().startswith(prefix)
            and key.upper() not in _KNOWN_ELSEWHERE
            and key.upper()[len(prefix) :].lower() not in cls.model_fields
        )
        if unknown:
            known = [cls.variable(name, prefix) for name in cls.model_fields]
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key.upper(), known, n=1)
                hints.append(f"{key} (did you mean {close[0]}?)" if close else key)
            raise ConfigurationError(
                f"unknown setting(s) {', '.join(hints)}; the settings are {', '.join(known)}"
            )

    @classmethod
    def _build(
        cls, from_environment: dict[str, Any], given: dict[str, Any], prefix: str, use_keyring: bool
    ) -> Settings:
        values = {**from_environment, **given}
        login = str(values.get("login") or "password")
        if use_keyring:
            _from_keyring(values, login)
        missing = [cls.variable(name, prefix) for name in _REQUIRED.get(login, ()) if name not in values]
        if login == "vdg" and "vdg_ticket" not in values and "vdg_ticket_file" not in values:
            missing.append(
                cls.variable("vdg_ticket", prefix) + " (or " + cls.variable("vdg_ticket_file", prefix) + ")"
            )
        if missing:
            secret = _SECRET_OF.get(login)
            raise ConfigurationError(
                f"missing environment variable(s): {', '.join(missing)}"
                + (
                    " (or a password stored with `bipro-ruv credentials set`)"
                    if secret is not None and secret not in values
                    else ""
                )
            )
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigurationError(_explain(exc, from_environment, given, prefix)) from None

    def credentials(self, *, otp_provider: OtpProvider | None = None) -> Credentials:
        """The login method of these settings; ``otp_provider`` answers a TGIC login's mTAN."""
        if self.login == "tgic":
            assert self.username is not None
            assert self.password is not None
            return TgicPerson(
                self.username, self.password, otp_provider=otp_provider, service_id=self.tgic_service_id
            )
        if self.login == "certificate":
            assert self.certificate is not None
            assert self.certificate_password is not None
            return OrganisationCertificate(
                self.certificate, self.certificate_password, username=self.username
            )
        if self.login == "vdg":
            return VdgTicket(self._vdg_ticket(), username=self.username)
        assert self.username is not None
        assert self.password is not None
        return UsernamePassword(self.username, self.password)

    def _vdg_ticket(self) -> str:
        if self.vdg_ticket is not None:
            return self.vdg_ticket.get_secret_value()
        assert self.vdg_ticket_file is not None
        try:
            return self.vdg_ticket_file.expanduser().read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise ConfigurationError(
                f"the VDG ticket file {self.vdg_ticket_file} cannot be read ({exc.strerror or exc})"
            ) from exc

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`bipro_ruv.Client` (without the credentials)."""
        return {
            "profile": self.profile,
            "base_url": self.base_url,
            "timeouts": Timeouts(
                connect=self.connect_timeout_s, read=self.read_timeout_s, reply=self.reply_timeout_s
            ),
            "verify": self.ca_bundle if self.ca_bundle else True,
            "allow_insecure_http": self.allow_insecure_http,
            "trust_env": self.trust_env,
            "state_dir": self.state_dir,
        }


#: The settings each login method needs (the VDG ticket: either of two, checked apart).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "password": ("username", "password"),
    "tgic": ("username", "password"),
    "certificate": ("certificate", "certificate_password"),
    "vdg": (),
}
#: The secret setting of each method that the keyring may hold.
_SECRET_OF = {"password": "password", "tgic": "password", "certificate": "certificate_password"}
#: The secrets never shown in an error.
_HIDDEN = frozenset({"password", "certificate_password", "vdg_ticket"})


def keyring_entry(
    profile: str, login: str, username: str | None, certificate: Path | None
) -> tuple[str, str] | None:
    """The keyring entry of a method's secret: the portal password under the profile and user,
    the TGIC password under ``tgic``, the certificate's under ``<profile>-certificate``
    and the file's name."""
    if login == "password" and username:
        return profile, username
    if login == "tgic" and username:
        return "tgic", username  # one TGIC-ID for every insurer
    if login == "certificate" and certificate is not None:
        return f"{profile}-certificate", Path(certificate).name
    return None


def keyring_entry_of(values: Mapping[str, Any], login: str) -> tuple[str, str] | None:
    """:func:`keyring_entry` of settings given as values (unchecked: the environment, options)."""
    certificate = values.get("certificate")
    return keyring_entry(
        str(values.get("profile") or "ruv"),
        login,
        str(values["username"]) if values.get("username") else None,
        Path(str(certificate)) if certificate else None,
    )


def stored_secret(values: Mapping[str, Any], login: str) -> SecretStr | None:
    """The secret of ``login`` that the keyring holds for these settings, or None."""
    entry = keyring_entry_of(values, login)
    return stored_password(*entry) if entry is not None else None


def _from_keyring(values: dict[str, Any], login: str) -> None:
    """Fill the method's secret from the keyring when the environment has none."""
    secret = _SECRET_OF.get(login)
    if secret is not None and secret not in values:
        stored = stored_secret(values, login)
        if stored is not None:
            values[secret] = stored


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of environment variables, from a mapping of our choice
    (``os.environ`` or a test's dict); names are case-insensitive, empty values unset."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str], prefix: str) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=False, env_prefix=prefix, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        return value  # every field is a plain value: no JSON decoding


def _explain(
    exc: ValidationError, environment: Mapping[str, Any], given: Mapping[str, Any], prefix: str
) -> str:
    """One sentence per wrong value, naming where it came from (the variable or the option)."""
    parts = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "?"
        if name in given:
            where, value = f"--{name.replace('_', '-')}", given[name]
        else:
            where, value = Settings.variable(name, prefix), environment.get(name)
        shown = "(hidden)" if name in _HIDDEN else repr(value)
        parts.append(f"{where}={shown}: {error['msg']}")
    return "wrong setting: " + "; ".join(parts)
