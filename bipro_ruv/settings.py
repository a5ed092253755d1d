"""Explicit configuration: :class:`Settings`, optionally read from the environment.

Nothing in bipro-ruv reads the environment by itself; call :meth:`Settings.from_env`
where your application decides to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr

from bipro_ruv._wire.policy import Timeouts
from bipro_ruv.auth.credentials import Credentials, UsernamePassword
from bipro_ruv.errors import ConfigurationError
from bipro_ruv.models import FrozenModel

__all__ = ["Settings"]

ENV_PREFIX = "BIPRO_RUV_"
_FLAGS = frozenset({"allow_insecure_http", "trust_env"})


class Settings(FrozenModel):
    """Connection settings for :class:`bipro_ruv.Client`."""

    login: Literal["password"] = Field(
        "password",
        description="Login method: 'password' (Norm 410 STS with the Maklerportal password); TGIC to follow",
    )
    username: str = Field(..., min_length=1, description="Maklerportal user id")
    password: SecretStr = Field(..., description="Maklerportal password")
    profile: str = Field("ruv", description="Insurer profile key: ruv, kravag, condor")
    base_url: str | None = Field(None, description="Override host of every service (sandbox, test system)")
    ca_bundle: Path | None = Field(None, description="CA bundle for TLS verification (test systems)")
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(60.0, gt=0)
    reply_timeout_s: float = Field(1800.0, gt=0, description="Deadline for a whole reply (Timeouts.reply)")
    allow_insecure_http: bool = False
    trust_env: bool = Field(
        False, description="Use HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE from the environment"
    )
    state_dir: Path | None = Field(
        None, description="Folder for the record of rejected passwords (default: the user's data folder)"
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX) -> Settings:
        """Read ``BIPRO_RUV_USERNAME``, ``BIPRO_RUV_PASSWORD``, ``BIPRO_RUV_PROFILE``,
        ``BIPRO_RUV_BASE_URL``, ``BIPRO_RUV_CA_BUNDLE``, ``BIPRO_RUV_CONNECT_TIMEOUT_S``,
        ``BIPRO_RUV_READ_TIMEOUT_S``, ``BIPRO_RUV_REPLY_TIMEOUT_S``, ``BIPRO_RUV_ALLOW_INSECURE_HTTP``,
        ``BIPRO_RUV_TRUST_ENV`` and ``BIPRO_RUV_STATE_DIR``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(prefix + name.upper())
            if raw is not None and raw != "":
                values[name] = raw.lower() in ("1", "true", "yes") if name in _FLAGS else raw
        missing = [name for name in ("username", "password") if name not in values]
        if missing:
            names = ", ".join(prefix + name.upper() for name in missing)
            raise ConfigurationError(f"missing environment variable(s): {names}")
        return cls(**values)

    def credentials(self) -> Credentials:
        """The login method these settings describe, as a value for ``Client(credentials=...)``."""
        return UsernamePassword(self.username, self.password)

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
