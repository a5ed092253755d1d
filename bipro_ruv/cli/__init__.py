"""The ``bipro-ruv`` command line: ``login``, ``fetch``, ``link``, ``gdv``, ``sandbox``, ``demo``.

Credentials come from options, the environment (``BIPRO_RUV_USERNAME``,
``BIPRO_RUV_PASSWORD``) or a hidden prompt; they are never printed.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import webbrowser
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bipro_ruv._redact import redact
from bipro_ruv._version import __version__
from bipro_ruv.auth._rejections import RejectionReason
from bipro_ruv.cli.gdv_output import check_encoding, print_contracts, print_summary, silence_stdout, stdout_as
from bipro_ruv.client import Client
from bipro_ruv.deeplink import DeepLink, DeepLinkKind, deep_link
from bipro_ruv.errors import AuthenticationError, BiproError, PasswordRejectedEarlierError
from bipro_ruv.extranet import DeepLinkSource, ResolvedDeepLink
from bipro_ruv.gdv import ACCELERATED, DEFAULT_ENCODING, Contract, GdvReader
from bipro_ruv.gdv.export import CSV_ENCODING, Summary, write_csv, write_json
from bipro_ruv.profiles import PROFILES
from bipro_ruv.transfer.models import FetchEvent, FetchEventKind, FetchReport, Outcome, Shipment
from bipro_ruv.vsnr import Vsnr, VsnrKind

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
        click.option(
            "--state-dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="BIPRO_RUV_STATE_DIR",
            help="Folder remembering rejected passwords across runs (default: the user's data folder).",
        ),
        click.option(
            "--trust-env",
            is_flag=True,
            envvar="BIPRO_RUV_TRUST_ENV",
            help="Use HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE from the environment (off by default).",
        ),
    ]

    @functools.wraps(func)
    def with_connection(**kwargs: Any) -> Any:
        names = [field.name for field in dataclasses.fields(_Connection)]
        connection = _Connection(**{name: kwargs.pop(name) for name in names})
        return func(connection=connection, **kwargs)

    wrapped: Any = with_connection
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


@dataclasses.dataclass(frozen=True)
class _Connection:
    """The options every command that talks to the insurer shares."""

    username: str | None
    password: str | None = dataclasses.field(repr=False)
    profile: str
    base_url: str | None
    ca_bundle: Path | None
    state_dir: Path | None
    trust_env: bool

    def client(self) -> Client:
        """The client; asks for the user id and the password if they were not given."""
        username = self.username or click.prompt("Benutzerkennung (username)")
        password = self.password or click.prompt("Passwort", hide_input=True)
        return Client(
            username,
            password,
            profile=self.profile,
            base_url=self.base_url,
            verify=self.ca_bundle or True,
            state_dir=self.state_dir,
            trust_env=self.trust_env,
        )


def _shown(text: str) -> str:
    """Server-supplied text as printed: secrets masked, rich markup characters literal."""
    return escape(redact(text))


@contextmanager
def _errors() -> Iterator[None]:
    """Print library errors as one clear line and exit non-zero (no traceback)."""
    try:
        yield
    except PasswordRejectedEarlierError as exc:
        # Not sent at all: the message says when and why the STS refused it, and what to do.
        err_console.print(f"[bold red]{_shown(str(exc))}[/]", soft_wrap=True)
        sys.exit(3)
    except AuthenticationError as exc:
        reason = RejectionReason.of(exc)
        err_console.print(
            f"[bold red]Login refused ({reason.described}):[/] {_shown(str(exc))}", soft_wrap=True
        )
        err_console.print(
            f"What to do: {reason.advice} Until then bipro-ruv will not send this password again.",
            soft_wrap=True,
        )
        sys.exit(3)
    except BiproError as exc:
        # One unwrapped line: a path in the message (StorageError) is never cut in two.
        err_console.print(f"[bold red]{type(exc).__name__}:[/] {_shown(str(exc))}", soft_wrap=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    prog_name="bipro-ruv",
    message=f"%(prog)s %(version)s (GDV decoder: {'compiled' if ACCELERATED else 'pure Python'})",
)
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
    connection: _Connection,
) -> None:
    """Check the credentials at the STS and show until when the token is valid."""
    with _errors(), connection.client() as client:
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


class _FetchProgress:
    """A rich progress bar fed by fetch events (called serialized from worker threads)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("Lieferungen", total=None)

    def __call__(self, event: FetchEvent) -> None:
        if event.kind is FetchEventKind.LISTED:
            self.progress.update(self.task, total=event.count)
        elif event.kind in (FetchEventKind.DONE, FetchEventKind.FAILED) and event.shipment_id:
            self.progress.advance(self.task)


