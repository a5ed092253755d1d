"""Passwords kept in the operating system's keyring, for unattended runs.

The ``keyring`` package (an optional extra: ``pip install 'bipro-ruv[keyring]'``) stores
them in the Windows Credential Manager, the macOS Keychain or the Secret Service (GNOME
Keyring, KWallet) on Linux; a server without one can use another backend keyring
supports. One entry per account: service ``bipro-ruv``, user ``<profile>/<user id>``.

Reading never fails a run: without the package, without a usable backend, or with a
locked keyring there is simply no stored password (and the caller says what else to set).
Storing and deleting say why they cannot.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import SecretStr

from bipro_ruv.errors import ConfigurationError

__all__ = ["SERVICE", "delete_password", "keyring_available", "stored_password", "store_password"]

log = logging.getLogger("bipro_ruv.auth")

SERVICE = "bipro-ruv"


def _entry(profile: str, username: str) -> str:
    return f"{profile}/{username.strip().casefold()}"


def _keyring() -> Any:
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def keyring_available() -> bool:
    """True when the keyring package is installed (a backend may still be missing)."""
    return _keyring() is not None


def stored_password(profile: str, username: str) -> SecretStr | None:
    """The password stored for this account, or None (no package, no backend, none stored)."""
    keyring = _keyring()
    if keyring is None:
        return None
    try:
        value = keyring.get_password(SERVICE, _entry(profile, username))
    except Exception as exc:  # noqa: BLE001 - any backend failure: no stored password
        log.warning(
            "the keyring could not be read (%s: %s); no stored password used", type(exc).__name__, exc
        )
        return None
    return SecretStr(value) if value else None


def store_password(profile: str, username: str, password: str) -> None:
    """Keep the password of this account in the keyring (replacing an older one)."""
    keyring = _require()
    if not password:
        raise ConfigurationError("an empty password is not stored")
    try:
        keyring.set_password(SERVICE, _entry(profile, username), password)
    except Exception as exc:
        raise ConfigurationError(
            f"the keyring cannot store the password: {type(exc).__name__}: {exc}"
        ) from exc


def delete_password(profile: str, username: str) -> bool:
    """Remove the stored password of this account; False if there was none."""
    keyring = _require()
    try:
        keyring.delete_password(SERVICE, _entry(profile, username))
    except keyring.errors.PasswordDeleteError:
        return False
    except Exception as exc:
        raise ConfigurationError(
            f"the keyring cannot delete the password: {type(exc).__name__}: {exc}"
        ) from exc
    return True


def _require() -> Any:
    keyring = _keyring()
    if keyring is None:
        raise ConfigurationError(
            "the keyring package is not installed: pip install 'bipro-ruv[keyring]' "
            "(or set BIPRO_RUV_PASSWORD for the job instead)"
        )
    return keyring
