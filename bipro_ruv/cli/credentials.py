"""``bipro-ruv credentials set|delete|show``: the password of an account in the OS keyring.

For unattended runs without a password in the job's environment: the nightly
``bipro-ruv fetch`` takes it from the keyring (:mod:`bipro_ruv.auth.stored`). Needs the
optional extra: ``pip install 'bipro-ruv[keyring]'``.
"""

from __future__ import annotations

import sys

import click

from bipro_ruv.auth.stored import delete_password, store_password, stored_password
from bipro_ruv.cli._common import Connection, ExitCode, client_options, console, errors, fail

__all__ = ["credentials"]


def _user(connection: Connection) -> str:
    user = connection.account_user
    if not user:
        fail("no user id given", "name it with --username (or BIPRO_RUV_USERNAME).", ExitCode.USAGE)
    return user


@click.group()
def credentials() -> None:
    """The password of an account in the operating system's keyring (for unattended runs)."""


@credentials.command("set")
@client_options
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts)."
)
def set_command(connection: Connection, password_stdin: bool) -> None:
    """Store the password of --username in the keyring; asks for it on a terminal."""
    with errors():
        user = _user(connection)
        profile = connection.account_profile
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif connection.password:
            password = connection.password
        elif sys.stdin.isatty():
            password = click.prompt(
                "Passwort", hide_input=True, confirmation_prompt="Passwort (Wiederholung)"
            )
        else:
            fail(
                "there is no terminal to ask for the password",
                "pipe it in with --password-stdin.",
                ExitCode.USAGE,
            )
        store_password(profile, user, password)
        console.print(
            f"The password of {profile}/{user} is stored in the keyring; "
            "`bipro-ruv fetch` uses it when BIPRO_RUV_PASSWORD is not set."
        )


@credentials.command("delete")
@client_options
def delete_command(connection: Connection) -> None:
    """Remove the stored password of --username from the keyring."""
    with errors():
        user = _user(connection)
        profile = connection.account_profile
        if delete_password(profile, user):
            console.print(f"The password of {profile}/{user} is removed from the keyring.")
        else:
            console.print(f"The keyring holds no password of {profile}/{user}.")


@credentials.command("show")
@client_options
def show_command(connection: Connection) -> None:
    """Say whether a password of --username is stored (never the password itself)."""
    with errors():
        user = _user(connection)
        profile = connection.account_profile
        stored = stored_password(profile, user) is not None
        console.print(f"{profile}/{user}: {'a password is stored' if stored else 'no password stored'}.")
        if not stored:
            sys.exit(ExitCode.SHIPMENTS_FAILED)
