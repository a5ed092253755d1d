"""What the commands share: the consoles, the connection options, the exit codes and the
error handling (one sentence, the documented exit code, never a traceback)."""

from __future__ import annotations

import dataclasses
import functools
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn

import click
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape

from bipro_ruv._redact import redact
from bipro_ruv.auth._rejections import RejectionReason
from bipro_ruv.auth.tgic import MtanChallenge
from bipro_ruv.client import Client
from bipro_ruv.errors import (
    AuthenticationError,
    BiproError,
    CertificateError,
    OtpExpiredError,
    PasswordRejectedEarlierError,
    ProtocolError,
    ServiceError,
    StorageError,
    TicketRejectedError,
    TransportError,
)
from bipro_ruv.profiles import PROFILES
from bipro_ruv.settings import Settings, stored_secret

__all__ = [
    "Connection",
    "ExitCode",
    "client_options",
    "console",
    "err_console",
    "errors",
    "fail",
    "inbox_of",
    "shown",
    "terminate_as_interrupt",
]

console = Console()
err_console = Console(stderr=True)


def client_options(func: Any) -> Any:
    """The connection options; each one overrides its setting (``BIPRO_RUV_<NAME>``, read by
    :meth:`~bipro_ruv.settings.Settings.from_env`), which a cron job or a systemd unit sets."""
    options = [
        click.option("--username", "-u", help="Maklerportal user id, or the TGIC-ID [BIPRO_RUV_USERNAME]."),
        click.option(
            "--profile",
            type=click.Choice(sorted(PROFILES)),
            help="Insurer of the R+V group [BIPRO_RUV_PROFILE; default ruv].",
        ),
        click.option("--base-url", help="Send all services to this host instead [BIPRO_RUV_BASE_URL]."),
        click.option(
            "--ca-bundle",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="CA bundle for TLS verification (test systems) [BIPRO_RUV_CA_BUNDLE].",
        ),
        click.option(
            "--state-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder remembering rejected passwords across runs [BIPRO_RUV_STATE_DIR; default: the "
            "user's data folder].",
        ),
        click.option(
            "--trust-env",
            is_flag=True,
            default=None,
            help="Use HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE from the environment "
            "[BIPRO_RUV_TRUST_ENV].",
        ),
    ]

    @functools.wraps(func)
    def with_connection(**kwargs: Any) -> Any:
        names = [field.name for field in dataclasses.fields(Connection)]
        connection = Connection(**{name: kwargs.pop(name) for name in names})
        return func(connection=connection, **kwargs)

    wrapped: Any = with_connection
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


@dataclasses.dataclass(frozen=True)
class Connection:
    """The options every command that talks to the insurer shares (None: not given)."""

    username: str | None
    profile: str | None
    base_url: str | None
    ca_bundle: Path | None
    state_dir: Path | None
    trust_env: bool | None

    def overrides(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "profile": self.profile,
            "base_url": self.base_url,
            "ca_bundle": self.ca_bundle,
            "state_dir": self.state_dir,
            "trust_env": self.trust_env,
        }

    @functools.cached_property
    def values(self) -> dict[str, Any]:
        """The settings as far as they are given: the environment, the options on top
        (unchecked; :meth:`settings` checks them)."""
        Settings.check_environment()  # a misspelt variable is named, not taken for a missing one
        given = {name: value for name, value in self.overrides().items() if value is not None}
        return {**Settings.environment(), **given}

    @property
    def account_profile(self) -> str:
        return str(self.values.get("profile") or "ruv")

    @property
    def account_user(self) -> str | None:
        user = self.values.get("username")
        return str(user) if user else None

    def settings(self, *, login: str | None = None) -> Settings:
        """Every setting checked; asks on a terminal for what the login method needs and is not
        set (user id, password, certificate password, VDG ticket; a secret also from the
        keyring), says what to set without one. Secrets never come from an option."""
        values = dict(self.values)
        overrides = self.overrides()
        if login is not None:
            overrides["login"] = values["login"] = login
        method = str(values.get("login") or "password")
        if method in ("password", "tgic"):
            if not values.get("username"):
                what = "TGIC-ID (username)" if method == "tgic" else "Benutzerkennung (username)"
                overrides["username"] = values["username"] = _ask(what, "the user id", "BIPRO_RUV_USERNAME")
            if not values.get("password"):
                overrides["password"] = self._secret(values, "password", "Passwort", "BIPRO_RUV_PASSWORD")
        elif method == "certificate":
            if not values.get("certificate"):
                fail(
                    "the organisation certificate is not set",
                    "set BIPRO_RUV_CERTIFICATE to its PKCS#12 file (.p12/.pfx).",
                    ExitCode.USAGE,
                )
            if not values.get("certificate_password"):
                overrides["certificate_password"] = self._secret(
                    values,
                    "certificate_password",
                    "Passwort des Zertifikats",
                    "BIPRO_RUV_CERTIFICATE_PASSWORD",
                )
        elif method == "vdg" and not values.get("vdg_ticket") and not values.get("vdg_ticket_file"):
            overrides["vdg_ticket"] = _ask("VDG-Ticket", "the VDG ticket", "BIPRO_RUV_VDG_TICKET", hide=True)
        return Settings.from_env(use_keyring=False, **overrides)

    @staticmethod
    def _secret(values: dict[str, Any], name: str, label: str, variable: str) -> str | SecretStr:
        """The secret ``name`` from the keyring, else from a prompt (read once, handed on:
        Settings.from_env would read the keyring again)."""
        method = str(values.get("login") or "password")
        stored = stored_secret(values, method)
        if stored is not None:
            return stored
        return _ask(label, f"the {name.replace('_', ' ')}", variable, hide=True, keyring=True, method=method)

    def client(self, *, login: str | None = None, settings: Settings | None = None) -> Client:
        """The client of these settings (checked here unless given); a TGIC login asks for
        the mTAN on a terminal."""
        if settings is None:
            settings = self.settings(login=login)
        otp = ask_mtan if sys.stdin.isatty() else None
        return Client.from_settings(settings, credentials=settings.credentials(otp_provider=otp))


