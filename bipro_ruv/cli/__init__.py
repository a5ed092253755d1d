"""The ``bipro-ruv`` command line: ``login``, ``fetch``, ``shipments``, ``credentials``, ``link``,
``gdv``, ``csv``, ``sandbox``, ``demo``.

Credentials come from options, the environment (``BIPRO_RUV_USERNAME``,
``BIPRO_RUV_PASSWORD``) or a hidden prompt; they are never printed.
"""

from __future__ import annotations

import json
import logging
import sys
import webbrowser
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, TextIO

import click
from rich.markup import escape
from rich.table import Table

from bipro_ruv._version import __version__
from bipro_ruv.cli._common import (
    Connection,
    ExitCode,
    client_options,
    console,
    err_console,
    errors,
    inbox_of,
    terminate_as_interrupt,
)
from bipro_ruv.cli.credentials import credentials
from bipro_ruv.cli.datapackage import csv_command
from bipro_ruv.cli.fetch_output import fetch_progress, report_json, report_tables, summary_line, write_ndjson
from bipro_ruv.cli.gdv_output import check_encoding, print_contracts, print_summary, silence_stdout, stdout_as
from bipro_ruv.cli.shipments import shipments
from bipro_ruv.client import Client
from bipro_ruv.deeplink import DeepLink, DeepLinkKind, deep_link
from bipro_ruv.errors import FetchInterrupted
from bipro_ruv.extranet import DeepLinkSource, ResolvedDeepLink
from bipro_ruv.gdv import ACCELERATED, DEFAULT_ENCODING, Contract, GdvReader
from bipro_ruv.gdv.export import CSV_ENCODING, Summary, write_csv, write_json
from bipro_ruv.profiles import PROFILES
from bipro_ruv.transfer.models import Shipment
from bipro_ruv.vsnr import Vsnr, VsnrKind

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    prog_name="bipro-ruv",
    message=f"%(prog)s %(version)s (GDV decoder: {'compiled' if ACCELERATED else 'pure Python'})",
)
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="-v: one line per shipment, -vv: bipro-ruv's debug log, -vvv: also zeep's and urllib3's "
    "(secrets are masked).",
)
def cli(verbose: int) -> None:
    """BiPRO client for the R+V insurance group."""
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        if verbose < 3:  # -vvv: the libraries underneath too (zeep's schema parsing, urllib3)
            for noisy in ("zeep", "urllib3", "requests", "charset_normalizer", "filelock"):
                logging.getLogger(noisy).setLevel(logging.WARNING)


@cli.command()
@client_options
@click.option(
    "--method",
    type=click.Choice(["password", "tgic", "certificate", "vdg"]),
    help="Login method [BIPRO_RUV_LOGIN; default password]: the portal password, TGIC-ID with mTAN, "
    "the organisation certificate (BIPRO_RUV_CERTIFICATE), a VDG ticket (BIPRO_RUV_VDG_TICKET).",
)
def login(connection: Connection, method: str | None) -> None:
    """Log in (asking for what is missing on a terminal, the mTAN of a TGIC login too) and
    show until when the token is valid."""
    with errors(), connection.client(login=method) as client:
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
@client_options
@click.option(
    "--inbox",
    # Checked by the library, not by click: its StorageError says what is wrong in one line.
    type=click.Path(path_type=Path),
    help="Folder for the documents (created if missing, its parent must exist); holds the journal "
    "[BIPRO_RUV_INBOX].",
)
@click.option("--no-ack", is_flag=True, help="Dry run: store, but do not acknowledge.")
@click.option("--category", "categories", multiple=True, help="GeVo prefix (3, 6 or 9 digits); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON document on stdout.")
@click.option("--ndjson", is_flag=True, help="One JSON line per shipment, then a summary line.")
def fetch(
    connection: Connection,
    inbox: Path | None,
    no_ack: bool,
    categories: tuple[str, ...],
    as_json: bool,
    ndjson: bool,
) -> None:
    """Fetch every open document into INBOX, store it durably, then acknowledge it.

    Exit codes: 0 all done (quarantined shipments included), 1 some shipments failed (they
    stay in the mailbox), 2 usage or configuration, 3 login refused, 4 the inbox cannot be
    used, 5 the insurer's service not reachable, 130 interrupted (Ctrl-C, SIGTERM: the
    shipments in progress are finished and the summary printed).
    """
    if as_json and ndjson:
        raise click.UsageError("--json and --ndjson exclude each other.")
    machine = as_json or ndjson
    with errors(), terminate_as_interrupt():
        folder = inbox_of(connection, inbox)
        settings = connection.settings()
        client = connection.client(settings=settings)
    with errors(), terminate_as_interrupt(), client:
        try:
            with fetch_progress(err_console, quiet=machine and not err_console.is_terminal) as progress:
                report = client.fetch_open_documents(
                    folder,
                    acknowledge=not no_ack,
                    categories=categories,
                    progress=progress,
                    workers=settings.workers,
                    quarantine_after=settings.quarantine_after,
                )
        except FetchInterrupted as stopped:
            report = stopped.report
        if report.interrupted:
            code = ExitCode.INTERRUPTED
        else:
            code = ExitCode.OK if report.ok else ExitCode.SHIPMENTS_FAILED
        account = str(client.transfer.account)
        if as_json:
            click.echo(
                json.dumps(report_json(report, account=account, exit_code=code), ensure_ascii=False, indent=1)
            )
        elif ndjson:
            write_ndjson(report, sys.stdout, account=account, exit_code=code)
        else:
            for table in report_tables(report):
                console.print(table)
            console.print(summary_line(report), soft_wrap=True)
        if code:
            sys.exit(code)


