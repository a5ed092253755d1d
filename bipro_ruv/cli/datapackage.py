"""``bipro-ruv csv FILE [--kind ...] [--xlsx OUT | --json | --csv]``: an R+V data package read."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bipro_ruv.cli._common import console, err_console, errors
from bipro_ruv.datapackages import LAYOUTS, read_package
from bipro_ruv.datapackages.export import summary, write_csv, write_json, write_xlsx

__all__ = ["csv_command"]


@click.command("csv")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--kind", type=click.Choice(sorted(LAYOUTS)), help="The package (default: found from the header)."
)
@click.option(
    "--xlsx", "xlsx", type=click.Path(path_type=Path), help="Write an Excel file (needs bipro-ruv[xlsx])."
)
@click.option("--json", "as_json", is_flag=True, help="The rows as one JSON document on stdout.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=NAME",
    help="Another header name for a field (the layouts of Courtage, BÜ, KFZ and Condor lists are not "
    "public; e.g. --column amount='Courtage in EUR'). Needs --kind; repeatable.",
)
@click.option("--csv", "as_csv", is_flag=True, help="The rows as UTF-8 CSV for German Excel on stdout.")
def csv_command(
    file: Path, kind: str | None, xlsx: Path | None, as_json: bool, as_csv: bool, columns: tuple[str, ...]
) -> None:
    """Read the R+V data package FILE (Saldenbestätigung, Sammelabrechnung, Courtageabrechnung,
    Bestandsübertragungsliste, KFZ-Beitragsvergleich, Condormigration-Vertragsliste) and print a
    summary: rows, totals, warnings. A file that cannot be read is one line naming the line and
    column, exit code 2."""
    if sum((xlsx is not None, as_json, as_csv)) > 1:
        raise click.UsageError("--xlsx, --json and --csv exclude each other.")
    names: dict[str, list[str]] = {}
    for given in columns:
        field, sep, name = given.partition("=")
        if not sep or not field.strip() or not name.strip():
            raise click.UsageError(f"--column {given!r}: write FIELD=NAME, e.g. amount='Courtage in EUR'.")
        names.setdefault(field.strip(), []).append(name.strip())
    if names and kind is None:
        raise click.UsageError("--column needs --kind: the package whose field it names.")
    with errors():
        package = read_package(file, kind=kind, names=names or None)
        report = err_console if (as_json or as_csv) else console
        if as_json:
            write_json(package, sys.stdout)
        elif as_csv:
            sys.stdout.reconfigure(encoding="utf-8-sig")  # type: ignore[union-attr]
            write_csv(package, sys.stdout)
        elif xlsx is not None:
            written = write_xlsx(package, xlsx)
            report.print(f"Excel file written: {written}", soft_wrap=True, highlight=False)
        for line in summary(package):
            report.print(line, soft_wrap=True, highlight=False, markup=False)
