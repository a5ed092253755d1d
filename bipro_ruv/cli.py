"""The ``bipro-ruv`` command line: ``login``, ``sandbox``, ``demo``.

Credentials come from options, the environment (``BIPRO_RUV_USERNAME``,
``BIPRO_RUV_PASSWORD``) or a hidden prompt; they are never printed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from bipro_ruv._version import __version__
from bipro_ruv.client import Client
from bipro_ruv.errors import AuthenticationError, BiproError
from bipro_ruv.profiles import PROFILES
from bipro_ruv.transfer.models import Shipment

__all__ = ["main"]

console = Console()
err_console = Console(stderr=True)


def _client_options(func: Any) -> Any:
    options = [
        click.option("--username", "-u", envvar="BIPRO_RUV_USERNAME", help="Maklerportal user id."),
        click.option(
            "--password",
            envvar="BIPRO_RUV_PASSWORD",
            help="Password (better: the BIPRO_RUV_PASSWORD variable or the prompt).",
        ),
        click.option(
            "--profile",
            type=click.Choice(sorted(PROFILES)),
            default="ruv",
            show_default=True,
            envvar="BIPRO_RUV_PROFILE",
            help="Insurer of the R+V group.",
        ),
        click.option(
            "--base-url", envvar="BIPRO_RUV_BASE_URL", help="Send all services to this host instead."
        ),
        click.option(
            "--ca-bundle",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            envvar="BIPRO_RUV_CA_BUNDLE",
            help="CA bundle for TLS verification (test systems).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _make_client(
    username: str | None, password: str | None, profile: str, base_url: str | None, ca_bundle: Path | None
) -> Client:
    if not username:
        username = click.prompt("Benutzerkennung (username)")
    if not password:
        password = click.prompt("Passwort", hide_input=True)
    return Client(username, password, profile=profile, base_url=base_url, verify=ca_bundle or True)


@contextmanager
def _errors() -> Iterator[None]:
    """Print library errors as one clear line and exit non-zero (no traceback)."""
    try:
        yield
    except AuthenticationError as exc:
        err_console.print(f"[bold red]Login refused:[/] {exc}")
        err_console.print("The password was not sent again. Check it in the Maklerportal before retrying.")
        sys.exit(3)
    except BiproError as exc:
        err_console.print(f"[bold red]{type(exc).__name__}:[/] {exc}")
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bipro-ruv")
@click.option("--verbose", "-v", count=True, help="-v: info log, -vv: debug log (secrets are masked).")
def cli(verbose: int) -> None:
    """BiPRO client for the R+V insurance group."""
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )


@cli.command()
@_client_options
def login(
    username: str | None, password: str | None, profile: str, base_url: str | None, ca_bundle: Path | None
) -> None:
    """Check the credentials at the STS and show until when the token is valid."""
    with _errors(), _make_client(username, password, profile, base_url, ca_bundle) as client:
        info = client.login()
        console.print(
            f"Login OK for [bold]{client.username}[/] at {client.profile.name}. "
            f"Token valid until {info.expires_at_utc:%Y-%m-%d %H:%M:%S} UTC ({info.lifetime_s:.0f} s)."
        )


@cli.command()
@click.option("--port", type=int, default=0, show_default=True, help="TCP port on 127.0.0.1 (0: a free one).")
@click.option(
    "--token-lifetime", type=float, default=600.0, show_default=True, help="Token lifetime in seconds."
)
@click.option("--inline", is_flag=True, help="Send documents as inline base64 instead of MTOM.")
@click.option("--hostile", is_flag=True, help="Add hostile shipments (traversal names, zip bomb, ...).")
@click.option("--bulk", type=int, default=0, help="Add this many small shipments.")
def sandbox(port: int, token_lifetime: float, inline: bool, hostile: bool, bulk: int) -> None:
    """Run the built-in BiPRO sandbox on 127.0.0.1 until Ctrl+C."""
    from bipro_ruv.sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        port=port, token_lifetime_s=token_lifetime, mtom=not inline, hostile=hostile, bulk_shipments=bulk
    )
    with Sandbox(config) as sb:
        console.print(f"BiPRO sandbox listening on [bold]{sb.base_url}[/]")
        console.print(f"  username: {sb.username}")
        console.print(f"  password: {sb.password}   (sandbox only)")
        console.print(f"Try: bipro-ruv login --base-url {sb.base_url} -u {sb.username}")
        console.print("Press Ctrl+C to stop.")
        sb.serve_forever()


def shipment_table(shipments: Sequence[Shipment], title: str) -> Table:
    table = Table(title=title)
    for column in ("ID", "Kategorie", "Bezeichnung", "Eingestellt", "Verfügbar bis", "Transfers"):
        table.add_column(column)
    for item in shipments:
        table.add_row(
            item.id,
            item.category or "",
            item.category_label or "",
            f"{item.created_at:%d.%m.%Y %H:%M}" if item.created_at else (item.created_at_raw or ""),
            f"{item.available_until:%d.%m.%Y}" if item.available_until else "",
            "" if item.transfer_count is None else str(item.transfer_count),
        )
    return table


@cli.command()
def demo() -> None:
    """Start the sandbox in-process, log in and list the open shipments."""
    from bipro_ruv.sandbox import Sandbox

    with _errors(), Sandbox() as sb:
        console.print(f"Sandbox running at {sb.base_url} (user {sb.username})")
        with Client(sb.username, sb.password, base_url=sb.base_url) as client:
            info = client.login()
            console.print(f"Logged in; token valid for {info.lifetime_s:.0f} s.")
            shipments = client.list_shipments()
            console.print(shipment_table(shipments, f"Offene Lieferungen ({len(shipments)})"))


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="bipro-ruv")