def rule_text(link: DeepLink) -> str:
    """Which of R+V's deep-link rules applied, in words."""
    number = link.vsnr
    if link.kind is DeepLinkKind.CONTRACT:
        text = f"contract page (Arbeitsgebiet {number.business_area}, number {number.number})"
        if number.branch:
            text += f"; Filialdirektion {number.branch} not needed"
        return text
    reason = "old Condor number" if number.kind is VsnrKind.LEGACY_CONDOR else "no Arbeitsgebiet given"
    return f"search mask with {number} prefilled ({reason})"


def source_text(link: DeepLink) -> str:
    if isinstance(link, ResolvedDeepLink) and link.source is DeepLinkSource.GET_LINKS:
        answer = ": ".join(part for part in (link.target, link.description) if part)
        return f"getLinks (Norm 440){f', ZielID {answer}' if answer else ''}"
    return "offline URL template (assumed: R+V's portal URL scheme is not public; set it in the profile)"


@cli.command()
@client_options
@click.argument("vsnr")
@click.option("--online", is_flag=True, help="Ask the insurer's getLinks service (Norm 440); logs in.")
@click.option("--open", "open_browser", is_flag=True, help="Open the link in the default web browser.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: url, vsnr, kind, rule, source.")
def link(
    connection: Connection,
    vsnr: str,
    online: bool,
    open_browser: bool,
    as_json: bool,
) -> None:
    """Print the portal deep link for VSNR (any written form) and the rule that applied.

    A complete number (Arbeitsgebiet + 9 digits, also with Filialdirektion) leads to the
    contract page, a number without Arbeitsgebiet to the search mask. Offline needs no
    credentials; --online asks getLinks, whose URL may carry a one-time session token.
    """
    with errors():
        number = Vsnr(vsnr)  # an invalid number fails here, before any prompt or request
        result: DeepLink
        if online:
            with connection.client() as client:
                result = client.deep_link(number, online=True)
        else:
            result = deep_link(number, PROFILES[connection.account_profile].portal)
        if as_json:
            document = {
                "url": result.url,
                "vsnr": str(number),
                "vsnr_formatted": number.formatted,
                "kind": result.kind.value,
                "rule": rule_text(result),
                "source": source_text(result),
            }
            click.echo(json.dumps(document, ensure_ascii=False))
        else:
            # click.echo, not rich: a URL must stay one unwrapped, unstyled line.
            click.echo(result.url)
            console.print(f"Rule: {rule_text(result)}", markup=False, highlight=False, soft_wrap=True)
            console.print(f"Source: {source_text(result)}", markup=False, highlight=False, soft_wrap=True)
        if open_browser and not webbrowser.open(result.url):
            err_console.print("No web browser could be started; open the URL above yourself.")


