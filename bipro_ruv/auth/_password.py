"""A password that never prints and is never sent again once the server rejected it.

R+V locks a portal account after repeated wrong passwords, and the BiPRO login uses
the portal credentials. So a rejected password is *spent*: every later attempt to
reveal it raises the original :class:`~bipro_ruv.errors.AuthenticationError` instead
of reaching the network, whatever retry loop the caller runs.
"""

from __future__ import annotations

import threading
from typing import NoReturn

from pydantic import SecretStr

from bipro_ruv._redact import register_secret
from bipro_ruv.errors import AuthenticationError

__all__ = ["Password"]


class Password:
    """Holds the secret; ``str()``/``repr()`` show ``***``."""

    __slots__ = ("_lock", "_rejection", "_value")

    def __init__(self, value: str | SecretStr) -> None:
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(secret, str) or not secret:
            raise ValueError("password must be a non-empty string")
        self._value = secret
        self._rejection: AuthenticationError | None = None
        self._lock = threading.Lock()
        register_secret(secret)

    def reveal(self) -> str:
        """The clear text, for building the request; raises once the server rejected it."""
        with self._lock:
            if self._rejection is not None:
                raise self._rejection
            return self._value

    def reject(self, error: AuthenticationError) -> None:
        """Mark the password as rejected by the server: it will not be revealed again."""
        with self._lock:
            if self._rejection is None:
                self._rejection = error

    @property
    def rejected(self) -> bool:
        return self._rejection is not None

    def __repr__(self) -> str:
        return "Password('***')"

    def __str__(self) -> str:
        return "***"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Password objects cannot be pickled")