def _run_fetch(client: Client, inbox: Path, *, acknowledge: bool, categories: Sequence[str]) -> FetchReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        return client.fetch_open_documents(
            inbox, acknowledge=acknowledge, categories=categories, progress=_FetchProgress(progress)
        )


def report_tables(report: FetchReport) -> list[Table]:
    """Documents grouped by contract, then the shipments that need attention."""
    documents = Table(title=f"Dokumente nach Vertrag ({len(report.documents)})")
    for column in ("Vertrag (VSNR)", "VU", "Dokumentart", "Datei", "Bytes"):
        documents.add_column(column)
    rows = sorted(report.documents, key=lambda d: (d.vsnr is None, str(d.vsnr or ""), d.path.as_posix()))
    for doc in rows:
        documents.add_row(
            doc.vsnr.formatted if doc.vsnr else "(ohne VSNR)",
            doc.vu_number or "",
            doc.document_type or "",
            doc.path.relative_to(report.inbox).as_posix(),
            f"{doc.size:,}".replace(",", "."),
        )
    tables = [documents]
    odd = [doc for doc in report.documents if doc.warnings]
    if odd:
        warned = Table(
            title=f"Gespeichert trotz fehlerhafter Antwort ({len(odd)}): bitte prüfen", style="yellow"
        )
        for column in ("Datei", "Prüfsumme", "Hinweis"):
            warned.add_column(column)
        for doc in odd:
            checked = {True: "geprüft", False: "falsch", None: "keine gesendet"}[doc.checksum_verified]
            warned.add_row(
                doc.path.relative_to(report.inbox).as_posix(), checked, _shown("; ".join(doc.warnings))
            )
        tables.append(warned)
    if report.failures:
        problems = Table(title=f"Nicht erledigt ({len(report.failures)})", style="red")
        for column in ("Lieferung", "Ergebnis", "Fehler"):
            problems.add_column(column)
        for result in report.failures:
            problems.add_row(result.shipment_id, result.outcome.value, _shown(result.error or ""))
        tables.append(problems)
    return tables


def _summary(report: FetchReport) -> str:
    parts = [f"{report.count(outcome)} {outcome.value}" for outcome in Outcome if report.count(outcome)]
    return ", ".join(parts) or "no open shipments"


@cli.command()
@_client_options
@click.option(
    "--inbox",
    required=True,
    # Checked by the library, not by click: its StorageError says what is wrong in one line.
    type=click.Path(path_type=Path),
    help="Folder for the documents (created if missing, its parent must exist); holds the journal.",
)
@click.option("--no-ack", is_flag=True, help="Dry run: store, but do not acknowledge.")
@click.option("--category", "categories", multiple=True, help="GeVo prefix (3, 6 or 9 digits); repeatable.")
def fetch(
    connection: _Connection,
    inbox: Path,
    no_ack: bool,
    categories: tuple[str, ...],
) -> None:
    """Fetch every open document into INBOX, store it durably, then acknowledge it."""
    with _errors(), connection.client() as client:
        report = _run_fetch(client, inbox, acknowledge=not no_ack, categories=categories)
        for table in report_tables(report):
            console.print(table)
        console.print(f"Summary: {_summary(report)}. Inbox: {report.inbox}")
        if not report.ok:
            sys.exit(1)


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
@_client_options
@click.argument("vsnr")
@click.option("--online", is_flag=True, help="Ask the insurer's getLinks service (Norm 440); logs in.")
@click.option("--open", "open_browser", is_flag=True, help="Open the link in the default web browser.")
def link(
    connection: _Connection,
    vsnr: str,
    online: bool,
    open_browser: bool,
) -> None:
    """Print the portal deep link for VSNR (any written form) and the rule that applied.

    A complete number (Arbeitsgebiet + 9 digits, also with Filialdirektion) leads to the
    contract page, a number without Arbeitsgebiet to the search mask. Offline needs no
    credentials; --online asks getLinks, whose URL may carry a one-time session token.
    """
    with _errors():
        number = Vsnr(vsnr)  # an invalid number fails here, before any prompt or request
        result: DeepLink
        if online:
            with connection.client() as client:
                result = client.deep_link(number, online=True)
        else:
            result = deep_link(number, PROFILES[connection.profile].portal)
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
    with _errors():
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
        _errors(),
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
            report = _run_fetch(client, Path(inbox), acknowledge=True, categories=())
            for table in report_tables(report):
                console.print(table)
            console.print(
                f"Summary: {_summary(report)}. Open shipments left: {len(client.list_shipments())}."
            )
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


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="bipro-ruv")
