"""``bipro-ruv credentials set|delete|show|unblock``: a login's secret in the OS keyring, and
the record of refused passwords.

For unattended runs without the secret in the job's environment: the nightly
``bipro-ruv fetch`` takes it from the keyring (:mod:`bipro_ruv.auth.stored`). ``--method``
chooses whose: the portal password (default), the TGIC password, or the organisation
certificate's password (under the file's name). Needs the optional extra:
``pip install 'bipro-ruv[keyring]'``.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from bipro_ruv.auth._rejections import RejectionStore, system_of
from bipro_ruv.auth.stored import delete_password, store_password, stored_password
from bipro_ruv.cli._common import Connection, ExitCode, client_options, console, errors, fail
from bipro_ruv.settings import keyring_entry_of

__all__ = ["credentials"]

_method = click.option(
    "--method",
    type=click.Choice(["password", "tgic", "certificate"]),
    help="Whose secret: the portal password (default; BIPRO_RUV_LOGIN), the TGIC password, or the "
    "password of the organisation certificate (BIPRO_RUV_CERTIFICATE names the file).",
)


def _entry(connection: Connection, method: str | None) -> tuple[str, str]:
    """The keyring entry (profile entry, user) of the method's secret."""
    values: dict[str, Any] = connection.values
    login = method or str(values.get("login") or "password")
    if login == "vdg":
        login = "password"
    entry = keyring_entry_of(values, login)
    if entry is None:
        if login == "certificate":
            fail("no certificate given", "name its file with BIPRO_RUV_CERTIFICATE.", ExitCode.USAGE)
        fail("no user id given", "name it with --username (or BIPRO_RUV_USERNAME).", ExitCode.USAGE)
    return entry


@click.group()
def credentials() -> None:
    """The password of an account in the operating system's keyring (for unattended runs)."""


@credentials.command("set")
@client_options
@_method
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts)."
)
def set_command(connection: Connection, method: str | None, password_stdin: bool) -> None:
    """Store the password of --username in the keyring; asks for it on a terminal."""
    with errors():
        profile, user = _entry(connection, method)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
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
        variable = (
            "BIPRO_RUV_CERTIFICATE_PASSWORD" if profile.endswith("-certificate") else "BIPRO_RUV_PASSWORD"
        )
        console.print(
            f"The password of {profile}/{user} is stored in the keyring; "
            f"`bipro-ruv fetch` uses it when {variable} is not set."
        )


@credentials.command("delete")
@client_options
@_method
def delete_command(connection: Connection, method: str | None) -> None:
    """Remove the stored password of --username from the keyring."""
    with errors():
        profile, user = _entry(connection, method)
        if delete_password(profile, user):
            console.print(f"The password of {profile}/{user} is removed from the keyring.")
        else:
            console.print(f"The keyring holds no password of {profile}/{user}.")


@credentials.command("show")
@client_options
@_method
def show_command(connection: Connection, method: str | None) -> None:
    """Say whether a password of --username is stored (never the password itself)."""
    with errors():
        profile, user = _entry(connection, method)
        stored = stored_password(profile, user) is not None
        console.print(f"{profile}/{user}: {'a password is stored' if stored else 'no password stored'}.")
        if not stored:
            sys.exit(ExitCode.SHIPMENTS_FAILED)


@credentials.command("unblock")
@client_options
@click.option(
    "--method",
    type=click.Choice(["password", "tgic"]),
    help="Whose refusals: the portal login (default; BIPRO_RUV_LOGIN) or the TGIC-ID (a wrong mTAN too).",
)
@click.option("--confirm", is_flag=True, help="Forget them: the password is valid again (checked by you).")
def unblock_command(connection: Connection, method: str | None, confirm: bool) -> None:
    """Show the refusals bipro-ruv recorded for --username; with --confirm forget them, so that
    the password is sent again. Only after checking it in the portal (TGIC: after checking
    that the mTAN SMS arrives): each wrong attempt counts towards the account's lock."""
    with errors():
        user = connection.account_user
        if not user:
            fail("no user id given", "name it with --username (or BIPRO_RUV_USERNAME).", ExitCode.USAGE)
        values: dict[str, Any] = connection.values
        login = method or str(values.get("login") or "password")
        key = "tgic" if login == "tgic" else connection.account_profile
        state_dir = values.get("state_dir")
        store = RejectionStore(state_dir, key, user, system_of(values.get("base_url")))
        refusals = store.rejections()
        if not refusals:
            console.print(f"No refused password is recorded for {key}/{user}.")
            return
        for refusal in refusals:
            code = f", {refusal.code}" if refusal.code else ""
            console.print(
                f"{refusal.rejected_at:%Y-%m-%d %H:%M} UTC: {refusal.reason.described}{code}",
                highlight=False,
                markup=False,
            )
        if not confirm:
            fail(
                f"{len(refusals)} refusal(s) recorded for {key}/{user}; nothing forgotten",
                "check the password first (in the portal; for TGIC also that the SMS arrives), then run "
                "this again with --confirm.",
                ExitCode.USAGE,
            )
        store.forget()
        console.print(f"Forgotten: the next login of {key}/{user} sends its password again.")