def ask_mtan(challenge: MtanChallenge) -> str:
    """The TGIC mTAN, from the person at the terminal (the ISTS's own words as the question)."""
    err_console.print(shown(challenge.title), highlight=False)
    value: str = click.prompt(challenge.label, hide_input=challenge.hide_text, err=True)
    return value


def inbox_of(connection: Connection, inbox: Path | None) -> Path:
    """``--inbox``, else the setting ``BIPRO_RUV_INBOX``; one sentence and exit 2 without either."""
    if inbox is not None:
        return inbox
    configured = connection.values.get("inbox")
    if not configured:
        fail(
            "no inbox given",
            "name the folder with --inbox, or set BIPRO_RUV_INBOX for the job.",
            ExitCode.USAGE,
        )
    return Path(str(configured))


def _ask(
    label: str, what: str, variable: str, *, hide: bool = False, keyring: bool = False, method: str = ""
) -> str:
    """A prompt on a terminal; without one (cron, systemd, a pipe) one sentence and exit 2."""
    if not sys.stdin.isatty():
        option = f" --method {method}" if method and method != "password" else ""
        store = f" or store it once with `bipro-ruv credentials set{option}`" if keyring else ""
        fail(
            f"{what} is not set and there is no terminal to ask for it",
            f"set the environment variable {variable} for this job{store} (see docs/operations.md).",
            ExitCode.USAGE,
        )
    value: str = click.prompt(label, hide_input=hide)
    return value


def shown(text: str) -> str:
    """Server-supplied text as printed: secrets masked, rich markup characters literal."""
    return escape(redact(text))


class ExitCode(IntEnum):
    """The exit codes of every command (docs/operations.md): what a cron job or a monitor sees."""

    OK = 0
    SHIPMENTS_FAILED = 1
    """Some shipments failed (they stay in the mailbox; the next run tries again)."""
    USAGE = 2
    """A wrong option, setting or input file: fix the command or the configuration."""
    LOGIN_REFUSED = 3
    """The insurer refused the login (wrong or expired password, locked account)."""
    STORAGE = 4
    """The inbox or the journal cannot be used (missing, a file, read-only, disk full)."""
    SERVICE = 5
    """The insurer's service could not be reached or did not answer properly."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C or SIGTERM."""


def fail(message: str, advice: str | None, code: ExitCode) -> NoReturn:
    """One red sentence (and one line of advice) on stderr, then exit with ``code``."""
    err_console.print(f"[bold red]{message}[/]", soft_wrap=True)
    if advice:
        err_console.print(f"What to do: {advice}", soft_wrap=True)
    sys.exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Print library errors as one clear line (and what to do) and exit with the documented
    code (:class:`ExitCode`), never with a traceback."""
    try:
        yield
    except PasswordRejectedEarlierError as exc:
        # Not sent at all: the message says when and why the STS refused it, and what to do.
        fail(shown(str(exc)), None, ExitCode.LOGIN_REFUSED)
    except CertificateError as exc:
        fail(f"Login refused (organisation certificate): {shown(str(exc))}", None, ExitCode.LOGIN_REFUSED)
    except TicketRejectedError as exc:
        fail(
            f"Login refused (VDG ticket): {shown(str(exc))}",
            "get a new ticket from the portal and set it (BIPRO_RUV_VDG_TICKET).",
            ExitCode.LOGIN_REFUSED,
        )
    except OtpExpiredError as exc:
        fail(f"Login refused (mTAN too late): {shown(str(exc))}", "log in again.", ExitCode.LOGIN_REFUSED)
    except AuthenticationError as exc:
        reason = RejectionReason.of(exc)
        fail(
            f"Login refused ({reason.described}): {shown(str(exc))}",
            f"{reason.advice} Until then bipro-ruv will not send this password again.",
            ExitCode.LOGIN_REFUSED,
        )
    except StorageError as exc:
        # One unwrapped line: a path in the message is never cut in two.
        fail(
            f"{type(exc).__name__}: {shown(str(exc))}",
            "check that the folder exists, is a folder, and that this user may write into it "
            "(and that the disk has space); nothing was acknowledged that is not stored.",
            ExitCode.STORAGE,
        )
    except TransportError as exc:
        fail(
            f"{type(exc).__name__}: {shown(str(exc))}",
            "check the network connection, proxy and --base-url; nothing was lost, the next run tries again.",
            ExitCode.SERVICE,
        )
    except (ProtocolError, ServiceError) as exc:
        fail(
            f"{type(exc).__name__}: {shown(str(exc))}",
            "the insurer's service answered wrongly; if it persists, send this line to the insurer's "
            "BiPRO support. Nothing was lost.",
            ExitCode.SERVICE,
        )
    except BiproError as exc:
        fail(f"{type(exc).__name__}: {shown(str(exc))}", None, ExitCode.USAGE)
    except KeyboardInterrupt:
        fail("Interrupted.", None, ExitCode.INTERRUPTED)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd stopping the service, ``kill``) handled like Ctrl-C: a fetch finishes
    the shipments in progress and reports what it did, instead of dying in the middle."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