# -- gdv (the output: bipro_ruv/cli/gdv_output.py) -------------------------------------------


@cli.command("gdv")
@click.argument("file", type=click.Path(allow_dash=True))
@click.option(
    "--encoding",
    default=DEFAULT_ENCODING,
    show_default=True,
    help="Character set of the file (not stated in it): iso-8859-15, cp850, utf-8, ...",
)
@click.option("--json", "as_json", is_flag=True, help="Contracts as a JSON array (one contract a line).")
@click.option(
    "--csv", "as_csv", is_flag=True, help="One row per contract: ';', decimal comma, UTF-8 with BOM."
)
def gdv_command(file: str, encoding: str, as_json: bool, as_csv: bool) -> None:
    """Read the GDV file FILE (Bestand, Inkasso; '-' for stdin) and print its contracts.

    A table by default, or --json / --csv for an import; read as a stream, so a file of
    any size works. The Datenpakete, contracts per Sparte and warnings go to stderr.
    Exit code 0 when the file was read (warnings included), 2 when it cannot be read.
    """
    if as_json and as_csv:
        raise click.UsageError("--json and --csv exclude each other.")
    with errors():
        check_encoding(encoding)
        source: str | IO[bytes] = sys.stdin.buffer if file == "-" else file
        reader = GdvReader(source, encoding=encoding)
        summary = Summary()
        contracts = summary.count(reader)
        try:
            if as_json or as_csv:
                write: Callable[[Iterable[Contract], TextIO], int] = write_json if as_json else write_csv
                with stdout_as("utf-8" if as_json else CSV_ENCODING) as out:
                    write(contracts, out)
            else:
                print_contracts(contracts, console)
        except BrokenPipeError:
            silence_stdout()
            sys.exit(1)
        except OSError as exc:  # stdout: a full disk, a closed terminal
            err_console.print(f"[bold red]Cannot write the output:[/] {escape(str(exc))}", soft_wrap=True)
            sys.exit(2)
        print_summary(summary.finish(reader), err_console)


@cli.command()
def demo() -> None:
    """Start the sandbox in-process, log in and fetch every open document into a temporary inbox."""
    import tempfile

    from bipro_ruv.sandbox import Sandbox

    with (
        errors(),
        Sandbox() as sb,
        tempfile.TemporaryDirectory(prefix="bipro-ruv-demo-") as inbox,
        tempfile.TemporaryDirectory(prefix="bipro-ruv-demo-state-") as state,
    ):
        console.print(f"Sandbox running at {sb.base_url} (user {sb.username})")
        # The sandbox account's login state stays out of the user's data folder.
        with Client(sb.username, sb.password, base_url=sb.base_url, state_dir=state) as client:
            info = client.login()
            console.print(f"Logged in; token valid for {info.lifetime_s:.0f} s.")
            shipments = client.list_shipments()
            console.print(shipment_table(shipments, f"Offene Lieferungen ({len(shipments)})"))
            with fetch_progress(err_console) as progress:
                report = client.fetch_open_documents(Path(inbox), progress=progress)
            for table in report_tables(report):
                console.print(table)
            console.print(summary_line(report), soft_wrap=True)
            console.print(f"Open shipments left: {len(client.list_shipments())}.")
            # The GDV files among what was stored, read into contracts (bipro-ruv gdv FILE for one).
            for delivery in client.gdv.deliveries(report):
                if delivery.file is None:
                    console.print(f"GDV {delivery.file_name}: not readable ({delivery.error})")
                    continue
                sparten = Summary.of(delivery.file).by_sparte
                listed = ", ".join(f"{sparte or '?'} {count}" for sparte, count in sorted(sparten.items()))
                console.print(
                    f"GDV {delivery.file_name}: {len(delivery.file)} contracts ({listed}), "
                    f"{delivery.file.records} records, {len(delivery.file.warnings)} warnings"
                )


cli.add_command(shipments)
cli.add_command(credentials)
cli.add_command(csv_command)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="bipro-ruv")
