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
from rich.console import Console
from rich.markup import escape

from bipro_ruv._redact import redact
from bipro_ruv.auth._rejections import RejectionReason
from bipro_ruv.auth.stored import stored_password
from bipro_ruv.client import Client
from bipro_ruv.errors import (
    AuthenticationError,
    BiproError,
    PasswordRejectedEarlierError,
    ProtocolError,
    ServiceError,
    StorageError,
    TransportError,
)
from bipro_ruv.profiles import PROFILES
from bipro_ruv.settings import Settings

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
        click.option("--username", "-u", help="Maklerportal user id [BIPRO_RUV_USERNAME]."),
        click.option(
            "--password",
            help="Password; better: BIPRO_RUV_PASSWORD, `bipro-ruv credentials set` or the prompt "
            "(an option is visible to other users in the process list).",
        ),
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
    password: str | None = dataclasses.field(repr=False)
    profile: str | None
    base_url: str | None
    ca_bundle: Path | None
    state_dir: Path | None
    trust_env: bool | None

    def overrides(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
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

    def settings(self) -> Settings:
        """Every setting checked; asks for the user id and the password on a terminal if they
        are not set (the password also from the keyring), says what to set without one."""
        values = self.values
        overrides = self.overrides()
        if not values.get("username"):
            overrides["username"] = _ask("Benutzerkennung (username)", "the user id", "BIPRO_RUV_USERNAME")
        if not values.get("password"):
            profile = str(values.get("profile") or "ruv")
            stored = stored_password(profile, overrides["username"] or str(values["username"]))
            # Read once here and handed on: Settings.from_env would read the keyring again.
            overrides["password"] = (
                stored
                if stored is not None
                else _ask("Passwort", "the password", "BIPRO_RUV_PASSWORD", hide=True, keyring=True)
            )
        return Settings.from_env(use_keyring=False, **overrides)

    def client(self) -> Client:
        """The client of these settings."""
        return Client.from_settings(self.settings())


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


def _ask(label: str, what: str, variable: str, *, hide: bool = False, keyring: bool = False) -> str:
    """A prompt on a terminal; without one (cron, systemd, a pipe) one sentence and exit 2."""
    if not sys.stdin.isatty():
        store = " or store it once with `bipro-ruv credentials set`" if keyring else ""
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
